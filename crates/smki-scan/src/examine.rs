//! One record in, one [`Finding`] out: analyse, verify, judge.
use crate::predict::{predict, Prediction, Predictions};
use serde::Serialize;
use smki_der::{DefectCode, SignatureEncoding};
use smki_repo::{Locator, Metadata, Record};
use smki_verify::{sha256, Backend, KeySource, Lookup, PlainBackend, PublicKey, Registry};
use smki_x509::{ber_issues, lints, CertBer, CertView, Fields, KeyAlgorithm, Lint, Profile, Usage};
use std::sync::RwLock;

/// What an operator acts on (DESIGN.md, "Verdict per certificate").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Canonical DER and the signature verifies.
    Clean,
    /// Not canonical outside the signed bytes, but (r, s) read leniently verify under the
    /// issuer key: re-encoding fixes it.
    Remediable,
    /// The signature does not verify or cannot be read, or the signed bytes themselves are
    /// not DER: only a new signature fixes it.
    NeedsReissue,
    /// The issuer key was not found (or the algorithm is not ECDSA P-256 / SHA-256).
    Unverifiable,
    /// Not a certificate that can be split into tbs / algorithm / signature.
    Unreadable,
}

impl Verdict {
    pub const ALL: [Verdict; 5] = [
        Verdict::Clean,
        Verdict::Remediable,
        Verdict::NeedsReissue,
        Verdict::Unverifiable,
        Verdict::Unreadable,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Clean => "clean",
            Verdict::Remediable => "remediable",
            Verdict::NeedsReissue => "needs_reissue",
            Verdict::Unverifiable => "unverifiable",
            Verdict::Unreadable => "unreadable",
        }
    }
    pub fn parse(s: &str) -> Option<Verdict> {
        Verdict::ALL
            .into_iter()
            .find(|v| v.as_str() == s.replace('-', "_"))
    }
}

/// The outcome of signature verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SignatureCheck {
    /// Verified under the issuer key `issuer_key_id` (hex), which came from `key_source`.
    Valid {
        issuer_key_id: String,
        key_source: KeySource,
    },
    /// Does not verify under that key.
    Invalid {
        issuer_key_id: String,
        key_source: KeySource,
    },
    /// No issuer key found; says what was looked for.
    IssuerUnknown { looked_for: String },
    /// Not attempted, and why.
    NotChecked { why: String },
}

/// One defect, with where it is and the bytes there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingDefect {
    /// A DefectCode (`SIG_INT_LEADING_ZERO`, `CERT_BER`, ...) or `CERT_SIG_ALG_MISMATCH`.
    pub code: &'static str,
    /// Byte offset within the record.
    pub offset: usize,
    /// Where: r, s, sequence, bit_string, ... or a certificate path.
    pub at: String,
    /// Redundant octets, unused bits, trailing bytes, ... where the code counts something.
    pub count: u32,
    pub detail: String,
    /// Up to 8 bytes from the offset, hex.
    pub excerpt: String,
}

/// Everything the tool says about one record.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub locator: Locator,
    /// SHA-256 of the record's bytes, hex.
    pub sha256: String,
    pub serial: Option<String>,
    pub subject: Option<String>,
    pub issuer: Option<String>,
    /// The authorityKeyIdentifier (hex) the certificate names.
    pub issuer_key_id: Option<String>,
    pub profile: Option<Profile>,
    pub role: Option<String>,
    pub usage: Option<Usage>,
    pub eui64: Option<String>,
    /// notBefore, seconds since the epoch (the issuance date).
    pub not_before: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Metadata>,
    pub verdict: Verdict,
    /// One sentence: why this verdict.
    pub reason: String,
    pub defects: Vec<FindingDefect>,
    pub lints: Vec<Lint>,
    pub signature: SignatureCheck,
    /// r and s as read (hex, 32 octets), when readable.
    pub r: Option<String>,
    pub s: Option<String>,
    pub predictions: Predictions,
}

impl Finding {
    /// The codes of the defects, each once, in order of first appearance.
    pub fn codes(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for d in &self.defects {
            if !out.contains(&d.code) {
                out.push(d.code);
            }
        }
        out
    }

    /// A finding for a record the reader could not produce.
    pub fn unreadable_record(err: &smki_repo::Error) -> Finding {
        Finding::unreadable(err.locator.clone(), String::new(), None, err.to_string())
    }

    fn unreadable(
        locator: Locator,
        sha256: String,
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

/// The judge: issuer keys, the backend, and whether to recover unknown issuer keys.
pub struct Examiner<B: Backend = PlainBackend> {
    registry: RwLock<Registry<B>>,
    recover: bool,
}

impl Examiner<PlainBackend> {
    /// With the reference backend.
    pub fn plain(recover: bool) -> Self {
        Examiner::new(PlainBackend, recover)
    }
}

impl<B: Backend> Examiner<B> {
    pub fn new(backend: B, recover: bool) -> Self {
        Examiner {
            registry: RwLock::new(Registry::new(backend)),
            recover,
        }
    }

    /// Registers a CA certificate's key as an anchor, under its SKI and subject name.
    /// Errors say why the certificate cannot serve as an issuer.
    pub fn add_issuer(&self, der: &[u8], from: String) -> Result<(), String> {
        let view = CertView::split(der).map_err(|e| e.to_string())?;
        let f = Fields::parse(&view).map_err(|e| e.to_string())?;
        if f.key_algorithm != KeyAlgorithm::P256 {
            return Err(format!("{from}: not a P-256 key"));
        }
        let key = PublicKey::from_sec1(&f.public_key).map_err(|e| format!("{from}: {e}"))?;
        self.registry.write().expect("registry lock").add(
            key,
            f.subject_key_id.as_deref(),
            Some(f.subject.normalised.clone()),
            KeySource::Anchor { from },
        );
        Ok(())
    }

    /// Is this record a CA certificate (basicConstraints cA)? Used to pick issuers out of a dump.
    pub fn is_ca_certificate(der: &[u8]) -> bool {
        CertView::split(der)
            .ok()
            .and_then(|v| Fields::parse(&v).ok())
            .is_some_and(|f| f.basic_constraints.is_some_and(|(ca, _)| ca))
    }

    /// Does this examiner recover unknown issuer keys?
    pub fn recovers(&self) -> bool {
        self.recover
    }

    /// Makes sure the key of this certificate's issuer is known, recovering it from the
    /// signature (pinned by the authorityKeyIdentifier) when the examiner recovers keys.
    /// Returns the AKI and whether a key was recovered now; `None` when the record has no
    /// AKI, cannot be read, or no key could be recovered from it.
    pub fn learn_issuer_key(&self, der: &[u8]) -> Option<(Vec<u8>, bool)> {
        let view = CertView::split(der).ok()?;
        let f = Fields::parse(&view).ok()?;
        let aki = f.authority_key_id.clone()?;
        if let Lookup::KeyId(_) = self
            .registry
            .read()
            .expect("registry lock")
            .lookup(Some(&aki), None)
        {
            return Some((aki, false));
        }
        if !self.recover || !view.is_ecdsa_with_sha256() {
            return None;
        }
        let (r, s) = view.analyse_signature().rs()?;
        let key = smki_verify::recover_pinned(&aki, &sha256(view.tbs_bytes()), &r, &s)?;
        let from = format!("signature of certificate serial {}", f.serial_hex());
        self.registry.write().expect("registry lock").add(
            key,
            None,
            None,
            KeySource::Recovered { from },
        );
        Some((aki, true))
    }

    /// How many issuer keys are known (anchors and recovered).
    pub fn issuer_count(&self) -> usize {
        self.registry.read().expect("registry lock").len()
    }

    /// Examines one record as a reader produced it (an error becomes an unreadable finding).
    pub fn examine_result(&self, record: &Result<Record, smki_repo::Error>) -> Finding {
        match record {
            Ok(rec) => self.examine(rec),
            Err(e) => Finding::unreadable_record(e),
        }
    }

    /// Examines one record.
    pub fn examine(&self, record: &Record) -> Finding {
        self.examine_der(&record.der, record.locator.clone(), record.meta.clone())
    }

    /// Examines the DER of one record.
    pub fn examine_der(&self, der: &[u8], locator: Locator, meta: Option<Metadata>) -> Finding {
        let sha = hex::encode(sha256(der));
        let view = match CertView::split(der) {
            Ok(v) => v,
            Err(e) => {
                return Finding::unreadable(locator, sha, meta, format!("not a certificate: {e}"))
            }
        };
        let sig = view.analyse_signature();
        let ber = ber_issues(&view);
        let fields = Fields::parse(&view);
        let mut defects: Vec<FindingDefect> = sig
            .defects
            .iter()
            .map(|d| FindingDefect {
                count: d.count,
                ..defect(
                    der,
                    d.code.as_str(),
                    d.offset,
                    component(d.component),
                    &d.detail,
                )
            })
            .chain(ber.iter().map(|b| {
                defect(
                    der,
                    DefectCode::CertBer.as_str(),
                    b.offset,
                    &b.path,
                    &b.detail,
                )
            }))
            .collect();
        let (profile, lint_list) = match &fields {
            Ok(f) => {
                let p = Profile::classify(f);
                (Some(p), lints(f, p))
            }
            Err(_) => (None, Vec::new()),
        };
        let mut finding = Finding {
            locator,
            sha256: sha,
            serial: fields.as_ref().ok().map(|f| f.serial_hex()),
            subject: fields.as_ref().ok().map(|f| f.subject.text.clone()),
            issuer: fields.as_ref().ok().map(|f| f.issuer.text.clone()),
            issuer_key_id: fields
                .as_ref()
                .ok()
                .and_then(|f| f.authority_key_id.as_ref().map(hex::encode)),
            profile,
            role: match (&fields, profile) {
                (Ok(f), Some(p)) => p.role(f),
                _ => None,
            },
            usage: fields.as_ref().ok().and_then(|f| f.usage()),
            eui64: fields.as_ref().ok().and_then(|f| f.eui64_text()),
            not_before: fields.as_ref().ok().map(|f| f.not_before),
            meta,
            verdict: Verdict::Clean,
            reason: String::new(),
            defects: Vec::new(),
            lints: lint_list,
            signature: SignatureCheck::NotChecked { why: String::new() },
            r: sig.r.map(hex::encode),
            s: sig.s.map(hex::encode),
            predictions: Predictions::all(Prediction::Unknown, ""),
        };
        let (verdict, reason, check, predictions) =
            self.judge(&view, &sig, &ber, &fields, &mut defects);
        finding.defects = defects;
        finding.verdict = verdict;
        finding.reason = reason;
        finding.signature = check;
        finding.predictions = predictions;
        finding
    }

    /// The verdict, its reason, the signature check and the predictions. The order of the
    /// rules is the order of the verdict documentation in README.md.
    fn judge(
        &self,
        view: &CertView<'_>,
        sig: &SignatureEncoding,
        ber: &[CertBer],
        fields: &Result<Fields, smki_x509::Error>,
        defects: &mut Vec<FindingDefect>,
    ) -> (Verdict, String, SignatureCheck, Predictions) {
        let not_checked = |why: String| SignatureCheck::NotChecked { why };
        if !view.is_ecdsa_with_sha256() {
            let why = format!(
                "signature algorithm {} is not ecdsa-with-SHA256",
                hex::encode(view.signature_algorithm_bytes())
            );
            defects.push(defect(
                view.der(),
                "CERT_UNSUPPORTED_ALG",
                view.signature_algorithm.offset,
                "signatureAlgorithm",
                &why,
            ));
            return (
                Verdict::Unverifiable,
                why.clone(),
                not_checked(why.clone()),
                Predictions::all(Prediction::Unknown, &why),
            );
        }
        let f = match fields {
            Ok(f) => f,
            Err(e) => {
                let why = format!("tbsCertificate unreadable: {e}");
                return (
                    Verdict::Unverifiable,
                    why.clone(),
                    not_checked(why.clone()),
                    Predictions::all(Prediction::Unknown, &why),
                );
            }
        };
        if f.inner_signature_algorithm != view.signature_algorithm_bytes() {
            let why = "tbsCertificate.signature differs from signatureAlgorithm".to_string();
            defects.push(defect(
                view.der(),
                "CERT_SIG_ALG_MISMATCH",
                view.signature_algorithm.offset,
                "signatureAlgorithm",
                &why,
            ));
            return (
                Verdict::NeedsReissue,
                why.clone(),
                not_checked(why.clone()),
                Predictions::all(Prediction::Reject, &why),
            );
        }
        let Some((r, s)) = sig.rs() else {
            let why = if sig.r.is_some() && sig.s.is_some() {
                "r or s is out of range (0 or >= n)".to_string()
            } else {
                "r and s cannot both be read from the signature".to_string()
            };
            return (
                Verdict::NeedsReissue,
                why.clone(),
                not_checked(why),
                predict(sig, ber, false),
            );
        };
        let digest = sha256(view.tbs_bytes());
        let check = self.check(f, &digest, &r, &s);
        let verifies = match &check {
            SignatureCheck::Valid { .. } => true,
            SignatureCheck::Invalid { .. } => false,
            SignatureCheck::IssuerUnknown { looked_for } => {
                let why = format!("issuer key not found: looked for {looked_for}");
                return (Verdict::Unverifiable, why, check, predict(sig, ber, true));
            }
            SignatureCheck::NotChecked { why } => {
                let why = why.clone();
                return (Verdict::Unverifiable, why, check, predict(sig, ber, true));
            }
        };
        let predictions = predict(sig, ber, verifies);
        if !verifies {
            return (
                Verdict::NeedsReissue,
                "the signature does not verify under the issuer key".into(),
                check,
                predictions,
            );
        }
        if let Some(b) = ber.iter().find(|b| !b.fixed_by_reencoding) {
            let why = format!("the signed tbsCertificate is not DER ({} at byte {}): only a new signature fixes it", b.path, b.offset);
            return (Verdict::NeedsReissue, why, check, predictions);
        }
        if !sig.is_canonical() || !ber.is_empty() {
            let codes: Vec<&str> = defects.iter().map(|d| d.code).collect();
            let why = format!(
                "the signature verifies but is not DER ({}): re-encoding fixes it",
                dedup(&codes).join(", ")
            );
            return (Verdict::Remediable, why, check, predictions);
        }
        (
            Verdict::Clean,
            "canonical DER, signature verifies".into(),
            check,
            predictions,
        )
    }

    /// Finds the issuer key (or recovers it) and verifies.
    fn check(&self, f: &Fields, digest: &[u8; 32], r: &[u8; 32], s: &[u8; 32]) -> SignatureCheck {
        let aki = f.authority_key_id.as_deref();
        let self_signed = f.subject.normalised == f.issuer.normalised
            && (aki.is_none() || aki == f.subject_key_id.as_deref());
        if self_signed {
            if let Ok(key) = PublicKey::from_sec1(&f.public_key) {
                let registry = self.registry.read().expect("registry lock");
                let prepared = registry.backend().prepare(&key);
                let ok = registry.backend().verify(&prepared, digest, r, s);
                let key_source = KeySource::Anchor {
                    from: "self-signed".into(),
                };
                let issuer_key_id = hex::encode(
                    f.subject_key_id
                        .clone()
                        .unwrap_or_else(|| key.key_id().to_vec()),
                );
                return if ok {
                    SignatureCheck::Valid {
                        issuer_key_id,
                        key_source,
                    }
                } else {
                    SignatureCheck::Invalid {
                        issuer_key_id,
                        key_source,
                    }
                };
            }
        }
        // With an authorityKeyIdentifier the issuer is found by key id (or recovered and
        // pinned by it); the name is a fallback only where there is no AKI.
        let found = {
            let registry = self.registry.read().expect("registry lock");
            match registry.lookup(
                aki,
                if aki.is_some() {
                    None
                } else {
                    Some(&f.issuer.normalised)
                },
            ) {
                Lookup::KeyId(id) => Some((id, false)),
                Lookup::Name(id) => Some((id, true)),
                Lookup::NotFound => None,
            }
        };
        let (id, by_name) = match (found, aki) {
            (Some(found), _) => found,
            (None, Some(aki)) if self.recover => match smki_verify::recover_pinned(aki, digest, r, s) {
                Some(key) => {
                    let from = format!("signature of certificate serial {}", f.serial_hex());
                    let id = self.registry.write().expect("registry lock").add(key, None, None, KeySource::Recovered { from });
                    (id, false)
                }
                None => {
                    return SignatureCheck::IssuerUnknown {
                        looked_for: format!(
                            "key id {} (authorityKeyIdentifier); no key recovered from the signature matches it",
                            hex::encode(aki)
                        ),
                    }
                }
            },
            (None, Some(aki)) => {
                return SignatureCheck::IssuerUnknown {
                    looked_for: format!("key id {} (authorityKeyIdentifier, issuer {})", hex::encode(aki), f.issuer.text),
                }
            }
            (None, None) => {
                return SignatureCheck::IssuerUnknown {
                    looked_for: format!("issuer name {} (no authorityKeyIdentifier)", f.issuer.text),
                }
            }
        };
        let registry = self.registry.read().expect("registry lock");
        let issuer = registry.get(id);
        let issuer_key_id = hex::encode(&issuer.key_id);
        let key_source = issuer.source.clone();
        if registry.verify(id, digest, r, s) {
            SignatureCheck::Valid {
                issuer_key_id,
                key_source,
            }
        } else if by_name {
            // Found by name only: another CA of the same name may have signed it.
            SignatureCheck::IssuerUnknown {
                looked_for: format!(
                    "issuer name {} (no authorityKeyIdentifier); the CA of that name known here (key id {issuer_key_id}) did not sign it",
                    f.issuer.text
                ),
            }
        } else {
            SignatureCheck::Invalid {
                issuer_key_id,
                key_source,
            }
        }
    }
}

fn dedup<'a>(codes: &[&'a str]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for c in codes {
        if !out.contains(c) {
            out.push(c);
        }
    }
    out
}

fn component(c: smki_der::Component) -> &'static str {
    match c {
        smki_der::Component::BitString => "signatureValue",
        smki_der::Component::Sequence => "ECDSA-Sig-Value",
        smki_der::Component::R => "r",
        smki_der::Component::S => "s",
        smki_der::Component::Extra => "extra element",
        smki_der::Component::Trailing => "trailing data",
    }
}

fn defect(der: &[u8], code: &'static str, offset: usize, at: &str, detail: &str) -> FindingDefect {
    let end = (offset + 8).min(der.len());
    FindingDefect {
        code,
        offset,
        at: at.to_string(),
        count: 0,
        detail: detail.to_string(),
        excerpt: der.get(offset..end).map(hex::encode).unwrap_or_default(),
    }
}
