//! The lenient `ECDSA-Sig-Value` analyser.
//!
//! ```text
//! Certificate  ::=  SEQUENCE  {
//!      tbsCertificate       TBSCertificate,
//!      signatureAlgorithm   AlgorithmIdentifier,
//!      signatureValue       BIT STRING  }
//!
//! ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }
//! ```
use crate::header::{read_header_declared, redundant_length_zeros};
use crate::{read_header, ErrorKind, Header, LengthForm, Tag};
use serde::{Deserialize, Serialize};

/// The order n of the P-256 group, big-endian.
pub const P256_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// The order n of the P-384 group, big-endian.
pub const P384_ORDER: [u8; 48] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
    0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
];

/// The order n of the P-521 group, big-endian.
pub const P521_ORDER: [u8; 66] = [
    0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xfa, 0x51, 0x86, 0x87, 0x83, 0xbf, 0x2f, 0x96, 0x6b, 0x7f, 0xcc, 0x01, 0x48, 0xf7, 0x09,
    0xa5, 0xd0, 0x3b, 0xb5, 0xc9, 0xb8, 0x89, 0x9c, 0x47, 0xae, 0xbb, 0x6f, 0xb7, 0x1e, 0x91, 0x38,
    0x64, 0x09,
];

/// The curve whose group order bounds r and s (SEC 1 4.1.4: 0 < r, s < n).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    /// The group order n, big-endian, without leading zero octets.
    pub fn order(self) -> &'static [u8] {
        match self {
            Curve::P256 => &P256_ORDER,
            Curve::P384 => &P384_ORDER,
            Curve::P521 => &P521_ORDER,
        }
    }
    /// The smallest of this curve, P-384 and P-521 whose scalars have room for `octets`
    /// significant octets (this curve when none has).
    pub fn widened_to(self, octets: usize) -> Curve {
        [self, Curve::P384, Curve::P521]
            .into_iter()
            .find(|c| c.order().len() >= octets)
            .unwrap_or(self)
    }
    /// `P-256`, `P-384`, `P-521`.
    pub fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }
}

crate::vocabulary! {
    /// Defects, with stable codes (docs/vocabulary.md): the signature encoding's
    /// (`SIG_*`) and the rest of the certificate's (`CERT_*`). A finding's defects all carry
    /// one of these.
    #[derive(PartialOrd, Ord)]
    pub enum DefectCode {
        /// r or s carries redundant leading 0x00 octets (the 2018 defect).
        SigIntLeadingZero = "SIG_INT_LEADING_ZERO",
        /// r or s has its high bit set without the 0x00 pad: a negative INTEGER.
        SigIntNegative = "SIG_INT_NEGATIVE",
        /// r or s is an INTEGER with no content octets.
        SigIntEmpty = "SIG_INT_EMPTY",
        /// r or s carries redundant leading 0xFF octets.
        SigIntLeadingFf = "SIG_INT_LEADING_FF",
        /// A length inside the signature uses the long form where DER needs the short form.
        SigLenLongForm = "SIG_LEN_LONG_FORM",
        /// A length inside the signature is indefinite (0x80 ... 00 00).
        SigLenIndefinite = "SIG_LEN_INDEFINITE",
        /// A long-form length inside the signature has redundant leading 0x00 octets.
        SigLenLeadingZero = "SIG_LEN_LEADING_ZERO",
        /// Bytes follow the ECDSA-Sig-Value SEQUENCE inside the BIT STRING.
        SigTrailingData = "SIG_TRAILING_DATA",
        /// The ECDSA-Sig-Value SEQUENCE holds more than two elements.
        SigExtraElement = "SIG_EXTRA_ELEMENT",
        /// The BIT STRING does not hold a SEQUENCE (or r or s is not an INTEGER).
        SigNotSequence = "SIG_NOT_SEQUENCE",
        /// A length inside the signature runs past the end of the BIT STRING.
        SigTruncated = "SIG_TRUNCATED",
        /// The signatureValue BIT STRING declares unused bits.
        SigBitstringUnusedBits = "SIG_BITSTRING_UNUSED_BITS",
        /// r or s is 0 or >= n.
        SigRange = "SIG_RANGE",
        /// A non-DER encoding elsewhere in the certificate (see the path).
        CertBer = "CERT_BER",
        /// The tbsCertificate's signature algorithm differs from the signatureAlgorithm.
        CertSigAlgMismatch = "CERT_SIG_ALG_MISMATCH",
        /// The signature is not ecdsa-with-SHA256 on P-256 (another algorithm, another hash,
        /// or an issuer key on another curve): not verified.
        CertUnsupportedAlg = "CERT_UNSUPPORTED_ALG",
        /// A second extension of a type the tbsCertificate already has (see the path).
        CertDuplicateExtension = "CERT_DUPLICATE_EXTENSION",
    }
}

impl DefectCode {
    /// Is this a defect of the signature encoding (as opposed to the rest of the certificate)?
    pub fn is_signature(self) -> bool {
        !matches!(
            self,
            DefectCode::CertBer
                | DefectCode::CertSigAlgMismatch
                | DefectCode::CertUnsupportedAlg
                | DefectCode::CertDuplicateExtension
        )
    }
}

/// Which part of the signature a defect is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    /// The signatureValue BIT STRING (its unused-bits octet).
    BitString,
    /// The ECDSA-Sig-Value SEQUENCE.
    Sequence,
    R,
    S,
    /// An element after s inside the SEQUENCE.
    Extra,
    /// Bytes after the SEQUENCE inside the BIT STRING.
    Trailing,
}

/// One deviation from DER in the signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Defect {
    pub code: DefectCode,
    /// Absolute byte offset (within the certificate) of the offending octet(s).
    pub offset: usize,
    pub component: Component,
    /// A count where the code has one: redundant octets, unused bits, trailing bytes,
    /// extra elements; otherwise 0.
    pub count: u32,
    /// A human sentence, e.g. "r has 1 redundant leading 0x00 octet".
    pub detail: String,
}

/// How an INTEGER's value was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "how", content = "octets")]
pub enum IntRead {
    /// Minimal positive DER INTEGER.
    Canonical,
    /// Read after skipping this many redundant leading 0x00 octets.
    SkippedLeadingZeros(u32),
    /// High bit set without a pad: read as an unsigned magnitude, the way Java does.
    NegativeAsUnsigned,
    /// Read as unsigned after skipping this many redundant leading 0xFF octets.
    SkippedLeadingFf(u32),
    /// Could not be read (empty, missing, truncated, or not an INTEGER).
    Unreadable,
}

/// What [`analyse_signature`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureEncoding {
    /// Every deviation from DER, in byte order.
    pub defects: Vec<Defect>,
    /// r as a 32-octet big-endian value, when it could be read and is < 2^256 (on another
    /// curve than P-256: `None`; see [`SignatureEncoding::curve`]).
    pub r: Option<[u8; 32]>,
    /// s likewise.
    pub s: Option<[u8; 32]>,
    pub r_read: IntRead,
    pub s_read: IntRead,
    /// The unused-bits count declared by the BIT STRING (0 when DER).
    pub unused_bits: u8,
    /// Whether the declared unused (pad) bits of the last octet are all zero.
    pub pad_bits_zero: bool,
    /// The curve whose order r and s were judged against.
    pub curve: Curve,
    /// The most significant octets r or s has (0 when neither could be read): a P-256
    /// signature's are at most 32, a P-384 one's 48, a P-521 one's 66.
    pub widest: usize,
}

impl SignatureEncoding {
    /// No defect at all: the signatureValue is the canonical DER of (r, s), 0 < r, s < n.
    pub fn is_canonical(&self) -> bool {
        self.defects.is_empty()
    }
    /// (r, s) when both were read and both are in [1, n-1] of P-256.
    pub fn rs(&self) -> Option<([u8; 32], [u8; 32])> {
        let in_range = |v: &[u8; 32]| v.iter().any(|&b| b != 0) && v < &P256_ORDER;
        if self.curve != Curve::P256 {
            return None;
        }
        match (self.r, self.s) {
            (Some(r), Some(s)) if in_range(&r) && in_range(&s) => Some((r, s)),
            _ => None,
        }
    }
    pub fn has(&self, code: DefectCode) -> bool {
        self.defects.iter().any(|d| d.code == code)
    }
}

/// Analyses a certificate's `signatureValue`.
///
/// `bit_string` is the whole BIT STRING element (tag, length, unused-bits octet, contents);
/// `base` is its offset within the certificate, so that every [`Defect::offset`] is an
/// offset within the certificate. The BIT STRING's own length octets are not judged here
/// (the strict walk reports them as `CERT_BER`); everything inside is.
///
/// Lenient: redundant 0x00 / 0xFF octets, long-form and indefinite lengths, negative
/// INTEGERs (read as unsigned), trailing data and extra elements are all read through, and
/// each is reported. r and s are recovered wherever their bytes can be read at all.
///
/// One defect per deviation, sorted by offset; each offset points at the offending octet:
/// * the BIT STRING: not tag 0x03 -> `SIG_NOT_SEQUENCE`, unreadable or empty ->
///   `SIG_TRUNCATED` (nothing else is read); unused-bits octet != 0 ->
///   `SIG_BITSTRING_UNUSED_BITS` (count = unused bits; the octets are read as they are);
/// * the SEQUENCE: not tag 0x30 -> `SIG_NOT_SEQUENCE` (nothing else is read); a declared
///   length past the end of the BIT STRING -> `SIG_TRUNCATED`, and what is there is read;
/// * every length (SEQUENCE, r, s): long form where DER uses fewer octets ->
///   `SIG_LEN_LONG_FORM`, with redundant leading 0x00 octets -> `SIG_LEN_LEADING_ZERO`
///   (count) instead, indefinite -> `SIG_LEN_INDEFINITE` (read through on the SEQUENCE; an
///   INTEGER with it is unreadable, and so is anything after it);
/// * r and s: not tag 0x02 -> `SIG_NOT_SEQUENCE`, missing or overrunning the SEQUENCE ->
///   `SIG_TRUNCATED`, no content -> `SIG_INT_EMPTY` (each unreadable); redundant leading
///   0x00 octets (0x00 before a byte < 0x80) -> `SIG_INT_LEADING_ZERO` (count, skipped);
///   high bit set without a pad -> `SIG_INT_NEGATIVE` (read unsigned, as Java does); redundant
///   leading 0xFF octets (0xFF before a byte >= 0x80) -> `SIG_INT_LEADING_FF` (count,
///   skipped, then read unsigned; not also `SIG_INT_NEGATIVE`); a value of more than 32
///   significant octets (value `None`), 0 or >= n -> `SIG_RANGE`;
/// * elements after s -> one `SIG_EXTRA_ELEMENT` (count); bytes after the SEQUENCE ->
///   `SIG_TRAILING_DATA` (count).
pub fn analyse_signature(bit_string: &[u8], base: usize) -> SignatureEncoding {
    analyse_signature_on(bit_string, base, Curve::P256)
}

/// [`analyse_signature`] for a signature on `curve`: r and s are judged against its order
/// (`SIG_RANGE`: 0, more significant octets than the order has, or >= n); a value is kept in
/// [`SignatureEncoding::r`] / `s` only on P-256.
pub fn analyse_signature_on(bit_string: &[u8], base: usize, curve: Curve) -> SignatureEncoding {
    let mut a = Analyser {
        data: bit_string,
        base,
        defects: Vec::new(),
        curve,
        widest: 0,
    };
    let mut out = SignatureEncoding {
        defects: Vec::new(),
        r: None,
        s: None,
        r_read: IntRead::Unreadable,
        s_read: IntRead::Unreadable,
        unused_bits: 0,
        pad_bits_zero: true,
        curve,
        widest: 0,
    };
    a.run(&mut out);
    a.defects.sort_by_key(|d| d.offset);
    out.defects = a.defects;
    out.widest = a.widest;
    out
}

/// The analyser's working state: `data` is the BIT STRING element (cut to its end once its
/// header is read); every position is an index into it, made absolute by adding `base`.
struct Analyser<'a> {
    data: &'a [u8],
    base: usize,
    defects: Vec<Defect>,
    curve: Curve,
    /// The most significant octets r or s was read with.
    widest: usize,
}

/// How one INTEGER was read: its value, how, and where the next element starts (`None` when
/// the end of this one cannot be known).
struct IntOutcome {
    value: Option<[u8; 32]>,
    read: IntRead,
    next: Option<usize>,
}

impl IntOutcome {
    fn unreadable(next: Option<usize>) -> Self {
        IntOutcome {
            value: None,
            read: IntRead::Unreadable,
            next,
        }
    }
}

fn name(c: Component) -> &'static str {
    match c {
        Component::BitString => "the signatureValue BIT STRING",
        Component::Sequence => "the ECDSA-Sig-Value SEQUENCE",
        Component::R => "r",
        Component::S => "s",
        Component::Extra => "an extra element",
        Component::Trailing => "trailing data",
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn hex_octets(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("0x{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Analyser<'_> {
    fn push(
        &mut self,
        code: DefectCode,
        at: usize,
        component: Component,
        count: usize,
        detail: String,
    ) {
        self.defects.push(Defect {
            code,
            offset: self.base + at,
            component,
            count: count as u32,
            detail,
        });
    }

    fn run(&mut self, out: &mut SignatureEncoding) {
        use DefectCode::*;
        // signatureValue BIT STRING: tag 0x03, length, unused-bits octet, contents.
        let bs = Component::BitString;
        match self.data.first() {
            None => return self.push(SigTruncated, 0, bs, 0, "the signatureValue is empty".into()),
            Some(&tag) if tag != Tag::BIT_STRING => {
                let detail =
                    format!("the signatureValue has tag 0x{tag:02x}, not BIT STRING (0x03)");
                return self.push(SigNotSequence, 0, bs, 0, detail);
            }
            Some(_) => {}
        }
        let h = match read_header(self.data, 0, 0) {
            Ok(h) => h,
            Err(e) => {
                let detail = format!("{} cannot be read: {e}", name(bs));
                return self.push(SigTruncated, 0, bs, 0, detail);
            }
        };
        self.data = &self.data[..h.end];
        let Some(&unused) = self.data.get(h.content.start) else {
            let detail = format!("{} has no unused-bits octet", name(bs));
            return self.push(SigTruncated, h.content.start, bs, 0, detail);
        };
        if unused != 0 {
            out.unused_bits = unused;
            let last = if h.content.len() > 1 {
                self.data[h.content.end - 1]
            } else {
                0
            };
            let mask = if unused >= 8 {
                0xff
            } else {
                (1u8 << unused) - 1
            };
            out.pad_bits_zero = last & mask == 0;
            let detail = format!(
                "{} declares {} (DER: 0 for a signature), pad bits {}",
                name(bs),
                plural(unused as usize, "unused bit"),
                if out.pad_bits_zero {
                    "zero"
                } else {
                    "not zero"
                }
            );
            self.push(
                SigBitstringUnusedBits,
                h.content.start,
                bs,
                unused as usize,
                detail,
            );
        }
        self.sequence(h.content.start + 1, out);
    }

    /// `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` at `pos`, up to the end of
    /// the BIT STRING.
    fn sequence(&mut self, pos: usize, out: &mut SignatureEncoding) {
        use DefectCode::*;
        let seq = Component::Sequence;
        let data = self.data;
        match data.get(pos) {
            None => {
                let detail = "the signatureValue BIT STRING holds no ECDSA-Sig-Value".into();
                return self.push(SigTruncated, pos, seq, 0, detail);
            }
            Some(&tag) if tag != Tag::SEQUENCE => {
                let detail =
                    format!("the ECDSA-Sig-Value has tag 0x{tag:02x}, not SEQUENCE (0x30)");
                return self.push(SigNotSequence, pos, seq, 0, detail);
            }
            Some(_) => {}
        }
        let (content, end) = match read_header_declared(data, pos, 0) {
            Ok(h) => {
                self.length_defect(&h, seq);
                if h.end > data.len() {
                    let detail = format!(
                        "{} declares {} content octets but only {} remain",
                        name(seq),
                        h.content.len(),
                        data.len() - h.content.start
                    );
                    self.push(SigTruncated, pos + 1, seq, 0, detail);
                    (h.content.start..data.len(), data.len())
                } else {
                    (h.content, h.end)
                }
            }
            // An indefinite length whose end-of-contents cannot be found: read what is there.
            Err(_) if data.get(pos + 1) == Some(&0x80) => {
                let detail = format!("length of {} is indefinite (0x80)", name(seq));
                self.push(SigLenIndefinite, pos + 1, seq, 0, detail);
                let detail = format!("{} has no end-of-contents (00 00) marker", name(seq));
                self.push(SigTruncated, pos + 1, seq, 0, detail);
                (pos + 2..data.len(), data.len())
            }
            Err(e) => {
                let detail = format!("{} cannot be read: {e}", name(seq));
                return self.push(SigTruncated, pos, seq, 0, detail);
            }
        };
        let r = self.integer(content.start, content.end, Component::R);
        (out.r, out.r_read) = (r.value, r.read);
        let s = match r.next {
            Some(next) => self.integer(next, content.end, Component::S),
            None => IntOutcome::unreadable(None),
        };
        (out.s, out.s_read) = (s.value, s.read);
        if let Some(first) = s.next.filter(|&p| p < content.end) {
            let mut count = 0;
            let mut at = first;
            while at < content.end {
                count += 1;
                match read_header(&data[..content.end], at, 0) {
                    Ok(h) => at = h.end,
                    Err(_) => break,
                }
            }
            let detail = format!(
                "{} holds {} after s (DER: exactly r and s)",
                name(seq),
                plural(count, "extra element")
            );
            self.push(SigExtraElement, first, Component::Extra, count, detail);
        }
        if end < data.len() {
            let count = data.len() - end;
            let detail = format!("{} after {}", plural(count, "trailing byte"), name(seq));
            self.push(SigTrailingData, end, Component::Trailing, count, detail);
        }
    }

    /// One defect for a length that DER would have written otherwise.
    fn length_defect(&mut self, h: &Header, c: Component) {
        use DefectCode::*;
        let at = h.offset;
        let octets = hex_octets(&self.data[at + 1..at + h.header_len]);
        match h.form {
            LengthForm::Short | LengthForm::Long { minimal: true, .. } => {}
            LengthForm::Long { .. } if redundant_length_zeros(h) > 0 => {
                let n = redundant_length_zeros(h);
                let detail = format!(
                    "length of {} ({octets}) has {}",
                    name(c),
                    plural(n, "redundant leading 0x00 octet")
                );
                self.push(SigLenLeadingZero, at + 2, c, n, detail);
            }
            LengthForm::Long { .. } => {
                let detail = if h.content.len() < 0x80 {
                    format!(
                        "length of {} in long form ({octets}) where DER uses the short form",
                        name(c)
                    )
                } else {
                    format!(
                        "length of {} in long form ({octets}) with more octets than needed",
                        name(c)
                    )
                };
                self.push(SigLenLongForm, at + 1, c, 0, detail);
            }
            LengthForm::Indefinite => {
                let detail = format!("length of {} is indefinite (0x80)", name(c));
                self.push(SigLenIndefinite, at + 1, c, 0, detail);
            }
        }
    }

    /// r or s: an INTEGER at `pos` that must end by `limit`.
    fn integer(&mut self, pos: usize, limit: usize, c: Component) -> IntOutcome {
        use DefectCode::*;
        let data = &self.data[..limit];
        let Some(&tag) = data.get(pos) else {
            let detail = format!("{} is missing: the SEQUENCE ends before it", name(c));
            self.push(SigTruncated, pos, c, 0, detail);
            return IntOutcome::unreadable(None);
        };
        if tag != Tag::INTEGER {
            let detail = format!("{} has tag 0x{tag:02x}, not INTEGER (0x02)", name(c));
            self.push(SigNotSequence, pos, c, 0, detail);
            return IntOutcome::unreadable(read_header(data, pos, 0).ok().map(|h| h.end));
        }
        let h = match read_header_declared(data, pos, 0) {
            Ok(h) => h,
            Err(e) if e.kind == ErrorKind::BadIndefinite => {
                let detail = format!(
                    "length of {} is indefinite (0x80), not allowed on an INTEGER",
                    name(c)
                );
                self.push(SigLenIndefinite, pos + 1, c, 0, detail);
                return IntOutcome::unreadable(None);
            }
            Err(e) => {
                let detail = format!("{} cannot be read: {e}", name(c));
                self.push(SigTruncated, pos, c, 0, detail);
                return IntOutcome::unreadable(None);
            }
        };
        self.length_defect(&h, c);
        if h.end > limit {
            let detail = format!(
                "{} declares {} content octets but only {} remain",
                name(c),
                h.content.len(),
                limit.saturating_sub(h.content.start)
            );
            self.push(SigTruncated, pos + 1, c, 0, detail);
            return IntOutcome::unreadable(None);
        }
        let next = Some(h.end);
        let content = &data[h.content.clone()];
        let at = h.content.start;
        if content.is_empty() {
            let detail = format!("{} is an INTEGER with no content octets", name(c));
            self.push(SigIntEmpty, pos + 1, c, 0, detail);
            return IntOutcome::unreadable(next);
        }
        // Redundant leading octets: a 0x00 before a byte < 0x80, or a 0xFF before a byte
        // >= 0x80 (X.690 8.3.2: the first nine bits shall not be all zeros or all ones).
        let run = |pad: u8, redundant_before: fn(u8) -> bool| {
            content
                .windows(2)
                .take_while(|w| w[0] == pad && redundant_before(w[1]))
                .count()
        };
        let zeros = run(0x00, |b| b < 0x80);
        let (read, magnitude) = if zeros > 0 {
            let detail = format!(
                "{} has {}",
                name(c),
                plural(zeros, "redundant leading 0x00 octet")
            );
            self.push(SigIntLeadingZero, at, c, zeros, detail);
            (
                IntRead::SkippedLeadingZeros(zeros as u32),
                &content[zeros..],
            )
        } else if content[0] & 0x80 != 0 {
            let ffs = run(0xff, |b| b >= 0x80);
            if ffs > 0 && content.len() <= self.curve.order().len() {
                // At most 32 octets: the raw value of a signer that dropped the pad (r or s
                // starting FF 8x, 1 in 512); read unsigned as Java does, which verifies.
                let detail = format!(
                    "{} has {} (negative without a pad; read as unsigned, as Java does)",
                    name(c),
                    plural(ffs, "redundant leading 0xFF octet")
                );
                self.push(SigIntLeadingFf, at, c, ffs, detail);
                (IntRead::NegativeAsUnsigned, content)
            } else if ffs > 0 {
                let detail = format!(
                    "{} has {} (read as unsigned after them)",
                    name(c),
                    plural(ffs, "redundant leading 0xFF octet")
                );
                self.push(SigIntLeadingFf, at, c, ffs, detail);
                (IntRead::SkippedLeadingFf(ffs as u32), &content[ffs..])
            } else {
                let detail = format!(
                    "{} is negative: high bit set without a 0x00 pad (read as unsigned)",
                    name(c)
                );
                self.push(SigIntNegative, at, c, 0, detail);
                (IntRead::NegativeAsUnsigned, content)
            }
        } else {
            (IntRead::Canonical, content)
        };
        let significant = &magnitude[magnitude.iter().take_while(|&&b| b == 0).count()..];
        self.widest = self.widest.max(significant.len());
        let order = self.curve.order();
        if significant.len() > order.len() {
            let detail = format!(
                "{} has {} significant octets, more than a {} scalar's {}",
                name(c),
                significant.len(),
                self.curve.name(),
                order.len()
            );
            self.push(SigRange, at, c, 0, detail);
            return IntOutcome {
                value: None,
                read,
                next,
            };
        }
        // Same length as the order: compared octet by octet (big-endian).
        if significant.is_empty() {
            self.push(SigRange, at, c, 0, format!("{} is 0", name(c)));
        } else if significant.len() == order.len() && significant >= order {
            let detail = format!(
                "{} is not below the {} group order n",
                name(c),
                self.curve.name()
            );
            self.push(SigRange, at, c, 0, detail);
        }
        let value = (self.curve == Curve::P256).then(|| {
            let mut value = [0u8; 32];
            value[32 - significant.len()..].copy_from_slice(significant);
            value
        });
        IntOutcome { value, read, next }
    }
}
