//! The simulated PKI: root ZA, issuing organisation CA Z1, the device CAs, and the CAs whose
//! certificates are never written out (issuers of the ISSUER_ABSENT certificates).
use crate::crypto::KeyPair;
use crate::date::Date;
use crate::model::rng;
use crate::tbs::{encode_tbs, Attribute, KeyUsage, Name, Profile, StringKind, TbsFields};
use rand_core::RngCore;
use smki_x509::Oid;

/// One certificate authority.
#[derive(Debug, Clone)]
pub struct Ca {
    /// CN, e.g. `ZA`, `Z1`, `E357`.
    pub name: String,
    /// File name under `cas/` (empty for a CA not written out).
    pub file: String,
    pub profile: Profile,
    pub key: KeyPair,
    pub subject: Name,
    /// The CA certificate's DER.
    pub der: Vec<u8>,
    pub serial: [u8; 16],
    /// Is the certificate written to `cas/`?
    pub written: bool,
    /// Does the CA run the faulty 2018 signer (inside the defect window)?
    pub faulty: bool,
    /// First day (days since 1970) it issues certificates.
    pub active_from: i64,
}

/// A 16-octet positive serial whose DER INTEGER is exactly 16 octets (first octet 01..7F).
pub(crate) fn serial(rng: &mut impl RngCore) -> [u8; 16] {
    let mut s = [0u8; 16];
    rng.fill_bytes(&mut s);
    s[0] = 1 + s[0] % 0x7f;
    s
}

/// The hierarchy, indexed: 0 root, 1 issuing CA, then the device CAs; the absent CAs last.
#[derive(Debug, Clone)]
pub struct Hierarchy {
    pub cas: Vec<Ca>,
    /// Indices of the device CAs that are written out.
    pub device_cas: Vec<usize>,
    /// The absent device CA and the absent organisation CA.
    pub absent_device_ca: usize,
    pub absent_org_ca: usize,
}

pub(crate) const ROOT: usize = 0;
pub(crate) const ISSUING: usize = 1;

struct CaSpec {
    name: &'static str,
    file: &'static str,
    profile: Profile,
    subject: Name,
    written: bool,
    faulty: bool,
    /// Days after the timeline start when it starts issuing.
    from_offset: i64,
}

fn ca_name(ou: Option<&str>, cn: &str) -> Name {
    let mut attrs = Vec::new();
    if let Some(ou) = ou {
        attrs.push(Attribute::OrganizationalUnit(
            StringKind::Printable,
            ou.to_string(),
        ));
    }
    attrs.push(Attribute::CommonName(StringKind::Printable, cn.to_string()));
    Name(attrs)
}

impl Hierarchy {
    /// Builds every CA (keys and certificates) from the seed. `start` and `end` bound the
    /// issuance timeline; device CAs come into service along it.
    pub fn new(seed: u64, start: Date) -> Hierarchy {
        let dev = |name: &'static str,
                   file: &'static str,
                   faulty: bool,
                   from_offset: i64,
                   written: bool| CaSpec {
            name,
            file,
            profile: Profile::DeviceCa,
            subject: ca_name(None, name),
            written,
            faulty,
            from_offset,
        };
        let specs = vec![
            CaSpec {
                name: "ZA",
                file: "root.der",
                profile: Profile::Root,
                subject: ca_name(Some("00"), "ZA"),
                written: true,
                faulty: false,
                from_offset: 0,
            },
            CaSpec {
                name: "Z1",
                file: "issuing-ca.der",
                profile: Profile::IssuingCa,
                subject: ca_name(Some("07"), "Z1"),
                written: true,
                faulty: true,
                from_offset: 0,
            },
            dev("E357", "device-ca-1.der", true, 0, true),
            dev("E358", "device-ca-2.der", true, 0, true),
            dev("E359", "device-ca-3.der", false, 0, true),
            dev("E35A", "device-ca-4.der", false, 900, true),
            dev("E35B", "device-ca-5.der", false, 1300, true),
            dev("E360", "", false, 0, false),
            CaSpec {
                name: "Z2",
                file: "",
                profile: Profile::IssuingCa,
                subject: ca_name(Some("07"), "Z2"),
                written: false,
                faulty: false,
                from_offset: 0,
            },
        ];
        let mut cas: Vec<Ca> = Vec::with_capacity(specs.len());
        for (i, spec) in specs.into_iter().enumerate() {
            let mut r = rng(seed, "ca", i as u64);
            let mut d = [0u8; 32];
            r.fill_bytes(&mut d);
            let key = KeyPair::from_seed(&d);
            let serial = serial(&mut r);
            let active_from = start.days() + spec.from_offset;
            // In service a few weeks before it first issues; valid 25 years less a day.
            let nb = Date::from_days(
                active_from
                    - if spec.profile == Profile::Root {
                        180
                    } else {
                        40 + i as i64
                    },
            );
            let not_before = nb.at(0, 0, 0);
            let not_after = nb.add_years(25).add_days(-1).at(23, 59, 59);
            let (issuer, aki, issuer_key) = if spec.profile == Profile::Root {
                (spec.subject.clone(), None, key.clone())
            } else {
                let root = &cas[ROOT];
                (
                    root.subject.clone(),
                    Some(root.key.key_id),
                    root.key.clone(),
                )
            };
            let fields = TbsFields {
                profile: spec.profile,
                serial,
                issuer,
                not_before,
                not_after,
                subject: spec.subject.clone(),
                public_key: key.public,
                usage: KeyUsage::CertSign,
                subject_key_id: key.key_id,
                authority_key_id: aki,
                policy: Oid::SmkiPolicyOrganisation.der().to_vec(),
                hw_serial: None,
            };
            let tbs = encode_tbs(&fields);
            let (r_, s_) = issuer_key.sign(&smki_x509::sha256(&tbs));
            let der = smki_der::encode::certificate(
                &tbs,
                &crate::tbs::ecdsa_sha256_algorithm(),
                &smki_der::encode::signature_bit_string(&r_, &s_),
            );
            cas.push(Ca {
                name: spec.name.to_string(),
                file: spec.file.to_string(),
                profile: spec.profile,
                key,
                subject: spec.subject,
                der,
                serial,
                written: spec.written,
                faulty: spec.faulty,
                active_from,
            });
        }
        let device_cas = (0..cas.len())
            .filter(|&i| cas[i].profile == Profile::DeviceCa && cas[i].written)
            .collect();
        let absent_device_ca = cas.iter().position(|c| c.name == "E360").expect("E360");
        let absent_org_ca = cas.iter().position(|c| c.name == "Z2").expect("Z2");
        Hierarchy {
            cas,
            device_cas,
            absent_device_ca,
            absent_org_ca,
        }
    }

    /// The device CA issuing for device `u` (a hash) on `day`: one of those in service.
    pub(crate) fn device_ca_for(&self, day: i64, u: u64) -> usize {
        let active: Vec<usize> = self
            .device_cas
            .iter()
            .copied()
            .filter(|&i| self.cas[i].active_from <= day)
            .collect();
        active[(u % active.len() as u64) as usize]
    }
}
