//! The one `tbsCertificate` encoder for every SMKI profile (docs/profiles.md, "SMKI certificate
//! profiles", checked byte for byte against the DCC test certificates).
//!
//! ```text
//! TBSCertificate ::= SEQUENCE {
//!     version [0] EXPLICIT INTEGER v3, serialNumber INTEGER (16 octets, positive),
//!     signature AlgorithmIdentifier (ecdsa-with-SHA256, no parameters),
//!     issuer Name, validity { notBefore, notAfter }, subject Name,
//!     subjectPublicKeyInfo { id-ecPublicKey prime256v1, uncompressed point },
//!     extensions [3] EXPLICIT SEQUENCE OF Extension }
//! ```
//! Times: UTCTime up to 2049, GeneralizedTime from 2050 (RFC 5280 section 4.1.2.5), so the
//! device notAfter 9999-12-31 23:59:59 is GeneralizedTime. Extensions, per profile, in
//! this order (critical ones marked !):
//! * root: keyUsage!, basicConstraints! (cA), certificatePolicies!, subjectKeyIdentifier
//! * issuing CA, device CA: keyUsage!, basicConstraints! (cA, pathLen 0),
//!   certificatePolicies!, subjectKeyIdentifier, authorityKeyIdentifier
//! * organisation: keyUsage!, subjectKeyIdentifier, certificatePolicies!, authorityKeyIdentifier
//! * device: keyUsage!, subjectKeyIdentifier, subjectAltName! (hardwareModuleName),
//!   certificatePolicies!, authorityKeyIdentifier
use smki_der::encode::{length, tlv, unsigned_integer};
use smki_der::Tag;
use smki_x509::Oid;

/// The AlgorithmIdentifier element for ecdsa-with-SHA256 (no parameters).
pub fn ecdsa_sha256_algorithm() -> Vec<u8> {
    let mut oid = Vec::with_capacity(10);
    tlv(Tag::OID, Oid::EcdsaWithSha256.der(), &mut oid);
    let mut out = Vec::with_capacity(12);
    tlv(Tag::SEQUENCE, &oid, &mut out);
    out
}

/// The SMKI profiles: the same type the scanner classifies certificates into.
pub use smki_x509::Profile;

/// The extensions of a profile, in the order the simulator writes them (an unknown profile
/// gets the device order).
pub fn extensions(profile: Profile) -> &'static [ExtKind] {
    use ExtKind::*;
    match profile {
        Profile::Root => &[KeyUsage, BasicConstraints, Policies, SubjectKeyId],
        Profile::IssuingCa | Profile::DeviceCa => &[
            KeyUsage,
            BasicConstraints,
            Policies,
            SubjectKeyId,
            AuthorityKeyId,
        ],
        Profile::Organisation => &[KeyUsage, SubjectKeyId, Policies, AuthorityKeyId],
        // Device, Unknown.
        _ => &[
            KeyUsage,
            SubjectKeyId,
            SubjectAltName,
            Policies,
            AuthorityKeyId,
        ],
    }
}

/// An extension of the SMKI profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtKind {
    KeyUsage,
    BasicConstraints,
    SubjectKeyId,
    SubjectAltName,
    Policies,
    AuthorityKeyId,
}

impl ExtKind {
    /// The extension's OID content octets.
    pub fn oid(self) -> &'static [u8] {
        match self {
            ExtKind::KeyUsage => Oid::KeyUsage,
            ExtKind::BasicConstraints => Oid::BasicConstraints,
            ExtKind::SubjectKeyId => Oid::SubjectKeyIdentifier,
            ExtKind::SubjectAltName => Oid::SubjectAltName,
            ExtKind::Policies => Oid::CertificatePolicies,
            ExtKind::AuthorityKeyId => Oid::AuthorityKeyIdentifier,
        }
        .der()
    }

    /// Critical in every SMKI profile?
    pub fn critical(self) -> bool {
        !matches!(self, ExtKind::SubjectKeyId | ExtKind::AuthorityKeyId)
    }
}

/// The string type of a directory string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StringKind {
    Printable,
    Utf8,
}

/// One attribute (the SMKI names have one attribute per RDN).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Attribute {
    CommonName(StringKind, String),
    OrganizationalUnit(StringKind, String),
    /// x500UniqueIdentifier (2.5.4.45): BIT STRING holding the EUI-64.
    UniqueIdentifier([u8; 8]),
}

/// A distinguished name: one attribute per RDN, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Name(pub Vec<Attribute>);

impl Name {
    /// The DER `Name` element.
    pub fn to_der(&self) -> Vec<u8> {
        let mut rdns = Vec::with_capacity(64);
        for attr in &self.0 {
            let mut atv = Vec::with_capacity(32);
            let (oid, tag, value): (&[u8], u8, Vec<u8>) = match attr {
                Attribute::CommonName(k, v) => {
                    (Oid::CommonName.der(), string_tag(*k), v.as_bytes().to_vec())
                }
                Attribute::OrganizationalUnit(k, v) => (
                    Oid::OrganizationalUnitName.der(),
                    string_tag(*k),
                    v.as_bytes().to_vec(),
                ),
                Attribute::UniqueIdentifier(eui) => {
                    let mut bits = vec![0u8];
                    bits.extend_from_slice(eui);
                    (Oid::UniqueIdentifier.der(), Tag::BIT_STRING, bits)
                }
            };
            tlv(Tag::OID, oid, &mut atv);
            tlv(tag, &value, &mut atv);
            let mut seq = Vec::with_capacity(atv.len() + 2);
            tlv(Tag::SEQUENCE, &atv, &mut seq);
            tlv(Tag::SET, &seq, &mut rdns);
        }
        let mut out = Vec::with_capacity(rdns.len() + 2);
        tlv(Tag::SEQUENCE, &rdns, &mut out);
        out
    }

    /// A one-line rendering, e.g. `CN=GITTESTSUPPLIER2,OU=02,x500UniqueIdentifier=90-B3-D5-1F-30-03-00-00`.
    pub fn display(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|a| match a {
                Attribute::CommonName(_, v) => format!("CN={v}"),
                Attribute::OrganizationalUnit(_, v) => format!("OU={v}"),
                Attribute::UniqueIdentifier(e) => format!("x500UniqueIdentifier={}", eui64_text(e)),
            })
            .collect();
        parts.join(",")
    }
}

fn string_tag(k: StringKind) -> u8 {
    match k {
        StringKind::Printable => Tag::PRINTABLE_STRING,
        StringKind::Utf8 => Tag::UTF8_STRING,
    }
}

/// An EUI-64 as the repository shows it: `90-B3-D5-1F-30-03-00-00`.
pub fn eui64_text(eui: &[u8; 8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(23);
    for (i, &b) in eui.iter().enumerate() {
        if i > 0 {
            s.push('-');
        }
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// A UTC time, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl Time {
    /// The element: UTCTime for 1950..=2049, GeneralizedTime otherwise.
    pub fn to_der(&self, out: &mut Vec<u8>) {
        let tail = format!(
            "{:02}{:02}{:02}{:02}{:02}Z",
            self.month, self.day, self.hour, self.minute, self.second
        );
        if (1950..2050).contains(&self.year) {
            tlv(
                Tag::UTC_TIME,
                format!("{:02}{tail}", self.year % 100).as_bytes(),
                out,
            );
        } else {
            tlv(
                Tag::GENERALIZED_TIME,
                format!("{:04}{tail}", self.year).as_bytes(),
                out,
            );
        }
    }

    /// The device notAfter: 9999-12-31 23:59:59.
    pub const NEVER: Time = Time {
        year: 9999,
        month: 12,
        day: 31,
        hour: 23,
        minute: 59,
        second: 59,
    };
}

/// The keyUsage of a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyUsage {
    /// digitalSignature (DS certificates).
    DigitalSignature,
    /// keyAgreement (KA certificates).
    KeyAgreement,
    /// keyCertSign and cRLSign (CAs).
    CertSign,
}

impl KeyUsage {
    /// The DER BIT STRING (named bits, trailing zero bits dropped).
    fn to_der(self) -> &'static [u8] {
        match self {
            KeyUsage::DigitalSignature => &[0x03, 0x02, 0x07, 0x80],
            KeyUsage::KeyAgreement => &[0x03, 0x02, 0x03, 0x08],
            KeyUsage::CertSign => &[0x03, 0x02, 0x01, 0x06],
        }
    }
}

/// Every field of an SMKI tbsCertificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TbsFields {
    pub profile: Profile,
    /// 16 octets, positive (first octet 0x01..=0x7F for a 16-octet DER INTEGER).
    pub serial: [u8; 16],
    pub issuer: Name,
    pub not_before: Time,
    pub not_after: Time,
    pub subject: Name,
    /// Uncompressed P-256 point.
    pub public_key: [u8; 65],
    /// Ignored for CA profiles (always keyCertSign + cRLSign).
    pub usage: KeyUsage,
    pub subject_key_id: [u8; 8],
    /// None only for the root.
    pub authority_key_id: Option<[u8; 8]>,
    /// The certificate policy OID (content octets).
    pub policy: Vec<u8>,
    /// The device's EUI-64 (subjectAltName hwSerialNum), devices only.
    pub hw_serial: Option<[u8; 8]>,
}

/// A deliberate deviation from DER in the encoding (defect injection): the extnValue OCTET
/// STRING of this extension is written with a long-form length (`04 81 LL`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Variation {
    pub long_form_extn_value: Option<ExtKind>,
}

fn extension_value(f: &TbsFields, kind: ExtKind) -> Vec<u8> {
    let mut v = Vec::with_capacity(48);
    match kind {
        ExtKind::KeyUsage => {
            let ku = if f.profile.is_ca() {
                KeyUsage::CertSign
            } else {
                f.usage
            };
            v.extend_from_slice(ku.to_der());
        }
        ExtKind::BasicConstraints => {
            // cA TRUE, and pathLenConstraint 0 below the root.
            let mut c = vec![0x01, 0x01, 0xff];
            if f.profile != Profile::Root {
                c.extend_from_slice(&[0x02, 0x01, 0x00]);
            }
            tlv(Tag::SEQUENCE, &c, &mut v);
        }
        ExtKind::SubjectKeyId => tlv(Tag::OCTET_STRING, &f.subject_key_id, &mut v),
        ExtKind::AuthorityKeyId => {
            let mut c = Vec::with_capacity(10);
            tlv(0x80, &f.authority_key_id.unwrap_or_default(), &mut c);
            tlv(Tag::SEQUENCE, &c, &mut v);
        }
        ExtKind::Policies => {
            let mut oid = Vec::with_capacity(16);
            tlv(Tag::OID, &f.policy, &mut oid);
            let mut info = Vec::with_capacity(18);
            tlv(Tag::SEQUENCE, &oid, &mut info);
            tlv(Tag::SEQUENCE, &info, &mut v);
        }
        ExtKind::SubjectAltName => {
            // GeneralNames { otherName [0] { hardwareModuleName, [0] EXPLICIT HardwareModuleName
            //   { hwType OID, hwSerialNum OCTET STRING } } }
            let mut hmn = Vec::with_capacity(27);
            tlv(Tag::OID, Oid::SmkiHwType.der(), &mut hmn);
            tlv(
                Tag::OCTET_STRING,
                &f.hw_serial.unwrap_or_default(),
                &mut hmn,
            );
            let mut hmn_seq = Vec::with_capacity(29);
            tlv(Tag::SEQUENCE, &hmn, &mut hmn_seq);
            let mut other = Vec::with_capacity(41);
            tlv(Tag::OID, Oid::HardwareModuleName.der(), &mut other);
            tlv(0xa0, &hmn_seq, &mut other);
            let mut gn = Vec::with_capacity(43);
            tlv(0xa0, &other, &mut gn);
            tlv(Tag::SEQUENCE, &gn, &mut v);
        }
    }
    v
}

/// The DER tbsCertificate of `fields`.
pub fn encode_tbs(fields: &TbsFields) -> Vec<u8> {
    encode_tbs_with(fields, &Variation::default())
}

/// The tbsCertificate of `fields` with a deliberate deviation (see [`Variation`]).
pub fn encode_tbs_with(f: &TbsFields, variation: &Variation) -> Vec<u8> {
    let mut body = Vec::with_capacity(360);
    body.extend_from_slice(&[0xa0, 0x03, 0x02, 0x01, 0x02]);
    unsigned_integer(&f.serial, &mut body);
    body.extend_from_slice(&ecdsa_sha256_algorithm());
    body.extend_from_slice(&f.issuer.to_der());
    let mut validity = Vec::with_capacity(32);
    f.not_before.to_der(&mut validity);
    f.not_after.to_der(&mut validity);
    tlv(Tag::SEQUENCE, &validity, &mut body);
    body.extend_from_slice(&f.subject.to_der());
    let mut alg = Vec::with_capacity(19);
    tlv(Tag::OID, Oid::EcPublicKey.der(), &mut alg);
    tlv(Tag::OID, Oid::Secp256r1.der(), &mut alg);
    let mut spki = Vec::with_capacity(89);
    tlv(Tag::SEQUENCE, &alg, &mut spki);
    let mut key = Vec::with_capacity(66);
    key.push(0);
    key.extend_from_slice(&f.public_key);
    tlv(Tag::BIT_STRING, &key, &mut spki);
    tlv(Tag::SEQUENCE, &spki, &mut body);
    let mut exts = Vec::with_capacity(160);
    for &kind in extensions(f.profile) {
        if kind == ExtKind::AuthorityKeyId && f.authority_key_id.is_none() {
            continue;
        }
        let value = extension_value(f, kind);
        let mut ext = Vec::with_capacity(value.len() + 12);
        tlv(Tag::OID, kind.oid(), &mut ext);
        if kind.critical() {
            ext.extend_from_slice(&[0x01, 0x01, 0xff]);
        }
        if variation.long_form_extn_value == Some(kind) && value.len() < 0x80 {
            ext.extend_from_slice(&[Tag::OCTET_STRING, 0x81, value.len() as u8]);
            ext.extend_from_slice(&value);
        } else {
            tlv(Tag::OCTET_STRING, &value, &mut ext);
        }
        tlv(Tag::SEQUENCE, &ext, &mut exts);
    }
    let mut seq = Vec::with_capacity(exts.len() + 4);
    tlv(Tag::SEQUENCE, &exts, &mut seq);
    tlv(0xa3, &seq, &mut body);
    let mut out = Vec::with_capacity(body.len() + 4);
    out.push(Tag::SEQUENCE);
    length(body.len(), &mut out);
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::eui64_text;

    #[test]
    fn eui64_text_format() {
        for eui in [
            [0u8; 8],
            [0xff; 8],
            [0x90, 0xb3, 0xd5, 0x1f, 0x30, 0x01, 0x0a, 0xa0],
        ] {
            let expected: Vec<String> = eui.iter().map(|b| format!("{b:02X}")).collect();
            assert_eq!(eui64_text(&eui), expected.join("-"));
        }
    }
}
