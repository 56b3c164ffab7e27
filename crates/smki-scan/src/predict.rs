//! Relying-party predictions, from the measured table in docs/predictions.md.
use serde::Serialize;
use smki_der::{BerIssueKind, DefectCode, SignatureEncoding};
use smki_x509::CertBer;
use std::collections::BTreeMap;

smki_der::vocabulary! {
    /// The relying parties whose behaviour was measured (in the order of the reports).
    #[derive(PartialOrd, Ord)]
    pub enum RelyingParty {
        /// Java 8u121+ (17, 25): `sun.security.util.ECUtil.decodeSignature`.
        Java = "java",
        /// OpenSSL 1.0.1k+ / 3.x.
        Openssl = "openssl",
        /// BouncyCastle 1.56+.
        Bouncycastle = "bouncycastle",
        /// Go crypto/x509.
        Go = "go",
        /// pyca/cryptography.
        Pyca = "pyca",
        /// rustls-webpki.
        Webpki = "webpki",
    }
}

smki_der::vocabulary! {
    /// Would this relying party accept the certificate (given its issuer's key)?
    pub enum Prediction {
        Accept = "accept",
        Reject = "reject",
        /// Nothing to predict (the record is not an ECDSA P-256 certificate).
        Unknown = "unknown",
    }
}

impl RelyingParty {
    /// The version of the party the predictions were measured against: the single home of
    /// these versions. `tests/relying_party_matrix.rs` asks each real party for its version
    /// and fails when it is not this one (at this granularity: major version, and minor
    /// where the party's behaviour changes between minors), so the table cannot go stale
    /// silently; docs/relying-parties.md shows the same.
    pub const fn tested_with(self) -> &'static str {
        match self {
            RelyingParty::Java => "OpenJDK 17",
            RelyingParty::Openssl => "OpenSSL 3.0",
            RelyingParty::Bouncycastle => "BouncyCastle 1.72",
            RelyingParty::Go => "Go 1.19",
            RelyingParty::Pyca => "pyca/cryptography 48",
            RelyingParty::Webpki => "rustls-webpki 0.103",
        }
    }
}

/// The table of [`RelyingParty::tested_with`], serialised as one JSON object
/// `{"java": "OpenJDK 17", ...}` in report order: `tested_with` in `smki inspect`'s
/// predictions, `relying_parties` in the scan summary (docs/predictions.md says why the
/// findings lines refer to the summary's table rather than repeating it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TestedWith;

impl Serialize for TestedWith {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(RelyingParty::ALL.len()))?;
        for &rp in RelyingParty::ALL {
            m.serialize_entry(rp.as_str(), rp.tested_with())?;
        }
        m.end()
    }
}

/// One prediction per relying party, with the reason for each rejection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Predictions {
    pub java: Prediction,
    pub openssl: Prediction,
    pub bouncycastle: Prediction,
    pub go: Prediction,
    pub pyca: Prediction,
    pub webpki: Prediction,
    /// Why, for each relying party that rejects (or is unknown), keyed by its name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub reasons: BTreeMap<RelyingParty, String>,
    /// The version each party's prediction was measured against ([`TestedWith`]): set by
    /// `smki inspect` ([`Predictions::with_tested_with`]); absent from the findings lines,
    /// whose scan summary carries the one table instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tested_with: Option<TestedWith>,
}

impl Predictions {
    pub fn all(p: Prediction, reason: &str) -> Predictions {
        let mut out = Predictions {
            java: p,
            openssl: p,
            bouncycastle: p,
            go: p,
            pyca: p,
            webpki: p,
            reasons: BTreeMap::new(),
            tested_with: None,
        };
        if p != Prediction::Accept {
            out.reasons = RelyingParty::ALL
                .iter()
                .map(|&rp| (rp, reason.to_string()))
                .collect();
        }
        out
    }
    pub fn get(&self, rp: RelyingParty) -> Prediction {
        match rp {
            RelyingParty::Java => self.java,
            RelyingParty::Openssl => self.openssl,
            RelyingParty::Bouncycastle => self.bouncycastle,
            RelyingParty::Go => self.go,
            RelyingParty::Pyca => self.pyca,
            RelyingParty::Webpki => self.webpki,
        }
    }
    fn reject(&mut self, rp: RelyingParty, reason: String) {
        let slot = match rp {
            RelyingParty::Java => &mut self.java,
            RelyingParty::Openssl => &mut self.openssl,
            RelyingParty::Bouncycastle => &mut self.bouncycastle,
            RelyingParty::Go => &mut self.go,
            RelyingParty::Pyca => &mut self.pyca,
            RelyingParty::Webpki => &mut self.webpki,
        };
        if *slot == Prediction::Accept {
            *slot = Prediction::Reject;
            self.reasons.insert(rp, reason);
        }
    }
    /// Every party but pyca/cryptography rejects a certificate whose tbsCertificate.signature
    /// differs from its signatureAlgorithm, for `reason` (measured: pyca compares them not,
    /// and verifies under the outer algorithm; tests/relying_party_matrix.rs).
    pub(crate) fn algorithm_mismatch(&mut self, reason: &str) {
        for &rp in RelyingParty::ALL {
            if rp != RelyingParty::Pyca && self.get(rp) != Prediction::Unknown {
                self.reject(rp, String::new());
                self.reasons.insert(rp, reason.to_string());
            }
        }
    }
    /// Every party that accepts now rejects, for `reason`.
    pub(crate) fn reject_all(&mut self, reason: &str) {
        for &rp in RelyingParty::ALL {
            self.reject(rp, reason.to_string());
        }
    }
    /// The same predictions, carrying the versions they were measured against.
    pub fn with_tested_with(mut self) -> Predictions {
        self.tested_with = Some(TestedWith);
        self
    }
    /// The reason given for a relying party, if it does not accept.
    pub fn reason(&self, rp: RelyingParty) -> Option<&str> {
        self.reasons.get(&rp).map(String::as_str)
    }
}

use RelyingParty::*;

fn read_as_unsigned(sig: &SignatureEncoding, c: smki_der::Component) -> bool {
    let read = match c {
        smki_der::Component::R => sig.r_read,
        smki_der::Component::S => sig.s_read,
        _ => return false,
    };
    read == smki_der::IntRead::NegativeAsUnsigned
}

/// Predicts each relying party's answer for an ECDSA P-256 certificate whose signature
/// encoding is `sig`, whose other non-DER encodings are `ber`, and whose signature
/// `verifies` (under the true issuer key; pass `true` when the key is unknown, and the
/// predictions then speak of the encoding alone).
///
/// The rules are those of docs/predictions.md, drawn from its measured table:
/// - any redundant 0x00 / 0xFF, non-DER length, trailing data, extra element, empty or
///   out-of-range integer, or truncation inside the signature: every party rejects;
/// - a negative INTEGER (missing pad) of at most 32 octets, even one starting with redundant
///   0xFF octets: only Java accepts (it reads the octets unsigned);
/// - unused bits declared by the signatureValue BIT STRING: with pad bits zero Java and pyca
///   accept, the rest reject; with a pad bit set all reject;
/// - a long-form (or otherwise non-DER) length outside the ECDSA-Sig-Value: Java, OpenSSL and
///   BouncyCastle accept, Go, pyca and webpki reject (measured for the signatureValue
///   BIT STRING; applied to every length); any other non-DER encoding (non-minimal INTEGER,
///   bad BOOLEAN, ...): every party rejects;
/// - a DEFAULT value encoded, a SET OF out of order, a time not in its DER form: OpenSSL
///   accepts, every other party rejects; a named BIT STRING (keyUsage) with trailing 0
///   bits: OpenSSL and pyca accept, the others reject.
pub fn predict(sig: &SignatureEncoding, ber: &[CertBer], verifies: bool) -> Predictions {
    let mut p = Predictions::all(Prediction::Accept, "");
    if !verifies {
        for &rp in RelyingParty::ALL {
            p.reject(
                rp,
                "the signature does not verify under the issuer key".into(),
            );
        }
    }
    for d in &sig.defects {
        let why = format!("{}: {}", d.code, d.detail);
        match d.code {
            // A negative INTEGER of at most 32 octets (with or without redundant 0xFF
            // octets) is read unsigned by Java, so Java verifies it; longer ones it rejects.
            DefectCode::SigIntNegative | DefectCode::SigIntLeadingFf
                if read_as_unsigned(sig, d.component) =>
            {
                for rp in [Openssl, Bouncycastle, Go, Pyca, Webpki] {
                    p.reject(rp, why.clone());
                }
            }
            DefectCode::SigBitstringUnusedBits if sig.pad_bits_zero => {
                for rp in [Openssl, Bouncycastle, Go, Webpki] {
                    p.reject(rp, why.clone());
                }
            }
            _ => {
                for &rp in RelyingParty::ALL {
                    p.reject(rp, why.clone());
                }
            }
        }
    }
    for b in ber {
        let why = format!("CERT_BER at {}: {}", b.path, b.detail);
        let rejecting: &[RelyingParty] = match b.kind {
            // Measured (tests/relying_party_matrix.rs): Java verifies over the
            // tbsCertificate re-encoded with a DER header (and over the bytes inside it as
            // they are: the serialNumber's or the validity's long-form length it accepts),
            // BouncyCastle over the whole tbsCertificate re-encoded as DER; OpenSSL over
            // the bytes as they are.
            BerIssueKind::LongFormLength
            | BerIssueKind::LengthLeadingZeros
            | BerIssueKind::IndefiniteLength
                if b.path == "tbsCertificate" =>
            {
                &[Java, Bouncycastle, Go, Pyca, Webpki]
            }
            BerIssueKind::LongFormLength
            | BerIssueKind::LengthLeadingZeros
            | BerIssueKind::IndefiniteLength
                if b.path.starts_with("tbsCertificate") =>
            {
                &[Bouncycastle, Go, Pyca, Webpki]
            }
            BerIssueKind::LongFormLength
            | BerIssueKind::LengthLeadingZeros
            | BerIssueKind::IndefiniteLength => &[Go, Pyca, Webpki],
            // Measured against real OpenSSL 3 and pyca (tests/der_rules.rs): OpenSSL reads
            // all four; pyca refuses all but the named BIT STRING; the other parties keep
            // the conservative rule until issue 16 measures them.
            BerIssueKind::DefaultEncoded | BerIssueKind::SetOfOrder | BerIssueKind::TimeForm => {
                &[Java, Bouncycastle, Go, Pyca, Webpki]
            }
            BerIssueKind::NamedBitsTrailingZeros => &[Java, Bouncycastle, Go, Webpki],
            _ => RelyingParty::ALL,
        };
        for &rp in rejecting {
            p.reject(rp, why.clone());
        }
    }
    p
}

/// What a party does with the certificate beyond its signature, from its fields (measured
/// on SMKI-shaped certificates, tests/relying_party_matrix.rs): each party that refuses
/// the whole certificate, and why.
/// - Go 1.19's `x509.ParseCertificate` reads a name's attribute values only as T61String,
///   PrintableString, UTF8String, BMPString, IA5String or NumericString: the
///   x500UniqueIdentifier BIT STRING of an SMKI organisation certificate's subject (or a CA
///   name holding one) makes it refuse the certificate.
/// - rustls-webpki 0.103 refuses a certificate with a critical extension it does not
///   process (it processes keyUsage, subjectAltName, basicConstraints, nameConstraints,
///   cRLDistributionPoints and extKeyUsage): the SMKI profiles make certificatePolicies
///   critical.
pub fn certificate_refusals(f: &smki_x509::Fields) -> Vec<(RelyingParty, String)> {
    let mut out = Vec::new();
    const GO_STRINGS: [u8; 6] = [0x14, 0x13, 0x0c, 0x1e, 0x16, 0x12];
    for (which, name) in [("subject", &f.subject), ("issuer", &f.issuer)] {
        if let Some(a) = name
            .attributes
            .iter()
            .find(|a| !GO_STRINGS.contains(&a.tag))
        {
            out.push((
                Go,
                format!(
                    "x509: invalid RDNSequence: invalid attribute value: unsupported string type: {} (the {which} attribute {})",
                    a.tag, a.oid
                ),
            ));
            break;
        }
    }
    const WEBPKI_PROCESSES: [&str; 6] = [
        "2.5.29.15",
        "2.5.29.17",
        "2.5.29.19",
        "2.5.29.30",
        "2.5.29.31",
        "2.5.29.37",
    ];
    if let Some(e) = f
        .extensions
        .iter()
        .find(|e| e.critical && !WEBPKI_PROCESSES.contains(&e.oid.as_str()))
    {
        out.push((
            Webpki,
            format!(
                "UnsupportedCriticalExtension (the critical extension {})",
                e.oid
            ),
        ));
    }
    out
}

impl Predictions {
    /// The party refuses the whole certificate for `why`; where it would accept the
    /// signature alone, the reason says both.
    pub(crate) fn refuse_certificate(&mut self, rp: RelyingParty, why: &str) {
        if self.get(rp) == Prediction::Accept {
            self.reject(rp, format!("{why}; the signature alone it would accept"));
        }
    }
}
