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
use serde::{Deserialize, Serialize};

/// The order n of the P-256 group, big-endian.
pub const P256_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63,
    0x25, 0x51,
];

/// Encoding defects, with stable codes (DESIGN.md, "Vocabulary").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum DefectCode {
    /// r or s carries redundant leading 0x00 octets (the 2018 defect).
    SigIntLeadingZero,
    /// r or s has its high bit set without the 0x00 pad: a negative INTEGER.
    SigIntNegative,
    /// r or s is an INTEGER with no content octets.
    SigIntEmpty,
    /// r or s carries redundant leading 0xFF octets.
    SigIntLeadingFf,
    /// A length inside the signature uses the long form where DER needs the short form.
    SigLenLongForm,
    /// A length inside the signature is indefinite (0x80 ... 00 00).
    SigLenIndefinite,
    /// A long-form length inside the signature has redundant leading 0x00 octets.
    SigLenLeadingZero,
    /// Bytes follow the ECDSA-Sig-Value SEQUENCE inside the BIT STRING.
    SigTrailingData,
    /// The ECDSA-Sig-Value SEQUENCE holds more than two elements.
    SigExtraElement,
    /// The BIT STRING does not hold a SEQUENCE (or r or s is not an INTEGER).
    SigNotSequence,
    /// A length inside the signature runs past the end of the BIT STRING.
    SigTruncated,
    /// The signatureValue BIT STRING declares unused bits.
    SigBitstringUnusedBits,
    /// r or s is 0 or >= n.
    SigRange,
    /// A non-DER encoding elsewhere in the certificate (see the path).
    CertBer,
}

impl DefectCode {
    /// Every code, in declaration order.
    pub const ALL: &'static [DefectCode] = &[
        DefectCode::SigIntLeadingZero,
        DefectCode::SigIntNegative,
        DefectCode::SigIntEmpty,
        DefectCode::SigIntLeadingFf,
        DefectCode::SigLenLongForm,
        DefectCode::SigLenIndefinite,
        DefectCode::SigLenLeadingZero,
        DefectCode::SigTrailingData,
        DefectCode::SigExtraElement,
        DefectCode::SigNotSequence,
        DefectCode::SigTruncated,
        DefectCode::SigBitstringUnusedBits,
        DefectCode::SigRange,
        DefectCode::CertBer,
    ];

    /// The stable code, e.g. `SIG_INT_LEADING_ZERO`.
    pub fn as_str(self) -> &'static str {
        match self {
            DefectCode::SigIntLeadingZero => "SIG_INT_LEADING_ZERO",
            DefectCode::SigIntNegative => "SIG_INT_NEGATIVE",
            DefectCode::SigIntEmpty => "SIG_INT_EMPTY",
            DefectCode::SigIntLeadingFf => "SIG_INT_LEADING_FF",
            DefectCode::SigLenLongForm => "SIG_LEN_LONG_FORM",
            DefectCode::SigLenIndefinite => "SIG_LEN_INDEFINITE",
            DefectCode::SigLenLeadingZero => "SIG_LEN_LEADING_ZERO",
            DefectCode::SigTrailingData => "SIG_TRAILING_DATA",
            DefectCode::SigExtraElement => "SIG_EXTRA_ELEMENT",
            DefectCode::SigNotSequence => "SIG_NOT_SEQUENCE",
            DefectCode::SigTruncated => "SIG_TRUNCATED",
            DefectCode::SigBitstringUnusedBits => "SIG_BITSTRING_UNUSED_BITS",
            DefectCode::SigRange => "SIG_RANGE",
            DefectCode::CertBer => "CERT_BER",
        }
    }

    /// Parses a stable code.
    pub fn parse(code: &str) -> Option<DefectCode> {
        DefectCode::ALL.iter().copied().find(|c| c.as_str().eq_ignore_ascii_case(code))
    }

    /// Is this a defect of the signature encoding (as opposed to the rest of the certificate)?
    pub fn is_signature(self) -> bool {
        !matches!(self, DefectCode::CertBer)
    }
}

impl core::fmt::Display for DefectCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
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
    /// r as a 32-octet big-endian value, when it could be read and is < 2^256.
    pub r: Option<[u8; 32]>,
    /// s likewise.
    pub s: Option<[u8; 32]>,
    pub r_read: IntRead,
    pub s_read: IntRead,
    /// The unused-bits count declared by the BIT STRING (0 when DER).
    pub unused_bits: u8,
    /// Whether the declared unused (pad) bits of the last octet are all zero.
    pub pad_bits_zero: bool,
}

impl SignatureEncoding {
    /// No defect at all: the signatureValue is the canonical DER of (r, s), 0 < r, s < n.
    pub fn is_canonical(&self) -> bool {
        self.defects.is_empty()
    }
    /// (r, s) when both were read and both are in [1, n-1].
    pub fn rs(&self) -> Option<([u8; 32], [u8; 32])> {
        let in_range = |v: &[u8; 32]| v.iter().any(|&b| b != 0) && v < &P256_ORDER;
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
pub fn analyse_signature(bit_string: &[u8], base: usize) -> SignatureEncoding {
    let _ = (bit_string, base);
    todo!("smki-der signature analyser")
}
