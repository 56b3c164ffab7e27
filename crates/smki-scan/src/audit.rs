//! The audit: given the original dump, the remediated dump and the manifest, check every
//! certificate independently of the remediation run.
//!
//! For every record: an unchanged one is byte-identical and was not remediable; a changed
//! one keeps tbsCertificate and signatureAlgorithm byte-identical and (r, s) equal, now
//! encodes them canonically, verifies under the issuer key, and matches its manifest entry.
//! Nothing is added, dropped or duplicated; the manifest chain is intact and agrees with
//! both dumps.
use crate::finding::code_names;
use crate::manifest::{read_manifest, Entry};
use crate::{for_each_ordered, Examiner, Finding, Input, Verdict};
use serde::Serialize;
use smki_repo::{Error as RecordError, Locator, Record};
use smki_verify::Backend;
use smki_x509::CertView;
use std::collections::BTreeMap;
use std::collections::VecDeque;
use std::ops::Range;

smki_der::vocabulary! {
    /// What an audit failure is (README.md, "smki audit").
    pub enum AuditCode {
        /// A byte of the tbsCertificate differs.
        TbsChanged = "TBS_CHANGED",
        /// A byte of the signatureAlgorithm differs.
        SigAlgChanged = "SIG_ALG_CHANGED",
        /// A different signature was put in: (r, s) differ.
        RsChanged = "RS_CHANGED",
        /// The new signature is not DER.
        NotCanonical = "NOT_CANONICAL",
        /// The remediated certificate is not clean (it does not verify).
        NotValid = "NOT_VALID",
        /// A certificate that was not remediable was changed.
        UnaffectedChanged = "UNAFFECTED_CHANGED",
        /// A remediable certificate was left unchanged without being listed.
        NotRemediated = "NOT_REMEDIATED",
        /// A changed certificate has no changed entry in the manifest.
        NotInManifest = "NOT_IN_MANIFEST",
        /// The manifest disagrees with the dumps about a record (or the count).
        ManifestMismatch = "MANIFEST_MISMATCH",
        /// The manifest lists a record the original dump does not have.
        ManifestExtra = "MANIFEST_EXTRA",
        /// A record left alone is not listed as such (with its verdict).
        LeftAloneUnlisted = "LEFT_ALONE_UNLISTED",
        /// A manifest line was edited, removed or reordered, or the end line is wrong.
        ManifestChain = "MANIFEST_CHAIN",
        /// The remediated dump lost a record.
        Dropped = "DROPPED",
        /// The remediated dump gained a record.
        Added = "ADDED",
        /// The remediated dump repeats a record.
        Duplicated = "DUPLICATED",
        /// A record reads in one dump and not in the other.
        Unreadable = "UNREADABLE",
    }
}

/// One thing that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditFailure {
    pub code: AuditCode,
    /// Index of the record in the original dump, where one applies.
    pub index: Option<u64>,
    pub locator: Option<Locator>,
    pub detail: String,
}

/// The audit report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditReport {
    pub original_records: u64,
    pub remediated_records: u64,
    pub unchanged: u64,
    pub changed: u64,
    /// Records not clean and left alone (listed in the manifest).
    pub left_alone: u64,
    pub manifest_entries: u64,
    pub failures: Vec<AuditFailure>,
    /// Failures per code (in name order).
    pub failure_counts: BTreeMap<&'static str, u64>,
}

impl AuditReport {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
    fn fail(&mut self, f: AuditFailure) {
        *self.failure_counts.entry(f.code.as_str()).or_default() += 1;
        self.failures.push(f);
    }
}

type Item = Result<Record, RecordError>;

/// What identifies a record across remediation: its tbsCertificate (untouched by
/// remediation), or its bytes when it does not split, or its reader error (the bytes the
/// reader kept, else the error's kind). Found once per record, when it is read.
enum Identity {
    /// These bytes of the record (or of the bytes its reader error kept).
    Range(Range<usize>),
    /// A reader error without bytes: its kind, as text.
    Kind(Vec<u8>),
}

/// A record as read, with its identity.
struct Keyed {
    item: Item,
    identity: Identity,
}

impl Keyed {
    fn new(item: Item) -> Keyed {
        let identity = match &item {
            Ok(rec) => match CertView::split(&rec.der) {
                Ok(v) => Identity::Range(v.tbs.element()),
                Err(_) => Identity::Range(0..rec.der.len()),
            },
            Err(e) => match &e.raw {
                Some(raw) => Identity::Range(0..raw.len()),
                None => Identity::Kind(format!("{:?}", e.kind).into_bytes()),
            },
        };
        Keyed { item, identity }
    }
    fn identity(&self) -> &[u8] {
        match (&self.identity, &self.item) {
            (Identity::Range(r), Ok(rec)) => &rec.der[r.clone()],
            (Identity::Range(r), Err(e)) => &e.raw.as_deref().unwrap_or_default()[r.clone()],
            (Identity::Kind(k), _) => k,
        }
    }
}

/// One aligned position: the original record (with its index) and the remediated one.
#[allow(clippy::large_enum_variant)] // one per record in flight, moved once: boxing buys nothing
enum Pair {
    Both(u64, Item, Item),
    Dropped(u64, Item),
    Added(Item, AuditCode),
}

/// Aligns two streams by identity, looking one record ahead on each side to tell an
/// added, dropped or duplicated record from a changed one. Identities are compared as
/// bytes (no hashing on this serial stage).
struct Align<A, B> {
    a: A,
    b: B,
    qa: VecDeque<Keyed>,
    qb: VecDeque<Keyed>,
    index: u64,
    /// The identity of the last remediated record taken (reused buffer), if any.
    last_b: Option<Vec<u8>>,
}

fn fill(q: &mut VecDeque<Keyed>, it: &mut impl Iterator<Item = Item>) {
    while q.len() < 2 {
        match it.next() {
            Some(x) => q.push_back(Keyed::new(x)),
            None => break,
        }
    }
}

impl<A, B> Align<A, B> {
    fn is_last_b(&self, y: &Keyed) -> bool {
        self.last_b.as_deref() == Some(y.identity())
    }
    /// Takes the front remediated record, remembering its identity.
    fn take_b(&mut self) -> Option<Item> {
        let y = self.qb.pop_front()?;
        let last = self.last_b.get_or_insert_with(Vec::new);
        last.clear();
        last.extend_from_slice(y.identity());
        Some(y.item)
    }
    fn take_a(&mut self) -> Option<Item> {
        self.qa.pop_front().map(|x| x.item)
    }
}

impl<A: Iterator<Item = Item>, B: Iterator<Item = Item>> Iterator for Align<A, B> {
    type Item = Pair;
    fn next(&mut self) -> Option<Pair> {
        fill(&mut self.qa, &mut self.a);
        fill(&mut self.qb, &mut self.b);
        let same = |x: Option<&Keyed>, y: Option<&Keyed>| match (x, y) {
            (Some(x), Some(y)) => x.identity() == y.identity(),
            _ => false,
        };
        match (self.qa.front(), self.qb.front()) {
            (None, None) => None,
            (Some(_), None) => {
                self.index += 1;
                Some(Pair::Dropped(self.index - 1, self.take_a()?))
            }
            (None, Some(y)) => {
                let code = if self.is_last_b(y) {
                    AuditCode::Duplicated
                } else {
                    AuditCode::Added
                };
                Some(Pair::Added(self.take_b()?, code))
            }
            (Some(x), Some(y)) => {
                if !same(Some(x), Some(y)) {
                    if self.is_last_b(y) {
                        return Some(Pair::Added(self.take_b()?, AuditCode::Duplicated));
                    }
                    if same(Some(x), self.qb.get(1)) {
                        return Some(Pair::Added(self.take_b()?, AuditCode::Added));
                    }
                    if same(self.qa.get(1), Some(y)) {
                        self.index += 1;
                        return Some(Pair::Dropped(self.index - 1, self.take_a()?));
                    }
                }
                // The same record, or the same place with different content: checked below.
                let x = self.take_a()?;
                let y = self.take_b()?;
                self.index += 1;
                Some(Pair::Both(self.index - 1, x, y))
            }
        }
    }
}

/// The verdict of the checks on one aligned pair.
type PairResult = (Vec<AuditFailure>, Kind);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Unchanged,
    Changed,
    LeftAlone,
    Other,
}

/// Audits `remediated` against `original` with `manifest` (the manifest's text).
pub fn audit<B: Backend>(
    ex: &Examiner<B>,
    original: impl Iterator<Item = Item> + Send,
    remediated: impl Iterator<Item = Item> + Send,
    manifest: &str,
    threads: usize,
) -> AuditReport {
    let mut report = AuditReport::default();
    let check = read_manifest(manifest);
    for (line, problem) in &check.problems {
        report.fail(AuditFailure {
            code: AuditCode::ManifestChain,
            index: None,
            locator: None,
            detail: format!("manifest line {line}: {problem}"),
        });
    }
    report.manifest_entries = check.entries.len() as u64;
    let entries: BTreeMap<u64, Entry> = check
        .entries
        .into_iter()
        .filter_map(|e| Some((e.index()?, e)))
        .collect();
    let pairs = Align {
        a: original,
        b: remediated,
        qa: VecDeque::new(),
        qb: VecDeque::new(),
        index: 0,
        last_b: None,
    };
    let mut seen = std::collections::BTreeSet::new();
    let _ = for_each_ordered(
        pairs,
        threads,
        |batch| check_batch(ex, batch, &entries),
        |p, (failures, kind): PairResult| -> Result<(), ()> {
            match &p {
                Pair::Both(i, ..) => {
                    report.original_records += 1;
                    report.remediated_records += 1;
                    seen.insert(*i);
                }
                Pair::Dropped(i, _) => {
                    report.original_records += 1;
                    seen.insert(*i);
                }
                Pair::Added(..) => report.remediated_records += 1,
            }
            match kind {
                Kind::Unchanged => report.unchanged += 1,
                Kind::Changed => report.changed += 1,
                Kind::LeftAlone => report.left_alone += 1,
                Kind::Other => {}
            }
            for f in failures {
                report.fail(f);
            }
            Ok(())
        },
    );
    for (i, e) in &entries {
        if !seen.contains(i) {
            report.fail(AuditFailure {
                code: AuditCode::ManifestExtra,
                index: Some(*i),
                locator: None,
                detail: format!(
                    "the manifest lists record {i}, which the original dump does not have: {e:?}"
                ),
            });
        }
    }
    if let Some((records, _, _)) = check.end {
        if records != report.original_records {
            report.fail(AuditFailure {
                code: AuditCode::ManifestMismatch,
                index: None,
                locator: None,
                detail: format!(
                    "the manifest counts {records} records, the original dump has {}",
                    report.original_records
                ),
            });
        }
    }
    report
}

/// The checks on a batch of aligned pairs: the originals and the changed certificates are
/// examined (and verified) in one batch.
fn check_batch<B: Backend>(
    ex: &Examiner<B>,
    batch: &[Pair],
    entries: &BTreeMap<u64, Entry>,
) -> Vec<PairResult> {
    /// The pairs whose bytes differ: the remediated certificate is examined too.
    fn changed(p: &Pair) -> Option<(&Record, &Record)> {
        match p {
            Pair::Both(_, Ok(x), Ok(y)) if x.der != y.der => Some((x, y)),
            _ => None,
        }
    }
    /// The original of a pair of both.
    fn original(p: &Pair) -> Option<Input<'_>> {
        match p {
            Pair::Both(_, x, _) => Some(x.into()),
            _ => None,
        }
    }
    let n = batch.iter().filter_map(original).count();
    let remediated = batch
        .iter()
        .filter_map(changed)
        .map(|(x, y)| Input::der(&y.der, &x.locator));
    let mut originals = ex.examine_batch(batch.iter().filter_map(original).chain(remediated));
    let news = originals.split_off(n);
    let (mut originals, mut news) = (originals.into_iter(), news.into_iter());
    batch
        .iter()
        .map(|p| {
            let orig = matches!(p, Pair::Both(..)).then(|| originals.next().expect("examined"));
            let new = changed(p).map(|_| news.next().expect("examined"));
            check_pair(p, orig, new, entries)
        })
        .collect()
}

/// The checks on one aligned pair, given the finding on the original (for a pair of both)
/// and on the remediated certificate (for a changed one).
fn check_pair(
    p: &Pair,
    orig: Option<Finding>,
    new: Option<Finding>,
    entries: &BTreeMap<u64, Entry>,
) -> PairResult {
    let mut out = Vec::new();
    let (i, x, y) = match p {
        Pair::Dropped(i, x) => {
            out.push(AuditFailure {
                code: AuditCode::Dropped,
                index: Some(*i),
                locator: Some(locator(x)),
                detail: "the record is missing from the remediated dump".into(),
            });
            return (out, Kind::Other);
        }
        Pair::Added(y, code) => {
            let detail = if *code == AuditCode::Duplicated {
                "the remediated dump repeats the record before it"
            } else {
                "the remediated dump has a record the original does not"
            };
            out.push(AuditFailure {
                code: *code,
                index: None,
                locator: Some(locator(y)),
                detail: detail.into(),
            });
            return (out, Kind::Other);
        }
        Pair::Both(i, x, y) => (*i, x, y),
    };
    let orig = orig.expect("a pair of both has its original examined");
    let loc = Some(orig.locator.clone());
    let mut fail = |code: AuditCode, detail: String| {
        out.push(AuditFailure {
            code,
            index: Some(i),
            locator: loc.clone(),
            detail,
        })
    };
    let entry = entries.get(&i);
    let (xd, yd) = match (x, y) {
        (Ok(x), Ok(y)) => (&x.der, &y.der),
        (Err(_), Err(_)) => {
            if !matches!(entry, Some(Entry::LeftAlone { .. })) {
                fail(
                    AuditCode::LeftAloneUnlisted,
                    "unreadable record not listed as left alone in the manifest".into(),
                );
            }
            return (out, Kind::LeftAlone);
        }
        _ => {
            fail(
                AuditCode::Unreadable,
                "the record is readable in one dump and not in the other".into(),
            );
            return (out, Kind::Other);
        }
    };
    if xd == yd {
        let kind = match orig.verdict {
            Verdict::Clean => Kind::Unchanged,
            Verdict::Remediable => {
                let listed = matches!(entry, Some(Entry::LeftAlone { .. }));
                if !listed {
                    fail(
                        AuditCode::NotRemediated,
                        format!(
                            "remediable ({}) but unchanged and not listed as left alone",
                            orig.codes_text(", ")
                        ),
                    );
                }
                Kind::LeftAlone
            }
            v => {
                if !matches!(entry, Some(Entry::LeftAlone { verdict, .. }) if *verdict == v) {
                    fail(AuditCode::LeftAloneUnlisted, format!("{v} record not listed as left alone (with that verdict) in the manifest"));
                }
                Kind::LeftAlone
            }
        };
        if matches!(entry, Some(Entry::Changed { .. })) {
            fail(
                AuditCode::ManifestMismatch,
                "the manifest says changed, but the record is byte-identical".into(),
            );
        }
        return (out, kind);
    }
    // Changed: everything but the signature encoding must be the same.
    let (Ok(vx), Ok(vy)) = (CertView::split(xd), CertView::split(yd)) else {
        fail(AuditCode::Unreadable, "a changed record does not split into tbsCertificate / signatureAlgorithm / signatureValue".into());
        return (out, Kind::Other);
    };
    if vx.tbs_bytes() != vy.tbs_bytes() {
        fail(
            AuditCode::TbsChanged,
            "tbsCertificate is not byte-identical".into(),
        );
    }
    if vx.signature_algorithm_bytes() != vy.signature_algorithm_bytes() {
        fail(
            AuditCode::SigAlgChanged,
            "signatureAlgorithm is not byte-identical".into(),
        );
    }
    let (sx, sy) = (vx.analyse_signature(), vy.analyse_signature());
    if sx.r != sy.r || sx.s != sy.s {
        fail(
            AuditCode::RsChanged,
            "(r, s) differ: a different signature was put in".into(),
        );
    }
    if !sy.is_canonical() {
        fail(
            AuditCode::NotCanonical,
            format!(
                "the new signatureValue is not canonical DER ({})",
                code_names(sy.defects.iter().map(|d| d.code), ", ")
            ),
        );
    }
    let new = new.expect("a changed pair has its new certificate examined");
    if new.verdict != Verdict::Clean {
        fail(
            AuditCode::NotValid,
            format!(
                "the remediated certificate is {}: {}",
                new.verdict, new.reason
            ),
        );
    }
    match orig.verdict {
        Verdict::Remediable => {}
        Verdict::Clean => fail(
            AuditCode::UnaffectedChanged,
            "a clean certificate was changed".into(),
        ),
        v => fail(
            AuditCode::UnaffectedChanged,
            format!("a {v} certificate was changed; only remediable ones may be"),
        ),
    }
    match entry {
        Some(Entry::Changed {
            old_sha256,
            new_sha256,
            r,
            s,
            defects_fixed,
            ..
        }) => {
            let mut mismatches = Vec::new();
            if Some(*old_sha256) != orig.sha256 {
                mismatches.push("old_sha256");
            }
            if Some(*new_sha256) != new.sha256 {
                mismatches.push("new_sha256");
            }
            if Some(*r) != orig.r || Some(*s) != orig.s {
                mismatches.push("r/s");
            }
            if !defects_fixed.iter().copied().eq(orig.codes()) {
                mismatches.push("defects_fixed");
            }
            if !mismatches.is_empty() {
                fail(
                    AuditCode::ManifestMismatch,
                    format!("manifest entry disagrees on {}", mismatches.join(", ")),
                );
            }
        }
        _ => fail(
            AuditCode::NotInManifest,
            "changed, but the manifest has no changed entry for it".into(),
        ),
    }
    (out, Kind::Changed)
}

fn locator(item: &Item) -> Locator {
    match item {
        Ok(r) => r.locator.clone(),
        Err(e) => e.locator.clone(),
    }
}
