//! The one lenient TLV header reader.
use crate::{Error, ErrorKind, Result};
use core::ops::Range;

/// Universal and context tags used in X.509 (single identifier octet, low-tag-number form).
pub struct Tag;
impl Tag {
    pub const BOOLEAN: u8 = 0x01;
    pub const INTEGER: u8 = 0x02;
    pub const BIT_STRING: u8 = 0x03;
    pub const OCTET_STRING: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const OID: u8 = 0x06;
    pub const UTF8_STRING: u8 = 0x0c;
    pub const PRINTABLE_STRING: u8 = 0x13;
    pub const IA5_STRING: u8 = 0x16;
    pub const UTC_TIME: u8 = 0x17;
    pub const GENERALIZED_TIME: u8 = 0x18;
    pub const SEQUENCE: u8 = 0x30;
    pub const SET: u8 = 0x31;
    /// Is the identifier octet of the constructed form?
    pub fn is_constructed(tag: u8) -> bool {
        tag & 0x20 != 0
    }
}

/// How a length was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthForm {
    /// One octet, value < 128: the DER form.
    Short,
    /// `0x80 | n` followed by `n` length octets.
    /// `leading_zeros`: how many of them are redundant 0x00 octets;
    /// `minimal`: true when DER would also have used exactly this long form.
    Long {
        octets: u8,
        leading_zeros: u8,
        minimal: bool,
    },
    /// `0x80`: contents end at an end-of-contents marker (`00 00`), BER only.
    Indefinite,
}

/// A TLV header read leniently. All offsets are absolute: relative to the buffer given to
/// [`read_header`] plus the `base` offset supplied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The identifier octet.
    pub tag: u8,
    /// Offset of the identifier octet.
    pub offset: usize,
    /// Number of identifier and length octets.
    pub header_len: usize,
    /// How the length was written.
    pub form: LengthForm,
    /// The contents (for an indefinite length: up to, not including, the end-of-contents).
    pub content: Range<usize>,
    /// One past the last byte of the element (after the end-of-contents, if indefinite).
    pub end: usize,
}

impl Header {
    /// Is the length written the DER way?
    pub fn is_der_length(&self) -> bool {
        match self.form {
            LengthForm::Short => true,
            LengthForm::Long { minimal, .. } => minimal,
            LengthForm::Indefinite => false,
        }
    }
    /// Offset of the first length octet.
    pub fn length_offset(&self) -> usize {
        self.offset + 1
    }
    /// The whole element (header, contents and any end-of-contents) as a range.
    pub fn element(&self) -> Range<usize> {
        self.offset..self.end
    }
}

/// Reads the TLV header at `input[pos..]`. `base` is added to every offset in the result
/// and in errors (pass the offset of `input` within the certificate).
///
/// Lenient: long-form lengths, redundant leading length octets and indefinite lengths (for
/// constructed elements; the end-of-contents is found by walking the nested elements) are
/// read, and [`Header::form`] records how. Errors: truncation (the declared content runs
/// past the end of `input`), high tag numbers, lengths that do not fit, indefinite lengths on
/// primitive elements.
#[inline(always)]
pub fn read_header(input: &[u8], pos: usize, base: usize) -> Result<Header> {
    // Most headers of a certificate have a low tag number and a length of one octet, or of
    // the long form in one or two octets (a certificate, its tbsCertificate, its
    // extensions): those are decided here, inline where the header is read (a call per
    // header was most of the cost of the scan's first pass, and inlined the main pass
    // runs 1% fewer instructions: callgrind), every other (errors included) out of line,
    // each giving what `read_header_any` gives.
    if let (Some(&tag), Some(&first)) = (input.get(pos), input.get(pos.wrapping_add(1))) {
        let (len, header_len, form) = match first {
            0..=0x7f => (usize::from(first), 2, LengthForm::Short),
            0x81 => match input.get(pos + 2) {
                Some(&b) => (
                    usize::from(b),
                    3,
                    LengthForm::Long {
                        octets: 1,
                        leading_zeros: u8::from(b == 0),
                        minimal: b >= 0x80,
                    },
                ),
                None => return read_header_any(input, pos, base),
            },
            0x82 => match input.get(pos + 2..pos + 4) {
                Some(&[b1, b2]) => {
                    let len = usize::from(b1) << 8 | usize::from(b2);
                    (
                        len,
                        4,
                        LengthForm::Long {
                            octets: 2,
                            leading_zeros: if b1 == 0 { 1 + u8::from(b2 == 0) } else { 0 },
                            minimal: len >= 0x100,
                        },
                    )
                }
                _ => return read_header_any(input, pos, base),
            },
            _ => return read_header_any(input, pos, base),
        };
        let start = pos + header_len;
        let end = start + len;
        if tag & 0x1f != 0x1f && end <= input.len() {
            if let Some(abs_end) = base.checked_add(end) {
                return Ok(Header {
                    tag,
                    offset: base + pos,
                    header_len,
                    form,
                    content: base + start..abs_end,
                    end: abs_end,
                });
            }
        }
    }
    read_header_any(input, pos, base)
}

/// [`read_header`], every case read by [`read_header_declared`]: out of line, so that
/// the common cases stay small where they are inlined.
#[inline(never)]
fn read_header_any(input: &[u8], pos: usize, base: usize) -> Result<Header> {
    let h = read_header_declared(input, pos, base)?;
    if h.end > base + input.len() {
        return Err(Error::new(
            ErrorKind::Truncated {
                needed: h.end - h.offset,
                available: input.len() - pos,
            },
            base + pos,
        ));
    }
    Ok(h)
}

/// [`read_header`] without the final truncation check: the header as declared, whose
/// `content` and `end` may run past the end of `input` (the header octets themselves must be
/// there). Used by the signature analyser to report a length that overruns and still read
/// what is inside.
#[inline]
pub(crate) fn read_header_declared(input: &[u8], pos: usize, base: usize) -> Result<Header> {
    let err = |kind, at: usize| Error::new(kind, base + at);
    let truncated = |needed: usize, at: usize| {
        err(
            ErrorKind::Truncated {
                needed,
                available: input.len().saturating_sub(at),
            },
            at,
        )
    };
    let tag = *input.get(pos).ok_or_else(|| truncated(2, pos))?;
    if tag & 0x1f == 0x1f {
        return Err(err(ErrorKind::HighTagNumber, pos));
    }
    let first = *input.get(pos + 1).ok_or_else(|| truncated(2, pos))?;
    let (len, form, header_len) = if first < 0x80 {
        (first as usize, LengthForm::Short, 2)
    } else if first == 0x80 {
        if !Tag::is_constructed(tag) {
            return Err(err(ErrorKind::BadIndefinite, pos + 1));
        }
        // The end-of-contents is found by walking the nested elements, iteratively: nested
        // indefinite lengths only deepen a counter (no recursion, whatever the nesting).
        let start = pos + 2;
        let mut at = start;
        let mut depth = 1usize;
        loop {
            if input.len() < at + 2 {
                return Err(err(ErrorKind::BadIndefinite, pos + 1));
            }
            if input[at] == 0 && input[at + 1] == 0 {
                depth -= 1;
                if depth == 0 {
                    break;
                }
                at += 2;
                continue;
            }
            if input[at + 1] == 0x80 {
                if input[at] & 0x1f == 0x1f {
                    return Err(err(ErrorKind::HighTagNumber, at));
                }
                if !Tag::is_constructed(input[at]) {
                    return Err(err(ErrorKind::BadIndefinite, at + 1));
                }
                depth += 1;
                at += 2;
                continue;
            }
            let inner =
                read_header(input, at, 0).map_err(|e| Error::new(e.kind, base + e.position))?;
            at = inner.end;
        }
        return Ok(Header {
            tag,
            offset: base + pos,
            header_len: 2,
            form: LengthForm::Indefinite,
            content: base + start..base + at,
            end: base + at + 2,
        });
    } else {
        let n = (first & 0x7f) as usize;
        if n > 8 {
            return Err(err(ErrorKind::LengthTooLong, pos + 1));
        }
        let octets = input
            .get(pos + 2..pos + 2 + n)
            .ok_or_else(|| truncated(2 + n, pos))?;
        let leading_zeros = octets.iter().take_while(|&&b| b == 0).count();
        let mut len: u64 = 0;
        for &b in octets {
            len = (len << 8) | b as u64;
        }
        let len = usize::try_from(len).map_err(|_| err(ErrorKind::LengthTooLong, pos + 1))?;
        // DER: long form only for lengths >= 128, with the fewest octets.
        let needed_octets = (usize::BITS - len.leading_zeros()).div_ceil(8) as usize;
        let minimal = len >= 128 && n == needed_octets;
        (
            len,
            LengthForm::Long {
                octets: n as u8,
                leading_zeros: leading_zeros as u8,
                minimal,
            },
            2 + n,
        )
    };
    let start = pos + header_len;
    let end = start
        .checked_add(len)
        .and_then(|end| end.checked_add(base))
        .ok_or_else(|| err(ErrorKind::LengthTooLong, pos + 1))?
        - base;
    Ok(Header {
        tag,
        offset: base + pos,
        header_len,
        form,
        content: base + start..base + end,
        end: base + end,
    })
}

/// How many of a long-form length's octets are redundant leading 0x00 octets (`81 00`, a
/// zero length in one octet, has none: it is only in the long form).
pub(crate) fn redundant_length_zeros(h: &Header) -> usize {
    match h.form {
        LengthForm::Long { leading_zeros, .. } if h.content.is_empty() => {
            leading_zeros.saturating_sub(1) as usize
        }
        LengthForm::Long { leading_zeros, .. } => leading_zeros as usize,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `read_header`'s own cases give what `read_header_any` (`read_header_declared`) gives:
    /// for
    /// every identifier octet and first length octet, contents cut at many lengths, at
    /// several positions and bases; and for every long-form length of one and two octets,
    /// with the contents there, one octet short, and cut in the length.
    #[test]
    fn the_common_case_is_the_general_one() {
        let mut checked = 0;
        let mut check = |input: &[u8], pos: usize, base: usize| {
            assert_eq!(
                read_header(input, pos, base),
                read_header_any(input, pos, base),
                "{:02x?}..., {} bytes, pos {pos}, base {base}",
                &input[..input.len().min(pos + 4)],
                input.len()
            );
            checked += 1;
        };
        for tag in 0..=255u8 {
            for first in 0..=255u8 {
                let mut input = vec![0xff, tag, first];
                input.extend((0..140u8).map(|i| i.wrapping_mul(37)));
                for len in [0, 1, 2, 3, 4, 5, 66, 130, 131, 132, input.len()] {
                    for base in [0, 7, 1 << 40] {
                        for pos in [1, 0, 3, len, len + 1] {
                            check(&input[..len.min(input.len())], pos, base);
                        }
                    }
                }
            }
        }
        let mut input = vec![0u8; 4 + 0xffff];
        for tag in [0x04, 0x30, 0x1f] {
            input[0] = tag;
            for octets in [1, 2] {
                input[1] = 0x80 | octets as u8;
                for len in 0..1usize << (8 * octets) {
                    input[2..2 + octets].copy_from_slice(&len.to_be_bytes()[8 - octets..]);
                    let end = 2 + octets + len;
                    for cut in [end, end - 1, 2 + octets, 1 + octets, input.len()] {
                        for base in [0, 1 << 40] {
                            check(&input[..cut], 0, base);
                        }
                    }
                }
            }
        }
        assert!(checked > 2_000_000);
    }

    #[test]
    fn forms() {
        let cases: &[(&[u8], LengthForm, usize)] = &[
            (&[0x02, 0x01, 0x05], LengthForm::Short, 1),
            (
                &[0x02, 0x81, 0x01, 0x05],
                LengthForm::Long {
                    octets: 1,
                    leading_zeros: 0,
                    minimal: false,
                },
                1,
            ),
            (
                &[0x02, 0x82, 0x00, 0x01, 0x05],
                LengthForm::Long {
                    octets: 2,
                    leading_zeros: 1,
                    minimal: false,
                },
                1,
            ),
            (
                &[0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00],
                LengthForm::Indefinite,
                3,
            ),
        ];
        for (bytes, form, len) in cases {
            let h = read_header(bytes, 0, 10).unwrap();
            assert_eq!(h.form, *form, "{bytes:02x?}");
            assert_eq!(h.content.len(), *len);
            assert_eq!(h.end, 10 + bytes.len());
        }
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([0u8; 128]);
        assert_eq!(
            read_header(&long, 0, 0).unwrap().form,
            LengthForm::Long {
                octets: 1,
                leading_zeros: 0,
                minimal: true
            }
        );
    }

    #[test]
    fn errors_carry_positions() {
        let e = read_header(&[0x30, 0x05, 0x01], 0, 100).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Truncated { .. }));
        assert_eq!(e.position, 100);
        let e = read_header(&[0x02, 0x80, 0x00, 0x00], 0, 7).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadIndefinite);
        assert_eq!(e.position, 8);
        assert_eq!(
            read_header(&[0x1f, 0x01], 0, 0).unwrap_err().kind,
            ErrorKind::HighTagNumber
        );
    }
}
