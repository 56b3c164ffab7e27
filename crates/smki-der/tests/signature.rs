//! Table-driven tests of `analyse_signature` on hand-made signatureValue blobs.
use smki_der::{analyse_signature, Component, DefectCode, IntRead, P256_ORDER};
use Component::*;
use DefectCode::*;

/// Offset of the BIT STRING within the imaginary certificate.
const BASE: usize = 100;

fn blob(hex: &str) -> Vec<u8> {
    hex::decode(hex.replace(' ', "")).unwrap()
}

fn v32(hex: &str) -> [u8; 32] {
    blob(hex).try_into().unwrap()
}

/// The values used below: r = 0x11.., top bit clear; s = 0x99.., top bit set (padded);
/// r2 = 0x00 0x7f 0x11.. (< 2^248, the 2018 case); n = the group order.
struct V {
    r: String,
    s: String,
    r2: String,
    n: String,
}

fn v() -> V {
    V {
        r: "11".repeat(32),
        s: "99".repeat(32),
        r2: format!("007f{}", "11".repeat(30)),
        n: hex::encode(P256_ORDER),
    }
}

/// One case: the blob, the defects expected as (code, component, count, offset within the
/// blob), and r and s as (value hex or None, how read).
struct Case {
    name: &'static str,
    hex: String,
    defects: Vec<(DefectCode, Component, u32, usize)>,
    r: (Option<String>, IntRead),
    s: (Option<String>, IntRead),
}

fn case(
    name: &'static str,
    hex: String,
    defects: &[(DefectCode, Component, u32, usize)],
    r: (Option<&str>, IntRead),
    s: (Option<&str>, IntRead),
) -> Case {
    Case {
        name,
        hex,
        defects: defects.to_vec(),
        r: (r.0.map(str::to_owned), r.1),
        s: (s.0.map(str::to_owned), s.1),
    }
}

const UNREADABLE: (Option<&str>, IntRead) = (None, IntRead::Unreadable);

fn cases() -> Vec<Case> {
    let V { r, s, r2, n } = v();
    let (r, s, r2, n) = (r.as_str(), s.as_str(), r2.as_str(), n.as_str());
    let canon = |x| (Some(x), IntRead::Canonical);
    // Layout of the canonical blob: 0 BIT STRING tag, 1 its length, 2 unused-bits octet,
    // 3 SEQUENCE tag, 4 its length, 5 r tag, 6 r length, 7.. r content, 39 s tag,
    // 40 s length, 41 s pad, 42.. s, 74 end.
    vec![
        case(
            "canonical",
            format!("03 48 00 30 45 02 20 {r} 02 21 00 {s}"),
            &[],
            canon(r),
            canon(s),
        ),
        case(
            "canonical r2 (31 octets)",
            format!("03 47 00 30 44 02 1f {} 02 21 00 {s}", &r2[2..]),
            &[],
            canon(r2),
            canon(s),
        ),
        // SIG_INT_LEADING_ZERO
        case(
            "2018 defect: r2 written as 32 octets",
            format!("03 48 00 30 45 02 20 {r2} 02 21 00 {s}"),
            &[(SigIntLeadingZero, R, 1, 7)],
            (Some(r2), IntRead::SkippedLeadingZeros(1)),
            canon(s),
        ),
        case(
            "00 00 7f.. counts 2",
            format!("03 49 00 30 46 02 21 00 {r2} 02 21 00 {s}"),
            &[(SigIntLeadingZero, R, 2, 7)],
            (Some(r2), IntRead::SkippedLeadingZeros(2)),
            canon(s),
        ),
        case(
            "00 00 80.. counts 1 (the last 0x00 is the pad)",
            format!("03 49 00 30 46 02 20 {r} 02 22 00 00 {s}"),
            &[(SigIntLeadingZero, S, 1, 41)],
            canon(r),
            (Some(s), IntRead::SkippedLeadingZeros(1)),
        ),
        case(
            "leading zero before a top-bit-clear r",
            format!("03 49 00 30 46 02 21 00 {r} 02 21 00 {s}"),
            &[(SigIntLeadingZero, R, 1, 7)],
            (Some(r), IntRead::SkippedLeadingZeros(1)),
            canon(s),
        ),
        // SIG_INT_NEGATIVE
        case(
            "s without its pad",
            format!("03 47 00 30 44 02 20 {r} 02 20 {s}"),
            &[(SigIntNegative, S, 0, 41)],
            canon(r),
            (Some(s), IntRead::NegativeAsUnsigned),
        ),
        // SIG_INT_LEADING_FF
        case(
            "s with two 0xFF octets instead of the pad",
            format!("03 49 00 30 46 02 20 {r} 02 22 ff ff {s}"),
            &[(SigIntLeadingFf, S, 2, 41)],
            canon(r),
            (Some(s), IntRead::SkippedLeadingFf(2)),
        ),
        // SIG_INT_EMPTY
        case(
            "r empty",
            format!("03 28 00 30 25 02 00 02 21 00 {s}"),
            &[(SigIntEmpty, R, 0, 6)],
            UNREADABLE,
            canon(s),
        ),
        // SIG_LEN_LONG_FORM
        case(
            "r length 81 20",
            format!("03 49 00 30 46 02 81 20 {r} 02 21 00 {s}"),
            &[(SigLenLongForm, R, 0, 6)],
            canon(r),
            canon(s),
        ),
        case(
            "SEQUENCE length 81 45",
            format!("03 49 00 30 81 45 02 20 {r} 02 21 00 {s}"),
            &[(SigLenLongForm, Sequence, 0, 4)],
            canon(r),
            canon(s),
        ),
        // SIG_LEN_LEADING_ZERO
        case(
            "r length 82 00 20",
            format!("03 4a 00 30 47 02 82 00 20 {r} 02 21 00 {s}"),
            &[(SigLenLeadingZero, R, 1, 7)],
            canon(r),
            canon(s),
        ),
        case(
            "SEQUENCE length 83 00 00 45",
            format!("03 4b 00 30 83 00 00 45 02 20 {r} 02 21 00 {s}"),
            &[(SigLenLeadingZero, Sequence, 2, 5)],
            canon(r),
            canon(s),
        ),
        // SIG_LEN_INDEFINITE
        case(
            "indefinite SEQUENCE",
            format!("03 4a 00 30 80 02 20 {r} 02 21 00 {s} 00 00"),
            &[(SigLenIndefinite, Sequence, 0, 4)],
            canon(r),
            canon(s),
        ),
        case(
            "indefinite r: unreadable, and s cannot be found",
            format!("03 4a 00 30 47 02 80 {r} 00 00 02 21 00 {s}"),
            &[(SigLenIndefinite, R, 0, 6)],
            UNREADABLE,
            UNREADABLE,
        ),
        case(
            "indefinite SEQUENCE without end-of-contents",
            format!("03 48 00 30 80 02 20 {r} 02 21 00 {s}"),
            &[
                (SigLenIndefinite, Sequence, 0, 4),
                (SigTruncated, Sequence, 0, 4),
            ],
            canon(r),
            canon(s),
        ),
        // SIG_TRAILING_DATA
        case(
            "3 bytes after the SEQUENCE",
            format!("03 4b 00 30 45 02 20 {r} 02 21 00 {s} 00 00 00"),
            &[(SigTrailingData, Trailing, 3, 74)],
            canon(r),
            canon(s),
        ),
        // SIG_EXTRA_ELEMENT
        case(
            "third INTEGER",
            format!("03 4b 00 30 48 02 20 {r} 02 21 00 {s} 02 01 01"),
            &[(SigExtraElement, Extra, 1, 74)],
            canon(r),
            canon(s),
        ),
        case(
            "two extra elements",
            format!("03 4d 00 30 4a 02 20 {r} 02 21 00 {s} 02 01 01 05 00"),
            &[(SigExtraElement, Extra, 2, 74)],
            canon(r),
            canon(s),
        ),
        // SIG_NOT_SEQUENCE
        case(
            "SET instead of SEQUENCE",
            format!("03 48 00 31 45 02 20 {r} 02 21 00 {s}"),
            &[(SigNotSequence, Sequence, 0, 3)],
            UNREADABLE,
            UNREADABLE,
        ),
        case(
            "r an OCTET STRING",
            format!("03 48 00 30 45 04 20 {r} 02 21 00 {s}"),
            &[(SigNotSequence, R, 0, 5)],
            UNREADABLE,
            canon(s),
        ),
        case(
            "not a BIT STRING",
            format!("04 48 00 30 45 02 20 {r} 02 21 00 {s}"),
            &[(SigNotSequence, BitString, 0, 0)],
            UNREADABLE,
            UNREADABLE,
        ),
        // SIG_TRUNCATED
        case(
            "s declares 33 octets, 29 present",
            format!("03 44 00 30 41 02 20 {r} 02 21 00 {}", &s[..56]),
            &[(SigTruncated, S, 0, 40)],
            canon(r),
            UNREADABLE,
        ),
        case(
            "SEQUENCE overruns, r and s complete",
            format!("03 48 00 30 50 02 20 {r} 02 21 00 {s}"),
            &[(SigTruncated, Sequence, 0, 4)],
            canon(r),
            canon(s),
        ),
        case(
            "s missing",
            format!("03 25 00 30 22 02 20 {r}"),
            &[(SigTruncated, S, 0, 39)],
            canon(r),
            UNREADABLE,
        ),
        case(
            "BIT STRING overruns",
            format!("03 50 00 30 45 02 20 {r} 02 21 00 {s}"),
            &[(SigTruncated, BitString, 0, 0)],
            UNREADABLE,
            UNREADABLE,
        ),
        case(
            "empty BIT STRING",
            "03 00".into(),
            &[(SigTruncated, BitString, 0, 2)],
            UNREADABLE,
            UNREADABLE,
        ),
        case(
            "BIT STRING of the unused-bits octet only",
            "03 01 00".into(),
            &[(SigTruncated, Sequence, 0, 3)],
            UNREADABLE,
            UNREADABLE,
        ),
        // SIG_BITSTRING_UNUSED_BITS
        case(
            "1 unused bit",
            format!("03 48 01 30 45 02 20 {r} 02 21 00 {s}"),
            &[(SigBitstringUnusedBits, BitString, 1, 2)],
            canon(r),
            canon(s),
        ),
        // SIG_RANGE
        case(
            "r = 0",
            format!("03 29 00 30 26 02 01 00 02 21 00 {s}"),
            &[(SigRange, R, 0, 7)],
            (Some(&"00".repeat(32)), IntRead::Canonical),
            canon(s),
        ),
        case(
            "s = n",
            format!("03 48 00 30 45 02 20 {r} 02 21 00 {n}"),
            &[(SigRange, S, 0, 41)],
            canon(r),
            canon(n),
        ),
        case(
            "r of 33 significant octets",
            format!("03 49 00 30 46 02 21 01 {r} 02 21 00 {s}"),
            &[(SigRange, R, 0, 7)],
            (None, IntRead::Canonical),
            canon(s),
        ),
        // Combinations
        case(
            "2018 signer, both below 2^248",
            format!("03 47 00 30 44 02 20 {r2} 02 20 {r2}"),
            &[(SigIntLeadingZero, R, 1, 7), (SigIntLeadingZero, S, 1, 41)],
            (Some(r2), IntRead::SkippedLeadingZeros(1)),
            (Some(r2), IntRead::SkippedLeadingZeros(1)),
        ),
        case(
            "long-form SEQUENCE, leading zero r, negative s, trailing byte",
            format!("03 4a 00 30 81 45 02 21 00 {r} 02 20 {s} ff"),
            &[
                (SigLenLongForm, Sequence, 0, 4),
                (SigIntLeadingZero, R, 1, 8),
                (SigIntNegative, S, 0, 43),
                (SigTrailingData, Trailing, 1, 75),
            ],
            (Some(r), IntRead::SkippedLeadingZeros(1)),
            (Some(s), IntRead::NegativeAsUnsigned),
        ),
        case(
            "unused bits, indefinite SEQUENCE, extra element",
            format!("03 4d 07 30 80 02 20 {r} 02 21 00 {s} 02 01 01 00 00"),
            &[
                (SigBitstringUnusedBits, BitString, 7, 2),
                (SigLenIndefinite, Sequence, 0, 4),
                (SigExtraElement, Extra, 1, 74),
            ],
            canon(r),
            canon(s),
        ),
        case(
            "unused bits and not a SEQUENCE",
            format!("03 48 02 31 45 02 20 {r} 02 21 00 {s}"),
            &[
                (SigBitstringUnusedBits, BitString, 2, 2),
                (SigNotSequence, Sequence, 0, 3),
            ],
            UNREADABLE,
            UNREADABLE,
        ),
        case(
            "long-form r length and truncated s",
            format!("03 45 00 30 42 02 81 20 {r} 02 21 00 {}", &s[..56]),
            &[(SigLenLongForm, R, 0, 6), (SigTruncated, S, 0, 41)],
            canon(r),
            UNREADABLE,
        ),
        case(
            "empty r with leading-zero length, s negative and of 33 octets",
            format!("03 2a 00 30 27 02 82 00 00 02 21 80 {r}"),
            &[
                (SigIntEmpty, R, 0, 6),
                (SigLenLeadingZero, R, 1, 7),
                (SigIntNegative, S, 0, 11),
                (SigRange, S, 0, 11),
            ],
            UNREADABLE,
            (None, IntRead::NegativeAsUnsigned),
        ),
    ]
}

#[test]
fn every_case() {
    for c in cases() {
        let bytes = blob(&c.hex);
        let e = analyse_signature(&bytes, BASE);
        let got: Vec<_> = e
            .defects
            .iter()
            .map(|d| (d.code, d.component, d.count, d.offset - BASE))
            .collect();
        let want: Vec<_> = c.defects.clone();
        assert_eq!(got, want, "{}: {:#?}", c.name, e.defects);
        assert_eq!(e.r.map(hex::encode), c.r.0, "{}: r", c.name);
        assert_eq!(e.r_read, c.r.1, "{}: r_read", c.name);
        assert_eq!(e.s.map(hex::encode), c.s.0, "{}: s", c.name);
        assert_eq!(e.s_read, c.s.1, "{}: s_read", c.name);
        assert_eq!(e.is_canonical(), want.is_empty(), "{}", c.name);
        for d in &e.defects {
            assert!(!d.detail.is_empty(), "{}", c.name);
        }
    }
}

#[test]
fn every_signature_code_has_a_case() {
    let covered: Vec<DefectCode> = cases()
        .iter()
        .flat_map(|c| c.defects.iter().map(|d| d.0))
        .collect();
    for code in DefectCode::ALL.iter().filter(|c| c.is_signature()) {
        assert!(covered.contains(code), "no case for {code}");
    }
}

#[test]
fn canonical_reads_back() {
    let V { r, s, .. } = v();
    let e = analyse_signature(&blob(&format!("03 48 00 30 45 02 20 {r} 02 21 00 {s}")), 0);
    assert!(e.is_canonical());
    assert_eq!(e.rs(), Some((v32(&r), v32(&s))));
    assert_eq!((e.unused_bits, e.pad_bits_zero), (0, true));
}

#[test]
fn unused_bits_pad() {
    let r = "11".repeat(32);
    // s ends in 0x98: 1 or 3 pad bits are zero, 4 are not (0x98 & 0x0f = 8).
    let s = format!("{}98", "99".repeat(31));
    for (unused, zero) in [(1u8, true), (3, true), (4, false), (7, false)] {
        let e = analyse_signature(
            &blob(&format!("03 48 {unused:02x} 30 45 02 20 {r} 02 21 00 {s}")),
            0,
        );
        assert_eq!((e.unused_bits, e.pad_bits_zero), (unused, zero), "{unused}");
        let d = &e.defects[0];
        assert_eq!(
            (d.code, d.count, d.offset),
            (SigBitstringUnusedBits, unused as u32, 2)
        );
        assert!(
            d.detail.contains(if zero {
                "pad bits zero"
            } else {
                "pad bits not zero"
            }),
            "{}",
            d.detail
        );
        assert_eq!(e.rs(), Some((v32(&r), v32(&s))));
    }
}

#[test]
fn details_name_the_component() {
    let V { r, s, r2, .. } = v();
    let e = analyse_signature(
        &blob(&format!("03 49 00 30 46 02 81 20 {r} 02 21 00 {r2}")),
        0,
    );
    let details: Vec<&str> = e.defects.iter().map(|d| d.detail.as_str()).collect();
    assert_eq!(
        details,
        [
            "length of r in long form (0x81 0x20) where DER uses the short form",
            "s has 2 redundant leading 0x00 octets"
        ]
    );
    let e = analyse_signature(&blob(&format!("03 48 00 30 45 02 20 {r} 02 21 00 {s}")), 0);
    assert!(e.defects.is_empty());
}

#[test]
fn leading_ff_on_a_value_above_n() {
    // s = n written without its pad: n starts ff ff ff ff 00, so three 0xFF octets are
    // redundant. At 32 octets the value is read unsigned, as Java reads it: it is n itself,
    // out of range.
    let V { r, n, .. } = v();
    let e = analyse_signature(&blob(&format!("03 47 00 30 44 02 20 {r} 02 20 {n}")), 0);
    let got: Vec<_> = e.defects.iter().map(|d| (d.code, d.count)).collect();
    assert_eq!(got, [(SigIntLeadingFf, 3), (SigRange, 0)]);
    assert_eq!(e.s_read, IntRead::NegativeAsUnsigned);
    assert_eq!(e.s.unwrap(), P256_ORDER);
    assert!(e.rs().is_none());
}
