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
//! redundant leading octets, BIT STRINGs with non-zero unused bits. A tbsCertificate that is
//! not DER thus still yields its fields, and the strict walk ([`crate::ber_issues`]) reports
//! how it deviates (only a reissue can fix it: it is signed).
//!
//! Everything else must be the structure RFC 5280 defines, tags compared as whole
//! identifier octets: every mandatory element present, nothing after the last element,
//! times in the RFC 5280 forms (`YYMMDDHHMMSSZ`, `YYYYMMDDHHMMSSZ`), valid OBJECT
//! IDENTIFIERs, each extension at most once (RFC 5280 section 4.2). Otherwise the record
//! is an [`Error`] naming the element and the byte.
//!
//! Known extensions (those with a field here) whose value is not of the expected type at
//! all, or cannot be read as a TLV, are kept in [`Fields::extensions`] with their field
//! left empty, as x509-parser (which this module replaces) did: the profile lints then
//! report them as missing. A value of the expected type that is malformed inside, or
//! followed by other bytes, is an error. Each reader says where x509-parser also gave up
//! on a value and this one does the same.
use crate::{CertView, Error, FieldProblem};
use serde::Serialize;
use smki_der::{generalized_time, is_valid_oid, oid_text, read_header, utc_time, Header, Tag};

pub(crate) const OID_KEY_USAGE: &str = "2.5.29.15";
pub(crate) const OID_SKI: &str = "2.5.29.14";
pub(crate) const OID_SAN: &str = "2.5.29.17";
pub(crate) const OID_POLICIES: &str = "2.5.29.32";
pub(crate) const OID_AKI: &str = "2.5.29.35";
pub(crate) const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";

/// OBJECT IDENTIFIER contents (DER) of the OIDs this module compares: OIDs are compared by
/// their octets, and turned into text only to be kept. Public as `smki_x509::der_oid`.
pub mod der_oid {
    /// id-ce-subjectKeyIdentifier, 2.5.29.14
    pub const SKI: &[u8] = &[0x55, 0x1d, 0x0e];
    /// id-ce-keyUsage, 2.5.29.15
    pub const KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
    /// id-ce-subjectAltName, 2.5.29.17
    pub const SAN: &[u8] = &[0x55, 0x1d, 0x11];
    /// id-ce-basicConstraints, 2.5.29.19
    pub const BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
    /// id-ce-certificatePolicies, 2.5.29.32
    pub const POLICIES: &[u8] = &[0x55, 0x1d, 0x20];
    /// id-ce-authorityKeyIdentifier, 2.5.29.35
    pub const AKI: &[u8] = &[0x55, 0x1d, 0x23];
    /// id-on-hardwareModuleName, 1.3.6.1.5.5.7.8.4 (RFC 4108)
    pub const HARDWARE_MODULE_NAME: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x08, 0x04];
    /// id-ecPublicKey, 1.2.840.10045.2.1 (RFC 5480)
    pub const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    /// secp256r1 (prime256v1), 1.2.840.10045.3.1.7
    pub const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    /// id-at-commonName, 2.5.4.3
    pub const CN: &[u8] = &[0x55, 0x04, 0x03];
    /// id-at-countryName, 2.5.4.6
    pub const C: &[u8] = &[0x55, 0x04, 0x06];
    /// id-at-organizationName, 2.5.4.10
    pub const O: &[u8] = &[0x55, 0x04, 0x0a];
    /// id-at-organizationalUnitName, 2.5.4.11
    pub const OU: &[u8] = &[0x55, 0x04, 0x0b];
    /// id-at-uniqueIdentifier (x500UniqueIdentifier), 2.5.4.45
    pub const X500_UNIQUE_ID: &[u8] = &[0x55, 0x04, 0x2d];
}

/// The dotted text of an OID's contents: the OIDs of X.509 names and extensions from a
/// table, others decoded ([`oid_text`]); `None` for an invalid encoding.
fn oid_string(oid: &[u8]) -> Option<String> {
    let text = match oid {
        der_oid::CN => "2.5.4.3",
        der_oid::C => "2.5.4.6",
        der_oid::O => "2.5.4.10",
        der_oid::OU => "2.5.4.11",
        der_oid::X500_UNIQUE_ID => "2.5.4.45",
        der_oid::SKI => OID_SKI,
        der_oid::KEY_USAGE => OID_KEY_USAGE,
        der_oid::SAN => OID_SAN,
        der_oid::BASIC_CONSTRAINTS => OID_BASIC_CONSTRAINTS,
        der_oid::POLICIES => OID_POLICIES,
        der_oid::AKI => OID_AKI,
        der_oid::HARDWARE_MODULE_NAME => "1.3.6.1.5.5.7.8.4",
        _ => return oid_text(oid),
    };
    Some(text.to_string())
}

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

/// A distinguished name: as shown to people, and normalised for comparison
/// (RFC 5280 section 7.1: string types unified, case and white space folded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Name {
    pub text: String,
    #[serde(skip)]
    pub normalised: Vec<u8>,
    /// One attribute per RDN, each single-valued.
    #[serde(skip)]
    pub one_attribute_per_rdn: bool,
    /// (OID, tag number, value contents) of every attribute, in order. The tag number is
    /// the identifier octet's low five bits (0x13 for a PrintableString, 0x03 for a BIT
    /// STRING), as x509-parser gave it.
    #[serde(skip)]
    pub attributes: Vec<(String, u8, Vec<u8>)>,
}

impl Name {
    pub fn is_empty(&self) -> bool {
        self.attributes.is_empty()
    }
    /// The value of the first attribute with this OID, as text (strings) or hex (others).
    pub fn get(&self, oid: &str) -> Option<String> {
        self.attributes
            .iter()
            .find(|a| a.0 == oid)
            .map(|(_, tag, v)| value_text(*tag, v))
    }
}

/// One extension as found, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtensionInfo {
    pub oid: String,
    pub critical: bool,
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
    /// (tag, text) of notBefore / notAfter as encoded (UTCTime 0x17 or GeneralizedTime 0x18).
    pub not_before_raw: (u8, String),
    pub not_after_raw: (u8, String),
    pub key_algorithm: KeyAlgorithm,
    /// The subjectPublicKey bits (for P-256: the SEC1 point).
    pub public_key: Vec<u8>,
    pub extensions: Vec<ExtensionInfo>,
    pub subject_key_id: Option<Vec<u8>>,
    pub authority_key_id: Option<Vec<u8>>,
    /// AKI carries authorityCertIssuer or authorityCertSerialNumber.
    pub aki_has_issuer_serial: bool,
    /// keyUsage bits (x509-parser order: bit 0 digitalSignature ... bit 5 keyCertSign).
    pub key_usage: Option<u16>,
    /// (cA, pathLenConstraint)
    pub basic_constraints: Option<(bool, Option<u32>)>,
    pub policies: Vec<String>,
    /// (hwType OID, hwSerialNum) of each hardwareModuleName otherName in the SAN.
    pub hardware_module_names: Vec<(String, Vec<u8>)>,
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
        let [(not_before, not_before_raw), (not_after, not_after_raw)] =
            validity(der, &validity_h).map_err(|e| e.within("tbsCertificate.validity"))?;
        let subject = tbs.expect(Tag::SEQUENCE, "tbsCertificate.subject")?;
        let subject = name(der, &subject).map_err(|e| e.within("tbsCertificate.subject"))?;
        let spki = tbs.expect(Tag::SEQUENCE, "tbsCertificate.subjectPublicKeyInfo")?;
        let (key_algorithm, public_key) = subject_public_key_info(der, &spki)
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
            not_before,
            not_after,
            not_before_raw,
            not_after_raw,
            key_algorithm,
            public_key,
            extensions: Vec::with_capacity(8),
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
            .and_then(|(_, serial)| <[u8; 8]>::try_from(serial.as_slice()).ok())
            .or_else(|| {
                f.subject
                    .attributes
                    .iter()
                    .find(|a| a.0 == "2.5.4.45")
                    .and_then(|(_, tag, v)| {
                        // BIT STRING: unused-bits octet then the EUI-64.
                        (*tag == Tag::BIT_STRING && v.len() == 9 && v[0] == 0)
                            .then(|| <[u8; 8]>::try_from(&v[1..]).ok())
                            .flatten()
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

    pub fn extension(&self, oid: &str) -> Option<&ExtensionInfo> {
        self.extensions.iter().find(|e| e.oid == oid)
    }
}

const BAD_BIT_STRING: FieldProblem = FieldProblem::BadValue(
    "BIT STRING unused-bits octet missing, above 7, or not 0 before no bits",
);

/// The elements of one constructed element's contents, read in order with
/// [`read_header`] (offsets within the record; an element may not run past its parent).
struct Elements<'a> {
    der: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Elements<'a> {
    fn of(der: &'a [u8], parent: &Header) -> Self {
        Elements {
            der,
            pos: parent.content.start,
            end: parent.content.end,
        }
    }

    #[inline]
    fn is_empty(&self) -> bool {
        self.pos >= self.end
    }

    /// The identifier octet of the next element, if any.
    #[inline]
    fn peek(&self) -> Option<u8> {
        (!self.is_empty()).then(|| self.der[self.pos])
    }

    #[inline]
    fn next(&mut self) -> Option<Result<Header, smki_der::Error>> {
        if self.is_empty() {
            return None;
        }
        let read = read_header(&self.der[..self.end], self.pos, 0);
        if let Ok(h) = &read {
            self.pos = h.end;
        }
        Some(read)
    }

    /// The next element, which must be there, readable; `element` names it in errors.
    #[inline]
    fn any(&mut self, element: &str) -> Result<Header, Error> {
        let at = self.pos;
        match self.next() {
            None => Err(Error::field(element, FieldProblem::Missing, at)),
            Some(Err(e)) => Err(Error::field(element, FieldProblem::Der(e.kind), e.position)),
            Some(Ok(h)) => Ok(h),
        }
    }

    /// The next element, which must be there and carry `tag`.
    #[inline]
    fn expect(&mut self, tag: u8, element: &str) -> Result<Header, Error> {
        let h = self.any(element)?;
        if h.tag != tag {
            return Err(wrong_tag(element, tag, &h));
        }
        Ok(h)
    }

    /// The next element if it carries `tag` (an OPTIONAL or DEFAULT element).
    #[inline]
    fn optional(&mut self, tag: u8, element: &str) -> Result<Option<Header>, Error> {
        if self.peek() != Some(tag) {
            return Ok(None);
        }
        self.expect(tag, element).map(Some)
    }

    /// Nothing may follow (`element` names the parent).
    #[inline]
    fn end(&self, element: &str) -> Result<(), Error> {
        match self.peek() {
            Some(tag) => Err(Error::field(
                element,
                FieldProblem::Unexpected { tag },
                self.pos,
            )),
            None => Ok(()),
        }
    }

    #[inline]
    fn contents(&self, h: &Header) -> &'a [u8] {
        &self.der[h.content.clone()]
    }
}

fn wrong_tag(element: &str, expected: u8, found: &Header) -> Error {
    Error::field(
        element,
        FieldProblem::WrongTag {
            expected,
            found: found.tag,
        },
        found.offset,
    )
}

/// A non-negative INTEGER's value, if it fits in 64 bits (redundant leading octets allowed).
fn unsigned(content: &[u8]) -> Option<u64> {
    if content.first().is_none_or(|&b| b & 0x80 != 0) {
        return None;
    }
    let digits = &content[content.iter().take_while(|&&b| b == 0).count()..];
    (digits.len() <= 8).then(|| digits.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b)))
}

/// Is this INTEGER content DER (one octet at least, no redundant leading octet)?
fn is_der_integer(content: &[u8]) -> bool {
    match content {
        [] => false,
        [0x00, b, ..] => b & 0x80 != 0,
        [0xff, b, ..] => b & 0x80 == 0,
        _ => true,
    }
}

/// A BOOLEAN's value: one octet, any non-zero octet TRUE (BER; DER wants 0xFF).
fn boolean(content: &[u8]) -> Option<bool> {
    match content {
        [b] => Some(*b != 0),
        _ => None,
    }
}

/// The bits of a BIT STRING's contents, after the unused-bits octet, with the number of
/// unused bits: that octet must be there, at most 7, and 0 when no bits follow (X.690
/// 8.6.2). The unused bits themselves are not checked (BER).
fn bit_string(content: &[u8]) -> Option<(u8, &[u8])> {
    let (&unused, bits) = content.split_first()?;
    (unused <= 7 && (unused == 0 || !bits.is_empty())).then_some((unused, bits))
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

/// ```text
/// AlgorithmIdentifier  ::=  SEQUENCE  {
///      algorithm               OBJECT IDENTIFIER,
///      parameters              ANY DEFINED BY algorithm OPTIONAL  }
/// ```
/// The headers of the algorithm and of the parameters.
fn algorithm_identifier(der: &[u8], h: &Header) -> Result<(Header, Option<Header>), Error> {
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
    Ok((algorithm, parameters))
}

/// ```text
/// Name ::= CHOICE { -- only one possibility for now --
///   rdnSequence  RDNSequence }
///
/// RDNSequence ::= SEQUENCE OF RelativeDistinguishedName
///
/// RelativeDistinguishedName ::=
///   SET SIZE (1..MAX) OF AttributeTypeAndValue
///
/// AttributeTypeAndValue ::= SEQUENCE {
///   type     AttributeType,
///   value    AttributeValue }
///
/// AttributeType ::= OBJECT IDENTIFIER
///
/// AttributeValue ::= ANY -- DEFINED BY AttributeType
/// ```
/// `text`: `short=value` of every attribute, joined by `, `; `normalised`: per RDN, its
/// `oid=value` keys (strings: white space runs made one space, trimmed, lower case; other
/// values `#hex`) sorted and joined by `+`, RDNs joined by `/`.
fn name(der: &[u8], h: &Header) -> Result<Name, Error> {
    let mut text = String::with_capacity(h.content.len());
    let mut normalised = Vec::with_capacity(h.content.len());
    // Most names have one or two attributes (an empty subject none).
    let mut attributes: Vec<(String, u8, Vec<u8>)> =
        Vec::with_capacity(if h.content.is_empty() { 0 } else { 2 });
    let mut one_attribute_per_rdn = true;
    // The keys of a multi-valued RDN, to sort.
    let mut keys: Vec<Vec<u8>> = Vec::new();
    let mut rdns = Elements::of(der, h);
    let mut i = 0;
    while !rdns.is_empty() {
        let at_rdn = |e: Error| e.within(&format!("[{i}]"));
        let rdn = rdns.expect(Tag::SET, "").map_err(at_rdn)?;
        if i > 0 {
            normalised.push(b'/');
        }
        let rdn_start = normalised.len();
        let mut atvs = Elements::of(der, &rdn);
        if atvs.is_empty() {
            return Err(at_rdn(Error::field(
                "",
                FieldProblem::BadValue("empty RelativeDistinguishedName"),
                rdn.offset,
            )));
        }
        let mut j = 0;
        while !atvs.is_empty() {
            let at_atv = |e: Error| e.within(&format!("[{i}][{j}]"));
            let atv = atvs.expect(Tag::SEQUENCE, "").map_err(at_atv)?;
            let mut it = Elements::of(der, &atv);
            let ty = it.expect(Tag::OID, "type").map_err(at_atv)?;
            let oid_bytes = it.contents(&ty);
            let oid = oid_string(oid_bytes)
                .ok_or_else(|| at_atv(Error::field("type", FieldProblem::BadOid, ty.offset)))?;
            let value = it.any("value").map_err(at_atv)?;
            it.end("").map_err(at_atv)?;
            let tag = value.tag & 0x1f;
            let v = it.contents(&value);
            if !attributes.is_empty() {
                text.push_str(", ");
            }
            let string = string_value(tag, v);
            text.push_str(short_name(oid_bytes).unwrap_or(&oid));
            text.push('=');
            push_value_text(&mut text, string.as_deref(), v);
            // The key goes straight into `normalised`; a second attribute in the RDN moves
            // the keys aside, to be sorted.
            if j == 1 {
                keys.push(normalised.split_off(rdn_start));
            }
            let key_at = normalised.len();
            normalised.extend_from_slice(oid.as_bytes());
            normalised.push(b'=');
            push_normalised(&mut normalised, string.as_deref(), v);
            if j >= 1 {
                keys.push(normalised.split_off(key_at));
            }
            attributes.push((oid, tag, v.to_vec()));
            j += 1;
        }
        if j > 1 {
            one_attribute_per_rdn = false;
            keys.sort();
            normalised.extend(keys.join(&b'+'));
            keys.clear();
        }
        i += 1;
    }
    Ok(Name {
        text,
        normalised,
        one_attribute_per_rdn,
        attributes,
    })
}

/// The short names shown in [`Name::text`] (others are shown as their OID).
fn short_name(oid: &[u8]) -> Option<&'static str> {
    Some(match oid {
        der_oid::CN => "CN",
        der_oid::OU => "OU",
        der_oid::O => "O",
        der_oid::C => "C",
        der_oid::X500_UNIQUE_ID => "x500UniqueIdentifier",
        _ => return None,
    })
}

/// The value of a string-typed attribute (UTF8String, NumericString, PrintableString,
/// TeletexString, IA5String, VisibleString, BMPString), by tag number, if it decodes.
fn string_value(tag: u8, v: &[u8]) -> Option<std::borrow::Cow<'_, str>> {
    match tag {
        0x0c | 0x12 | 0x13 | 0x14 | 0x16 | 0x1a => {
            std::str::from_utf8(v).ok().map(std::borrow::Cow::Borrowed)
        }
        0x1e if v.len() % 2 == 0 => String::from_utf16(
            &v.chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect::<Vec<_>>(),
        )
        .ok()
        .map(std::borrow::Cow::Owned),
        _ => None,
    }
}

/// A value as text: the string, or `#` and the contents in hex.
fn value_text(tag: u8, v: &[u8]) -> String {
    let mut out = String::new();
    push_value_text(&mut out, string_value(tag, v).as_deref(), v);
    out
}

/// `string`: the value as a string ([`string_value`]), if it is one.
fn push_value_text(out: &mut String, string: Option<&str>, v: &[u8]) {
    match string {
        Some(s) => out.push_str(s),
        None => {
            out.push('#');
            push_hex(out, v);
        }
    }
}

/// A value as compared: white space runs made one space and trimmed, lower case; not a
/// string (`string`: [`string_value`]): `#` and the contents in hex.
fn push_normalised(out: &mut Vec<u8>, string: Option<&str>, v: &[u8]) {
    match string {
        Some(s) if s.is_ascii() => {
            let mut space = false;
            let mut started = false;
            for &b in s.as_bytes() {
                if char::from(b).is_whitespace() {
                    space = started;
                } else {
                    if space {
                        out.push(b' ');
                        space = false;
                    }
                    out.push(b.to_ascii_lowercase());
                    started = true;
                }
            }
        }
        Some(s) => out.extend_from_slice(
            s.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
                .as_bytes(),
        ),
        None => {
            let mut hex = String::with_capacity(1 + 2 * v.len());
            hex.push('#');
            push_hex(&mut hex, v);
            out.extend_from_slice(hex.as_bytes());
        }
    }
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    out.push_str(&hex::encode(bytes));
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
/// Each time as Unix seconds and as encoded (tag, text).
fn validity(der: &[u8], h: &Header) -> Result<[Time; 2], Error> {
    let mut it = Elements::of(der, h);
    let times = [time(&mut it, "notBefore")?, time(&mut it, "notAfter")?];
    it.end("")?;
    Ok(times)
}

/// A time as Unix seconds, and as encoded (tag, text).
type Time = (i64, (u8, String));

fn time(it: &mut Elements<'_>, element: &str) -> Result<Time, Error> {
    let h = it.any(element)?;
    let content = it.contents(&h);
    let seconds = match h.tag {
        Tag::UTC_TIME => utc_time(content),
        Tag::GENERALIZED_TIME => generalized_time(content),
        _ => return Err(wrong_tag(element, Tag::UTC_TIME, &h)),
    };
    let seconds = seconds
        .ok_or_else(|| Error::field(element, FieldProblem::BadTime { tag: h.tag }, h.offset))?;
    // Digits and `Z` only, as just read.
    let raw = std::str::from_utf8(content).unwrap_or_default().to_string();
    Ok((seconds, (h.tag, raw)))
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
/// The key's algorithm and its bits (after the unused-bits octet). For id-ecPublicKey the
/// parameters must be a namedCurve, NULL or absent (the last two: `OtherCurve("")`, as
/// before); a specifiedCurve is an error (RFC 5480: MUST NOT be used).
fn subject_public_key_info(der: &[u8], h: &Header) -> Result<(KeyAlgorithm, Vec<u8>), Error> {
    let mut it = Elements::of(der, h);
    let algorithm = it.expect(Tag::SEQUENCE, "algorithm")?;
    let (oid, parameters) =
        algorithm_identifier(der, &algorithm).map_err(|e| e.within("algorithm"))?;
    let key = it.expect(Tag::BIT_STRING, "subjectPublicKey")?;
    it.end("")?;
    let oid = it.contents(&oid);
    let key_algorithm = if oid == der_oid::EC_PUBLIC_KEY {
        match parameters {
            None => KeyAlgorithm::OtherCurve(String::new()),
            Some(p) if p.tag == Tag::NULL && p.content.is_empty() => {
                KeyAlgorithm::OtherCurve(String::new())
            }
            Some(p) if p.tag == Tag::OID => match it.contents(&p) {
                der_oid::P256 => KeyAlgorithm::P256,
                curve => KeyAlgorithm::OtherCurve(oid_string(curve).ok_or_else(|| {
                    Error::field("algorithm.parameters", FieldProblem::BadOid, p.offset)
                })?),
            },
            Some(p) => return Err(wrong_tag("algorithm.parameters", Tag::OID, &p)),
        }
    } else {
        // Valid: algorithm_identifier checked it.
        KeyAlgorithm::Other(oid_string(oid).unwrap_or_default())
    };
    let (_, bits) = bit_string(it.contents(&key))
        .ok_or_else(|| Error::field("subjectPublicKey", BAD_BIT_STRING, key.offset))?;
    Ok((key_algorithm, bits.to_vec()))
}

/// ```text
/// Extensions  ::=  SEQUENCE SIZE (1..MAX) OF Extension
/// ```
/// inside `[3] EXPLICIT` (an empty SEQUENCE is taken, as x509-parser took it).
fn extensions(der: &[u8], explicit: &Header, f: &mut Fields) -> Result<(), Error> {
    const EXTENSIONS: &str = "tbsCertificate.extensions";
    let mut wrapper = Elements::of(der, explicit);
    let seq = wrapper.expect(Tag::SEQUENCE, EXTENSIONS)?;
    wrapper.end(EXTENSIONS)?;
    let mut list = Elements::of(der, &seq);
    let mut i = 0;
    while !list.is_empty() {
        let at = |e: Error| e.within(&format!("{EXTENSIONS}[{i}]"));
        let ext = list.expect(Tag::SEQUENCE, "").map_err(at)?;
        extension(der, &ext, f).map_err(at)?;
        i += 1;
    }
    Ok(())
}

/// ```text
/// Extension  ::=  SEQUENCE  {
///      extnID      OBJECT IDENTIFIER,
///      critical    BOOLEAN DEFAULT FALSE,
///      extnValue   OCTET STRING
///                  -- contains the DER encoding of an ASN.1 value
///                  -- corresponding to the extension type identified
///                  -- by extnID
///      }
/// ```
/// Lists the extension in `f.extensions` and, for a known one, fills its field.
fn extension(der: &[u8], h: &Header, f: &mut Fields) -> Result<(), Error> {
    let mut it = Elements::of(der, h);
    let id = it.expect(Tag::OID, "extnID")?;
    let oid = it.contents(&id);
    let text =
        oid_string(oid).ok_or_else(|| Error::field("extnID", FieldProblem::BadOid, id.offset))?;
    let critical = match it.optional(Tag::BOOLEAN, "critical")? {
        Some(b) => boolean(it.contents(&b)).ok_or_else(|| {
            Error::field(
                "critical",
                FieldProblem::BadValue("BOOLEAN not of one octet"),
                b.offset,
            )
        })?,
        None => false,
    };
    let value = it.expect(Tag::OCTET_STRING, "extnValue")?;
    it.end("")?;
    if f.extensions.iter().any(|e| e.oid == text) {
        return Err(Error::field(
            "extnID",
            FieldProblem::DuplicateExtension(text),
            id.offset,
        ));
    }
    f.extensions.push(ExtensionInfo {
        oid: text,
        critical,
    });
    let within = |e: Error| e.within("extnValue");
    match oid {
        der_oid::SKI => f.subject_key_id = subject_key_identifier(der, &value).map_err(within)?,
        der_oid::AKI => {
            if let Some((key_id, issuer_serial)) =
                authority_key_identifier(der, &value).map_err(within)?
            {
                f.authority_key_id = key_id;
                f.aki_has_issuer_serial = issuer_serial;
            }
        }
        der_oid::KEY_USAGE => f.key_usage = key_usage(der, &value).map_err(within)?,
        der_oid::BASIC_CONSTRAINTS => {
            f.basic_constraints = basic_constraints(der, &value).map_err(within)?
        }
        der_oid::POLICIES => {
            if let Some(p) = certificate_policies(der, &value).map_err(within)? {
                f.policies = p;
            }
        }
        der_oid::SAN => {
            if let Some((names, others)) = subject_alt_name(der, &value).map_err(within)? {
                f.hardware_module_names = names;
                f.other_san_entries = others;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The one element a known extension's value holds, if it carries `tag`. `Ok(None)` when
/// the value cannot be read as a TLV or has another tag number (the field is left empty,
/// as x509-parser left it). An error when the tag number is right but not the class or
/// form (x509-parser compared tag numbers only, and would have read the element), or bytes
/// follow the element (x509-parser ignored them).
fn extension_value(der: &[u8], value: &Header, tag: u8) -> Result<Option<Header>, Error> {
    let mut it = Elements::of(der, value);
    let Some(Ok(h)) = it.next() else {
        return Ok(None);
    };
    if h.tag != tag {
        if h.tag & 0x1f == tag & 0x1f {
            return Err(wrong_tag("", tag, &h));
        }
        return Ok(None);
    }
    it.end("")?;
    Ok(Some(h))
}

/// ```text
/// SubjectKeyIdentifier ::= KeyIdentifier
///
/// KeyIdentifier ::= OCTET STRING
/// ```
fn subject_key_identifier(der: &[u8], value: &Header) -> Result<Option<Vec<u8>>, Error> {
    Ok(extension_value(der, value, Tag::OCTET_STRING)?.map(|h| der[h.content].to_vec()))
}

/// The keyIdentifier of an AuthorityKeyIdentifier, and whether it has more.
type KeyIdAndMore = (Option<Vec<u8>>, bool);

/// ```text
/// AuthorityKeyIdentifier ::= SEQUENCE {
///     keyIdentifier             [0] KeyIdentifier           OPTIONAL,
///     authorityCertIssuer       [1] GeneralNames            OPTIONAL,
///     authorityCertSerialNumber [2] CertificateSerialNumber OPTIONAL  }
/// ```
/// (IMPLICIT tags.) The keyIdentifier, and whether authorityCertIssuer or
/// authorityCertSerialNumber is there. Each element must be in its place, the serial
/// number a DER INTEGER (x509-parser skipped a serial number it could not read, and
/// whatever followed an element out of place).
fn authority_key_identifier(der: &[u8], value: &Header) -> Result<Option<KeyIdAndMore>, Error> {
    let Some(seq) = extension_value(der, value, Tag::SEQUENCE)? else {
        return Ok(None);
    };
    let mut it = Elements::of(der, &seq);
    let key_id = it.optional(0x80, "keyIdentifier")?;
    let issuer = it.optional(0xa1, "authorityCertIssuer")?;
    let serial = it.optional(0x82, "authorityCertSerialNumber")?;
    it.end("")?;
    if let Some(s) = &serial {
        if !is_der_integer(it.contents(s)) {
            return Err(Error::field(
                "authorityCertSerialNumber",
                FieldProblem::BadValue("not a DER INTEGER"),
                s.offset,
            ));
        }
    }
    let key_id = key_id.map(|h| it.contents(&h).to_vec());
    Ok(Some((key_id, issuer.is_some() || serial.is_some())))
}

/// ```text
/// KeyUsage ::= BIT STRING {
///      digitalSignature        (0),
///      nonRepudiation          (1),
///      keyEncipherment         (2),
///      dataEncipherment        (3),
///      keyAgreement            (4),
///      keyCertSign             (5),
///      cRLSign                 (6),
///      encipherOnly            (7),
///      decipherOnly            (8) }
/// ```
/// Bit n of the result is named bit n: bit `7 - n % 8` of contents octet `n / 8` (x509-parser's
/// order). Bits from the third octet on (none is named) are ignored, as x509-parser
/// ignored them; unused bits are cleared. A BIT STRING without its unused-bits octet or
/// with more than 7 is unreadable, as it was to x509-parser.
fn key_usage(der: &[u8], value: &Header) -> Result<Option<u16>, Error> {
    let Some(h) = extension_value(der, value, Tag::BIT_STRING)? else {
        return Ok(None);
    };
    let Some((&unused, bits)) = der[h.content].split_first() else {
        return Ok(None);
    };
    if unused > 7 {
        return Ok(None);
    }
    let octet = |i: usize| {
        let mut b = bits.get(i).copied().unwrap_or(0);
        if i + 1 == bits.len() {
            b &= 0xff << unused;
        }
        u16::from(b.reverse_bits())
    };
    Ok(Some(octet(0) | (octet(1) << 8)))
}

/// ```text
/// BasicConstraints ::= SEQUENCE {
///      cA                      BOOLEAN DEFAULT FALSE,
///      pathLenConstraint       INTEGER (0..MAX) OPTIONAL }
/// ```
/// Unreadable, as it was to x509-parser: an element that cannot be read as a TLV, more than
/// two elements, elements that are not [cA] [pathLenConstraint], a cA not of one octet, a
/// pathLenConstraint negative or beyond 32 bits. An error: an element with the tag number
/// of BOOLEAN or INTEGER but another class or form, or a BIT STRING or ENUMERATED, or a
/// pathLenConstraint without contents (x509-parser would have read them as a cA or a
/// pathLenConstraint, the last as 0). An explicit FALSE is taken (DER omits it), as
/// x509-parser took it.
fn basic_constraints(der: &[u8], value: &Header) -> Result<Option<(bool, Option<u32>)>, Error> {
    let Some(seq) = extension_value(der, value, Tag::SEQUENCE)? else {
        return Ok(None);
    };
    let mut it = Elements::of(der, &seq);
    let mut elements: [Option<Header>; 3] = [None, None, None];
    for slot in &mut elements {
        match it.next() {
            None => break,
            Some(Err(_)) => return Ok(None),
            Some(Ok(h)) => *slot = Some(h),
        }
    }
    for h in elements.iter().flatten() {
        let misread = match h.tag & 0x1f {
            0x01 => h.tag != Tag::BOOLEAN,
            0x02 => h.tag != Tag::INTEGER,
            0x03 | 0x0a => true,
            _ => false,
        };
        if misread {
            return Err(Error::field(
                "",
                FieldProblem::Unexpected { tag: h.tag },
                h.offset,
            ));
        }
    }
    let (ca, path_len) = match elements {
        [None, ..] => (None, None),
        [Some(a), None, None] if a.tag == Tag::BOOLEAN => (Some(a), None),
        [Some(a), None, None] if a.tag == Tag::INTEGER => (None, Some(a)),
        [Some(a), Some(b), None] if a.tag == Tag::BOOLEAN && b.tag == Tag::INTEGER => {
            (Some(a), Some(b))
        }
        _ => return Ok(None),
    };
    let ca = match ca {
        Some(h) => match boolean(it.contents(&h)) {
            Some(b) => b,
            None => return Ok(None),
        },
        None => false,
    };
    let path_len = match path_len {
        Some(h) if h.content.is_empty() => {
            return Err(Error::field(
                "pathLenConstraint",
                FieldProblem::BadValue("INTEGER without contents"),
                h.offset,
            ));
        }
        Some(h) => match unsigned(it.contents(&h)).and_then(|n| u32::try_from(n).ok()) {
            Some(n) => Some(n),
            None => return Ok(None),
        },
        None => None,
    };
    Ok(Some((ca, path_len)))
}

/// ```text
/// certificatePolicies ::= SEQUENCE SIZE (1..MAX) OF PolicyInformation
///
/// PolicyInformation ::= SEQUENCE {
///      policyIdentifier   CertPolicyId,
///      policyQualifiers   SEQUENCE SIZE (1..MAX) OF
///                              PolicyQualifierInfo OPTIONAL }
///
/// CertPolicyId ::= OBJECT IDENTIFIER
/// ```
/// The policyIdentifiers (an empty SEQUENCE is taken, as x509-parser took it). A
/// PolicyInformation that cannot be read, is not a SEQUENCE, or does not start with a
/// primitive element makes the value unreadable (x509-parser: the same); the qualifiers
/// are not looked into.
fn certificate_policies(der: &[u8], value: &Header) -> Result<Option<Vec<String>>, Error> {
    let Some(seq) = extension_value(der, value, Tag::SEQUENCE)? else {
        return Ok(None);
    };
    let mut list = Elements::of(der, &seq);
    let mut out = Vec::with_capacity(1);
    let mut i = 0;
    while !list.is_empty() {
        let at = |e: Error| e.within(&format!("[{i}]"));
        let Some(Ok(info)) = list.next() else {
            return Ok(None);
        };
        if info.tag != Tag::SEQUENCE {
            if info.tag & 0x1f == 0x10 {
                return Err(at(wrong_tag("", Tag::SEQUENCE, &info)));
            }
            return Ok(None);
        }
        let mut it = Elements::of(der, &info);
        let Some(Ok(id)) = it.next() else {
            return Ok(None);
        };
        if id.tag != Tag::OID {
            if Tag::is_constructed(id.tag) {
                return Ok(None);
            }
            return Err(at(wrong_tag("policyIdentifier", Tag::OID, &id)));
        }
        let text = oid_string(it.contents(&id)).ok_or_else(|| {
            at(Error::field(
                "policyIdentifier",
                FieldProblem::BadOid,
                id.offset,
            ))
        })?;
        it.optional(Tag::SEQUENCE, "policyQualifiers").map_err(at)?;
        it.end("").map_err(at)?;
        out.push(text);
        i += 1;
    }
    Ok(Some(out))
}

/// ```text
/// SubjectAltName ::= GeneralNames
///
/// GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName
///
/// GeneralName ::= CHOICE {
///      otherName                 [0]  OtherName,
///      rfc822Name                [1]  IA5String,
///      dNSName                   [2]  IA5String,
///      x400Address               [3]  ORAddress,
///      directoryName             [4]  Name,
///      ediPartyName              [5]  EDIPartyName,
///      uniformResourceIdentifier [6]  IA5String,
///      iPAddress                 [7]  OCTET STRING,
///      registeredID              [8]  OBJECT IDENTIFIER }
/// ```
/// (IMPLICIT tags, so [0], [3], [4] (a CHOICE, hence EXPLICIT) and [5] are constructed.)
/// The hardwareModuleNames and the number of other names. A name that cannot be read, not
/// context-specific, numbered above 8, or a string name that is not UTF-8, makes the value
/// unreadable (x509-parser: the same); the other names are not looked into, but for a
/// directoryName's being one SEQUENCE.
fn subject_alt_name(
    der: &[u8],
    value: &Header,
) -> Result<Option<(Vec<HardwareModuleName>, usize)>, Error> {
    let Some(seq) = extension_value(der, value, Tag::SEQUENCE)? else {
        return Ok(None);
    };
    let mut list = Elements::of(der, &seq);
    let mut names = Vec::with_capacity(1);
    let mut others = 0;
    let mut i = 0;
    while !list.is_empty() {
        let at = |e: Error| e.within(&format!("[{i}]"));
        let Some(Ok(gn)) = list.next() else {
            return Ok(None);
        };
        let number = gn.tag & 0x1f;
        if gn.tag & 0xc0 != 0x80 || number > 8 {
            return Ok(None);
        }
        let constructed = matches!(number, 0 | 3 | 4 | 5);
        if Tag::is_constructed(gn.tag) != constructed {
            let expected = 0x80 | number | if constructed { 0x20 } else { 0 };
            return Err(at(wrong_tag("", expected, &gn)));
        }
        let content = list.contents(&gn);
        match number {
            0 => match other_name(der, &gn).map_err(at)? {
                None => return Ok(None),
                Some(Some(name)) => names.push(name),
                Some(None) => others += 1,
            },
            1 | 2 | 6 if std::str::from_utf8(content).is_err() => return Ok(None),
            4 => {
                let mut it = Elements::of(der, &gn);
                match it.next() {
                    Some(Ok(n)) if n.tag == Tag::SEQUENCE => it.end("").map_err(at)?,
                    Some(Ok(n)) if n.tag & 0x1f == 0x10 => {
                        return Err(at(wrong_tag("", Tag::SEQUENCE, &n)))
                    }
                    _ => return Ok(None),
                }
                others += 1;
            }
            _ => others += 1,
        }
        i += 1;
    }
    Ok(Some((names, others)))
}

/// ```text
/// OtherName ::= SEQUENCE {
///      type-id    OBJECT IDENTIFIER,
///      value      [0] EXPLICIT ANY DEFINED BY type-id }
/// ```
/// `Some(Some(..))` for a hardwareModuleName, `Some(None)` for another otherName, `None`
/// when the type-id cannot be read or is constructed (x509-parser: unreadable).
fn other_name(der: &[u8], h: &Header) -> Result<Option<Option<HardwareModuleName>>, Error> {
    let mut it = Elements::of(der, h);
    let Some(Ok(id)) = it.next() else {
        return Ok(None);
    };
    if id.tag != Tag::OID {
        if Tag::is_constructed(id.tag) {
            return Ok(None);
        }
        return Err(wrong_tag("type-id", Tag::OID, &id));
    }
    let oid = it.contents(&id);
    if !is_valid_oid(oid) {
        return Err(Error::field("type-id", FieldProblem::BadOid, id.offset));
    }
    let value = it.expect(0xa0, "value")?;
    it.end("")?;
    if oid != der_oid::HARDWARE_MODULE_NAME {
        return Ok(Some(None));
    }
    hardware_module_name(der, &value).map(|n| Some(Some(n)))
}

/// (hwType as text, hwSerialNum).
type HardwareModuleName = (String, Vec<u8>);

/// ```text
/// HardwareModuleName ::= SEQUENCE {
///      hwType OBJECT IDENTIFIER,
///      hwSerialNum OCTET STRING }
/// ```
/// (RFC 4108 section 5), inside the otherName's `[0] EXPLICIT`: exactly this, or an error
/// (the device's identity, its EUI-64, would be unknown).
fn hardware_module_name(der: &[u8], explicit: &Header) -> Result<HardwareModuleName, Error> {
    let mut outer = Elements::of(der, explicit);
    let seq = outer.expect(Tag::SEQUENCE, "value")?;
    outer.end("value")?;
    let mut it = Elements::of(der, &seq);
    let hw_type = it.expect(Tag::OID, "value.hwType")?;
    let text = oid_string(it.contents(&hw_type))
        .ok_or_else(|| Error::field("value.hwType", FieldProblem::BadOid, hw_type.offset))?;
    let serial = it.expect(Tag::OCTET_STRING, "value.hwSerialNum")?;
    it.end("value")?;
    Ok((text, it.contents(&serial).to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oid_constants_match_their_text() {
        for (der, text) in [
            (der_oid::KEY_USAGE, OID_KEY_USAGE),
            (der_oid::SKI, OID_SKI),
            (der_oid::SAN, OID_SAN),
            (der_oid::POLICIES, OID_POLICIES),
            (der_oid::AKI, OID_AKI),
            (der_oid::BASIC_CONSTRAINTS, OID_BASIC_CONSTRAINTS),
            (der_oid::HARDWARE_MODULE_NAME, "1.3.6.1.5.5.7.8.4"),
            (der_oid::EC_PUBLIC_KEY, "1.2.840.10045.2.1"),
            (der_oid::P256, "1.2.840.10045.3.1.7"),
            (der_oid::CN, "2.5.4.3"),
            (der_oid::C, "2.5.4.6"),
            (der_oid::O, "2.5.4.10"),
            (der_oid::OU, "2.5.4.11"),
            (der_oid::X500_UNIQUE_ID, "2.5.4.45"),
        ] {
            assert_eq!(oid_text(der).as_deref(), Some(text));
            assert_eq!(oid_string(der).as_deref(), Some(text));
        }
    }

    #[test]
    fn key_usage_order() {
        // digitalSignature only: 03 02 07 80; keyCertSign + cRLSign: 03 02 01 06;
        // decipherOnly: 03 03 07 00 80.
        for (value, flags) in [
            (&[0x03, 0x02, 0x07, 0x80][..], 1),
            (&[0x03, 0x02, 0x03, 0x08], 1 << 4),
            (&[0x03, 0x02, 0x01, 0x06], (1 << 5) | (1 << 6)),
            (&[0x03, 0x03, 0x07, 0x00, 0x80], 1 << 8),
            (&[0x03, 0x01, 0x00], 0),
        ] {
            let mut der = vec![0x04, value.len() as u8];
            der.extend_from_slice(value);
            let h = read_header(&der, 0, 0).unwrap();
            assert_eq!(key_usage(&der, &h).unwrap(), Some(flags), "{value:02x?}");
        }
    }

    #[test]
    fn normalised_values() {
        let mut out = Vec::new();
        push_normalised(&mut out, Some("  Some \t Name\x0b "), b"");
        assert_eq!(out, b"some name");
        out.clear();
        push_normalised(&mut out, Some("\u{a0}Ünïcode  NAME"), b"");
        assert_eq!(String::from_utf8(out.clone()).unwrap(), "ünïcode name");
        out.clear();
        push_normalised(&mut out, None, &[0x00, 0xab]);
        assert_eq!(out, b"#00ab");
    }
}
