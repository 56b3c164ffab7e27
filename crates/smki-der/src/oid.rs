//! OBJECT IDENTIFIER contents as dotted text.
//!
//! ```text
//! OBJECT IDENTIFIER contents (X.690 8.19): a series of subidentifiers, each in base 128,
//! most significant group first, bit 8 set on every octet but the last; the first
//! subidentifier is X * 40 + Y for the first two arcs X.Y (X in 0..=2).
//! ```

/// The dotted text (`1.2.840.10045.3.1.7`) of an OBJECT IDENTIFIER's content octets.
///
/// `None` unless the contents are a valid X.690 encoding: at least one subidentifier, each
/// in the fewest octets (no leading 0x80 octet) and complete (the last octet has bit 8
/// clear). Arcs beyond 64 bits are refused too (`None`). A valid encoding has exactly one
/// text and each text one encoding, so comparing OIDs by their content octets is the same
/// as comparing their texts.
pub fn oid_text(content: &[u8]) -> Option<String> {
    // At most 4 characters per octet (`.127`), 4 more for the first arc's (`2.47`).
    let mut out = Vec::with_capacity(content.len() * 4 + 4);
    let mut first = true;
    let mut value: u64 = 0;
    let mut started = false;
    for &b in content {
        if (!started && b == 0x80) || value > u64::MAX >> 7 {
            return None;
        }
        value = (value << 7) | u64::from(b & 0x7f);
        started = b & 0x80 != 0;
        if started {
            continue;
        }
        if first {
            let (x, y) = match value {
                0..40 => (0, value),
                40..80 => (1, value - 40),
                _ => (2, value - 80),
            };
            push_decimal(&mut out, x);
            out.push(b'.');
            push_decimal(&mut out, y);
            first = false;
        } else {
            out.push(b'.');
            push_decimal(&mut out, value);
        }
        value = 0;
    }
    if first || started {
        return None;
    }
    // Digits and dots only.
    String::from_utf8(out).ok()
}

/// Is this a valid OBJECT IDENTIFIER content (the same test as [`oid_text`], without the text)?
pub fn is_valid_oid(content: &[u8]) -> bool {
    let mut value: u64 = 0;
    let mut started = false;
    for &b in content {
        if (!started && b == 0x80) || value > u64::MAX >> 7 {
            return false;
        }
        started = b & 0x80 != 0;
        value = if started {
            (value << 7) | u64::from(b & 0x7f)
        } else {
            0
        };
    }
    !content.is_empty() && !started
}

#[inline]
fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    if n < 10 {
        out.push(b'0' + n as u8);
        return;
    }
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    while n > 0 {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend_from_slice(&digits[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts() {
        let cases: &[(&[u8], &str)] = &[
            (
                &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
                "1.2.840.10045.3.1.7",
            ),
            (&[0x55, 0x1d, 0x0e], "2.5.29.14"),
            (
                &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x08, 0x04],
                "1.3.6.1.5.5.7.8.4",
            ),
            (&[0x00], "0.0"),
            (&[0x27], "0.39"),
            (&[0x28], "1.0"),
            (&[0x4f], "1.39"),
            (&[0x50], "2.0"),
            (&[0x7f], "2.47"),
            (&[0x88, 0x37], "2.999"),
            (&[0x2a, 0x00], "1.2.0"),
            (
                &[
                    0x2a, 0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
                ],
                "1.2.18446744073709551615",
            ),
        ];
        for (content, text) in cases {
            assert_eq!(oid_text(content).as_deref(), Some(*text), "{content:02x?}");
            assert!(is_valid_oid(content), "{content:02x?}");
        }
    }

    #[test]
    fn invalid() {
        let cases: &[&[u8]] = &[
            &[],
            &[0x2a, 0x86],       // incomplete
            &[0x80, 0x01],       // leading 0x80
            &[0x2a, 0x80, 0x01], // leading 0x80
            &[
                0x2a, 0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00,
            ], // 2^64
        ];
        for content in cases {
            assert_eq!(oid_text(content), None, "{content:02x?}");
            assert!(!is_valid_oid(content), "{content:02x?}");
        }
    }
}
