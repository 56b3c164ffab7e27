//! What the tool says about one record: the [`Finding`], its defects and its signature check.
use crate::hexbytes;
use crate::predict::{Prediction, Predictions};
use crate::Verdict;
use serde::{Serialize, Serializer};
use smki_der::{Component, DefectCode};
use smki_repo::{Locator, Metadata};
use smki_verify::KeySource;
use smki_x509::{sha256, Lint, Profile, Usage};
use std::fmt;

/// The outcome of signature verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SignatureCheck {
    /// Verified under the issuer key `issuer_key_id`, which came from `key_source`.
    Valid {
        #[serde(with = "hexbytes")]
        issuer_key_id: Vec<u8>,
        key_source: KeySource,
    },
    /// Does not verify under that key.
    Invalid {
        #[serde(with = "hexbytes")]
        issuer_key_id: Vec<u8>,
        key_source: KeySource,
    },
    /// No issuer key found; says what was looked for.
    IssuerUnknown { looked_for: String },
    /// Not attempted, and why.
    NotChecked { why: String },
}

/// Where a defect is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum At {
    /// A part of the signatureValue.
    Signature(Component),
    /// An element of the certificate, by its path (`tbsCertificate.extensions[1].extnValue`,
    /// `signatureAlgorithm`).
    Path(String),
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            At::Signature(Component::BitString) => "signatureValue",
            At::Signature(Component::Sequence) => "ECDSA-Sig-Value",
            At::Signature(Component::R) => "r",
            At::Signature(Component::S) => "s",
            At::Signature(Component::Extra) => "extra element",
            At::Signature(Component::Trailing) => "trailing data",
            At::Path(path) => path,
        })
    }
}

impl Serialize for At {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One defect, with where it is and the bytes there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingDefect {
    pub code: DefectCode,
    /// Byte offset within the record.
    pub offset: usize,
    /// Where: r, s, signatureValue, ... or a certificate path.
    pub at: At,
    /// Redundant octets, unused bits, trailing bytes, ... where the code counts something.
    pub count: u32,
    pub detail: String,
    /// Up to 8 bytes of the record from the offset.
    #[serde(with = "hexbytes")]
    pub excerpt: Vec<u8>,
}

impl FindingDefect {
    /// The defect `code` at `offset` of the record `der` (with the bytes there), no count.
    pub(crate) fn new(
        der: &[u8],
        code: DefectCode,
        offset: usize,
        at: At,
        detail: &str,
    ) -> FindingDefect {
        let end = (offset + 8).min(der.len());
        FindingDefect {
            code,
            offset,
            at,
            count: 0,
            detail: detail.to_string(),
            excerpt: der.get(offset..end).map(<[u8]>::to_vec).unwrap_or_default(),
        }
    }
}

/// Everything the tool says about one record.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub locator: Locator,
    /// SHA-256 of the record's bytes (for a record the reader could not read, of its bytes
    /// as they stand in the file; `None`, written `""`, when none could be read).
    #[serde(with = "hexbytes::or_empty")]
    pub sha256: Option<[u8; 32]>,
    /// The serial number's content octets.
    #[serde(with = "hexbytes::option")]
    pub serial: Option<Vec<u8>>,
    pub subject: Option<String>,
    pub issuer: Option<String>,
    /// The authorityKeyIdentifier the certificate names.
    #[serde(with = "hexbytes::option")]
    pub issuer_key_id: Option<Vec<u8>>,
    pub profile: Option<Profile>,
    pub role: Option<String>,
    pub usage: Option<Usage>,
    pub eui64: Option<String>,
    /// notBefore, seconds since the epoch (the issuance date).
    pub not_before: Option<i64>,
    /// notAfter, seconds since the epoch (the end of validity).
    pub not_after: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Metadata>,
    pub verdict: Verdict,
    /// One sentence: why this verdict.
    pub reason: String,
    pub defects: Vec<FindingDefect>,
    pub lints: Vec<Lint>,
    pub signature: SignatureCheck,
    /// r and s as read (32 octets), when readable.
    #[serde(with = "hexbytes::option")]
    pub r: Option<[u8; 32]>,
    #[serde(with = "hexbytes::option")]
    pub s: Option<[u8; 32]>,
    pub predictions: Predictions,
}

impl Finding {
    /// The codes of the defects, each once, in order of first appearance (the one place
    /// where a finding's codes are deduplicated: CSV, reasons, summary, manifest, audit).
    pub fn codes(&self) -> impl Iterator<Item = DefectCode> + '_ {
        self.defects
            .iter()
            .enumerate()
            .filter(|&(i, d)| !self.defects[..i].iter().any(|e| e.code == d.code))
            .map(|(_, d)| d.code)
    }

    /// The codes of the defects, each once, separated by `sep`.
    pub fn codes_text(&self, sep: &str) -> String {
        code_names(self.codes(), sep)
    }

    /// A finding for a record the reader could not produce.
    pub(crate) fn unreadable_record(err: &smki_repo::Error) -> Finding {
        let sha = err.raw.as_deref().map(sha256);
        Finding::unreadable(err.locator.clone(), sha, None, err.to_string())
    }

    pub(crate) fn unreadable(
        locator: Locator,
        sha256: Option<[u8; 32]>,
        meta: Option<Metadata>,
        reason: String,
    ) -> Finding {
        Finding {
            locator,
            sha256,
            serial: None,
            subject: None,
            issuer: None,
            issuer_key_id: None,
            profile: None,
            role: None,
            usage: None,
            eui64: None,
            not_before: None,
            not_after: None,
            meta,
            verdict: Verdict::Unreadable,
            reason: reason.clone(),
            defects: Vec::new(),
            lints: Vec::new(),
            signature: SignatureCheck::NotChecked {
                why: reason.clone(),
            },
            r: None,
            s: None,
            predictions: Predictions::all(Prediction::Unknown, &reason),
        }
    }
}

/// The names of `codes`, separated by `sep`.
pub(crate) fn code_names(codes: impl IntoIterator<Item = DefectCode>, sep: &str) -> String {
    let mut out = String::new();
    for (i, c) in codes.into_iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(c.as_str());
    }
    out
}
