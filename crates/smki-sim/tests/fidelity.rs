//! Byte fidelity: every DCC test certificate that follows an SMKI profile is rebuilt from its
//! parsed fields through the simulator's one TBS encoder, and must give the same bytes.
//! The certificates are GPL: read from ../shared/fixtures/dcc-test-certs, never copied.
use smki_sim::tbs::{
    encode_tbs, Attribute, ExtKind, KeyUsage, Name, Profile, StringKind, TbsFields, Time,
};
use smki_x509::Oid;
use std::collections::BTreeMap;
use std::path::PathBuf;
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::prelude::*;

/// DCC test certificates that follow a profile, found when this test was written (460
/// certificates): 400 device certificates (device CA E357), 43 organisation certificates
/// (Z1, Z2) and the issuing CA Z1 twice (two keys). The 15 others are off-profile: 7
/// organisation certificates without authorityKeyIdentifier and with the extensions in
/// another order (policies, SKI, KU); 2 organisation certificates with a basicConstraints
/// cA FALSE extension (issuer OB); 2 with the SKI after the AKI and a NULL parameter in the
/// signature algorithm (issuer Z99, DCC Boxed); 2 device certificates issued by an access
/// control broker, without SKI and with another hwType; 1 device certificate (device CA
/// "0001") whose certificatePolicies is not critical; 1 device certificate (E357) with
/// keyUsage nonRepudiation (an error test case).
const EXPECTED_MATCHES: usize = 445;

fn fixtures() -> Option<PathBuf> {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/dcc-test-certs");
    dir.is_dir().then_some(dir)
}

fn name(n: &X509Name) -> Result<Name, String> {
    let mut attrs = Vec::new();
    for rdn in n.iter() {
        if rdn.iter().count() != 1 {
            return Err("multi-valued RDN".into());
        }
        let atv = rdn.iter().next().expect("one");
        let v = atv.attr_value();
        let kind = match v.tag() {
            Tag::PrintableString => Some(StringKind::Printable),
            Tag::Utf8String => Some(StringKind::Utf8),
            _ => None,
        };
        let text = || String::from_utf8(v.data.to_vec()).map_err(|_| "bad string".to_string());
        let oid = atv.attr_type().to_id_string();
        attrs.push(match (oid.as_str(), kind) {
            ("2.5.4.3", Some(k)) => Attribute::CommonName(k, text()?),
            ("2.5.4.11", Some(k)) => Attribute::OrganizationalUnit(k, text()?),
            ("2.5.4.45", None)
                if v.tag() == Tag::BitString && v.data.len() == 9 && v.data[0] == 0 =>
            {
                Attribute::UniqueIdentifier(v.data[1..].try_into().expect("8"))
            }
            _ => return Err(format!("attribute {oid} with tag {}", v.tag())),
        });
    }
    Ok(Name(attrs))
}

fn time(t: &ASN1Time) -> Time {
    let d = t.to_datetime();
    Time {
        year: d.year() as u16,
        month: d.month() as u8,
        day: d.day(),
        hour: d.hour(),
        minute: d.minute(),
        second: d.second(),
    }
}

fn ext_kind(oid: &str) -> Option<ExtKind> {
    Some(match oid {
        "2.5.29.15" => ExtKind::KeyUsage,
        "2.5.29.19" => ExtKind::BasicConstraints,
        "2.5.29.14" => ExtKind::SubjectKeyId,
        "2.5.29.17" => ExtKind::SubjectAltName,
        "2.5.29.32" => ExtKind::Policies,
        "2.5.29.35" => ExtKind::AuthorityKeyId,
        _ => return None,
    })
}

/// The fields of `cert`, and why it does not follow a profile (empty when it does).
fn parse(cert: &X509Certificate) -> Result<(TbsFields, Vec<String>), String> {
    let tbs = &cert.tbs_certificate;
    let mut off = Vec::new();
    let issuer = name(tbs.issuer())?;
    let subject = name(tbs.subject())?;
    let serial: [u8; 16] = tbs
        .raw_serial()
        .try_into()
        .map_err(|_| format!("serial of {} octets", tbs.raw_serial().len()))?;
    let public_key: [u8; 65] = tbs
        .subject_pki
        .subject_public_key
        .data
        .as_ref()
        .try_into()
        .map_err(|_| "not an uncompressed P-256 key".to_string())?;
    let ca = tbs
        .basic_constraints()
        .ok()
        .flatten()
        .is_some_and(|bc| bc.value.ca);
    let profile = if ca {
        if tbs.issuer() == tbs.subject() {
            Profile::Root
        } else if subject
            .0
            .iter()
            .any(|a| matches!(a, Attribute::OrganizationalUnit(..)))
        {
            Profile::IssuingCa
        } else {
            Profile::DeviceCa
        }
    } else if subject.0.is_empty() {
        Profile::Device
    } else {
        Profile::Organisation
    };
    let actual: Vec<(String, bool)> = tbs
        .extensions()
        .iter()
        .map(|e| (e.oid.to_id_string(), e.critical))
        .collect();
    let expected: Vec<(String, bool)> = smki_sim::tbs::extensions(profile)
        .iter()
        .map(|k| {
            let oid = match k {
                ExtKind::KeyUsage => "2.5.29.15",
                ExtKind::BasicConstraints => "2.5.29.19",
                ExtKind::SubjectKeyId => "2.5.29.14",
                ExtKind::SubjectAltName => "2.5.29.17",
                ExtKind::Policies => "2.5.29.32",
                ExtKind::AuthorityKeyId => "2.5.29.35",
            };
            (oid.to_string(), k.critical())
        })
        .collect();
    let show = |v: &[(String, bool)]| {
        v.iter()
            .map(|(o, c)| {
                format!(
                    "{}{}",
                    ext_kind(o).map_or(o.clone(), |k| format!("{k:?}")),
                    if *c { "!" } else { "" }
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    if actual != expected {
        off.push(format!(
            "{:?} extensions [{}], profile says [{}]",
            profile,
            show(&actual),
            show(&expected)
        ));
    }
    let mut fields = TbsFields {
        profile,
        serial,
        issuer,
        not_before: time(&tbs.validity.not_before),
        not_after: time(&tbs.validity.not_after),
        subject,
        public_key,
        usage: KeyUsage::DigitalSignature,
        subject_key_id: [0; 8],
        authority_key_id: None,
        policy: Vec::new(),
        hw_serial: None,
    };
    for ext in tbs.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::KeyUsage(ku) => {
                fields.usage = if ku.digital_signature() {
                    KeyUsage::DigitalSignature
                } else if ku.key_agreement() {
                    KeyUsage::KeyAgreement
                } else {
                    KeyUsage::CertSign
                };
                let flags = ku.flags;
                let ok = match profile {
                    p if p.is_ca() => {
                        ku.key_cert_sign() && ku.crl_sign() && flags.count_ones() == 2
                    }
                    _ => flags.count_ones() == 1 && (ku.digital_signature() || ku.key_agreement()),
                };
                if !ok {
                    off.push(format!("keyUsage {ku}"));
                }
            }
            ParsedExtension::SubjectKeyIdentifier(k) => match k.0.try_into() {
                Ok(id) => fields.subject_key_id = id,
                Err(_) => off.push(format!("subjectKeyIdentifier of {} octets", k.0.len())),
            },
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                if a.authority_cert_issuer.is_some() || a.authority_cert_serial.is_some() {
                    off.push("authorityKeyIdentifier with issuer and serial".into());
                }
                match a.key_identifier.as_ref().map(|k| k.0.try_into()) {
                    Some(Ok(id)) => fields.authority_key_id = Some(id),
                    _ => off.push("authorityKeyIdentifier without an 8-octet keyIdentifier".into()),
                }
            }
            ParsedExtension::CertificatePolicies(p) => {
                if p.len() != 1 || p[0].policy_qualifiers.is_some() {
                    off.push("certificatePolicies not one bare policy".into());
                }
                fields.policy = p[0].policy_id.as_bytes().to_vec();
            }
            ParsedExtension::BasicConstraints(bc) => {
                let want = if profile == Profile::Root {
                    None
                } else {
                    Some(0)
                };
                if !bc.ca || bc.path_len_constraint != want {
                    off.push(format!("basicConstraints {bc:?}"));
                }
            }
            ParsedExtension::SubjectAlternativeName(san) => {
                // One otherName hardwareModuleName { hwType, hwSerialNum (8 octets) }.
                let v = ext.value;
                let hw_type = Oid::SmkiHwType.der();
                let hw_type_at = v.windows(hw_type.len()).position(|w| w == hw_type);
                let n = v.len();
                if san.general_names.len() != 1
                    || hw_type_at.is_none()
                    || n < 10
                    || v[n - 10..n - 8] != [0x04, 0x08]
                {
                    off.push("subjectAltName is not one SMKI hardwareModuleName".into());
                } else {
                    fields.hw_serial = Some(v[n - 8..].try_into().expect("8"));
                }
            }
            _ => {}
        }
    }
    if fields.policy.is_empty() {
        off.push("no certificatePolicies".into());
    }
    if cert.signature_algorithm.algorithm.to_id_string() != "1.2.840.10045.4.3.2"
        || cert.signature_algorithm.parameters.is_some()
    {
        off.push("signature algorithm is not bare ecdsa-with-SHA256".into());
    }
    if tbs.signature.parameters.is_some() {
        off.push("inner signature algorithm has parameters".into());
    }
    if profile == Profile::Device && fields.not_after != Time::NEVER {
        off.push("device notAfter is not 99991231235959Z".into());
    }
    Ok((fields, off))
}

#[test]
fn dcc_test_certificates_rebuild_byte_for_byte() {
    let Some(dir) = fixtures() else {
        println!("SKIPPED: ../shared/fixtures/dcc-test-certs not found (the DCC test certificates are not in this checkout)");
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "der"))
        .collect();
    files.sort();
    let mut matched = 0;
    let mut by_profile: BTreeMap<String, usize> = BTreeMap::new();
    let mut reasons: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut failures = Vec::new();
    for f in &files {
        let der = std::fs::read(f).unwrap();
        let short = f.file_name().unwrap().to_string_lossy().into_owned();
        let (_, cert) = match X509Certificate::from_der(&der) {
            Ok(c) => c,
            Err(e) => {
                reasons
                    .entry(format!("does not parse: {e}"))
                    .or_default()
                    .push(short);
                continue;
            }
        };
        let (fields, off) = match parse(&cert) {
            Ok(x) => x,
            Err(e) => {
                reasons.entry(e).or_default().push(short);
                continue;
            }
        };
        let rebuilt = encode_tbs(&fields);
        let same = rebuilt == cert.tbs_certificate.as_ref();
        match (same, off.is_empty()) {
            (true, true) => {
                matched += 1;
                *by_profile
                    .entry(fields.profile.as_str().to_string())
                    .or_default() += 1;
            }
            (false, false) => reasons.entry(off.join("; ")).or_default().push(short),
            (true, false) => failures.push(format!(
                "{short}: rebuilt identically but judged off-profile: {off:?}"
            )),
            (false, true) => failures.push(format!(
                "{short}: on-profile {:?} but the bytes differ",
                fields.profile
            )),
        }
    }
    println!(
        "{} DCC test certificates, {matched} rebuilt byte for byte: {by_profile:?}",
        files.len()
    );
    for (why, list) in &reasons {
        println!("  off-profile ({}): {why}: {}", list.len(), list.join(" "));
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(matched > 0);
    assert_eq!(matched, EXPECTED_MATCHES);
}
