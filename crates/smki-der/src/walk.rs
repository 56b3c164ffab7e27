//! Strict DER walk of a TLV tree.
use crate::header::redundant_length_zeros;
use crate::{read_header, Error, Header, LengthForm, Tag};
use serde::Serialize;

/// One step of a path from the root element: the index among its siblings and its tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PathStep {
    pub index: usize,
    pub tag: u8,
}

/// What is not DER.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BerIssueKind {
    /// Long-form length where the short form (or fewer octets) would do.
    LongFormLength,
    /// Long-form length with redundant leading 0x00 octets.
    LengthLeadingZeros,
    /// Indefinite length.
    IndefiniteLength,
    /// INTEGER with redundant leading 0x00 or 0xFF octets.
    NonMinimalInteger,
    /// INTEGER with no content octets.
    EmptyInteger,
    /// BIT STRING whose unused bits are not zero, or whose unused-bits octet is > 7 or
    /// non-zero on an empty BIT STRING.
    BitStringPadding,
    /// BOOLEAN that is not one octet 0x00 or 0xFF.
    BadBoolean,
    /// A string type (BIT / OCTET / character string) in the constructed form.
    ConstructedString,
    /// Bytes after the last element where the input should have ended.
    TrailingData,
}

/// One non-DER encoding found by [`walk`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BerIssue {
    pub kind: BerIssueKind,
    /// Absolute byte offset of the offending octet(s).
    pub offset: usize,
    /// Path from the root element to the element concerned (the root itself is `[0]`).
    pub path: Vec<PathStep>,
    /// A human sentence.
    pub detail: String,
}

/// The result of a walk: the issues found, and the error that stopped it, if any.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Walk {
    pub issues: Vec<BerIssue>,
    pub error: Option<Error>,
}

/// Walks every element of `input` (one element expected, `base` = its absolute offset),
/// descending into constructed elements and into OCTET STRINGs whose contents are themselves
/// exactly one or more complete TLVs (such as `extnValue`); BIT STRING contents are opaque.
/// Reads through BER with [`crate::read_header`] and reports every deviation from DER.
///
/// Reported, per element: lengths in the long form where DER uses fewer octets, with
/// redundant leading 0x00 octets, or indefinite (X.690 10.1); INTEGERs empty or with
/// redundant leading 0x00 / 0xFF octets (8.3.2); BOOLEANs other than one octet 0x00 / 0xFF
/// (11.1); BIT STRINGs whose unused-bits octet is missing, > 7, non-zero on empty contents,
/// or whose unused bits are not zero (11.2); string types in the constructed form (10.2);
/// and bytes after the root element (reported with the path `[{index: 1, tag: <first
/// trailing byte>}]`, where a second top-level element would be).
///
/// An OCTET STRING is descended into only when its contents are one or more complete
/// universal-class TLVs that walk without a read error (so that random octets such as an
/// 8-octet key identifier, `4x ..`, or an EUI-64, `90 B3 ..`, stay opaque); such inner issues
/// carry the path through the OCTET STRING. A read error stops the subtree it occurs in
/// (the siblings that follow cannot be found) and is kept in [`Walk::error`] (the first
/// one); the issues found before and elsewhere are kept. Elements nested more than 64 deep
/// are not looked at.
pub fn walk(input: &[u8], base: usize) -> Walk {
    let mut w = Walk::default();
    let mut path = Vec::new();
    if let Some(end) = element(input, 0, 0, base, &mut path, &mut w) {
        if end < input.len() {
            let count = input.len() - end;
            w.issues.push(BerIssue {
                kind: BerIssueKind::TrailingData,
                offset: base + end,
                path: vec![PathStep {
                    index: 1,
                    tag: input[end],
                }],
                detail: format!("{count} trailing byte(s) after the root element"),
            });
        }
    }
    w
}

/// Elements nested deeper than this are neither checked nor descended into (X.509 needs
/// fewer than 16 levels; this bounds the recursion on hostile input).
pub(crate) const MAX_DEPTH: usize = 64;

/// Walks the element at `input[pos..]`, the `index`-th of its siblings; returns its end
/// (an index into `input`), or `None` after a read error.
fn element(
    input: &[u8],
    pos: usize,
    index: usize,
    base: usize,
    path: &mut Vec<PathStep>,
    w: &mut Walk,
) -> Option<usize> {
    let h = match read_header(input, pos, base) {
        Ok(h) => h,
        Err(e) => {
            w.error.get_or_insert(e);
            return None;
        }
    };
    path.push(PathStep { index, tag: h.tag });
    if path.len() > MAX_DEPTH {
        // Deeper than any certificate: treat as opaque rather than risk the stack.
        path.pop();
        return Some(h.end - base);
    }
    check(
        &input[h.content.start - base..h.content.end - base],
        &h,
        path,
        w,
    );
    let (start, end) = (h.content.start - base, h.content.end - base);
    if Tag::is_constructed(h.tag) {
        children(&input[..end], start, base, path, w);
    } else if h.tag == Tag::OCTET_STRING && encapsulates(&input[..end], start, base) {
        let mut inner = Walk::default();
        if children(&input[..end], start, base, path, &mut inner) && inner.error.is_none() {
            w.issues.extend(inner.issues);
        }
    }
    path.pop();
    Some(h.end - base)
}

/// Walks the elements from `input[pos..]` to the end of `input`; false after a read error.
fn children(
    input: &[u8],
    mut pos: usize,
    base: usize,
    path: &mut Vec<PathStep>,
    w: &mut Walk,
) -> bool {
    let mut index = 0;
    while pos < input.len() {
        match element(input, pos, index, base, path, w) {
            Some(end) => pos = end,
            None => return false,
        }
        index += 1;
    }
    true
}

/// Are `input[pos..]` one or more complete universal-class TLVs?
fn encapsulates(input: &[u8], mut pos: usize, base: usize) -> bool {
    if pos >= input.len() {
        return false;
    }
    while pos < input.len() {
        match read_header(input, pos, base) {
            Ok(h) if h.tag & 0xc0 == 0 => pos = h.end - base,
            _ => return false,
        }
    }
    true
}

/// Is `tag` a string type (BIT, OCTET or character string, or a time) in the constructed
/// form? DER (X.690 10.2) requires the primitive form.
fn constructed_string(tag: u8) -> bool {
    matches!(tag, 0x23 | 0x24 | 0x2c | 0x32..=0x3e)
}

/// The per-element checks; `content` is the element's contents.
fn check(content: &[u8], h: &Header, path: &[PathStep], w: &mut Walk) {
    let mut issue = |kind, offset, detail: String| {
        w.issues.push(BerIssue {
            kind,
            offset,
            path: path.to_vec(),
            detail,
        });
    };
    let tag = h.tag;
    if constructed_string(tag) {
        issue(
            BerIssueKind::ConstructedString,
            h.offset,
            format!("tag 0x{tag:02x}: a string type in the constructed form"),
        );
    }
    let len_at = h.length_offset();
    match h.form {
        LengthForm::Short | LengthForm::Long { minimal: true, .. } => {}
        LengthForm::Long { .. } if redundant_length_zeros(h) > 0 => issue(
            BerIssueKind::LengthLeadingZeros,
            len_at + 1,
            format!(
                "length of tag 0x{tag:02x} has {} redundant leading 0x00 octet(s)",
                redundant_length_zeros(h)
            ),
        ),
        LengthForm::Long { octets, .. } => issue(
            BerIssueKind::LongFormLength,
            len_at,
            format!(
                "length {} of tag 0x{tag:02x} in long form ({octets} octet(s)) where DER uses fewer",
                content.len()
            ),
        ),
        LengthForm::Indefinite => issue(
            BerIssueKind::IndefiniteLength,
            len_at,
            format!("indefinite length on tag 0x{tag:02x}"),
        ),
    }
    let at = h.content.start;
    match (tag, content) {
        (Tag::INTEGER, []) => issue(
            BerIssueKind::EmptyInteger,
            len_at,
            "INTEGER with no content octets".into(),
        ),
        (Tag::INTEGER, [0x00, b, ..]) if *b < 0x80 => issue(
            BerIssueKind::NonMinimalInteger,
            at,
            "INTEGER with a redundant leading 0x00 octet".into(),
        ),
        (Tag::INTEGER, [0xff, b, ..]) if *b >= 0x80 => issue(
            BerIssueKind::NonMinimalInteger,
            at,
            "INTEGER with a redundant leading 0xFF octet".into(),
        ),
        (Tag::BOOLEAN, [0x00] | [0xff]) => {}
        (Tag::BOOLEAN, _) => issue(
            BerIssueKind::BadBoolean,
            if content.is_empty() { len_at } else { at },
            format!(
                "BOOLEAN of {} octet(s) {content:02x?}: DER uses one octet 0x00 or 0xFF",
                content.len()
            ),
        ),
        (Tag::BIT_STRING, []) => issue(
            BerIssueKind::BitStringPadding,
            len_at,
            "BIT STRING without its unused-bits octet".into(),
        ),
        (Tag::BIT_STRING, [unused, ..]) if *unused > 7 => issue(
            BerIssueKind::BitStringPadding,
            at,
            format!("BIT STRING declares {unused} unused bits (> 7)"),
        ),
        (Tag::BIT_STRING, [unused]) if *unused != 0 => issue(
            BerIssueKind::BitStringPadding,
            at,
            format!("empty BIT STRING declares {unused} unused bit(s)"),
        ),
        (Tag::BIT_STRING, [unused, .., last]) if last & ((1u8 << unused) - 1) != 0 => issue(
            BerIssueKind::BitStringPadding,
            h.content.end - 1,
            format!("BIT STRING's {unused} unused bit(s) are not zero (last octet 0x{last:02x})"),
        ),
        _ => {}
    }
}
