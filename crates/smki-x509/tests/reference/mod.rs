//! The x509-parser based `Fields::parse` that smki-x509 used before its own parser: kept as
//! the reference for the differential test (tests/fields_vs_x509_parser.rs) and the bench.
//! The code is the old implementation, unchanged but for its error type (a String) and the
//! named structs `Fields` holds where it held tuples. Its OIDs are its own (an independent
//! spelling, not smki_x509::Oid).
#![allow(dead_code)]

use smki_der::{read_header, Tag};
use smki_x509::{
    Attribute, BasicConstraints, CertView, DuplicateExtension, EncodedTime, ExtensionInfo, Fields,
    HardwareModuleName, KeyAlgorithm, Name,
};
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

const OID_HARDWARE_MODULE_NAME: &str = "1.3.6.1.5.5.7.8.4";
const OID_X500_UNIQUE_ID: &str = "2.5.4.45";
const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";

/// The old `Fields::parse`.
pub fn parse(view: &CertView<'_>) -> Result<Fields, String> {
    let tbs_bytes = view.tbs_bytes();
    let (_, tbs) =
        x509_parser::certificate::TbsCertificate::from_der(tbs_bytes).map_err(|e| e.to_string())?;
    let der = view.der();
    let children = read_children(der, view.tbs.content.clone())?;
    let version_shift = usize::from(children.first().is_some_and(|h| h.tag == 0xa0));
    let inner_signature_algorithm = children
        .get(1 + version_shift)
        .map(|h| der[h.element()].to_vec())
        .unwrap_or_default();
    let validity = children
        .get(3 + version_shift)
        .ok_or_else(|| "no validity".to_string())?;
    let times = read_children(der, validity.content.clone())?;
    let time_raw = |i: usize| {
        times
            .get(i)
            .map(|h| EncodedTime {
                tag: h.tag,
                text: String::from_utf8_lossy(&der[h.content.clone()]).into_owned(),
            })
            .unwrap_or_default()
    };
    let spki = &tbs.subject_pki;
    let key_algorithm = match spki.algorithm.algorithm.to_id_string().as_str() {
        OID_EC_PUBLIC_KEY => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string())
                .unwrap_or_default();
            if curve == OID_P256 {
                KeyAlgorithm::P256
            } else {
                KeyAlgorithm::OtherCurve(curve)
            }
        }
        other => KeyAlgorithm::Other(other.to_string()),
    };
    let mut f = Fields {
        version: tbs.version.0,
        serial: tbs.raw_serial().to_vec(),
        inner_signature_algorithm,
        issuer: name(&tbs.issuer),
        subject: name(&tbs.subject),
        not_before: tbs.validity.not_before.timestamp(),
        not_after: tbs.validity.not_after.timestamp(),
        not_before_raw: time_raw(0),
        not_after_raw: time_raw(1),
        key_algorithm,
        public_key: spki.subject_public_key.data.to_vec(),
        extensions: Vec::new(),
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
    for (index, ext) in tbs.extensions().iter().enumerate() {
        let oid = ext.oid.to_id_string();
        if f.extensions.iter().any(|e| e.oid == oid) {
            // RFC 5280 4.2: at most one of each; the first one's value stands. x509-parser
            // gives no offsets: 0 here, and the comparison leaves offsets aside.
            f.duplicate_extensions.push(DuplicateExtension {
                oid,
                index,
                offset: 0,
            });
            continue;
        }
        f.extensions.push(ExtensionInfo {
            oid,
            critical: ext.critical,
        });
        match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => f.subject_key_id = Some(k.0.to_vec()),
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                f.authority_key_id = a.key_identifier.as_ref().map(|k| k.0.to_vec());
                f.aki_has_issuer_serial =
                    a.authority_cert_issuer.is_some() || a.authority_cert_serial.is_some();
            }
            ParsedExtension::KeyUsage(ku) => f.key_usage = Some(ku.flags),
            ParsedExtension::BasicConstraints(bc) => {
                f.basic_constraints = Some(BasicConstraints {
                    ca: bc.ca,
                    path_len: bc.path_len_constraint,
                })
            }
            ParsedExtension::CertificatePolicies(p) => {
                f.policies = p.iter().map(|pi| pi.policy_id.to_id_string()).collect()
            }
            ParsedExtension::SubjectAlternativeName(san) => {
                for gn in &san.general_names {
                    match gn {
                        GeneralName::OtherName(oid, value)
                            if oid.to_id_string() == OID_HARDWARE_MODULE_NAME =>
                        {
                            match hardware_module_name(value) {
                                Some(h) => f.hardware_module_names.push(h),
                                None => f.other_san_entries += 1,
                            }
                        }
                        _ => f.other_san_entries += 1,
                    }
                }
            }
            _ => {}
        }
    }
    f.eui64 = f
        .hardware_module_names
        .first()
        .and_then(|h| <[u8; 8]>::try_from(h.serial.as_slice()).ok())
        .or_else(|| {
            f.subject
                .attributes
                .iter()
                .find(|a| a.oid == OID_X500_UNIQUE_ID)
                .and_then(|Attribute { tag, value: v, .. }| {
                    (*tag == Tag::BIT_STRING && v.len() == 9 && v[0] == 0)
                        .then(|| <[u8; 8]>::try_from(&v[1..]).ok())
                        .flatten()
                })
        });
    Ok(f)
}

fn read_children(
    der: &[u8],
    range: core::ops::Range<usize>,
) -> Result<Vec<smki_der::Header>, String> {
    let mut out = Vec::new();
    let mut pos = range.start;
    while pos < range.end {
        let h = read_header(&der[..range.end], pos, 0).map_err(|e| e.to_string())?;
        pos = h.end;
        out.push(h);
    }
    Ok(out)
}

fn hardware_module_name(value: &[u8]) -> Option<HardwareModuleName> {
    let explicit = read_header(value, 0, 0).ok().filter(|h| h.tag == 0xa0)?;
    let seq = read_header(value, explicit.content.start, 0)
        .ok()
        .filter(|h| h.tag == Tag::SEQUENCE)?;
    let oid = read_header(value, seq.content.start, 0)
        .ok()
        .filter(|h| h.tag == Tag::OID)?;
    let serial = read_header(value, oid.end, 0)
        .ok()
        .filter(|h| h.tag == Tag::OCTET_STRING)?;
    let (_, oid_value) = x509_parser::der_parser::oid::Oid::from_der(&value[oid.element()]).ok()?;
    Some(HardwareModuleName {
        hw_type: oid_value.to_id_string(),
        serial: value[serial.content].to_vec(),
    })
}

fn name(n: &x509_parser::x509::X509Name<'_>) -> Name {
    let mut text = Vec::new();
    let mut normalised = Vec::new();
    let mut attributes = Vec::new();
    let mut one_attribute_per_rdn = true;
    for (i, rdn) in n.iter_rdn().enumerate() {
        if i > 0 {
            normalised.push(b'/');
        }
        let mut parts: Vec<Vec<u8>> = Vec::new();
        let mut count = 0;
        for atv in rdn.iter() {
            count += 1;
            let oid = atv.attr_type().to_id_string();
            let tag = atv.attr_value().tag().0 as u8;
            let value = atv.attr_value().data.to_vec();
            text.push(format!("{}={}", short_name(&oid), value_text(tag, &value)));
            let mut key = oid.clone().into_bytes();
            key.push(b'=');
            match string_value(tag, &value) {
                Some(s) => key.extend(
                    s.split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                        .to_lowercase()
                        .into_bytes(),
                ),
                None => {
                    key.push(b'#');
                    key.extend(hex::encode(&value).into_bytes());
                }
            }
            parts.push(key);
            attributes.push(Attribute { oid, tag, value });
        }
        one_attribute_per_rdn &= count == 1;
        parts.sort();
        normalised.extend(parts.join(&b'+'));
    }
    Name {
        text: text.join(", "),
        normalised,
        one_attribute_per_rdn,
        attributes,
    }
}

fn short_name(oid: &str) -> &str {
    match oid {
        "2.5.4.3" => "CN",
        "2.5.4.11" => "OU",
        "2.5.4.10" => "O",
        "2.5.4.6" => "C",
        "2.5.4.45" => "x500UniqueIdentifier",
        other => other,
    }
}

fn string_value(tag: u8, v: &[u8]) -> Option<String> {
    match tag {
        0x0c | 0x12 | 0x13 | 0x14 | 0x16 | 0x1a => String::from_utf8(v.to_vec()).ok(),
        0x1e if v.len().is_multiple_of(2) => String::from_utf16(
            &v.chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect::<Vec<_>>(),
        )
        .ok(),
        _ => None,
    }
}

fn value_text(tag: u8, v: &[u8]) -> String {
    string_value(tag, v).unwrap_or_else(|| format!("#{}", hex::encode(v)))
}
