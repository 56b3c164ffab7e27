//! The strict DER walk on hand-made TLV trees: the generic rules under no schema (every
//! OCTET STRING opaque), and the schema's rules under a test schema.
use smki_der::{walk, walk_with, BerIssueKind, ErrorKind, PathStep, Rule, Schema, Walk};
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
        "OCTET STRING contents are opaque: a key identifier 01020304",
        "04 04 01 02 03 04",
        &[],
    ),
    (
        "OCTET STRING contents are opaque: a non-minimal INTEGER inside",
        "30 0a 04 08 30 06 02 02 00 01 05 00",
        &[],
    ),
    (
        "OCTET STRING contents are opaque: an EUI-64 that reads as TLVs",
        "04 08 02 02 00 01 01 02 00 00",
        &[],
    ),
    ("SET OF in order", "31 06 02 01 01 02 01 02", &[]),
    ("SET OF equal components", "31 06 02 01 01 02 01 01", &[]),
    (
        "SET OF out of order",
        "31 06 02 01 02 02 01 01",
        &[(SetOfOrder, 5, &[(0, 0x31)])],
    ),
    (
        "SET OF: compared by their whole encodings, lengths included",
        "31 07 04 02 00 00 04 01 00",
        &[(SetOfOrder, 6, &[(0, 0x31)])],
    ),
    (
        "SET OF: the length octet decides before the contents",
        "31 07 0c 01 43 0c 02 41 42",
        &[],
    ),
    (
        "SET OF: the first out-of-order component reported once",
        "30 0b 31 09 02 01 03 02 01 02 02 01 01",
        &[(SetOfOrder, 7, &[(0, 0x30), (0, 0x31)])],
    ),
    (
        "UTCTime",
        "17 0d 31 36 30 34 30 31 30 30 30 30 30 30 5a",
        &[],
    ),
    (
        "UTCTime without seconds",
        "17 0b 31 36 30 34 30 31 30 30 30 30 5a",
        &[(TimeForm, 12, &[(0, 0x17)])],
    ),
    (
        "UTCTime without Z",
        "17 0c 31 36 30 34 30 31 30 30 30 30 30 30",
        &[(TimeForm, 13, &[(0, 0x17)])],
    ),
    (
        "UTCTime with an offset",
        "17 11 31 36 30 34 30 31 30 30 30 30 30 30 2b 30 31 30 30",
        &[(TimeForm, 14, &[(0, 0x17)])],
    ),
    (
        "GeneralizedTime",
        "18 0f 39 39 39 39 31 32 33 31 32 33 35 39 35 39 5a",
        &[],
    ),
    (
        "GeneralizedTime with a fraction",
        "18 11 39 39 39 39 31 32 33 31 32 33 35 39 35 39 2e 35 5a",
        &[(TimeForm, 16, &[(0, 0x18)])],
    ),
    (
        "GeneralizedTime without Z",
        "18 0e 39 39 39 39 31 32 33 31 32 33 35 39 35 39",
        &[(TimeForm, 15, &[(0, 0x18)])],
    ),
    (
        "GeneralizedTime with bytes after the Z",
        "18 10 39 39 39 39 31 32 33 31 32 33 35 39 35 39 5a 5a",
        &[(TimeForm, 17, &[(0, 0x18)])],
    ),
    (
        "GeneralizedTime in UTCTime's form",
        "18 0d 31 36 30 34 30 31 30 30 30 30 30 30 5a",
        &[(TimeForm, 14, &[(0, 0x18)])],
    ),
    (
        "no DEFAULT and no named bits without a schema",
        "30 07 01 01 00 03 02 00 80",
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
        SetOfOrder,
        TimeForm,
    ] {
        assert!(kinds.contains(&k), "{k:?}");
    }
    let kinds: Vec<_> = SCHEMA_CASES
        .iter()
        .flat_map(|c| c.2.iter().map(|i| i.0))
        .collect();
    for k in [DefaultEncoded, NamedBitsTrailingZeros] {
        assert!(kinds.contains(&k), "{k:?}");
    }
}

/// A schema for the tests: every OCTET STRING holds DER, every BOOLEAN is `DEFAULT FALSE`,
/// every `[0]` is `[0] EXPLICIT INTEGER DEFAULT 0`, every BIT STRING has named bits, every
/// `[1]` is an IMPLICIT SET OF. Its node is the element's tag.
struct TestSchema;

impl Schema for TestSchema {
    type Node = u8;
    fn root(&self) -> u8 {
        0
    }
    fn child(&self, _: &mut u8, _: usize, tag: u8, _: &[u8]) -> u8 {
        tag
    }
    fn rule(&self, tag: u8) -> Rule {
        match tag {
            0x04 => Rule::Encapsulates,
            0x01 => Rule::Default {
                contents: &[0x00],
                value: "flag FALSE",
            },
            0xa0 => Rule::Default {
                contents: &[0x02, 0x01, 0x00],
                value: "version 0",
            },
            0x03 => Rule::NamedBits,
            0xa1 => Rule::SetOf,
            _ => Rule::Generic,
        }
    }
}

const SCHEMA_CASES: &[Case] = &[
    (
        "DER with an encapsulating OCTET STRING",
        "30 0b 04 09 30 07 02 02 00 80 01 01 ff",
        &[],
    ),
    (
        "inside an encapsulating OCTET STRING",
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
        "OCTET STRING holding two values",
        "04 06 05 00 02 81 01 05",
        &[(TrailingData, 4, &[(0, 0x04), (1, 0x02)])],
    ),
    ("empty OCTET STRING", "04 00", &[]),
    (
        "DEFAULT FALSE encoded",
        "30 03 01 01 00",
        &[(DefaultEncoded, 2, &[(0, 0x30), (0, 0x01)])],
    ),
    ("TRUE where the DEFAULT is FALSE", "30 03 01 01 ff", &[]),
    (
        "explicit [0] holding the DEFAULT 0",
        "30 05 a0 03 02 01 00",
        &[(DefaultEncoded, 2, &[(0, 0x30), (0, 0xa0)])],
    ),
    ("explicit [0] holding 2", "30 05 a0 03 02 01 02", &[]),
    ("named BIT STRING, digitalSignature", "03 02 07 80", &[]),
    (
        "named BIT STRING, keyCertSign and cRLSign",
        "03 02 01 06",
        &[],
    ),
    ("named BIT STRING, no bit set", "03 01 00", &[]),
    ("named BIT STRING, decipherOnly", "03 03 07 00 80", &[]),
    (
        "named BIT STRING, trailing 0 bits kept",
        "03 02 00 80",
        &[(NamedBitsTrailingZeros, 2, &[(0, 0x03)])],
    ),
    (
        "named BIT STRING, unused-bits count too low",
        "03 02 05 80",
        &[(NamedBitsTrailingZeros, 2, &[(0, 0x03)])],
    ),
    (
        "named BIT STRING, a trailing 0x00 octet",
        "03 03 07 80 00",
        &[(NamedBitsTrailingZeros, 4, &[(0, 0x03)])],
    ),
    (
        "named BIT STRING, one 0x00 octet",
        "03 02 00 00",
        &[(NamedBitsTrailingZeros, 3, &[(0, 0x03)])],
    ),
    (
        "named BIT STRING, a pad bit set: the generic rule alone",
        "03 02 07 81",
        &[(BitStringPadding, 3, &[(0, 0x03)])],
    ),
    (
        "[1] IMPLICIT SET OF in order",
        "a1 06 02 01 01 02 01 02",
        &[],
    ),
    (
        "[1] IMPLICIT SET OF, equal components",
        "a1 06 02 01 01 02 01 01",
        &[],
    ),
    (
        "[1] IMPLICIT SET OF out of order",
        "a1 06 02 01 02 02 01 01",
        &[(SetOfOrder, 5, &[(0, 0xa1)])],
    ),
    (
        "[2] (no rule) out of order: nothing to order",
        "a2 06 02 01 02 02 01 01",
        &[],
    ),
];

/// An issue as (kind, offset within the blob, path as (index, tag) pairs).
type Found = (BerIssueKind, usize, Vec<(usize, u8)>);

fn issues(w: &Walk) -> Vec<Found> {
    w.issues
        .iter()
        .map(|i| {
            (
                i.kind,
                i.offset - BASE,
                i.path.iter().map(|p| (p.index, p.tag)).collect::<Vec<_>>(),
            )
        })
        .collect()
}

#[test]
fn every_schema_case() {
    for (what, hex, want) in SCHEMA_CASES {
        let w = walk_with(&blob(hex), BASE, &TestSchema);
        assert_eq!(w.error, None, "{what}");
        let want: Vec<_> = want.iter().map(|(k, o, p)| (*k, *o, p.to_vec())).collect();
        assert_eq!(issues(&w), want, "{what}: {:#?}", w.issues);
        assert!(w.issues.iter().all(|i| !i.detail.is_empty()));
    }
}

#[test]
fn encapsulated_read_error_is_kept() {
    // An OCTET STRING the schema says holds DER, holding a SEQUENCE that runs past it.
    let w = walk_with(&blob("30 06 04 02 30 05 05 00"), BASE, &TestSchema);
    assert!(matches!(
        w.error.map(|e| e.kind),
        Some(ErrorKind::Truncated { .. })
    ));
    // The NULL after the OCTET STRING is still walked.
    let w = walk_with(&blob("30 07 04 02 30 05 01 01 00"), BASE, &TestSchema);
    assert_eq!(issues(&w).len(), 1);
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
