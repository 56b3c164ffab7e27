//! One certificate from its index: the plan (who, when, which CA, which defect), the
//! certificate itself, and its rendering in each output format.
use crate::crypto::{batch_sign, faulty_accept, KeyPair};
use crate::date::Date;
use crate::model::*;
use crate::pki::{serial, Hierarchy, ISSUING};
use crate::tbs::{
    ecdsa_sha256_algorithm, encode_tbs_with, eui64_text, Attribute, ExtKind, KeyUsage, Name,
    Profile, StringKind, TbsFields, Time, Variation,
};
use crate::Injection;
use base64::Engine;
use rand_core::RngCore;
use smki_der::DefectCode;
use smki_repo::{Metadata, OutputFormat};
use smki_scan::Verdict;
use smki_x509::Oid;

/// Everything [`plan`] needs, fixed for a run.
#[derive(Debug)]
pub(crate) struct Config {
    pub seed: u64,
    pub count: u64,
    pub start: i64,
    pub days: i64,
    pub window: (i64, i64),
    pub cutoff: i64,
    pub end: i64,
    /// (injection, cumulative rate), in the order given.
    pub inject: Vec<(Injection, f64)>,
    pub hierarchy: Hierarchy,
    /// Share of certificate pairs that are organisation certificates, per mille.
    pub org_per_mille: u64,
    /// Live issuance: every certificate is issued on this day ([`crate::LiveIssuer`]).
    pub live_day: Option<i64>,
}

/// What a certificate is, before any key is made.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub ds: bool,
    pub day: i64,
    pub subject: Subject,
    pub ca: usize,
    pub injection: Option<Injection>,
    /// Issued by a faulty CA inside the defect window (and no other injection).
    pub eligible: bool,
    pub lifecycle: Option<Lifecycle>,
    pub status: &'static str,
    pub manufacturing: bool,
    /// Extract only: the day a delta file moves this certificate from in storage to
    /// installed (the full extract shows the earlier state).
    pub update_day: Option<i64>,
}

#[derive(Debug, Clone)]
pub(crate) enum Subject {
    Device {
        kind: DeviceType,
        eui: [u8; 8],
    },
    Organisation {
        role: Role,
        eui: [u8; 8],
        cn: Option<String>,
    },
}

impl Config {
    /// The issuance day of certificate `index` (non-decreasing in the index; both
    /// certificates of a pair share it).
    pub fn day_of(&self, index: u64) -> i64 {
        if let Some(day) = self.live_day {
            return day;
        }
        let first = index & !1;
        self.start + ((first as u128 * self.days as u128) / self.count.max(1) as u128) as i64
    }

    /// The first index issued after `day`.
    pub fn first_index_after(&self, day: i64) -> u64 {
        // day_of is monotone: binary search.
        let (mut lo, mut hi) = (0u64, self.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.day_of(mid) <= day {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    pub fn plan(&self, index: u64) -> Plan {
        let seed = self.seed;
        let pair = index / 2;
        let ds = index.is_multiple_of(2);
        let day = self.day_of(index);
        let u_inject = unit(seed, D_INJECT, index);
        let mut injection = None;
        for &(inj, cum) in &self.inject {
            if u_inject < cum {
                injection = Some(inj);
                break;
            }
        }
        let org = h(seed, D_KIND, pair) % 1000 < self.org_per_mille;
        let subject = if org {
            let role = pick_role(h(seed, D_ROLE, pair));
            Subject::Organisation {
                role,
                eui: party_eui(pair),
                cn: party_cn(role, pair, h(seed, D_ROLE + 100, pair)),
            }
        } else {
            let kind = DeviceType::pick(h(seed, D_TYPE, pair));
            Subject::Device {
                kind,
                eui: device_eui(seed, pair, kind),
            }
        };
        let h_ca = h(seed, D_CA, pair);
        let mut ca = if org {
            ISSUING
        } else {
            self.hierarchy.device_ca_for(day, h_ca)
        };
        if injection == Some(Injection::IssuerAbsent) {
            ca = if org {
                self.hierarchy.absent_org_ca
            } else {
                self.hierarchy.absent_device_ca
            };
        }
        let (lifecycle, status, manufacturing, update_day);
        if org {
            lifecycle = None;
            let u = h(seed, D_STATUS, index) % 1000;
            status = if u < 40 {
                "R"
            } else if u < 90 {
                "N"
            } else {
                "I"
            };
            manufacturing = false;
            update_day = None;
        } else {
            let age = self.end - day;
            let u = h(seed, D_LIFECYCLE, pair) % 1000;
            let lc = if age < 120 {
                match u {
                    0..=399 => Lifecycle::InManufacturing,
                    400..=799 => Lifecycle::InStorage,
                    _ => Lifecycle::Installed,
                }
            } else {
                match u {
                    0..=19 => Lifecycle::InManufacturing,
                    20..=149 => Lifecycle::InStorage,
                    _ => Lifecycle::Installed,
                }
            };
            lifecycle = Some(lc);
            let revoked = h(seed, D_STATUS, index) % 1000 < 3;
            status = match lc {
                _ if revoked => "R",
                Lifecycle::Installed => "I",
                Lifecycle::InStorage => "N",
                Lifecycle::InManufacturing => "P",
            };
            manufacturing = lc != Lifecycle::Installed || h(seed, D_STATUS + 100, pair) % 100 < 93;
            let delta_days = self.end - self.cutoff;
            let uu = h(seed, D_UPDATE, pair);
            update_day = (lc == Lifecycle::Installed
                && status == "I"
                && day <= self.cutoff
                && delta_days > 0
                && uu % 1000 < 8)
                .then(|| self.cutoff + 1 + ((uu >> 20) % delta_days as u64) as i64);
        }
        // Certificates updated by a delta are regenerated out of order: keep them out of the
        // faulty signer's reach so that no global rank is needed to regenerate them.
        let eligible = injection.is_none()
            && update_day.is_none()
            && self.hierarchy.cas[ca].faulty
            && (self.window.0..=self.window.1).contains(&day);
        Plan {
            ds,
            day,
            subject,
            ca,
            injection,
            eligible,
            lifecycle,
            status,
            manufacturing,
            update_day,
        }
    }
}

/// The verdict the judge must reach (see the crate documentation).
pub(crate) fn verdict(injection: Option<Injection>, faulty: bool, ber_in_tbs: bool) -> Verdict {
    match injection {
        None if faulty => Verdict::Remediable,
        None => Verdict::Clean,
        Some(Injection::Unreadable) => Verdict::Unreadable,
        Some(Injection::IssuerAbsent) => Verdict::Unverifiable,
        Some(Injection::BadSignature) => Verdict::NeedsReissue,
        Some(Injection::CertBer) if ber_in_tbs => Verdict::NeedsReissue,
        Some(Injection::CertBer) => Verdict::Remediable,
        Some(Injection::Sig(c)) => match c {
            DefectCode::SigIntEmpty
            | DefectCode::SigNotSequence
            | DefectCode::SigTruncated
            | DefectCode::SigRange => Verdict::NeedsReissue,
            _ => Verdict::Remediable,
        },
    }
}

/// One ground-truth line (the file, record and sha256 are filled in when written).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Truth {
    pub file: String,
    pub record: usize,
    pub sha256: String,
    pub serial: String,
    pub profile: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eui64: Option<String>,
    /// The issuing CA's name (CN).
    pub issuer: String,
    pub issuer_key_id: String,
    pub issued: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manufacturing: Option<bool>,
    pub defects: Vec<DefectCode>,
    pub injected: Option<&'static str>,
    /// Signed by the faulty 2018 signer with a leading zero (the incident's defect).
    pub faulty_signer: bool,
    pub expected_verdict: Verdict,
}

/// A generated certificate, not yet rendered.
#[derive(Debug, Clone)]
pub(crate) struct Generated {
    pub plan_day: i64,
    pub update_day: Option<i64>,
    /// The certificate (for an UNREADABLE record: the certificate it was made from).
    pub der: Vec<u8>,
    /// UNREADABLE: which way it is broken, and the random bytes it may use.
    pub unreadable: Option<(u64, Vec<u8>)>,
    /// Relative path in a tree.
    pub rel: String,
    pub meta: Metadata,
    pub truth: Truth,
}

/// Makes certificates `lo..hi` (`affected[i - lo]`: the faulty signer hits it). The
/// ordinary signatures are made together ([`batch_sign`]: one scalar inversion per batch);
/// the output is the same as one certificate at a time.
pub(crate) fn generate_batch(cfg: &Config, lo: u64, affected: &[bool]) -> Vec<Generated> {
    // The subject keys first, together (one batch of affine additions for all d G).
    let mut rngs = Vec::with_capacity(affected.len());
    let mut seeds = Vec::with_capacity(affected.len());
    for j in 0..affected.len() as u64 {
        let mut r = rng(cfg.seed, "cert", lo + j);
        let mut d = [0u8; 32];
        r.fill_bytes(&mut d);
        rngs.push(r);
        seeds.push(d);
    }
    let keys = KeyPair::batch_from_seeds(&seeds);
    let parts: Vec<Partial> = affected
        .iter()
        .zip(rngs.into_iter().zip(keys))
        .enumerate()
        .map(|(j, (&a, (r, key)))| prepare(cfg, lo + j as u64, a, r, key))
        .collect();
    let requests: Vec<(&KeyPair, [u8; 32])> = parts
        .iter()
        .filter_map(|p| match p.pending {
            Pending::Sign { digest, .. } => Some((&cfg.hierarchy.cas[p.plan.ca].key, digest)),
            Pending::Done(_) => None,
        })
        .collect();
    let mut sigs = batch_sign(&requests).into_iter();
    parts
        .into_iter()
        .map(|mut p| {
            let signature = match std::mem::replace(&mut p.pending, Pending::Done(Vec::new())) {
                Pending::Done(v) => v,
                Pending::Sign { long_form, .. } => {
                    let (r_, s_) = sigs.next().expect("one signature per request");
                    let canonical = smki_der::encode::signature_bit_string(&r_, &s_);
                    if long_form {
                        // CERT_BER: the outer BIT STRING's length in long form, 03 81 LL.
                        let mut v = vec![canonical[0], 0x81];
                        v.extend_from_slice(&canonical[1..]);
                        v
                    } else {
                        canonical
                    }
                }
            };
            finish(cfg, p, signature)
        })
        .collect()
}

/// Makes certificate `index` alone.
pub(crate) fn generate(cfg: &Config, index: u64, affected: bool) -> Generated {
    generate_batch(cfg, index, &[affected]).pop().expect("one")
}

/// How the signatureValue is made.
enum Pending {
    /// Already made (the faulty signer, a signature defect).
    Done(Vec<u8>),
    /// An ordinary signature over `digest`, canonical (`long_form`: CERT_BER on the BIT
    /// STRING's own length).
    Sign { digest: [u8; 32], long_form: bool },
}

/// A certificate up to its signature.
struct Partial {
    plan: Plan,
    rng: rand_chacha::ChaCha12Rng,
    variant: u64,
    date: Date,
    serial: [u8; 16],
    subject: Name,
    profile: Profile,
    tbs: Vec<u8>,
    defects: Vec<DefectCode>,
    faulty: bool,
    ber_in_tbs: bool,
    pending: Pending,
}

/// Certificate `index` up to its signature: `r` is its random stream after the 32 octets of
/// its key's seed, `key` the key made from them.
fn prepare(
    cfg: &Config,
    index: u64,
    affected: bool,
    mut r: rand_chacha::ChaCha12Rng,
    key: KeyPair,
) -> Partial {
    let plan = cfg.plan(index);
    let seed = cfg.seed;
    let serial = serial(&mut r);
    let ca = &cfg.hierarchy.cas[plan.ca];
    let date = Date::from_days(plan.day);
    let (profile, subject, not_after, policy, hw_serial) = match &plan.subject {
        Subject::Device { eui, .. } => (
            Profile::Device,
            Name::default(),
            Time::NEVER,
            Oid::SmkiPolicyDevice.der(),
            Some(*eui),
        ),
        Subject::Organisation { role, eui, cn } => {
            let mut attrs = Vec::new();
            if let Some(cn) = cn {
                attrs.push(Attribute::CommonName(StringKind::Utf8, cn.clone()));
            }
            attrs.push(Attribute::OrganizationalUnit(
                StringKind::Utf8,
                role.code.to_string(),
            ));
            attrs.push(Attribute::UniqueIdentifier(*eui));
            (
                Profile::Organisation,
                Name(attrs),
                date.add_years(10).at(23, 59, 59),
                Oid::SmkiPolicyOrganisation.der(),
                None,
            )
        }
    };
    let fields = TbsFields {
        profile,
        serial,
        issuer: ca.subject.clone(),
        not_before: date.at(0, 0, 0),
        not_after,
        subject: subject.clone(),
        public_key: key.public,
        usage: if plan.ds {
            KeyUsage::DigitalSignature
        } else {
            KeyUsage::KeyAgreement
        },
        subject_key_id: key.key_id,
        authority_key_id: Some(ca.key.key_id),
        policy: policy.to_vec(),
        hw_serial,
    };
    let variant = h(seed, D_VARIANT, index);
    let ber_in_tbs = plan.injection == Some(Injection::CertBer) && variant.is_multiple_of(2);
    let variation = Variation {
        long_form_extn_value: ber_in_tbs.then_some(ExtKind::SubjectKeyId),
    };
    let tbs = encode_tbs_with(&fields, &variation);
    let digest = smki_x509::sha256(&tbs);
    let mut defects: Vec<DefectCode> = Vec::new();
    let faulty = affected && plan.injection.is_none();
    let pending = if faulty {
        let (r_, s_) = ca
            .key
            .sign_walk(&digest, 1 << 22, faulty_accept)
            .expect("a leading zero within 4M nonces");
        defects.push(DefectCode::SigIntLeadingZero);
        Pending::Done(smki_der::encode::faulty_fixed_width_bit_string(&r_, &s_))
    } else {
        match plan.injection {
            Some(Injection::Sig(code)) => {
                defects.push(code);
                Pending::Done(inject_signature(&ca.key, &digest, code, variant))
            }
            Some(Injection::CertBer) => {
                defects.push(DefectCode::CertBer);
                Pending::Sign {
                    digest,
                    long_form: !ber_in_tbs,
                }
            }
            Some(Injection::BadSignature) => {
                // A valid signature over another message: canonical, but wrong for this TBS.
                let mut other = tbs.clone();
                other.push(0xff);
                Pending::Sign {
                    digest: smki_x509::sha256(&other),
                    long_form: false,
                }
            }
            _ => Pending::Sign {
                digest,
                long_form: false,
            },
        }
    };
    Partial {
        plan,
        rng: r,
        variant,
        date,
        serial,
        subject,
        profile,
        tbs,
        defects,
        faulty,
        ber_in_tbs,
        pending,
    }
}

fn finish(cfg: &Config, p: Partial, signature: Vec<u8>) -> Generated {
    let Partial {
        plan,
        rng: mut r,
        variant,
        date,
        serial,
        subject,
        profile,
        tbs,
        defects,
        faulty,
        ber_in_tbs,
        ..
    } = p;
    let ca = &cfg.hierarchy.cas[plan.ca];
    let der = smki_der::encode::certificate(&tbs, &ecdsa_sha256_algorithm(), &signature);
    let unreadable = (plan.injection == Some(Injection::Unreadable)).then(|| {
        let mut junk = vec![0u8; 64 + (variant >> 8) as usize % 160];
        r.fill_bytes(&mut junk);
        (variant, junk)
    });

    let month = date.month_text();
    let serial_hex = hex::encode(serial);
    let (dir, device_type, role, eui) = match &plan.subject {
        Subject::Device { kind, eui } => (
            kind.as_str().to_ascii_lowercase(),
            Some(kind.as_str()),
            None,
            *eui,
        ),
        Subject::Organisation { role, eui, .. } => {
            (role.name.to_string(), None, Some(role.code), *eui)
        }
    };
    let usage = if plan.ds { "DS" } else { "KA" };
    let meta = Metadata {
        status: Some(plan.status.to_string()),
        role: Some(
            role.unwrap_or_else(|| device_type.unwrap_or_default())
                .to_string(),
        ),
        usage: Some(usage.to_string()),
        manufacturing: Some(plan.manufacturing),
        lifecycle: plan.lifecycle.map(|l| l.as_str().to_string()),
        serial: Some(serial_hex.clone()),
        subject: (!subject.0.is_empty()).then(|| subject.display()),
        eui64: Some(eui64_text(&eui)),
        issued: Some(date.to_string()),
    };
    let truth = Truth {
        file: String::new(),
        record: 0,
        sha256: String::new(),
        serial: serial_hex.clone(),
        profile: profile.as_str(),
        device_type,
        role,
        usage: Some(usage),
        eui64: Some(eui64_text(&eui)),
        issuer: ca.name.clone(),
        issuer_key_id: hex::encode(ca.key.key_id),
        issued: date.to_string(),
        status: Some(plan.status),
        lifecycle: plan.lifecycle.map(Lifecycle::as_str),
        manufacturing: Some(plan.manufacturing),
        defects,
        injected: plan.injection.map(Injection::name),
        faulty_signer: faulty,
        expected_verdict: verdict(plan.injection, faulty, ber_in_tbs),
    };
    Generated {
        plan_day: plan.day,
        update_day: plan.update_day,
        der,
        unreadable,
        rel: format!("{dir}/{month}/{serial_hex}"),
        meta,
        truth,
    }
}

/// A signatureValue carrying exactly `code`: smki-der's injector on the RFC 6979 signature,
/// or on the next nonces when it does not apply to that (r, s).
fn inject_signature(key: &KeyPair, digest: &[u8; 32], code: DefectCode, variant: u64) -> Vec<u8> {
    let (r, s) = key.sign(digest);
    if let Some(v) = smki_der::encode::inject(&r, &s, &[code], variant) {
        return v;
    }
    let mut found = None;
    key.sign_walk(digest, 1 << 16, |r, s| {
        found = smki_der::encode::inject(r, s, &[code], variant);
        found.as_ref().map(|_| (*r, *s))
    });
    found.unwrap_or_else(|| panic!("smki-der cannot inject {code} (variant {variant})"))
}

/// The bytes of a generated record in `format`, and whether they must be written verbatim.
pub(crate) fn render_unreadable(format: OutputFormat, g: &Generated, meta: &Metadata) -> Vec<u8> {
    let (variant, junk) = g.unreadable.as_ref().expect("an unreadable record");
    let truncated = &g.der[..g.der.len() / 2];
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let broken_b64 = || {
        // Characters outside the base64 alphabet in the middle of the text.
        let mut t = b64(&g.der).into_bytes();
        let at = t.len() / 3;
        t[at] = b'!';
        t[at + 1] = b'*';
        String::from_utf8(t).expect("ASCII")
    };
    match format {
        OutputFormat::DerTree => {
            if variant % 2 == 0 {
                truncated.to_vec()
            } else {
                let mut j = junk.clone();
                if j[0] == 0x30 {
                    j[0] = 0x31;
                }
                j
            }
        }
        OutputFormat::Der => {
            // Framed so that the records after it stay readable: a SEQUENCE holding the
            // start of the tbsCertificate, or random bytes.
            let content: &[u8] = if variant % 2 == 0 {
                &g.der[4..4 + 100]
            } else {
                junk
            };
            let mut v = Vec::with_capacity(content.len() + 3);
            smki_der::encode::tlv(0x30, content, &mut v);
            v
        }
        OutputFormat::Pem | OutputFormat::PemTree => {
            if variant % 2 == 0 {
                smki_repo::pem_block(truncated).into_bytes()
            } else {
                let text = broken_b64();
                let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
                for chunk in text.as_bytes().chunks(64) {
                    out.push_str(std::str::from_utf8(chunk).expect("ASCII"));
                    out.push('\n');
                }
                out.push_str("-----END CERTIFICATE-----\n");
                out.into_bytes()
            }
        }
        OutputFormat::Extract => {
            let row = smki_repo::extract_row(&[], Some(meta));
            let field = if variant % 2 == 0 {
                b64(truncated)
            } else {
                broken_b64()
            };
            format!("{}{}\n", row.trim_end_matches('\n'), field).into_bytes()
        }
    }
}
