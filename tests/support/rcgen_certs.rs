//! Certificates no smki code wrote: `rcgen` (crates.io, over `ring` and `yasna`) builds a
//! P-256 ECDSA self-signed CA and leaves signed by it, varied in every way the RFC 5280
//! profile lets a certificate vary: serial lengths (1 to 20 octets, with and without the
//! high bit set), names (several attribute types, PrintableString / UTF8String / IA5String /
//! BMPString values, a custom attribute, an empty subject), validity (UTCTime and, past
//! 2049, GeneralizedTime), keyUsage (one bit to all nine), basicConstraints (CA with and
//! without pathLen), subjectAltName (dNSName, rfc822Name, URI, iPAddress v4 and v6,
//! otherName), extKeyUsage, cRLDistributionPoints, authorityKeyIdentifier, a critical
//! certificatePolicies (as the SMKI profiles have it) and custom extensions.
//!
//! Used by tests/rcgen_clean.rs (every one must be clean) and tests/x509_cert_oracle.rs
//! (starting points for the DER mutations).
#![allow(dead_code)]

use rcgen::{
    BasicConstraints, CertificateParams, CrlDistributionPoint, CustomExtension, DistinguishedName,
    DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
    SerialNumber, PKCS_ECDSA_P256_SHA256,
};
use std::net::IpAddr;

/// One rcgen certificate: what it varies, and its DER.
pub struct Made {
    pub name: String,
    pub der: Vec<u8>,
}

/// The CA and the leaves it signed.
pub struct RcgenPki {
    pub ca: Made,
    pub leaves: Vec<Made>,
}

/// certificatePolicies { PolicyInformation { anyPolicy (2.5.29.32.0), policyQualifiers {
/// a CPS URI } } }, as DER written by hand (rcgen has no certificatePolicies of its own).
fn certificate_policies() -> Vec<u8> {
    let tlv = |tag: u8, c: &[u8]| [&[tag, c.len() as u8][..], c].concat();
    let any_policy = tlv(0x06, &[0x55, 0x1d, 0x20, 0x00]);
    let id_qt_cps = tlv(0x06, &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x02, 0x01]);
    let qualifier = tlv(
        0x30,
        &[id_qt_cps, tlv(0x16, b"https://example.org/cps")].concat(),
    );
    let info = tlv(0x30, &[any_policy, tlv(0x30, &qualifier)].concat());
    tlv(0x30, &info)
}

fn policies(critical: bool) -> CustomExtension {
    let mut e = CustomExtension::from_oid_content(&[2, 5, 29, 32], certificate_policies());
    e.set_criticality(critical);
    e
}

fn custom(arc: u64, content: Vec<u8>) -> CustomExtension {
    CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 55555, arc], content)
}

fn serial(len: usize, first: u8) -> SerialNumber {
    let mut s: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(37) ^ 0x5a)
        .collect();
    s[0] = first;
    SerialNumber::from_slice(&s)
}

fn dn(parts: &[(DnType, DnValue)]) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    for (t, v) in parts {
        d.push(t.clone(), v.clone());
    }
    d
}

fn printable(s: &str) -> DnValue {
    DnValue::PrintableString(s.try_into().expect("printable"))
}

/// The leaves: each a name for what it varies and its parameters.
fn leaf_params() -> Vec<(&'static str, CertificateParams)> {
    let mut out = Vec::new();
    let base = || {
        let mut p = CertificateParams::default();
        p.use_authority_key_identifier_extension = true;
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2040, 1, 1);
        p
    };

    let mut p = base();
    p.serial_number = Some(serial(1, 0x01));
    p.distinguished_name = dn(&[(DnType::CommonName, "one-octet serial".into())]);
    p.subject_alt_names = vec![SanType::DnsName("leaf.example".try_into().expect("dns"))];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    out.push(("1-octet serial, dNSName, serverAuth", p));

    let mut p = base();
    p.serial_number = Some(serial(20, 0xff));
    p.distinguished_name = dn(&[
        (DnType::CountryName, printable("GB")),
        (DnType::StateOrProvinceName, "England".into()),
        (DnType::LocalityName, "London".into()),
        (DnType::OrganizationName, "rcgen leaves".into()),
        (DnType::OrganizationalUnitName, printable("Unit 2")),
        (DnType::CommonName, "twenty-octet serial".into()),
    ]);
    p.subject_alt_names = vec![
        SanType::IpAddress(IpAddr::from([192, 0, 2, 7])),
        SanType::IpAddress(IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1])),
    ];
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyAgreement,
    ];
    out.push(("20-octet serial, high bit set, six attributes, IP SANs", p));

    let mut p = base();
    p.serial_number = Some(serial(8, 0x80));
    p.distinguished_name = dn(&[
        (
            DnType::CommonName,
            DnValue::BmpString("BMP name".try_into().expect("bmp")),
        ),
        (
            DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 1]),
            DnValue::Ia5String("uid-1".try_into().expect("ia5")),
        ),
    ]);
    p.subject_alt_names = vec![
        SanType::Rfc822Name("someone@example.org".try_into().expect("ia5")),
        SanType::URI("https://example.org/x".try_into().expect("ia5")),
    ];
    p.custom_extensions = vec![
        policies(true),
        custom(1, vec![0x30, 0x06, 0x02, 0x01, 0x05, 0x01, 0x01, 0xff]),
    ];
    p.key_usages = vec![KeyUsagePurpose::KeyAgreement];
    out.push((
        "8-octet serial 0x80.., BMPString and IA5String names, critical policies, custom extension",
        p,
    ));

    let mut p = base();
    p.serial_number = Some(serial(16, 0x7f));
    p.distinguished_name = dn(&[(DnType::CommonName, "sub-CA".into())]);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.subject_alt_names = vec![SanType::OtherName((
        vec![1, 3, 6, 1, 4, 1, 55555, 9],
        "other name".into(),
    ))];
    out.push(("16-octet serial, CA without pathLen, otherName", p));

    let mut p = base();
    p.serial_number = Some(serial(2, 0x00));
    p.not_after = rcgen::date_time_ymd(2060, 6, 30);
    p.distinguished_name = dn(&[(DnType::CommonName, "GeneralizedTime".into())]);
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::ContentCommitment,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::DataEncipherment,
        KeyUsagePurpose::KeyAgreement,
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::EncipherOnly,
        KeyUsagePurpose::DecipherOnly,
    ];
    p.crl_distribution_points = vec![CrlDistributionPoint {
        uris: vec!["http://crl.example.org/ca.crl".into()],
    }];
    out.push((
        "serial 00 xx (a pad), notAfter a GeneralizedTime, all nine key usages, CRL DP",
        p,
    ));

    let mut p = base();
    p.serial_number = Some(serial(19, 0x01));
    p.distinguished_name = DistinguishedName::new();
    p.subject_alt_names = vec![SanType::DnsName(
        "only-san.example".try_into().expect("dns"),
    )];
    p.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsagePurpose::CodeSigning,
        ExtendedKeyUsagePurpose::Other(vec![1, 3, 6, 1, 4, 1, 55555, 3]),
    ];
    p.custom_extensions = vec![
        policies(false),
        custom(2, vec![0x04, 0x03, 0x01, 0x02, 0x03]),
        custom(3, vec![0x05, 0x00]),
    ];
    out.push((
        "19-octet serial, empty subject, three EKUs, non-critical policies, two custom extensions",
        p,
    ));

    let mut p = base();
    p.serial_number = Some(serial(9, 0xc3));
    p.distinguished_name = dn(&[
        (DnType::OrganizationName, "sub-CA with pathLen".into()),
        (DnType::CommonName, printable("Path Len 0")),
    ]);
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    p.custom_extensions = vec![policies(true)];
    out.push(("9-octet serial 0xc3.., CA pathLen 0, critical policies", p));

    let mut p = base();
    p.serial_number = None;
    p.use_authority_key_identifier_extension = false;
    p.distinguished_name = dn(&[(DnType::CommonName, "rcgen's own serial, no AKI".into())]);
    out.push(("rcgen's random serial, no AKI, no keyUsage", p));

    // rcgen 0.13 wrote `cA FALSE` here, a DEFAULT value encoded (X.690 11.5), and every
    // keyUsage as nine bits, trailing 0 bits included (X.690 11.2.2): smki and x509-cert
    // both said CERT_BER; rcgen 0.14 writes both in DER (docs/vocabulary.md).
    let mut p = base();
    p.serial_number = Some(serial(3, 0x80));
    p.distinguished_name = dn(&[(DnType::CommonName, "explicit no CA".into())]);
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    out.push((
        "3-octet serial 0x80.., basicConstraints without cA, keyUsage one bit",
        p,
    ));
    out
}

impl RcgenPki {
    /// A new CA (a fresh P-256 key) and its leaves.
    pub fn new() -> RcgenPki {
        let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("P-256 key");
        let mut ca = CertificateParams::default();
        ca.serial_number = Some(serial(16, 0x9c));
        ca.not_before = rcgen::date_time_ymd(2019, 6, 1);
        ca.not_after = rcgen::date_time_ymd(2070, 6, 1);
        ca.distinguished_name = dn(&[
            (DnType::CountryName, printable("GB")),
            (DnType::OrganizationName, "rcgen test CA".into()),
            (DnType::CommonName, "rcgen root".into()),
        ]);
        ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(2));
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        ca.custom_extensions = vec![policies(true)];
        let ca_cert = ca.self_signed(&ca_key).expect("self-signed CA");
        let issuer = Issuer::new(ca, ca_key);
        let leaves = leaf_params()
            .into_iter()
            .map(|(name, params)| {
                let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("P-256 key");
                let cert = params.signed_by(&key, &issuer).expect("rcgen signs");
                Made {
                    name: name.into(),
                    der: cert.der().to_vec(),
                }
            })
            .collect();
        RcgenPki {
            ca: Made {
                name: "self-signed CA, pathLen 2, critical policies".into(),
                der: ca_cert.der().to_vec(),
            },
            leaves,
        }
    }

    /// Every certificate, the CA first.
    pub fn all(&self) -> impl Iterator<Item = &Made> {
        std::iter::once(&self.ca).chain(&self.leaves)
    }
}
