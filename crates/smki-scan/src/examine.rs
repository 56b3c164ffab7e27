//! One record in, one [`Finding`] out: analyse, verify, judge.
use crate::predict::{certificate_refusals, predict, Prediction, Predictions};
use crate::{At, Finding, FindingDefect, SignatureCheck, Verdict};
use smki_der::{Curve, DefectCode, SignatureEncoding};
use smki_repo::{Error as RecordError, Locator, Metadata, Record};
use smki_verify::{Backend, BatchItem, KeySource, Lookup, PlainBackend, PublicKey, Registry};
use smki_x509::{
    ber_issues, lints, sha256, CertBer, CertView, DuplicateExtension, Fields, Profile,
    SignatureAlgorithm,
};
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
    /// CA keys on curves other than P-256 (which the registry does not hold), so that a
    /// signature they made is analysed with their curve's order.
    pub(crate) other_curves: RwLock<crate::prepare::OtherCurves>,
    pub(crate) recover: bool,
}

impl<B: Backend> Examiner<B> {
    /// Unprepared: for [`ExaminerBuilder::build`](crate::ExaminerBuilder::build) only.
    pub(crate) fn new(backend: B, recover: bool) -> Self {
        Examiner {
            registry: RwLock::new(Registry::new(backend)),
            other_curves: RwLock::default(),
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

    /// Verifies the drafts that wait for it, all in one batch, and concludes each: every
    /// candidate issuer key of a draft is tried. A verification the batch asks for twice
    /// (same issuer, digest, r and s: a certificate and its re-encoding, whose
    /// tbsCertificate and (r, s) are the same) is computed once.
    fn finish_batch(&self, drafts: Vec<Draft>) -> Vec<Finding> {
        // Per registry candidate of each draft, in order: its item in the batch.
        let mut slots = Vec::new();
        let verified: Vec<bool> = {
            let registry = self.registry.read().expect("registry lock");
            let mut items: Vec<BatchItem<'_, B::Key>> = Vec::with_capacity(drafts.len());
            let mut first = HashMap::with_capacity(drafts.len());
            for d in &drafts {
                let Step::Verify {
                    candidates,
                    digest,
                    r,
                    s,
                    ..
                } = &d.step
                else {
                    continue;
                };
                for c in candidates {
                    let Candidate::Registry(id) = c else {
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
            }
            let mut out = vec![false; items.len()];
            registry.backend().verify_batch(&items, &mut out);
            out
        };
        let mut verified = slots.into_iter().map(|i| verified[i]);
        drafts
            .into_iter()
            .map(|d| {
                let outcomes: Vec<bool> = match &d.step {
                    Step::Verify {
                        candidates,
                        digest,
                        r,
                        s,
                        ..
                    } => candidates
                        .iter()
                        .map(|c| match c {
                            Candidate::Registry(_) => verified.next().unwrap_or(false),
                            Candidate::Own { key, .. } => {
                                let registry = self.registry.read().expect("registry lock");
                                registry.backend().verify_once(key, digest, r, s)
                            }
                        })
                        .collect(),
                    Step::Done(..) => Vec::new(),
                };
                self.conclude(d, &outcomes)
            })
            .collect()
    }

    /// Everything up to the verification itself: the view, the fields, the issuer
    /// candidates, the signature analysis (on the issuer's curve), the strict walk, the
    /// rules that need no signature check.
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
        let fields = Fields::parse(&view);
        let ok = fields.as_ref().ok();
        let algorithm = view.signature_algorithm();
        let issuers = ok.map(|f| self.issuer_candidates(f));
        // Only an ECDSA signature holds an ECDSA-Sig-Value; its r and s are bounded by the
        // order of the issuer's curve. When the issuer's curve is not known: P-256, or the
        // smallest curve with room for r and s (a P-384 signature's r has 48 octets, which
        // is no P-256 defect; one of at most 32 octets has odds of 2^-128).
        let known_curve = issuers.as_ref().and_then(|i| i.curve);
        let sig = algorithm.is_ecdsa().then(|| {
            let sig = view.analyse_signature_on(known_curve.unwrap_or(Curve::P256));
            match known_curve {
                None if sig.widest > Curve::P256.order().len() => {
                    view.analyse_signature_on(Curve::P256.widened_to(sig.widest))
                }
                _ => sig,
            }
        });
        let ber = ber_issues(&view);
        let duplicates = ok.map_or(&[][..], |f| &f.duplicate_extensions[..]);
        let defects: Vec<FindingDefect> = sig
            .iter()
            .flat_map(|sig| &sig.defects)
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
            .chain(duplicates.iter().map(|d| {
                FindingDefect::new(
                    der,
                    DefectCode::CertDuplicateExtension,
                    d.offset,
                    At::Path(format!("tbsCertificate.extensions[{}]", d.index)),
                    &format!("a second {} extension", d.oid),
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
            not_after: ok.map(|f| f.not_after),
            meta,
            verdict: Verdict::Clean,
            reason: String::new(),
            defects,
            lints: lint_list,
            signature: SignatureCheck::NotChecked { why: String::new() },
            r: sig.as_ref().and_then(|s| s.r),
            s: sig.as_ref().and_then(|s| s.s),
            predictions: Predictions::all(Prediction::Unknown, ""),
        };
        let step = match (&sig, issuers) {
            (Some(sig), Some(issuers)) => {
                let f = ok.expect("issuers come from the fields");
                self.judge_before_verifying(
                    &view,
                    &algorithm,
                    sig,
                    &ber,
                    f,
                    issuers,
                    &mut finding.defects,
                )
            }
            _ => unchecked(&view, &algorithm, &fields, &mut finding.defects),
        };
        Draft {
            finding,
            sig,
            ber,
            duplicates: duplicates.to_vec(),
            refusals: ok.map(certificate_refusals).unwrap_or_default(),
            step,
        }
    }

    /// Who may have signed the certificate: its own key when it is self-issued (subject =
    /// issuer) with no AKI or one equal to its SKI; every known issuer with its AKI's key
    /// identifier, or (without an AKI) of its issuer name. Self-signed means its own key
    /// verifies it; a self-issued certificate signed by another key of the same name (a CA
    /// key rollover) is verified by that key.
    fn issuer_candidates(&self, f: &Fields) -> Issuers {
        let aki = f.authority_key_id.as_deref();
        let self_issued = f.subject.normalised == f.issuer.normalised;
        let own_may_sign = self_issued && (aki.is_none() || aki == f.subject_key_id.as_deref());
        let own = own_may_sign
            .then(|| PublicKey::from_sec1(&f.public_key).ok())
            .flatten();
        let name = aki.is_none().then_some(f.issuer.normalised.as_slice());
        let registry = self.registry.read().expect("registry lock");
        let lookup = registry.lookup(aki, name);
        let own_id = own.as_ref().and_then(|k| registry.find_key(k));
        let known: Vec<_> = lookup
            .candidates()
            .iter()
            .copied()
            .filter(|&id| Some(id) != own_id)
            .collect();
        let by_name = matches!(lookup, Lookup::Name(_));
        drop(registry);
        // The issuer's curve, where it is known and not P-256.
        let curve = if own.is_some() || !known.is_empty() {
            Some(Curve::P256)
        } else if own_may_sign {
            f.key_algorithm.curve()
        } else {
            self.other_curves
                .read()
                .expect("other curves lock")
                .lookup(aki, &f.issuer.normalised)
        };
        Issuers {
            own: own.map(|key| {
                let key_id = f
                    .subject_key_id
                    .clone()
                    .unwrap_or_else(|| key.key_id().to_vec());
                Candidate::Own { key, key_id }
            }),
            known,
            by_name,
            curve,
        }
    }

    /// The rules that apply before a signature check (docs/vocabulary.md, "Verdicts", in
    /// order), for an ECDSA signature whose fields could be read: either a final answer, or
    /// the candidate keys to verify with (recovering one when there is none and recovery
    /// is on).
    #[allow(clippy::too_many_arguments)]
    fn judge_before_verifying(
        &self,
        view: &CertView<'_>,
        algorithm: &SignatureAlgorithm,
        sig: &SignatureEncoding,
        ber: &[CertBer],
        f: &Fields,
        issuers: Issuers,
        defects: &mut Vec<FindingDefect>,
    ) -> Step {
        let not_checked = |why: String| SignatureCheck::NotChecked { why };
        if !view.is_ecdsa_with_sha256() || sig.curve != Curve::P256 {
            let why = format!(
                "{} on {}: the signature encoding is analysed, the signature is not verified (only ecdsa-with-SHA256 on P-256 is)",
                algorithm.name(),
                sig.curve.name()
            );
            return unsupported(view, why, defects);
        }
        // A mismatch decides the verdict, but the signature is still checked: pyca verifies
        // under the outer algorithm and accepts such a certificate when it verifies.
        let mismatch =
            (f.inner_signature_algorithm != view.signature_algorithm_bytes()).then(|| {
                let why = "tbsCertificate.signature differs from signatureAlgorithm".to_string();
                defects.push(FindingDefect::new(
                    view.der(),
                    DefectCode::CertSigAlgMismatch,
                    view.signature_algorithm.offset,
                    At::Path("signatureAlgorithm".into()),
                    &why,
                ));
                why
            });
        let Some((r, s)) = sig.rs() else {
            let why = if sig.r.is_some() && sig.s.is_some() {
                "r or s is out of range (0 or >= n)".to_string()
            } else {
                "r and s cannot both be read from the signature".to_string()
            };
            let mut p = predict(sig, ber, false);
            let why = match mismatch {
                Some(m) => {
                    p.algorithm_mismatch(&m);
                    m
                }
                None => why,
            };
            return Step::Done(Verdict::NeedsReissue, why.clone(), not_checked(why), p);
        };
        let digest = sha256(view.tbs_bytes());
        let by_name = issuers.by_name && issuers.own.is_none();
        let mut candidates: Vec<Candidate> = issuers.own.into_iter().collect();
        candidates.extend(issuers.known.iter().map(|&id| Candidate::Registry(id)));
        if candidates.is_empty() {
            match self.recover_issuer(f, &digest, &r, &s) {
                Ok(id) => candidates.push(Candidate::Registry(id)),
                Err(looked_for) => {
                    let mut p = predict(sig, ber, true);
                    let (verdict, why) = match mismatch {
                        Some(m) => {
                            p.algorithm_mismatch(&m);
                            (Verdict::NeedsReissue, m)
                        }
                        None => (
                            Verdict::Unverifiable,
                            format!("issuer key not found: looked for {looked_for}"),
                        ),
                    };
                    return Step::Done(
                        verdict,
                        why,
                        SignatureCheck::IssuerUnknown { looked_for },
                        p,
                    );
                }
            }
        }
        Step::Verify {
            candidates,
            by_name,
            mismatch,
            digest,
            r,
            s,
        }
    }

    /// No issuer is known: the key recovered from the signature and pinned by the
    /// authorityKeyIdentifier (when recovery is on). Err says what was looked for.
    fn recover_issuer(
        &self,
        f: &Fields,
        digest: &[u8; 32],
        r: &[u8; 32],
        s: &[u8; 32],
    ) -> Result<smki_verify::IssuerId, String> {
        match f.authority_key_id.as_deref() {
            Some(aki) if self.recover => match smki_verify::recover_pinned(aki, digest, r, s) {
                Some(key) => {
                    let from = format!("signature of certificate serial {}", f.serial_hex());
                    Ok(self.registry.write().expect("registry lock").add(key, None, None, KeySource::Recovered { from }))
                }
                None => Err(format!(
                    "key id {} (authorityKeyIdentifier); no key recovered from the signature matches it",
                    hex::encode(aki)
                )),
            },
            Some(aki) => Err(format!("key id {} (authorityKeyIdentifier, issuer {})", hex::encode(aki), f.issuer.text)),
            None => Err(format!("issuer name {} (no authorityKeyIdentifier)", f.issuer.text)),
        }
    }

    /// The rules that need the signature check, given its outcome under each candidate key.
    fn conclude(&self, d: Draft, outcomes: &[bool]) -> Finding {
        let Draft {
            mut finding,
            sig,
            ber,
            duplicates,
            refusals,
            step,
        } = d;
        let (verdict, reason, check, predictions) = match step {
            Step::Done(v, why, check, p) => (v, why, check, p),
            Step::Verify {
                candidates,
                mismatch: Some(why),
                ..
            } => {
                let sig = sig.expect("a draft to verify has its signature analysed");
                let which = outcomes.iter().position(|&ok| ok);
                let (issuer_key_id, key_source) = self.describe(&candidates[which.unwrap_or(0)]);
                let check = if which.is_some() {
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
                let mut p = predict(&sig, &ber, which.is_some());
                p.algorithm_mismatch(&why);
                (Verdict::NeedsReissue, why, check, p)
            }
            Step::Verify {
                candidates,
                by_name,
                ..
            } => {
                let sig = sig.expect("a draft to verify has its signature analysed");
                // The key that verifies it, else the first candidate.
                let which = outcomes.iter().position(|&ok| ok);
                let (issuer_key_id, key_source) = self.describe(&candidates[which.unwrap_or(0)]);
                let key_ids = || {
                    candidates
                        .iter()
                        .map(|c| hex::encode(self.describe(c).0))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                if which.is_some() {
                    self.verdict_when_valid(
                        &finding,
                        &sig,
                        &ber,
                        &duplicates,
                        SignatureCheck::Valid {
                            issuer_key_id,
                            key_source,
                        },
                    )
                } else if by_name {
                    // Found by name only: another CA of that name, not known here, may have
                    // signed it (a CA key rollover keeps the name).
                    let known = match candidates.len() {
                        1 => format!("the CA of that name known here (key id {})", key_ids()),
                        n => format!(
                            "the {n} CAs of that name known here (key ids {})",
                            key_ids()
                        ),
                    };
                    let looked_for = format!(
                        "issuer name {} (no authorityKeyIdentifier); {known} did not sign it",
                        finding.issuer.as_deref().unwrap_or_default()
                    );
                    let why = format!("issuer key not found: looked for {looked_for}");
                    (
                        Verdict::Unverifiable,
                        why,
                        SignatureCheck::IssuerUnknown { looked_for },
                        predict(&sig, &ber, true),
                    )
                } else {
                    let why = match candidates.len() {
                        1 => "the signature does not verify under the issuer key".to_string(),
                        n => format!(
                            "the signature does not verify under any of the {n} candidate issuer keys ({})",
                            key_ids()
                        ),
                    };
                    (
                        Verdict::NeedsReissue,
                        why,
                        SignatureCheck::Invalid {
                            issuer_key_id,
                            key_source,
                        },
                        predict(&sig, &ber, false),
                    )
                }
            }
        };
        let mut predictions = predictions;
        for (rp, why) in &refusals {
            predictions.refuse_certificate(*rp, why);
        }
        finding.verdict = verdict;
        finding.reason = reason;
        finding.signature = check;
        finding.predictions = predictions;
        finding
    }

    /// The key identifier and source of a candidate.
    fn describe(&self, c: &Candidate) -> (Vec<u8>, KeySource) {
        match c {
            Candidate::Registry(id) => {
                let registry = self.registry.read().expect("registry lock");
                let i = registry.get(*id);
                (i.key_id.clone(), i.source.clone())
            }
            Candidate::Own { key_id, .. } => (
                key_id.clone(),
                KeySource::Anchor {
                    from: "self-signed".into(),
                },
            ),
        }
    }

    fn verdict_when_valid(
        &self,
        finding: &Finding,
        sig: &SignatureEncoding,
        ber: &[CertBer],
        duplicates: &[DuplicateExtension],
        check: SignatureCheck,
    ) -> (Verdict, String, SignatureCheck, Predictions) {
        let mut predictions = predict(sig, ber, true);
        if let Some(b) = ber.iter().find(|b| !b.fixed_by_reencoding) {
            let why = format!("the signed tbsCertificate is not DER ({} at byte {}): only a new signature fixes it", b.path, b.offset);
            return (Verdict::NeedsReissue, why, check, predictions);
        }
        if let Some(d) = duplicates.first() {
            let why = format!(
                "the signed tbsCertificate has a second {} extension (tbsCertificate.extensions[{}] at byte {}): only a new certificate fixes it",
                d.oid, d.index, d.offset
            );
            predictions.reject_all(&format!("{}: {why}", DefectCode::CertDuplicateExtension));
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

/// `CERT_UNSUPPORTED_ALG` at the signatureAlgorithm, for `why`: unverifiable, nothing
/// predicted. The one place both kinds of unsupported signature (not ECDSA; ECDSA but not
/// ecdsa-with-SHA256 on P-256) are judged.
fn unsupported(view: &CertView<'_>, why: String, defects: &mut Vec<FindingDefect>) -> Step {
    defects.push(FindingDefect::new(
        view.der(),
        DefectCode::CertUnsupportedAlg,
        view.signature_algorithm.offset,
        At::Path("signatureAlgorithm".into()),
        &why,
    ));
    Step::unchecked(Verdict::Unverifiable, why, Prediction::Unknown)
}

/// The verdict of a record whose signature is not analysed as ECDSA: its algorithm is
/// another one (`CERT_UNSUPPORTED_ALG`), or its tbsCertificate cannot be read.
fn unchecked(
    view: &CertView<'_>,
    algorithm: &SignatureAlgorithm,
    fields: &Result<Fields, smki_x509::Error>,
    defects: &mut Vec<FindingDefect>,
) -> Step {
    if !algorithm.is_ecdsa() {
        let why = format!(
            "signature algorithm {} is not ECDSA: the signature is neither analysed nor verified",
            algorithm.name()
        );
        return unsupported(view, why, defects);
    }
    let why = match fields {
        Err(e) => format!("tbsCertificate unreadable: {e}"),
        Ok(_) => unreachable!("an ECDSA signature with readable fields is judged"),
    };
    Step::unchecked(Verdict::Unverifiable, why, Prediction::Unknown)
}

/// Where a record's examination stands before verification.
enum Step {
    /// Decided without a signature check.
    Done(Verdict, String, SignatureCheck, Predictions),
    /// To verify (r, s) over the digest under each candidate issuer key.
    Verify {
        candidates: Vec<Candidate>,
        /// The known candidates were found by the issuer's name alone (no AKI).
        by_name: bool,
        /// tbsCertificate.signature differs from signatureAlgorithm (the reason).
        mismatch: Option<String>,
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

/// A key that may have made a signature.
enum Candidate {
    /// A known issuer.
    Registry(smki_verify::IssuerId),
    /// The certificate's own key (self-issued), with its key identifier.
    Own { key: PublicKey, key_id: Vec<u8> },
}

/// Who may have signed a certificate: see [`Examiner::issuer_candidates`].
struct Issuers {
    own: Option<Candidate>,
    /// Known issuers (the own key left out).
    known: Vec<smki_verify::IssuerId>,
    /// The known issuers were found by name (the certificate has no AKI).
    by_name: bool,
    /// The issuer's curve, when known.
    curve: Option<Curve>,
}

/// A finding being made: everything but what depends on the signature check.
struct Draft {
    finding: Finding,
    /// The ECDSA signature's analysis (`None`: not an ECDSA signature, or not examined).
    sig: Option<SignatureEncoding>,
    ber: Vec<CertBer>,
    duplicates: Vec<DuplicateExtension>,
    /// The parties that refuse the whole certificate, whatever its signature, and why.
    refusals: Vec<(crate::RelyingParty, String)>,
    step: Step,
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
            sig: None,
            ber: Vec::new(),
            duplicates: Vec::new(),
            refusals: Vec::new(),
            step: Step::Done(v, why, check, p),
        }
    }
}
