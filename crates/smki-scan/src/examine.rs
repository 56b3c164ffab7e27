//! One record in, one [`Finding`] out: analyse, verify, judge.
use crate::predict::{predict, Prediction, Predictions};
use crate::{At, Finding, FindingDefect, SignatureCheck, Verdict};
use smki_der::{DefectCode, SignatureEncoding};
use smki_repo::{Locator, Metadata, Record};
use smki_verify::{
    Backend, BatchItem, FastBackend, KeySource, Lookup, PlainBackend, PublicKey, Registry,
};
use smki_x509::{ber_issues, lints, sha256, CertBer, CertView, Fields, KeyAlgorithm, Profile};
use std::collections::HashMap;
use std::sync::RwLock;

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

impl Examiner<FastBackend> {
    /// With the fast backend (fixed-base tables per issuer, batched inversions).
    pub fn fast(recover: bool) -> Self {
        Examiner::new(FastBackend, recover)
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
            .is_some_and(|f| f.basic_constraints.is_some_and(|bc| bc.ca))
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

    /// Builds now, on up to `threads` threads, the backend's state for G and for every known
    /// issuer one of these key identifiers (authorityKeyIdentifiers) names, rather than on
    /// the first verification under each. Returns how many issuers that was.
    pub fn warm_up<'a>(
        &self,
        key_ids: impl IntoIterator<Item = &'a [u8]>,
        threads: usize,
    ) -> usize {
        let registry = self.registry.read().expect("registry lock");
        let mut ids: Vec<_> = key_ids
            .into_iter()
            .filter_map(|k| match registry.lookup(Some(k), None) {
                Lookup::KeyId(id) => Some(id),
                _ => None,
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        registry.warm_up(&ids, threads);
        ids.len()
    }

    /// How many issuer keys are known (anchors and recovered).
    pub fn issuer_count(&self) -> usize {
        self.registry.read().expect("registry lock").len()
    }

    /// Examines one record as a reader produced it (an error becomes an unreadable finding).
    pub fn examine_result(&self, record: &Result<Record, smki_repo::Error>) -> Finding {
        self.examine_batch(std::slice::from_ref(record))
            .pop()
            .expect("one finding")
    }

    /// Examines one record.
    pub fn examine(&self, record: &Record) -> Finding {
        self.examine_der(&record.der, record.locator.clone(), record.meta.clone())
    }

    /// Examines the DER of one record.
    pub fn examine_der(&self, der: &[u8], locator: Locator, meta: Option<Metadata>) -> Finding {
        self.examine_der_batch([(der, locator, meta)])
            .pop()
            .expect("one finding")
    }

    /// Examines a batch of records (in order): every signature of the batch is verified in
    /// one call to the backend's `verify_batch`, so a fast backend can share the work (one
    /// scalar inversion for the batch).
    pub fn examine_batch<'a>(
        &self,
        records: impl IntoIterator<Item = &'a Result<Record, smki_repo::Error>>,
    ) -> Vec<Finding> {
        self.examine_both(records, []).0
    }

    /// Examines a batch of DER certificates with their locators, verified in one batch as
    /// [`Examiner::examine_batch`] does.
    pub fn examine_der_batch<'a>(
        &self,
        items: impl IntoIterator<Item = (&'a [u8], Locator, Option<Metadata>)>,
    ) -> Vec<Finding> {
        self.examine_both([], items).1
    }

    /// Examines records as read and DER certificates with their locators, every signature
    /// of both verified in one batch; returns the findings of each, in order. (Remediation
    /// and audit examine originals and re-encoded certificates together this way.)
    pub fn examine_both<'a>(
        &self,
        records: impl IntoIterator<Item = &'a Result<Record, smki_repo::Error>>,
        ders: impl IntoIterator<Item = (&'a [u8], Locator, Option<Metadata>)>,
    ) -> (Vec<Finding>, Vec<Finding>) {
        let mut drafts: Vec<Draft> = records
            .into_iter()
            .map(|r| match r {
                Ok(rec) => self.prepare(&rec.der, rec.locator.clone(), rec.meta.clone()),
                Err(e) => Draft::done(Finding::unreadable_record(e)),
            })
            .collect();
        let n = drafts.len();
        drafts.extend(
            ders.into_iter()
                .map(|(der, locator, meta)| self.prepare(der, locator, meta)),
        );
        let mut first = self.finish_batch(drafts);
        let second = first.split_off(n);
        (first, second)
    }

    /// Verifies the drafts that wait for it, all in one batch, and concludes each. A
    /// verification the batch asks for twice (same issuer, digest, r and s: a certificate
    /// and its re-encoding, whose tbsCertificate and (r, s) are the same) is computed once.
    fn finish_batch(&self, drafts: Vec<Draft>) -> Vec<Finding> {
        // Per draft verified under a registry issuer: its item in the batch.
        let mut slots = Vec::new();
        let verified: Vec<bool> = {
            let registry = self.registry.read().expect("registry lock");
            let mut items: Vec<BatchItem<'_, B::Key>> = Vec::with_capacity(drafts.len());
            let mut first = HashMap::with_capacity(drafts.len());
            for d in &drafts {
                let Step::Verify {
                    issuer: IssuerRef::Registry { id, .. },
                    digest,
                    r,
                    s,
                } = &d.step
                else {
                    continue;
                };
                let same = first
                    .get(&(*id, digest))
                    .copied()
                    .filter(|&i: &usize| items[i].r == *r && items[i].s == *s);
                slots.push(same.unwrap_or_else(|| {
                    first.entry((*id, digest)).or_insert(items.len());
                    items.push(BatchItem {
                        key: &registry.get(*id).prepared,
                        digest: *digest,
                        r: *r,
                        s: *s,
                    });
                    items.len() - 1
                }));
            }
            let mut out = vec![false; items.len()];
            registry.backend().verify_batch(&items, &mut out);
            out
        };
        let mut verified = slots.into_iter().map(|i| verified[i]);
        drafts
            .into_iter()
            .map(|d| {
                let ok = match &d.step {
                    Step::Verify {
                        issuer: IssuerRef::Registry { .. },
                        ..
                    } => verified.next(),
                    Step::Verify {
                        issuer: IssuerRef::SelfSigned { key, .. },
                        digest,
                        r,
                        s,
                    } => {
                        let registry = self.registry.read().expect("registry lock");
                        Some(registry.backend().verify_once(key, digest, r, s))
                    }
                    Step::Done(..) => None,
                };
                self.conclude(d, ok)
            })
            .collect()
    }

    /// Everything up to the verification itself: the view, the signature analysis, the
    /// strict walk, the fields, the rules that need no signature check, the issuer lookup.
    fn prepare(&self, der: &[u8], locator: Locator, meta: Option<Metadata>) -> Draft {
        let sha = Some(sha256(der));
        let view = match CertView::split(der) {
            Ok(v) => v,
            Err(e) => {
                return Draft::done(Finding::unreadable(
                    locator,
                    sha,
                    meta,
                    format!("not a certificate: {e}"),
                ))
            }
        };
        let sig = view.analyse_signature();
        let ber = ber_issues(&view);
        let fields = Fields::parse(&view);
        let defects: Vec<FindingDefect> = sig
            .defects
            .iter()
            .map(|d| FindingDefect {
                count: d.count,
                ..FindingDefect::new(der, d.code, d.offset, At::Signature(d.component), &d.detail)
            })
            .chain(ber.iter().map(|b| {
                FindingDefect::new(
                    der,
                    DefectCode::CertBer,
                    b.offset,
                    At::Path(b.path.clone()),
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
        let ok = fields.as_ref().ok();
        let mut finding = Finding {
            locator,
            sha256: sha,
            serial: ok.map(|f| f.serial.clone()),
            subject: ok.map(|f| f.subject.text.clone()),
            issuer: ok.map(|f| f.issuer.text.clone()),
            issuer_key_id: ok.and_then(|f| f.authority_key_id.clone()),
            profile,
            role: match (ok, profile) {
                (Some(f), Some(p)) => p.role(f),
                _ => None,
            },
            usage: ok.and_then(|f| f.usage()),
            eui64: ok.and_then(|f| f.eui64_text()),
            not_before: ok.map(|f| f.not_before),
            meta,
            verdict: Verdict::Clean,
            reason: String::new(),
            defects,
            lints: lint_list,
            signature: SignatureCheck::NotChecked { why: String::new() },
            r: sig.r,
            s: sig.s,
            predictions: Predictions::all(Prediction::Unknown, ""),
        };
        let step = self.judge_before_verifying(&view, &sig, &ber, &fields, &mut finding.defects);
        let issuer_text = ok.map(|f| f.issuer.text.clone()).unwrap_or_default();
        Draft {
            finding,
            sig,
            ber,
            step,
            issuer_text,
        }
    }

    /// The rules that apply before a signature check (README.md, "Verdicts", in order), and
    /// the issuer lookup or recovery: either a final answer, or what to verify.
    fn judge_before_verifying(
        &self,
        view: &CertView<'_>,
        sig: &SignatureEncoding,
        ber: &[CertBer],
        fields: &Result<Fields, smki_x509::Error>,
        defects: &mut Vec<FindingDefect>,
    ) -> Step {
        let not_checked = |why: String| SignatureCheck::NotChecked { why };
        if !view.is_ecdsa_with_sha256() {
            let why = format!(
                "signature algorithm {} is not ecdsa-with-SHA256",
                hex::encode(view.signature_algorithm_bytes())
            );
            defects.push(FindingDefect::new(
                view.der(),
                DefectCode::CertUnsupportedAlg,
                view.signature_algorithm.offset,
                At::Path("signatureAlgorithm".into()),
                &why,
            ));
            return Step::unchecked(Verdict::Unverifiable, why, Prediction::Unknown);
        }
        let f = match fields {
            Ok(f) => f,
            Err(e) => {
                let why = format!("tbsCertificate unreadable: {e}");
                return Step::unchecked(Verdict::Unverifiable, why, Prediction::Unknown);
            }
        };
        if f.inner_signature_algorithm != view.signature_algorithm_bytes() {
            let why = "tbsCertificate.signature differs from signatureAlgorithm".to_string();
            defects.push(FindingDefect::new(
                view.der(),
                DefectCode::CertSigAlgMismatch,
                view.signature_algorithm.offset,
                At::Path("signatureAlgorithm".into()),
                &why,
            ));
            return Step::unchecked(Verdict::NeedsReissue, why, Prediction::Reject);
        }
        if self_signed(f) && f.key_algorithm != KeyAlgorithm::P256 {
            let why = format!(
                "self-signed with a key that is not P-256 ({:?}): not checked",
                f.key_algorithm
            );
            defects.push(FindingDefect::new(
                view.der(),
                DefectCode::CertUnsupportedAlg,
                view.signature_algorithm.offset,
                At::Path("subjectPublicKeyInfo".into()),
                &why,
            ));
            return Step::unchecked(Verdict::Unverifiable, why, Prediction::Unknown);
        }
        let Some((r, s)) = sig.rs() else {
            let why = if sig.r.is_some() && sig.s.is_some() {
                "r or s is out of range (0 or >= n)".to_string()
            } else {
                "r and s cannot both be read from the signature".to_string()
            };
            return Step::Done(
                Verdict::NeedsReissue,
                why.clone(),
                not_checked(why),
                predict(sig, ber, false),
            );
        };
        let digest = sha256(view.tbs_bytes());
        match self.find_issuer(f, &digest, &r, &s) {
            Ok(issuer) => Step::Verify {
                issuer,
                digest,
                r,
                s,
            },
            Err(looked_for) => {
                let why = format!("issuer key not found: looked for {looked_for}");
                Step::Done(
                    Verdict::Unverifiable,
                    why,
                    SignatureCheck::IssuerUnknown { looked_for },
                    predict(sig, ber, true),
                )
            }
        }
    }

    /// The issuer key: the certificate's own when self-signed; else by authorityKeyIdentifier
    /// (or recovered and pinned by it); by name only where there is no AKI. Err says what was
    /// looked for.
    fn find_issuer(
        &self,
        f: &Fields,
        digest: &[u8; 32],
        r: &[u8; 32],
        s: &[u8; 32],
    ) -> Result<IssuerRef, String> {
        let aki = f.authority_key_id.as_deref();
        if self_signed(f) {
            if let Ok(key) = PublicKey::from_sec1(&f.public_key) {
                let key_id = f
                    .subject_key_id
                    .clone()
                    .unwrap_or_else(|| key.key_id().to_vec());
                return Ok(IssuerRef::SelfSigned { key, key_id });
            }
        }
        let name = if aki.is_some() {
            None
        } else {
            Some(f.issuer.normalised.as_slice())
        };
        let found = match self
            .registry
            .read()
            .expect("registry lock")
            .lookup(aki, name)
        {
            Lookup::KeyId(id) => Some(IssuerRef::Registry { id, by_name: false }),
            Lookup::Name(id) => Some(IssuerRef::Registry { id, by_name: true }),
            Lookup::NotFound => None,
        };
        match (found, aki) {
            (Some(found), _) => Ok(found),
            (None, Some(aki)) if self.recover => match smki_verify::recover_pinned(aki, digest, r, s) {
                Some(key) => {
                    let from = format!("signature of certificate serial {}", f.serial_hex());
                    let id = self.registry.write().expect("registry lock").add(key, None, None, KeySource::Recovered { from });
                    Ok(IssuerRef::Registry { id, by_name: false })
                }
                None => Err(format!(
                    "key id {} (authorityKeyIdentifier); no key recovered from the signature matches it",
                    hex::encode(aki)
                )),
            },
            (None, Some(aki)) => Err(format!("key id {} (authorityKeyIdentifier, issuer {})", hex::encode(aki), f.issuer.text)),
            (None, None) => Err(format!("issuer name {} (no authorityKeyIdentifier)", f.issuer.text)),
        }
    }

    /// The rules that need the signature check, given its outcome.
    fn conclude(&self, d: Draft, verified: Option<bool>) -> Finding {
        let Draft {
            mut finding,
            sig,
            ber,
            step,
            issuer_text,
        } = d;
        let (verdict, reason, check, predictions) = match (step, verified) {
            (Step::Done(v, why, check, p), _) => (v, why, check, p),
            (Step::Verify { issuer, .. }, ok) => {
                let ok = ok.unwrap_or(false);
                let (issuer_key_id, key_source, by_name) = match issuer {
                    IssuerRef::Registry { id, by_name } => {
                        let registry = self.registry.read().expect("registry lock");
                        let i = registry.get(id);
                        (i.key_id.clone(), i.source.clone(), by_name)
                    }
                    IssuerRef::SelfSigned { key_id, .. } => (
                        key_id,
                        KeySource::Anchor {
                            from: "self-signed".into(),
                        },
                        false,
                    ),
                };
                if ok {
                    self.verdict_when_valid(
                        &finding,
                        &sig,
                        &ber,
                        SignatureCheck::Valid {
                            issuer_key_id,
                            key_source,
                        },
                    )
                } else if by_name {
                    // Found by name only: another CA of the same name may have signed it.
                    let looked_for = format!(
                        "issuer name {issuer_text} (no authorityKeyIdentifier); the CA of that name known here (key id {}) did not sign it", hex::display(&issuer_key_id)
                    );
                    let why = format!("issuer key not found: looked for {looked_for}");
                    (
                        Verdict::Unverifiable,
                        why,
                        SignatureCheck::IssuerUnknown { looked_for },
                        predict(&sig, &ber, true),
                    )
                } else {
                    (
                        Verdict::NeedsReissue,
                        "the signature does not verify under the issuer key".into(),
                        SignatureCheck::Invalid {
                            issuer_key_id,
                            key_source,
                        },
                        predict(&sig, &ber, false),
                    )
                }
            }
        };
        finding.verdict = verdict;
        finding.reason = reason;
        finding.signature = check;
        finding.predictions = predictions;
        finding
    }

    fn verdict_when_valid(
        &self,
        finding: &Finding,
        sig: &SignatureEncoding,
        ber: &[CertBer],
        check: SignatureCheck,
    ) -> (Verdict, String, SignatureCheck, Predictions) {
        let predictions = predict(sig, ber, true);
        if let Some(b) = ber.iter().find(|b| !b.fixed_by_reencoding) {
            let why = format!("the signed tbsCertificate is not DER ({} at byte {}): only a new signature fixes it", b.path, b.offset);
            return (Verdict::NeedsReissue, why, check, predictions);
        }
        if !sig.is_canonical() || !ber.is_empty() {
            let why = format!(
                "the signature verifies but is not DER ({}): re-encoding fixes it",
                finding.codes_text(", ")
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
}

/// Where a record's examination stands before verification.
enum Step {
    /// Decided without a signature check.
    Done(Verdict, String, SignatureCheck, Predictions),
    /// To verify (r, s) over the digest under the issuer key.
    Verify {
        issuer: IssuerRef,
        digest: [u8; 32],
        r: [u8; 32],
        s: [u8; 32],
    },
}

impl Step {
    /// Decided without a signature check, for the reason `why`; every relying party's answer
    /// is `prediction`.
    fn unchecked(verdict: Verdict, why: String, prediction: Prediction) -> Step {
        let check = SignatureCheck::NotChecked { why: why.clone() };
        let predictions = Predictions::all(prediction, &why);
        Step::Done(verdict, why, check, predictions)
    }
}

enum IssuerRef {
    Registry {
        id: smki_verify::IssuerId,
        by_name: bool,
    },
    SelfSigned {
        key: PublicKey,
        key_id: Vec<u8>,
    },
}

/// A finding being made: everything but what depends on the signature check.
struct Draft {
    finding: Finding,
    sig: SignatureEncoding,
    ber: Vec<CertBer>,
    step: Step,
    issuer_text: String,
}

impl Draft {
    fn done(finding: Finding) -> Draft {
        let (v, why, check, p) = (
            finding.verdict,
            finding.reason.clone(),
            finding.signature.clone(),
            finding.predictions.clone(),
        );
        Draft {
            finding,
            sig: smki_der::analyse_signature(&[], 0),
            ber: Vec::new(),
            step: Step::Done(v, why, check, p),
            issuer_text: String::new(),
        }
    }
}

/// Issuer and subject names equal, and no AKI or one equal to the SKI.
fn self_signed(f: &Fields) -> bool {
    let aki = f.authority_key_id.as_deref();
    f.subject.normalised == f.issuer.normalised
        && (aki.is_none() || aki == f.subject_key_id.as_deref())
}
