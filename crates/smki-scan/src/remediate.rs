//! Remediation: re-encode the signatureValue of every remediable certificate as canonical
//! DER of the same (r, s), check the result again, copy everything else byte for byte.
use crate::manifest::{Entry, ManifestWriter};
use crate::{for_each_ordered, Examiner, Finding, Input, Verdict};
use serde::Serialize;
use smki_repo::{Error as RecordError, Record, Writer};
use smki_verify::Backend;
use smki_x509::CertView;
use std::io::{self, Write};

/// What happens to one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// Clean: copied byte for byte.
    Unchanged,
    /// Remediable: replaced by these bytes (verified clean), whose SHA-256 is `new_sha256`.
    Changed {
        #[serde(skip)]
        der: Vec<u8>,
        #[serde(with = "crate::hexbytes")]
        new_sha256: [u8; 32],
        /// The (r, s) of both.
        #[serde(with = "crate::hexbytes")]
        r: [u8; 32],
        #[serde(with = "crate::hexbytes")]
        s: [u8; 32],
    },
    /// Not clean, and not fixable by re-encoding: copied byte for byte and listed (the
    /// finding's reason says why).
    LeftAlone,
    /// Remediable, but re-encoding did not give a clean certificate with the same (r, s):
    /// copied byte for byte and listed, for this reason.
    Failed { reason: String },
}

impl Action {
    /// Why the record is left alone, when it is: the finding's reason, or what failed.
    pub fn left_alone_reason(&self, finding: &Finding) -> Option<String> {
        match self {
            Action::Unchanged | Action::Changed { .. } => None,
            Action::LeftAlone => Some(finding.reason.clone()),
            Action::Failed { reason } => {
                Some(format!("remediable, but re-encoding failed: {reason}"))
            }
        }
    }
}

/// One record's remediation: the finding on the original, and the action.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub finding: Finding,
    pub action: Action,
}

/// Remediates one record (pure: nothing is written).
///
/// A remediable certificate gets `CertView::reencoded` — tbsCertificate and
/// signatureAlgorithm copied byte for byte, the signatureValue canonical DER of the (r, s)
/// read leniently — and the new bytes are examined again: they must be clean, with the same
/// (r, s), or the record is left alone and the reason says why.
pub fn remediate_record<B: Backend>(
    ex: &Examiner<B>,
    record: &Result<Record, RecordError>,
) -> Outcome {
    remediate_batch(ex, std::slice::from_ref(record))
        .pop()
        .expect("one outcome")
}

/// Remediates a batch of records. Every record whose re-encoding differs from it is
/// re-encoded before anything is verified, so that the originals and their re-encodings are
/// verified together in one batch; a re-encoding counts only where the original is found
/// remediable.
pub fn remediate_batch<B: Backend>(
    ex: &Examiner<B>,
    records: &[Result<Record, RecordError>],
) -> Vec<Outcome> {
    let reencoded: Vec<Option<Result<Vec<u8>, String>>> = records
        .iter()
        .map(|record| match record {
            Ok(rec) => {
                reencode(&rec.der).filter(|new| new.as_ref().map_or(true, |d| *d != rec.der))
            }
            Err(_) => None,
        })
        .collect();
    let reencodings =
        reencoded
            .iter()
            .zip(records)
            .filter_map(|(new, record)| match (new, record) {
                (Some(Ok(der)), Ok(rec)) => Some(Input::Der {
                    der,
                    locator: &rec.locator,
                    meta: rec.meta.as_ref(),
                }),
                _ => None,
            });
    let mut findings = ex.examine_batch(records.iter().map(Input::from).chain(reencodings));
    let afters = findings.split_off(records.len());
    let mut afters = afters.into_iter();
    findings
        .into_iter()
        .zip(reencoded)
        .map(|(finding, new)| {
            let after = match &new {
                Some(Ok(_)) => afters.next(),
                _ => None,
            };
            let fail = |reason: String| Action::Failed { reason };
            let action = match (finding.verdict, new, after) {
                (Verdict::Clean, _, _) => Action::Unchanged,
                (Verdict::Remediable, Some(Ok(der)), Some(after)) => {
                    let rs = after.r.zip(after.s);
                    match (after.verdict, after.sha256, rs) {
                        (Verdict::Clean, Some(new_sha256), Some((r, s)))
                            if finding.r.zip(finding.s) == rs =>
                        {
                            Action::Changed {
                                der,
                                new_sha256,
                                r,
                                s,
                            }
                        }
                        (Verdict::Clean, ..) => fail("(r, s) changed".into()),
                        (v, ..) => fail(format!(
                            "the re-encoded certificate is {v}: {}",
                            after.reason
                        )),
                    }
                }
                (Verdict::Remediable, Some(Err(why)), _) => fail(why),
                (Verdict::Remediable, _, _) => {
                    fail("re-encoding leaves the bytes as they are".into())
                }
                _ => Action::LeftAlone,
            };
            Outcome { finding, action }
        })
        .collect()
}

/// The certificate with its signatureValue re-encoded as canonical DER of the same (r, s);
/// `None` when it does not split, or when re-encoding could change nothing (the
/// ECDSA-Sig-Value canonical, the lengths of the outer SEQUENCE and of the signatureValue
/// BIT STRING DER: the common case, decided without copying); an error when (r, s) are
/// unreadable.
fn reencode(der: &[u8]) -> Option<Result<Vec<u8>, String>> {
    let view = CertView::split(der).ok()?;
    let sig = view.analyse_signature();
    if view.reencoding_changes_nothing(&sig) {
        return None;
    }
    Some(match sig.rs() {
        Some((r, s)) => Ok(view.reencoded(&r, &s)),
        None => Err("(r, s) unreadable".to_string()),
    })
}

/// Counts of a remediation run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RemediationSummary {
    pub records: u64,
    pub unchanged: u64,
    pub changed: u64,
    /// Records left alone, by verdict (in name order).
    pub left_alone: std::collections::BTreeMap<&'static str, u64>,
    /// Remediable records whose re-encoding did not come out clean (left alone too).
    pub failed: u64,
    /// Records the reader could not produce; they cannot be copied.
    pub not_copied: u64,
    /// Unreadable records kept out of a converted dump (listed in the manifest, with
    /// `kept_out`; docs/outputs.md, "Converting a dump").
    #[serde(skip_serializing_if = "is_zero")]
    pub kept_out: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Remediates `records` in order on `threads` threads: writes every record to `out` (the
/// re-encoded bytes for the changed ones, the original bytes otherwise) and the manifest.
/// When `out` converts the dump to another format ([`Writer::is_converting`]), the records
/// found unreadable are kept out of it and listed (`kept_out` in their manifest entry): in
/// another format their bytes would not read back as they were.
pub fn remediate<B: Backend, W: Write + Send>(
    ex: &Examiner<B>,
    records: impl Iterator<Item = Result<Record, RecordError>> + Send,
    threads: usize,
    out: &mut Writer,
    manifest: &mut ManifestWriter<W>,
) -> io::Result<RemediationSummary> {
    let mut sum = RemediationSummary::default();
    let mut index = 0u64;
    for_each_ordered(
        records,
        threads,
        |batch| remediate_batch(ex, batch),
        |record, outcome: Outcome| -> io::Result<()> {
            sum.records += 1;
            let f = &outcome.finding;
            match (&outcome.action, record) {
                (Action::Unchanged, Ok(rec)) => {
                    out.write(index, &rec)?;
                    sum.unchanged += 1;
                }
                (
                    Action::Changed {
                        der,
                        new_sha256,
                        r,
                        s,
                    },
                    Ok(rec),
                ) => {
                    out.write(
                        index,
                        &Record {
                            der: der.clone(),
                            ..rec
                        },
                    )?;
                    manifest.push(Entry::Changed {
                        index,
                        locator: f.locator.clone(),
                        serial: f.serial.clone(),
                        issuer_key_id: f.issuer_key_id.clone(),
                        eui64: f.eui64.clone(),
                        old_sha256: f.sha256.unwrap_or_default(),
                        new_sha256: *new_sha256,
                        defects_fixed: f.codes().collect(),
                        r: *r,
                        s: *s,
                        prev: Default::default(),
                    })?;
                    sum.changed += 1;
                }
                (action, record) => {
                    if matches!(action, Action::Failed { .. }) {
                        sum.failed += 1;
                    }
                    let reason = action
                        .left_alone_reason(f)
                        .unwrap_or_else(|| f.reason.clone());
                    // (a record the reader kept no bytes of cannot be copied either way)
                    let kept_out = out.is_converting()
                        && f.verdict == Verdict::Unreadable
                        && !matches!(record, Err(RecordError { raw: None, .. }));
                    match record {
                        _ if kept_out => sum.kept_out += 1,
                        Ok(rec) => {
                            out.write(index, &rec)?;
                        }
                        Err(RecordError {
                            locator,
                            raw: Some(raw),
                            ..
                        }) => {
                            out.write_unreadable(index, &locator, &raw)?;
                        }
                        Err(_) => sum.not_copied += 1,
                    }
                    *sum.left_alone.entry(f.verdict.as_str()).or_default() += 1;
                    manifest.push(Entry::LeftAlone {
                        index,
                        locator: f.locator.clone(),
                        sha256: f.sha256,
                        verdict: f.verdict,
                        reason,
                        kept_out,
                        prev: Default::default(),
                    })?;
                }
            }
            index += 1;
            Ok(())
        },
    )?;
    Ok(sum)
}
