//! UTCTime and GeneralizedTime contents as Unix seconds, in the forms RFC 5280 allows.
//!
//! ```text
//! Time ::= CHOICE {
//!      utcTime        UTCTime,
//!      generalTime    GeneralizedTime }
//! ```
//! RFC 5280 section 4.1.2.5: UTCTime is `YYMMDDHHMMSSZ` (YY >= 50: 19YY, else 20YY),
//! GeneralizedTime is `YYYYMMDDHHMMSSZ`: seconds always present, always Zulu, no fraction.

/// Unix seconds of a UTCTime's contents `YYMMDDHHMMSSZ`; `None` for any other form or an
/// impossible date or time (seconds 00..=59: no leap second, as in x509-parser).
pub fn utc_time(content: &[u8]) -> Option<i64> {
    let [y @ .., m1, m2, d1, d2, h1, h2, n1, n2, s1, s2, b'Z'] = content else {
        return None;
    };
    let [y1, y2] = y else { return None };
    let yy = two_digits(*y1, *y2)?;
    let year = if yy >= 50 { 1900 + yy } else { 2000 + yy };
    seconds(year, [*m1, *m2, *d1, *d2, *h1, *h2, *n1, *n2, *s1, *s2])
}

/// Unix seconds of a GeneralizedTime's contents `YYYYMMDDHHMMSSZ`; `None` for any other form
/// or an impossible date or time.
pub fn generalized_time(content: &[u8]) -> Option<i64> {
    let [c1, c2, y1, y2, m1, m2, d1, d2, h1, h2, n1, n2, s1, s2, b'Z'] = content else {
        return None;
    };
    let year = two_digits(*c1, *c2)? * 100 + two_digits(*y1, *y2)?;
    seconds(year, [*m1, *m2, *d1, *d2, *h1, *h2, *n1, *n2, *s1, *s2])
}

/// Unix seconds of a UTCTime's (`tag` 0x17) or a GeneralizedTime's (0x18) contents in any
/// form X.680 allows (BER), for reading a certificate that is not DER (the strict walk
/// reports it, `BerIssueKind::TimeForm`):
/// UTCTime `YYMMDDhhmm[ss]` then `Z` or `+hhmm` / `-hhmm` (X.680 47.3); GeneralizedTime
/// `YYYYMMDDhhmm[ss]`, a fraction (`.` or `,` and digits, dropped), then `Z`, `+hhmm` /
/// `-hhmm` or nothing (local time, read as UTC) (X.680 46.3; hours alone or a fraction of a
/// minute are not read). An offset is subtracted to give UTC. `None` for anything else, or an
/// impossible date or time.
pub fn ber_time(tag: u8, content: &[u8]) -> Option<i64> {
    let (year, rest) = match tag {
        0x17 => {
            let yy = two_digits(*content.first()?, *content.get(1)?)?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &content[2..])
        }
        0x18 => {
            let [c1, c2, y1, y2, ..] = *content else {
                return None;
            };
            (
                two_digits(c1, c2)? * 100 + two_digits(y1, y2)?,
                &content[4..],
            )
        }
        _ => return None,
    };
    let [m1, m2, d1, d2, h1, h2, n1, n2, ref rest @ ..] = *rest else {
        return None;
    };
    let (s1, s2, mut rest) = match rest {
        [a, b, r @ ..] if a.is_ascii_digit() && b.is_ascii_digit() => (*a, *b, r),
        r => (b'0', b'0', r),
    };
    if tag == 0x18 {
        if let [b'.' | b',', r @ ..] = rest {
            let digits = r.iter().take_while(|b| b.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            rest = &r[digits..];
        }
    }
    let offset = match rest {
        [b'Z'] => 0,
        [] if tag == 0x18 => 0,
        [sign @ (b'+' | b'-'), a, b, c, d] => {
            let (h, m) = (two_digits(*a, *b)?, two_digits(*c, *d)?);
            if h > 23 || m > 59 {
                return None;
            }
            let o = h * 3600 + m * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    Some(seconds(year, [m1, m2, d1, d2, h1, h2, n1, n2, s1, s2])? - offset)
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`; any year, negative results before 1970). `month` 1..=12 and `day`
/// 1..=31 are assumed.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = year - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Number of days in the month (Gregorian leap years).
fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `MMDDHHMMSS` digits of `year` as Unix seconds, if a valid date and time.
fn seconds(year: i64, d: [u8; 10]) -> Option<i64> {
    let month = two_digits(d[0], d[1])?;
    let day = two_digits(d[2], d[3])?;
    let hour = two_digits(d[4], d[5])?;
    let minute = two_digits(d[6], d[7])?;
    let second = two_digits(d[8], d[9])?;
    if !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month as u32, day as u32);
    Some(days * 86400 + hour * 3600 + minute * 60 + second)
}

fn two_digits(a: u8, b: u8) -> Option<i64> {
    (a.is_ascii_digit() && b.is_ascii_digit()).then(|| i64::from((a - b'0') * 10 + (b - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc() {
        assert_eq!(utc_time(b"700101000000Z"), Some(0));
        assert_eq!(utc_time(b"160401000000Z"), Some(1_459_468_800));
        assert_eq!(utc_time(b"491231235959Z"), Some(2_524_607_999));
        assert_eq!(utc_time(b"500101000000Z"), Some(-631_152_000));
        assert_eq!(utc_time(b"000229000000Z"), Some(951_782_400));
        for bad in [
            &b"160401000000"[..],
            b"1604010000Z",
            b"160401000000+0000",
            b"160431000000Z",
            b"010229000000Z",
            b"160401240000Z",
            b"160401006000Z",
            b"160401000060Z",
            b"1604010000000Z",
            b"16040100000aZ",
            b"160001000000Z",
            b"160400000000Z",
        ] {
            assert_eq!(utc_time(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn generalized() {
        assert_eq!(generalized_time(b"19700101000000Z"), Some(0));
        assert_eq!(generalized_time(b"99991231235959Z"), Some(253_402_300_799));
        assert_eq!(generalized_time(b"20000229000000Z"), Some(951_782_400));
        assert_eq!(generalized_time(b"00000101000000Z"), Some(-62_167_219_200));
        for bad in [
            &b"19000229000000Z"[..],
            b"20000229000000",
            b"20000229000000.5Z",
            b"200002290000Z",
            b"700101000000Z",
        ] {
            assert_eq!(
                generalized_time(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn ber_forms() {
        for (tag, text, want) in [
            (0x17, &b"160401000000Z"[..], Some(1_459_468_800)),
            (0x17, b"1604010000Z", Some(1_459_468_800)),
            (0x17, b"160401010000+0100", Some(1_459_468_800)),
            (0x17, b"1604010000-0030", Some(1_459_468_800 + 1800)),
            (0x17, b"160401000000", None),
            (0x17, b"160401000000.5Z", None),
            (0x18, b"20160401000000Z", Some(1_459_468_800)),
            (0x18, b"20160401000000.25Z", Some(1_459_468_800)),
            (0x18, b"20160401000000,5", Some(1_459_468_800)),
            (0x18, b"20160401000000", Some(1_459_468_800)),
            (0x18, b"201604010000Z", Some(1_459_468_800)),
            (0x18, b"20160401020000+0200", Some(1_459_468_800)),
            (0x18, b"20160401000000.Z", None),
            (0x18, b"20160431000000Z", None),
            (0x18, b"2016040100Z", None),
            (0x05, b"20160401000000Z", None),
        ] {
            assert_eq!(
                ber_time(tag, text),
                want,
                "{}",
                String::from_utf8_lossy(text)
            );
        }
        // The DER forms read the same as utc_time / generalized_time.
        assert_eq!(ber_time(0x17, b"491231235959Z"), utc_time(b"491231235959Z"));
    }

    #[test]
    fn civil_round_trip() {
        // Every day from 1600 to 2400 follows the previous one.
        let mut expected = days_from_civil(1600, 1, 1);
        for year in 1600..2400 {
            for month in 1..=12 {
                for day in 1..=days_in_month(year, month) {
                    assert_eq!(days_from_civil(year, month as u32, day as u32), expected);
                    expected += 1;
                }
            }
        }
    }
}
