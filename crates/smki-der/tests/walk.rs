//! The strict DER walk on hand-made TLV trees.
use smki_der::{walk, BerIssueKind, ErrorKind, PathStep};
use BerIssueKind::*;

const BASE: usize = 1000;

fn blob(hex: &str) -> Vec<u8> {
    hex::decode(hex.replace(' ', "")).unwrap()
}

/// (what, hex, issues as (kind, offset within the blob, path as (index, tag) pairs)).
type Case = (
    &'static str,
    &'static str,
    &'static [(BerIssueKind, usize, &'static [(usize, u8)])],
);

const CASES: &[Case] = &[
    ("DER", "30 06 02 01 05 01 01 ff", &[]),
    (
        "DER with an encapsulating OCTET STRING",
        "30 0b 04 09 30 07 02 02 00 80 01 01 00",
        &[],
    ),
    (
        "long-form length",
        "30 81 03 02 01 05",
        &[(LongFormLength, 1, &[(0, 0x30)])],
    ),
    (
        "long-form length on a child",
        "30 04 02 81 01 05",
        &[(LongFormLength, 3, &[(0, 0x30), (0, 0x02)])],
    ),
    (
        "length with a leading zero",
        "30 82 00 03 02 01 05",
        &[(LengthLeadingZeros, 2, &[(0, 0x30)])],
    ),
    (
        "long-form zero length",
        "30 81 00",
        &[(LongFormLength, 1, &[(0, 0x30)])],
    ),
    (
        "zero length with a leading zero",
        "30 82 00 00",
        &[(LengthLeadingZeros, 2, &[(0, 0x30)])],
    ),
    (
        "indefinite length",
        "30 80 02 01 05 00 00",
        &[(IndefiniteLength, 1, &[(0, 0x30)])],
    ),
    (
        "INTEGER with a redundant 0x00",
        "30 04 02 02 00 05",
        &[(NonMinimalInteger, 4, &[(0, 0x30), (0, 0x02)])],
    ),
    (
        "INTEGER with a redundant 0xFF",
        "02 02 ff 80",
        &[(NonMinimalInteger, 2, &[(0, 0x02)])],
    ),
    (
        "minimal INTEGERs",
        "30 0a 02 02 00 80 02 02 ff 7f 02 00",
        &[(EmptyInteger, 11, &[(0, 0x30), (2, 0x02)])],
    ),
    (
        "empty INTEGER",
        "30 04 05 00 02 00",
        &[(EmptyInteger, 5, &[(0, 0x30), (1, 0x02)])],
    ),
    ("BOOLEAN 0x01", "01 01 01", &[(BadBoolean, 2, &[(0, 0x01)])]),
    (
        "BOOLEAN of two octets",
        "01 02 ff ff",
        &[(BadBoolean, 2, &[(0, 0x01)])],
    ),
    (
        "empty BOOLEAN, third child",
        "30 09 05 00 30 03 01 01 ff 01 00",
        &[(BadBoolean, 10, &[(0, 0x30), (2, 0x01)])],
    ),
    (
        "BIT STRING pad bit set",
        "03 02 01 01",
        &[(BitStringPadding, 3, &[(0, 0x03)])],
    ),
    ("BIT STRING pad bit clear", "03 02 01 02", &[]),
    (
        "BIT STRING 8 unused bits",
        "03 02 08 00",
        &[(BitStringPadding, 2, &[(0, 0x03)])],
    ),
    (
        "empty BIT STRING with unused bits",
        "03 01 03",
        &[(BitStringPadding, 2, &[(0, 0x03)])],
    ),
    (
        "BIT STRING without unused-bits octet",
        "03 00",
        &[(BitStringPadding, 1, &[(0, 0x03)])],
    ),
    (
        "BIT STRING contents are opaque",
        "03 05 00 02 02 00 01",
        &[],
    ),
    (
        "constructed OCTET STRING",
        "24 05 04 03 61 62 63",
        &[(ConstructedString, 0, &[(0, 0x24)])],
    ),
    (
        "constructed PrintableString",
        "33 03 13 01 41",
        &[(ConstructedString, 0, &[(0, 0x33)])],
    ),
    (
        "constructed indefinite BIT STRING",
        "23 80 03 02 00 61 00 00",
        &[
            (ConstructedString, 0, &[(0, 0x23)]),
            (IndefiniteLength, 1, &[(0, 0x23)]),
        ],
    ),
    (
        "trailing data",
        "05 00 ff ee",
        &[(TrailingData, 2, &[(1, 0xff)])],
    ),
    (
        "inside an encapsulated OCTET STRING",
        "30 0a 04 08 30 06 02 02 00 01 05 00",
        &[(
            NonMinimalInteger,
            8,
            &[(0, 0x30), (0, 0x04), (0, 0x30), (0, 0x02)],
        )],
    ),
    (
        "OCTET STRING holding an INTEGER",
        "04 04 02 02 00 01",
        &[(NonMinimalInteger, 4, &[(0, 0x04), (0, 0x02)])],
    ),
    (
        "OCTET STRING of two TLVs",
        "04 06 05 00 02 81 01 05",
        &[(LongFormLength, 5, &[(0, 0x04), (1, 0x02)])],
    ),
    (
        "OCTET STRING of application-class bytes",
        "04 06 4a 81 03 01 02 03",
        &[],
    ),
    ("OCTET STRING not TLVs", "04 03 30 05 00", &[]),
    (
        "OCTET STRING whose TLV does not walk",
        "04 05 30 03 1f 01 00",
        &[],
    ),
    ("empty OCTET STRING", "04 00", &[]),
];

#[test]
fn every_case() {
    for (what, hex, want) in CASES {
        let w = walk(&blob(hex), BASE);
        assert_eq!(w.error, None, "{what}");
        let got: Vec<_> = w
            .issues
            .iter()
            .map(|i| {
                (
                    i.kind,
                    i.offset - BASE,
                    i.path.iter().map(|p| (p.index, p.tag)).collect::<Vec<_>>(),
                )
            })
            .collect();
        let want: Vec<_> = want.iter().map(|(k, o, p)| (*k, *o, p.to_vec())).collect();
        assert_eq!(got, want, "{what}: {:#?}", w.issues);
        assert!(w.issues.iter().all(|i| !i.detail.is_empty()));
    }
}

#[test]
fn every_kind_has_a_case() {
    let kinds: Vec<_> = CASES.iter().flat_map(|c| c.2.iter().map(|i| i.0)).collect();
    for k in [
        LongFormLength,
        LengthLeadingZeros,
        IndefiniteLength,
        NonMinimalInteger,
        EmptyInteger,
        BitStringPadding,
        BadBoolean,
        ConstructedString,
        TrailingData,
    ] {
        assert!(kinds.contains(&k), "{k:?}");
    }
}

#[test]
fn read_error_keeps_what_was_found() {
    // SEQUENCE { INTEGER 5 (long-form length), INTEGER declaring 5 octets with 1 present }.
    let w = walk(&blob("30 07 02 81 01 05 02 05 01"), BASE);
    assert_eq!(w.issues.len(), 1);
    assert_eq!(
        (w.issues[0].kind, w.issues[0].offset),
        (LongFormLength, BASE + 3)
    );
    let e = w.error.unwrap();
    assert!(matches!(e.kind, ErrorKind::Truncated { .. }));
    assert_eq!(e.position, BASE + 6);
}

#[test]
fn read_error_stops_only_its_subtree() {
    // SEQUENCE { SEQUENCE { bad high tag }, BOOLEAN 0x01 }: the error is kept, the BOOLEAN
    // after the broken SEQUENCE is still checked.
    let w = walk(&blob("30 07 30 02 1f 00 01 01 01"), 0);
    assert_eq!(
        w.error.map(|e| (e.kind, e.position)),
        Some((ErrorKind::HighTagNumber, 4))
    );
    let kinds: Vec<_> = w.issues.iter().map(|i| (i.kind, i.offset)).collect();
    assert_eq!(kinds, [(BadBoolean, 8)]);
    assert_eq!(
        w.issues[0].path,
        [
            PathStep {
                index: 0,
                tag: 0x30
            },
            PathStep {
                index: 1,
                tag: 0x01
            }
        ]
    );
}

#[test]
fn unreadable_root() {
    let w = walk(&[], 0);
    assert!(w.issues.is_empty());
    assert!(w.error.is_some());
    let w = walk(&blob("30 05 02"), 7);
    assert_eq!(w.error.map(|e| e.position), Some(7));
}

#[test]
fn deep_nesting_is_bounded() {
    // 10,000 nested indefinite-length SEQUENCEs... would recurse in read_header itself, so
    // use definite lengths: 200 levels of `30 81 LL` is enough to pass the limit.
    let mut der = vec![0x02, 0x02, 0x00, 0x01]; // non-minimal INTEGER at the bottom
    for _ in 0..200 {
        let mut outer = vec![0x30];
        smki_der::encode::length(der.len(), &mut outer);
        outer.extend_from_slice(&der);
        der = outer;
    }
    let w = walk(&der, 0);
    assert_eq!(w.error, None);
    assert!(w.issues.is_empty(), "below the depth limit: not looked at");
}
