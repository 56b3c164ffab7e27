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
    /// Bytes after the last element where the input should have ended (after the root
    /// element, or after the value an encapsulating OCTET STRING holds).
    TrailingData,
    /// A component encoded although it holds its DEFAULT value (X.690 11.5): critical
    /// FALSE, cA FALSE, version v1 (which components have a DEFAULT: the [`Schema`]).
    DefaultEncoded,
    /// The components of a SET OF not in ascending order of their encodings (X.690 11.6).
    SetOfOrder,
    /// A UTCTime other than `YYMMDDHHMMSSZ` or a GeneralizedTime other than
    /// `YYYYMMDDHHMMSSZ` (X.690 11.7 / 11.8; RFC 5280 4.1.2.5: seconds present, Zulu, no
    /// fractional seconds).
    TimeForm,
    /// A BIT STRING with named bits (keyUsage) whose trailing 0 bits were not removed: a
    /// last octet 0x00, or an unused-bits count below the last octet's trailing 0 bits
    /// (X.690 11.2.2; which BIT STRINGs have named bits: the [`Schema`]).
    NamedBitsTrailingZeros,
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

/// What an ASN.1 module adds, for one element, to the generic DER rules of the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rule {
    /// The generic rules only. A constructed element is descended into; the contents of a
    /// primitive one (an OCTET STRING's included) are opaque.
    Generic,
    /// An OCTET STRING whose contents are the DER encoding of exactly one value (such as the
    /// extnValue of an extension whose definition is known): that value is walked as the
    /// OCTET STRING's child `[0]`; bytes after it are [`BerIssueKind::TrailingData`].
    Encapsulates,
    /// A component declared `DEFAULT`, and `contents`: the contents octets it has when it
    /// holds that default value (`value`, named in the sentence: "critical FALSE"). DER
    /// leaves such a component out (X.690 11.5): encoded, it is
    /// [`BerIssueKind::DefaultEncoded`].
    Default {
        contents: &'static [u8],
        value: &'static str,
    },
    /// A BIT STRING defined with a NamedBitList (such as keyUsage): DER removes its trailing
    /// 0 bits (X.690 11.2.2, via X.680 22.7), so its last octet is non-zero and its
    /// unused-bits octet counts exactly that octet's trailing 0 bits; otherwise
    /// [`BerIssueKind::NamedBitsTrailingZeros`].
    NamedBits,
    /// A SET OF under a tag other than the universal SET (an IMPLICIT tag, such as a
    /// CRL distribution point's `nameRelativeToCRLIssuer [1] RelativeDistinguishedName`):
    /// its components must ascend as those of a tag-0x31 SET (X.690 11.6), else
    /// [`BerIssueKind::SetOfOrder`].
    SetOf,
}

/// The ASN.1 module a walk reads with: which elements it descends into beyond the
/// constructed ones, and which rules beyond the generic ones apply where. The walk calls
/// [`Schema::child`] once per element it reads, with the node of the element's parent, and
/// [`Schema::rule`] on the node returned.
pub trait Schema {
    /// Where an element is in the module (a small value: the walk keeps one per level).
    type Node: Copy;
    /// The node of the input itself, the parent of the root element.
    fn root(&self) -> Self::Node;
    /// The node of the `index`-th child (tag `tag`, contents `content`) of an element whose
    /// node is `parent`. `parent` may be updated: a SEQUENCE's node can keep what its earlier
    /// components said (an Extension's extnID decides what its extnValue holds).
    fn child(&self, parent: &mut Self::Node, index: usize, tag: u8, content: &[u8]) -> Self::Node;
    /// What the module adds for an element at `node`.
    fn rule(&self, node: Self::Node) -> Rule;
}

/// The schema that knows no module: [`Rule::Generic`] everywhere (every OCTET STRING is
/// opaque), what [`walk`] uses.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSchema;

impl Schema for NoSchema {
    type Node = ();
    #[inline(always)]
    fn root(&self) {}
    #[inline(always)]
    fn child(&self, _: &mut (), _: usize, _: u8, _: &[u8]) {}
    #[inline(always)]
    fn rule(&self, _: ()) -> Rule {
        Rule::Generic
    }
}

/// [`walk_with`] under [`NoSchema`]: the generic DER rules only, every OCTET STRING opaque.
pub fn walk(input: &[u8], base: usize) -> Walk {
    walk_with(input, base, &NoSchema)
}

/// Walks every element of `input` (one element expected, `base` = its absolute offset),
/// descending into constructed elements, and into an OCTET STRING only where `schema` says
/// its contents are DER ([`Rule::Encapsulates`]); any other OCTET STRING's contents, and
/// every BIT STRING's, are opaque, whatever they look like. Reads through BER with
/// [`crate::read_header`] and reports every deviation from DER.
///
/// The generic rules, per element: lengths in the long form where DER uses fewer octets,
/// with redundant leading 0x00 octets, or indefinite (X.690 10.1); INTEGERs empty or with
/// redundant leading 0x00 / 0xFF octets (8.3.2); BOOLEANs other than one octet 0x00 / 0xFF
/// (11.1); BIT STRINGs whose unused-bits octet is missing, > 7, non-zero on empty contents,
/// or whose unused bits are not zero (11.2); string types in the constructed form (10.2);
/// the components of a SET (tag 0x31: every SET of X.509 is a SET OF; a SET OF under
/// another tag where the schema says so, [`Rule::SetOf`]) not in ascending order of their
/// encodings (11.6); a UTCTime other than `YYMMDDHHMMSSZ` or a
/// GeneralizedTime other than `YYYYMMDDHHMMSSZ` (11.7, 11.8, and RFC 5280 4.1.2.5: seconds
/// present, Zulu, no fraction); and bytes after the root element (reported with the path
/// `[{index: 1, tag: <first trailing byte>}]`, where a second top-level element would be).
/// The schema's rules ([`Rule`]) add DEFAULT values encoded and named BIT STRINGs with
/// trailing 0 bits.
///
/// A read error stops the subtree it occurs in (the siblings that follow cannot be found)
/// and is kept in [`Walk::error`] (the first one); the issues found before and elsewhere are
/// kept. Elements nested more than 64 deep are not looked at.
pub fn walk_with<S: Schema>(input: &[u8], base: usize, schema: &S) -> Walk {
    let mut w = Walk::default();
    let mut path = Vec::new();
    let mut top = schema.root();
    let mut walker = Walker {
        input,
        base,
        schema,
        path: &mut path,
        w: &mut w,
    };
    if let Some(end) = walker.element(0, 0, &mut top, input.len()) {
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

/// One walk's state.
struct Walker<'a, 'w, S: Schema> {
    input: &'a [u8],
    base: usize,
    schema: &'a S,
    path: &'w mut Vec<PathStep>,
    w: &'w mut Walk,
}

impl<S: Schema> Walker<'_, '_, S> {
    /// Walks the element at `input[pos..limit]`, the `index`-th child of an element at
    /// `parent`; returns its end (an index into `input`), or `None` after a read error.
    fn element(
        &mut self,
        pos: usize,
        index: usize,
        parent: &mut S::Node,
        limit: usize,
    ) -> Option<usize> {
        let base = self.base;
        let h = match read_header(&self.input[..limit], pos, base) {
            Ok(h) => h,
            Err(e) => {
                self.w.error.get_or_insert(e);
                return None;
            }
        };
        let (start, end) = (h.content.start - base, h.content.end - base);
        if self.path.len() >= MAX_DEPTH {
            // Deeper than any certificate: treat as opaque rather than risk the stack.
            return Some(h.end - base);
        }
        self.path.push(PathStep { index, tag: h.tag });
        let content = &self.input[start..end];
        let mut node = self.schema.child(parent, index, h.tag, content);
        let rule = self.schema.rule(node);
        // Most elements (SEQUENCEs, SETs, OIDs, strings, with DER lengths) have nothing to
        // check: decided here, inline, and `check` called only for the others.
        let plain = matches!(
            h.form,
            LengthForm::Short | LengthForm::Long { minimal: true, .. }
        ) && !matches!(
            h.tag,
            Tag::INTEGER | Tag::BOOLEAN | Tag::BIT_STRING | Tag::UTC_TIME | Tag::GENERALIZED_TIME
        ) && !constructed_string(h.tag)
            && matches!(rule, Rule::Generic | Rule::SetOf);
        if !plain {
            check(content, &h, rule, self.path, self.w);
        }
        if Tag::is_constructed(h.tag) {
            self.children(
                start,
                end,
                &mut node,
                h.tag == Tag::SET || rule == Rule::SetOf,
            );
        } else if h.tag == Tag::OCTET_STRING && rule == Rule::Encapsulates {
            self.encapsulated(start, end, &mut node);
        }
        self.path.pop();
        Some(h.end - base)
    }

    /// Walks the elements of `input[pos..end]`, children of an element at `parent`
    /// (`set_of`: a SET, whose components must be in ascending order).
    fn children(&mut self, mut pos: usize, end: usize, parent: &mut S::Node, set_of: bool) {
        let mut index = 0;
        let mut previous: Option<(usize, usize)> = None;
        let mut disorder = None;
        while pos < end {
            let Some(next) = self.element(pos, index, parent, end) else {
                return;
            };
            if set_of && disorder.is_none() {
                if let Some((a, b)) = previous {
                    if !ascending(&self.input[a..b], &self.input[pos..next]) {
                        disorder = Some((index, pos));
                    }
                }
                previous = Some((pos, next));
            }
            pos = next;
            index += 1;
        }
        if let Some((i, at)) = disorder {
            self.w.issues.push(BerIssue {
                kind: BerIssueKind::SetOfOrder,
                offset: self.base + at,
                path: self.path.clone(),
                detail: format!(
                    "SET OF component {i} sorts before component {}: DER orders the \
                     components by their encodings (X.690 11.6)",
                    i - 1
                ),
            });
        }
    }

    /// Walks the one value encapsulated in the OCTET STRING contents `input[pos..end]`.
    fn encapsulated(&mut self, pos: usize, end: usize, node: &mut S::Node) {
        if pos == end {
            return;
        }
        let Some(next) = self.element(pos, 0, node, end) else {
            return;
        };
        if next < end {
            let mut path = self.path.clone();
            path.push(PathStep {
                index: 1,
                tag: self.input[next],
            });
            self.w.issues.push(BerIssue {
                kind: BerIssueKind::TrailingData,
                offset: self.base + next,
                path,
                detail: format!(
                    "{} trailing byte(s) after the value the OCTET STRING holds",
                    end - next
                ),
            });
        }
    }
}

/// X.690 11.6: is `a` at most `b`, the two compared as octet strings with the shorter
/// padded at its end with 0x00 octets?
fn ascending(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    match a[..n].cmp(&b[..n]) {
        core::cmp::Ordering::Less => true,
        core::cmp::Ordering::Greater => false,
        core::cmp::Ordering::Equal => a[n..].iter().all(|&x| x == 0),
    }
}

/// Is `tag` a string type (BIT, OCTET or character string, or a time) in the constructed
/// form? DER (X.690 10.2) requires the primitive form.
fn constructed_string(tag: u8) -> bool {
    matches!(tag, 0x23 | 0x24 | 0x2c | 0x32..=0x3e)
}

/// The per-element checks; `content` is the element's contents.
fn check(content: &[u8], h: &Header, rule: Rule, path: &[PathStep], w: &mut Walk) {
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
        (Tag::UTC_TIME | Tag::GENERALIZED_TIME, _) => {
            if let Some((i, why)) = time_form(tag, content) {
                let (name, form) = if tag == Tag::UTC_TIME {
                    ("UTCTime", "YYMMDDHHMMSSZ (X.690 11.8, RFC 5280 4.1.2.5.1)")
                } else {
                    (
                        "GeneralizedTime",
                        "YYYYMMDDHHMMSSZ (X.690 11.7, RFC 5280 4.1.2.5.2)",
                    )
                };
                issue(
                    BerIssueKind::TimeForm,
                    at + i,
                    format!(
                        "{name} \"{}\" {why}: DER uses {form}",
                        content.escape_ascii()
                    ),
                );
            }
        }
        _ => {}
    }
    match rule {
        Rule::Default { contents, value } if content == contents => issue(
            BerIssueKind::DefaultEncoded,
            h.offset,
            format!("{value} is the DEFAULT value, encoded: DER leaves it out (X.690 11.5)"),
        ),
        Rule::NamedBits if tag == Tag::BIT_STRING => {
            if let Some((offset, detail)) = named_bits(content, at) {
                issue(BerIssueKind::NamedBitsTrailingZeros, offset, detail);
            }
        }
        _ => {}
    }
}

/// Where (an index into `content`) and how a time's contents depart from the DER form:
/// 12 (UTCTime) or 14 (GeneralizedTime) ASCII digits, then `Z`; `None` when they do not.
fn time_form(tag: u8, content: &[u8]) -> Option<(usize, &'static str)> {
    let digits = if tag == Tag::UTC_TIME { 12 } else { 14 };
    let i = content
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(content.len());
    let (offset, why) = match content.get(i) {
        _ if i > digits => (digits, "has too many digits"),
        Some(b'Z') if i == digits => match content.len() - i {
            1 => return None,
            _ => (i + 1, "has bytes after the Z"),
        },
        Some(b'.' | b',') => (i, "has fractional seconds"),
        Some(b'Z' | b'+' | b'-') if i + 2 == digits => (i, "has no seconds"),
        Some(b'+' | b'-') => (i, "has a time zone offset, not Z"),
        None if i == digits => (i - 1, "does not end in Z"),
        None => (i.saturating_sub(1), "is too short"),
        Some(_) => (
            i,
            "has a character other than a digit where a digit belongs",
        ),
    };
    Some((offset, why))
}

/// A named BIT STRING's departure from DER (X.690 11.2.2): its offset and a sentence.
/// `at`: the offset of the contents (the unused-bits octet). Pad bits that are set are
/// the generic [`BerIssueKind::BitStringPadding`], not repeated here.
fn named_bits(content: &[u8], at: usize) -> Option<(usize, String)> {
    let (&unused, bits) = content.split_first()?;
    let &last = bits.last()?;
    if last == 0 {
        return Some((
            at + content.len() - 1,
            format!(
                "named BIT STRING ends with a 0x00 octet ({} octet(s), {unused} unused \
                 bit(s)): DER removes the trailing 0 bits (X.690 11.2.2)",
                bits.len()
            ),
        ));
    }
    let zeros = last.trailing_zeros() as u8;
    (unused < zeros).then(|| {
        (
            at,
            format!(
                "named BIT STRING declares {unused} unused bit(s) where its last octet \
                 0x{last:02x} has {zeros} trailing 0 bit(s): DER removes them (X.690 11.2.2)"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::ascending;

    /// X.690 11.6: octet strings compared with the shorter padded with trailing 0x00.
    #[test]
    fn set_of_comparison_pads_with_zeros() {
        assert!(ascending(b"\x01", b"\x02"));
        assert!(!ascending(b"\x02", b"\x01"));
        assert!(ascending(b"\x01", b"\x01\x00"));
        assert!(ascending(b"\x01\x00", b"\x01"));
        assert!(ascending(b"\x01", b"\x01\x01"));
        assert!(!ascending(b"\x01\x01", b"\x01"));
        assert!(ascending(b"", b""));
    }
}
