//! The syntax of the identifiers a search names: EUI-64s and serials.
use std::fmt;

/// A malformed identifier in a query: which kind, the text (cut to 40 characters) and the
/// character position where it goes wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyntaxError {
    /// `EUI-64` or `serial`.
    pub what: &'static str,
    pub text: String,
    /// 0-based character position of the first bad character (the length when too short).
    pub at: usize,
    pub why: &'static str,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a valid {}: {} (at character {})",
            self.text, self.what, self.why, self.at
        )
    }
}

impl std::error::Error for SyntaxError {}

fn error(what: &'static str, text: &str, at: usize, why: &'static str) -> SyntaxError {
    SyntaxError {
        what,
        text: text.chars().take(40).collect(),
        at,
        why,
    }
}

/// An EUI-64, held as the repository writes it: `88-73-84-57-00-2F-96-6C`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Eui64(String);

impl Eui64 {
    /// 16 hex digits, in either case, each pair optionally separated by `-` (as the DCC
    /// client sends them: `88-73-84-57-00-2f-96-6c`) or `:`, or none at all.
    pub fn parse(text: &str) -> Result<Eui64, SyntaxError> {
        const WHAT: &str = "EUI-64";
        let mut digits = String::with_capacity(16);
        let mut sep: Option<char> = None;
        let mut previous: Option<char> = None;
        for (i, c) in text.chars().enumerate() {
            if c.is_ascii_hexdigit() {
                if digits.len() == 16 {
                    return Err(error(WHAT, text, i, "more than 16 hex digits"));
                }
                digits.push(c.to_ascii_uppercase());
            } else if (c == '-' || c == ':') && digits.len().is_multiple_of(2) && !digits.is_empty()
            {
                match sep {
                    Some(s) if s != c => return Err(error(WHAT, text, i, "mixed separators")),
                    _ => sep = Some(c),
                }
                if previous.is_some_and(|p| p == '-' || p == ':') {
                    return Err(error(WHAT, text, i, "two separators in a row"));
                }
            } else {
                return Err(error(WHAT, text, i, "expected a hex digit"));
            }
            previous = Some(c);
        }
        if digits.len() != 16 {
            return Err(error(
                WHAT,
                text,
                text.chars().count(),
                "fewer than 16 hex digits",
            ));
        }
        if text.ends_with(['-', ':']) {
            return Err(error(
                WHAT,
                text,
                text.chars().count() - 1,
                "a separator at the end",
            ));
        }
        if let Some(s) = sep {
            // Separated: every pair, or none.
            if text.chars().filter(|&c| c == s).count() != 7 {
                return Err(error(WHAT, text, 0, "separators between some pairs only"));
            }
        }
        let mut out = String::with_capacity(23);
        for (i, pair) in digits.as_bytes().chunks(2).enumerate() {
            if i > 0 {
                out.push('-');
            }
            out.push_str(std::str::from_utf8(pair).expect("ASCII"));
        }
        Ok(Eui64(out))
    }

    /// `88-73-84-57-00-2F-96-6C`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Eui64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The longest serial a query may name, in hex digits (RFC 5280: at most 20 octets; some
/// certificates in the field carry more, so twice that).
pub const MAX_SERIAL_DIGITS: usize = 80;

/// A day of the repository's history, `YYYY-MM-DD` (a real calendar date): when a change
/// happened, and what a daily delta or a full extract "as of" names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(String);

impl Day {
    /// `YYYY-MM-DD`, digits only, a date that exists (years 1000 to 9999).
    pub fn parse(text: &str) -> Result<Day, SyntaxError> {
        const WHAT: &str = "day (YYYY-MM-DD)";
        let b = text.as_bytes();
        if let Some(i) = b
            .iter()
            .enumerate()
            .find(|&(i, &c)| {
                !(if i == 4 || i == 7 {
                    c == b'-'
                } else {
                    c.is_ascii_digit()
                })
            })
            .map(|(i, _)| i)
            .filter(|&i| i < 10)
        {
            return Err(error(WHAT, text, i, "not of the form YYYY-MM-DD"));
        }
        if b.len() != 10 {
            return Err(error(
                WHAT,
                text,
                b.len().min(10),
                "not of the form YYYY-MM-DD",
            ));
        }
        let num = |r: std::ops::Range<usize>| text[r].parse::<u32>().unwrap_or(0);
        let (year, month, day) = (num(0..4), num(5..7), num(8..10));
        if year < 1000 {
            return Err(error(WHAT, text, 0, "no such year"));
        }
        if !(1..=12).contains(&month) {
            return Err(error(WHAT, text, 5, "no such month"));
        }
        let first = |y: u32, m: u32| smki_der::days_from_civil(y.into(), m, 1);
        let length = if month == 12 {
            first(year + 1, 1)
        } else {
            first(year, month + 1)
        } - first(year, month);
        if day == 0 || i64::from(day) > length {
            return Err(error(WHAT, text, 8, "no such day in that month"));
        }
        Ok(Day(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A serial as the store matches it: lower-case hex without leading zeros (`0` for zero).
/// Accepts hex digits in either case, optionally with a `0x` prefix; the DCC client sends
/// lower-case hex without leading zeros, the repository lists upper-case with them.
pub fn normalise_serial(text: &str) -> Result<String, SyntaxError> {
    const WHAT: &str = "serial";
    let body = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    let skip = text.len() - body.len();
    if body.is_empty() {
        return Err(error(WHAT, text, text.len(), "no hex digits"));
    }
    if body.len() > MAX_SERIAL_DIGITS {
        return Err(error(WHAT, text, skip + MAX_SERIAL_DIGITS, "too long"));
    }
    if let Some(i) = body.find(|c: char| !c.is_ascii_hexdigit()) {
        return Err(error(
            WHAT,
            text,
            skip + body[..i].chars().count(),
            "expected a hex digit",
        ));
    }
    let trimmed = body.trim_start_matches('0');
    Ok(if trimmed.is_empty() {
        "0".to_string()
    } else {
        trimmed.to_ascii_lowercase()
    })
}
