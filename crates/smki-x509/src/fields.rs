//! The tbsCertificate fields an SMKI scan needs, read with [`smki_der::read_header`].
//!
//! ```text
//! TBSCertificate  ::=  SEQUENCE  {
//!      version         [0]  EXPLICIT Version DEFAULT v1,
//!      serialNumber         CertificateSerialNumber,
//!      signature            AlgorithmIdentifier,
//!      issuer               Name,
//!      validity             Validity,
//!      subject              Name,
//!      subjectPublicKeyInfo SubjectPublicKeyInfo,
//!      issuerUniqueID  [1]  IMPLICIT UniqueIdentifier OPTIONAL,
//!      subjectUniqueID [2]  IMPLICIT UniqueIdentifier OPTIONAL,
//!      extensions      [3]  EXPLICIT Extensions OPTIONAL }
//! ```
//! (RFC 5280 section 4.1; the ASN.1 of each part is quoted where it is read.)
//!
//! # How strict
//!
//! Read as BER, the way the whole project reads certificates: lengths in any form
//! (long, non-minimal, indefinite), BOOLEANs other than 0x00 / 0xFF, INTEGERs with
//! redundant leading octets, BIT STRINGs with non-zero unused bits, times in any form X.680
//! allows ([`smki_der::ber_time`]: no seconds, an offset instead of `Z`, a fraction). A
//! tbsCertificate that is
//! not DER thus still yields its fields, and the strict walk ([`crate::ber_issues`]) reports
//! how it deviates (only a reissue can fix it: it is signed).
//!
//! Everything else must be the structure RFC 5280 defines, tags compared as whole
//! identifier octets: every mandatory element present, nothing after the last element,
//! times that read as dates and times, valid OBJECT
//! IDENTIFIERs, each extension at most once (RFC 5280 section 4.2). Otherwise the record
//! is an [`Error`] naming the element and the byte.
//!
//! Known extensions (those with a field here) whose value is not of the expected type at
//! all, or cannot be read as a TLV, are kept in [`Fields::extensions`] with their field
//! left empty, as x509-parser (which this crate replaced) did: the profile lints then
//! report them as missing. A value of the expected type that is malformed inside, or
//! followed by other bytes, is an error. Each reader (of names in `names.rs`, of
//! extensions in `extensions.rs`, of the rest here) says where x509-parser also gave up on
//! a value and this one does the same.
use crate::elements::{bit_string, unsigned, wrong_tag, Elements, BAD_BIT_STRING};
use crate::extensions::{
    extensions, BasicConstraints, DuplicateExtension, ExtensionInfo, HardwareModuleName,
};
use crate::names::{name, Name};
use crate::oid::{oid_string, Oid};
use crate::{CertView, Error, FieldProblem};
use serde::Serialize;
use smki_der::{ber_time, generalized_time, is_valid_oid, utc_time, Header, Tag};

/// Key usage of an SMKI end-entity certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Usage {
    /// digitalSignature
    DS,
    /// keyAgreement
    KA,
}

/// The subject public key's algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyAlgorithm {
    /// id-ecPublicKey on prime256v1.
    P256,
    /// id-ecPublicKey on another curve (its OID; empty when the parameters are absent or
    /// NULL).
    OtherCurve(String),
    /// Another algorithm (its OID).
    Other(String),
}

impl KeyAlgorithm {
    /// The curve of an EC key on P-256, P-384 or P-521 (`None` for others).
    pub fn curve(&self) -> Option<smki_der::Curve> {
        match self {
            KeyAlgorithm::P256 => Some(smki_der::Curve::P256),
            KeyAlgorithm::OtherCurve(c) if c == Oid::Secp384r1.text() => {
                Some(smki_der::Curve::P384)
            }
            KeyAlgorithm::OtherCurve(c) if c == Oid::Secp521r1.text() => {
                Some(smki_der::Curve::P521)
            }
            _ => None,
        }
    }
}

/// A Time as encoded: its tag (UTCTime 0x17 or GeneralizedTime 0x18) and its text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EncodedTime {
    pub tag: u8,
    /// Digits and `Z` (`99991231235959Z`).
    pub text: String,
}

/// The fields of a certificate that SMKI cares about (owned; the view keeps the bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fields {
    pub version: u32,
    /// The serialNumber content octets as encoded.
    pub serial: Vec<u8>,
    /// The inner `signature` AlgorithmIdentifier element as encoded.
    #[serde(skip)]
    pub inner_signature_algorithm: Vec<u8>,
    pub issuer: Name,
    pub subject: Name,
    pub not_before: i64,
    pub not_after: i64,
    /// notBefore / notAfter as encoded.
    pub not_before_raw: EncodedTime,
    pub not_after_raw: EncodedTime,
    pub key_algorithm: KeyAlgorithm,
    /// The subjectPublicKey bits (for P-256: the SEC1 point).
    pub public_key: Vec<u8>,
    pub extensions: Vec<ExtensionInfo>,
    /// Extensions of a type listed before (not in `extensions`; the first one's value
    /// stands).
    pub duplicate_extensions: Vec<DuplicateExtension>,
    pub subject_key_id: Option<Vec<u8>>,
    pub authority_key_id: Option<Vec<u8>>,
    /// AKI carries authorityCertIssuer or authorityCertSerialNumber.
    pub aki_has_issuer_serial: bool,
    /// keyUsage bits (x509-parser order: bit 0 digitalSignature ... bit 5 keyCertSign).
    pub key_usage: Option<u16>,
    pub basic_constraints: Option<BasicConstraints>,
    pub policies: Vec<String>,
    /// Each hardwareModuleName otherName in the SAN.
    pub hardware_module_names: Vec<HardwareModuleName>,
    /// Other SAN entries (count).
    pub other_san_entries: usize,
    /// The EUI-64 from the hardwareModuleName or the x500UniqueIdentifier.
    pub eui64: Option<[u8; 8]>,
}

impl Fields {
    /// Parses the fields of the view's tbsCertificate (see the module documentation for
    /// what is accepted). Errors name the element (`tbsCertificate.validity.notBefore`)
    /// and carry the offending byte's position within the record.
    pub fn parse(view: &CertView<'_>) -> Result<Fields, Error> {
        let der = view.der();
        let mut tbs = Elements::of(der, &view.tbs);
        let version = match tbs.optional(0xa0, "tbsCertificate.version")? {
            Some(h) => version(der, &h).map_err(|e| e.within("tbsCertificate.version"))?,
            None => 0,
        };
        let serial = tbs.expect(Tag::INTEGER, "tbsCertificate.serialNumber")?;
        let signature = tbs.expect(Tag::SEQUENCE, "tbsCertificate.signature")?;
        algorithm_identifier(der, &signature).map_err(|e| e.within("tbsCertificate.signature"))?;
        let issuer = tbs.expect(Tag::SEQUENCE, "tbsCertificate.issuer")?;
        let issuer = name(der, &issuer).map_err(|e| e.within("tbsCertificate.issuer"))?;
        let validity_h = tbs.expect(Tag::SEQUENCE, "tbsCertificate.validity")?;
        let Validity {
            not_before,
            not_after,
        } = validity(der, &validity_h).map_err(|e| e.within("tbsCertificate.validity"))?;
        let subject = tbs.expect(Tag::SEQUENCE, "tbsCertificate.subject")?;
        let subject = name(der, &subject).map_err(|e| e.within("tbsCertificate.subject"))?;
        let spki = tbs.expect(Tag::SEQUENCE, "tbsCertificate.subjectPublicKeyInfo")?;
        let spki = subject_public_key_info(der, &spki)
            .map_err(|e| e.within("tbsCertificate.subjectPublicKeyInfo"))?;
        for (tag, element) in [
            (0x81, "tbsCertificate.issuerUniqueID"),
            (0x82, "tbsCertificate.subjectUniqueID"),
        ] {
            if let Some(h) = tbs.optional(tag, element)? {
                // UniqueIdentifier  ::=  BIT STRING (read, not kept)
                if bit_string(&der[h.content.clone()]).is_none() {
                    return Err(Error::field(element, BAD_BIT_STRING, h.offset));
                }
            }
        }
        let mut f = Fields {
            version,
            serial: der[serial.content].to_vec(),
            inner_signature_algorithm: der[signature.element()].to_vec(),
            issuer,
            subject,
            not_before: not_before.seconds,
            not_after: not_after.seconds,
            not_before_raw: not_before.encoded,
            not_after_raw: not_after.encoded,
            key_algorithm: spki.algorithm,
            public_key: spki.key,
            extensions: Vec::with_capacity(8),
            duplicate_extensions: Vec::new(),
            subject_key_id: None,
            authority_key_id: None,
            aki_has_issuer_serial: false,
            key_usage: None,
            basic_constraints: None,
            policies: Vec::new(),
            hardware_module_names: Vec::new(),
            other_san_entries: 0,
            eui64: None,
        };
        if let Some(h) = tbs.optional(0xa3, "tbsCertificate.extensions")? {
            extensions(der, &h, &mut f)?;
        }
        tbs.end("tbsCertificate")?;
        f.eui64 = f
            .hardware_module_names
            .first()
            .and_then(|h| <[u8; 8]>::try_from(h.serial.as_slice()).ok())
            .or_else(|| {
                f.subject
                    .attribute(Oid::UniqueIdentifier)
                    .and_then(|a| match a.value.as_slice() {
                        // BIT STRING: unused-bits octet then the EUI-64.
                        [0, eui64 @ ..] if a.tag == Tag::BIT_STRING => eui64.try_into().ok(),
                        _ => None,
                    })
            });
        Ok(f)
    }

    /// The serial as hex (content octets as encoded).
    pub fn serial_hex(&self) -> String {
        hex::encode(&self.serial)
    }

    /// The EUI-64 written the way the repository shows it: `90-B3-D5-1F-30-01-00-00`.
    pub fn eui64_text(&self) -> Option<String> {
        self.eui64.map(|e| {
            let mut text = hex::encode_upper(e);
            for at in (2..text.len()).step_by(2).rev() {
                text.insert(at, '-');
            }
            text
        })
    }

    /// DS or KA when exactly one of digitalSignature / keyAgreement is set.
    pub fn usage(&self) -> Option<Usage> {
        let ku = self.key_usage?;
        match (ku & 1 != 0, ku & (1 << 4) != 0) {
            (true, false) => Some(Usage::DS),
            (false, true) => Some(Usage::KA),
            _ => None,
        }
    }

    /// The extension of this type, if the certificate has it.
    pub fn extension(&self, oid: Oid) -> Option<&ExtensionInfo> {
        self.extensions.iter().find(|e| e.oid == oid.text())
    }
}

/// `Version ::= INTEGER { v1(0), v2(1), v3(2) }` inside `[0] EXPLICIT`: the integer (any
/// value that fits in 32 bits, as x509-parser took it).
fn version(der: &[u8], explicit: &Header) -> Result<u32, Error> {
    let mut it = Elements::of(der, explicit);
    let int = it.expect(Tag::INTEGER, "")?;
    it.end("")?;
    unsigned(it.contents(&int))
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| {
            Error::field(
                "",
                FieldProblem::BadValue("not an INTEGER in 0..2^32"),
                int.offset,
            )
        })
}

/// The headers of an AlgorithmIdentifier's elements.
struct AlgorithmIdentifier {
    algorithm: Header,
    parameters: Option<Header>,
}

/// ```text
/// AlgorithmIdentifier  ::=  SEQUENCE  {
///      algorithm               OBJECT IDENTIFIER,
///      parameters              ANY DEFINED BY algorithm OPTIONAL  }
/// ```
fn algorithm_identifier(der: &[u8], h: &Header) -> Result<AlgorithmIdentifier, Error> {
    let mut it = Elements::of(der, h);
    let algorithm = it.expect(Tag::OID, "algorithm")?;
    if !is_valid_oid(it.contents(&algorithm)) {
        return Err(Error::field(
            "algorithm",
            FieldProblem::BadOid,
            algorithm.offset,
        ));
    }
    let parameters = if it.is_empty() {
        None
    } else {
        Some(it.any("parameters")?)
    };
    it.end("")?;
    Ok(AlgorithmIdentifier {
        algorithm,
        parameters,
    })
}

/// ```text
/// Validity ::= SEQUENCE {
///      notBefore      Time,
///      notAfter       Time  }
///
/// Time ::= CHOICE {
///      utcTime        UTCTime,
///      generalTime    GeneralizedTime }
/// ```
fn validity(der: &[u8], h: &Header) -> Result<Validity, Error> {
    let mut it = Elements::of(der, h);
    let validity = Validity {
        not_before: time(&mut it, "notBefore")?,
        not_after: time(&mut it, "notAfter")?,
    };
    it.end("")?;
    Ok(validity)
}

/// The two times of a Validity.
struct Validity {
    not_before: Time,
    not_after: Time,
}

/// A time as Unix seconds, and as encoded.
struct Time {
    seconds: i64,
    encoded: EncodedTime,
}

fn time(it: &mut Elements<'_>, element: &str) -> Result<Time, Error> {
    let h = it.any(element)?;
    let content = it.contents(&h);
    // The DER form (RFC 5280 4.1.2.5), else any BER form X.680 allows: a certificate whose
    // times are not DER is still read (the strict walk reports them: `time_form`).
    let seconds = match h.tag {
        Tag::UTC_TIME => utc_time(content),
        Tag::GENERALIZED_TIME => generalized_time(content),
        _ => return Err(wrong_tag(element, Tag::UTC_TIME, &h)),
    }
    .or_else(|| ber_time(h.tag, content));
    let seconds = seconds
        .ok_or_else(|| Error::field(element, FieldProblem::BadTime { tag: h.tag }, h.offset))?;
    // ASCII digits, `Z`, `+`, `-`, `.` or `,` only, as just read.
    let text = std::str::from_utf8(content).unwrap_or_default().to_string();
    Ok(Time {
        seconds,
        encoded: EncodedTime { tag: h.tag, text },
    })
}

/// ```text
/// SubjectPublicKeyInfo  ::=  SEQUENCE  {
///      algorithm            AlgorithmIdentifier,
///      subjectPublicKey     BIT STRING  }
///
/// ECParameters ::= CHOICE {        -- RFC 5480, for id-ecPublicKey
///      namedCurve         OBJECT IDENTIFIER
///      -- implicitCurve   NULL
///      -- specifiedCurve  SpecifiedECDomain
///    }
/// ```
/// For id-ecPublicKey the parameters must be a namedCurve, NULL or absent (the last two:
/// `OtherCurve("")`, as before) or a specifiedCurve (`OtherCurve("specifiedCurve")`: RFC
/// 5480 says it MUST NOT be used, which the profile lints report).
fn subject_public_key_info(der: &[u8], h: &Header) -> Result<SubjectPublicKeyInfo, Error> {
    let mut it = Elements::of(der, h);
    let algorithm = it.expect(Tag::SEQUENCE, "algorithm")?;
    let AlgorithmIdentifier {
        algorithm: oid,
        parameters,
    } = algorithm_identifier(der, &algorithm).map_err(|e| e.within("algorithm"))?;
    let key = it.expect(Tag::BIT_STRING, "subjectPublicKey")?;
    it.end("")?;
    let oid = it.contents(&oid);
    let key_algorithm = if oid == Oid::EcPublicKey.der() {
        match parameters {
            None => KeyAlgorithm::OtherCurve(String::new()),
            Some(p) if p.tag == Tag::NULL && p.content.is_empty() => {
                KeyAlgorithm::OtherCurve(String::new())
            }
            Some(p) if p.tag == Tag::OID => match it.contents(&p) {
                curve if curve == Oid::Secp256r1.der() => KeyAlgorithm::P256,
                curve => KeyAlgorithm::OtherCurve(oid_string(curve).ok_or_else(|| {
                    Error::field("algorithm.parameters", FieldProblem::BadOid, p.offset)
                })?),
            },
            // specifiedCurve: RFC 5480 says MUST NOT, which the profile lints report; the
            // certificate is still readable (and its own signature checkable).
            Some(p) if p.tag == Tag::SEQUENCE => KeyAlgorithm::OtherCurve("specifiedCurve".into()),
            Some(p) => return Err(wrong_tag("algorithm.parameters", Tag::OID, &p)),
        }
    } else {
        // Valid: algorithm_identifier checked it.
        KeyAlgorithm::Other(oid_string(oid).unwrap_or_default())
    };
    let bits = bit_string(it.contents(&key))
        .ok_or_else(|| Error::field("subjectPublicKey", BAD_BIT_STRING, key.offset))?;
    Ok(SubjectPublicKeyInfo {
        algorithm: key_algorithm,
        key: bits.to_vec(),
    })
}

/// What a SubjectPublicKeyInfo says.
struct SubjectPublicKeyInfo {
    algorithm: KeyAlgorithm,
    /// The subjectPublicKey bits (after the unused-bits octet).
    key: Vec<u8>,
}
