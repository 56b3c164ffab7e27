//! One record in, one [`Finding`] out: analyse, verify, judge.
use crate::predict::{predict, Prediction, Predictions};
use crate::{At, Finding, FindingDefect, SignatureCheck, Verdict};
use smki_der::{DefectCode, SignatureEncoding};
use smki_repo::{Error as RecordError, Locator, Metadata, Record};
use smki_verify::{Backend, BatchItem, KeySource, Lookup, PlainBackend, PublicKey, Registry};
use smki_x509::{ber_issues, lints, sha256, CertBer, CertView, Fields, KeyAlgorithm, Profile};
use std::collections::HashMap;
use std::sync::RwLock;

/// One thing to examine (see [`Examiner::examine_batch`]); made from a record (`&Record`)
/// or what a reader produced (`&Result<Record, smki_repo::Error>`) with `From`.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// A certificate's bytes, where they come from, and the extract's metadata.
    Der {
        der: &'a [u8],
        locator: &'a Locator,
        meta: Option<&'a Metadata>,
    },
    /// A record the reader could not produce: its finding is unreadable.
    Unread(&'a RecordError),
}

impl<'a> Input<'a> {
    /// A certificate's bytes and where they come from (no metadata).
    pub fn der(der: &'a [u8], locator: &'a Locator) -> Input<'a> {
        Input::Der {
            der,
            locator,
            meta: None,
        }
    }
}

impl<'a> From<&'a Record> for Input<'a> {
    fn from(rec: &'a Record) -> Input<'a> {
        Input::Der {
            der: &rec.der,
            locator: &rec.locator,
            meta: rec.meta.as_ref(),
        }
    }
}

impl<'a> From<&'a Result<Record, RecordError>> for Input<'a> {
    fn from(read: &'a Result<Record, RecordError>) -> Input<'a> {
        match read {
            Ok(rec) => rec.into(),
            Err(e) => Input::Unread(e),
        }
    }
}

/// The judge: issuer keys, the backend, and whether to recover unknown issuer keys. Made
/// ready by [`Examiner::builder`], the only way to get one:
///
/// ```
/// # let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sample");
/// use smki_scan::Examiner;
/// let dump: Vec<_> = smki_repo::open(&dir.join("certificates.pem")).collect();
/// let ex = Examiner::builder(smki_verify::FastBackend)
///     .issuers(smki_repo::open(&dir.join("cas")))
///     .dump(dump.iter().cloned())
///     .build(1)
///     .unwrap()
///     .examiner;
/// let findings = ex.examine_batch(&dump);
/// assert_eq!(findings.len(), dump.len());
/// assert_eq!(ex.examine(&dump[0]).verdict, findings[0].verdict);
/// ```
///
/// A builder does not examine, and there is no other constructor:
///
/// ```compile_fail,E0599
/// # let rec: smki_repo::Record = unimplemented!();
/// let ex = smki_scan::Examiner::builder(smki_verify::FastBackend);
/// ex.examine(&rec);
/// ```
///
/// ```compile_fail,E0624
/// let ex = smki_scan::Examiner::new(smki_verify::FastBackend, false);
/// ```
///
/// ```compile_fail,E0451
/// let ex = smki_scan::Examiner {
///     registry: std::sync::RwLock::new(smki_verify::Registry::new(smki_verify::PlainBackend)),
///     recover: false,
/// };
/// ```
pub struct Examiner<B: Backend = PlainBackend> {
    pub(crate) registry: RwLock<Registry<B>>,
    pub(crate) recover: bool,
}

impl<B: Backend> Examiner<B> {
    /// Unprepared: for [`ExaminerBuilder::build`](crate::ExaminerBuilder::build) only.
    pub(crate) fn new(backend: B, recover: bool) -> Self {
        Examiner {
            registry: RwLock::new(Registry::new(backend)),
            recover,
        }
    }

    /// How many issuer keys are known (anchors and recovered).
    pub fn issuer_count(&self) -> usize {
        self.registry.read().expect("registry lock").len()
    }

    /// Examines one input: [`Examiner::examine_batch`] of one.
    pub fn examine<'a>(&self, input: impl Into<Input<'a>>) -> Finding {
        self.examine_batch([input]).pop().expect("one finding")
    }

    /// Examines a batch of inputs, in order, one finding each: every signature of the batch
    /// is verified in one call to the backend's `verify_batch`, so a fast backend can share
    /// the work (one scalar inversion for the batch), and a verification the batch asks for
    /// twice is computed once. (Remediation and audit examine originals and re-encoded
    /// certificates in one batch this way.)
    pub fn examine_batch<'a, I: Into<Input<'a>>>(
        &self,
        inputs: impl IntoIterator<Item = I>,
    ) -> Vec<Finding> {
        let drafts: Vec<Draft> = inputs
            .into_iter()
            .map(|input| match input.into() {
                Input::Der { der, locator, meta } => {
                    self.prepare(der, locator.clone(), meta.cloned())
                }
                Input::Unread(e) => Draft::done(Finding::unreadable_record(e)),
            })
            .collect();
        self.finish_batch(drafts)
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
