//! The audit: given the original dump, the remediated dump and the manifest, check every
//! certificate independently of the remediation run.
//!
//! For every record: an unchanged one is byte-identical and was not remediable; a changed
//! one keeps tbsCertificate and signatureAlgorithm byte-identical and (r, s) equal, now
//! encodes them canonically, verifies under the issuer key, and matches its manifest entry.
//! Nothing is added, dropped, duplicated or moved; the manifest chain is intact and agrees
//! with both dumps.
//!
//! The manifest is only a claim: every fact of every entry (verdict, reason, hashes,
//! identifiers, locator) and every fact of the remediated dump (file names in a tree,
//! extract metadata) is derived here, from the audit's own examination of the two dumps
//! (with the same [`Examiner`] as `scan`), and compared. Records are aligned by identity
//! (the tbsCertificate), not by position: records dropped, added or moved are reported as
//! exactly that.
use crate::finding::code_names;
use crate::manifest::{read_manifest, Entry};
use crate::{for_each_ordered, Examiner, Finding, Input, Verdict};
use serde::Serialize;
use smki_repo::{Error as RecordError, FileName, Locator, Metadata, Record};
use smki_verify::Backend;
use smki_x509::CertView;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Range;
use std::path::{Path, PathBuf};

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
        /// A clean record is listed as left alone.
        LeftAloneClean = "LEFT_ALONE_CLEAN",
        /// A left_alone entry's verdict or reason is not the audit's own (a remediable
        /// record listed as needing a reissue, an unreadable one listed as something else).
        LeftAloneVerdict = "LEFT_ALONE_VERDICT",
        /// A left_alone entry's sha256 is not the record's.
        LeftAloneSha256 = "LEFT_ALONE_SHA256",
        /// A changed entry's serial, issuer_key_id or eui64 is not the certificate's.
        ManifestIdentifiers = "MANIFEST_IDENTIFIERS",
        /// An entry's locator is not where the record stands in the original dump.
        ManifestLocator = "MANIFEST_LOCATOR",
        /// An unreadable record's bytes differ in the remediated dump.
        UnreadableChanged = "UNREADABLE_CHANGED",
        /// A record is not where the remediation writes it: under another file name in a
        /// tree (renamed), or at another position (reordered).
        Moved = "MOVED",
        /// An extract row's metadata (status, serial, eui64, ...) differs in the remediated
        /// extract.
        MetadataChanged = "METADATA_CHANGED",
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
    /// Of those, unreadable records kept out of a converted dump (listed with `kept_out`).
    #[serde(skip_serializing_if = "is_zero")]
    pub kept_out: u64,
    pub manifest_entries: u64,
    pub failures: Vec<AuditFailure>,
    /// Failures per code (in name order).
    pub failure_counts: BTreeMap<&'static str, u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
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

/// A record as read, with its identity and (for an original) its index.
struct Keyed {
    item: Item,
    identity: Identity,
    index: u64,
}

impl Keyed {
    fn new(item: Item, index: u64) -> Keyed {
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
        Keyed {
            item,
            identity,
            index,
        }
    }
    fn identity(&self) -> &[u8] {
        match (&self.identity, &self.item) {
            (Identity::Range(r), Ok(rec)) => &rec.der[r.clone()],
            (Identity::Range(r), Err(e)) => &e.raw.as_deref().unwrap_or_default()[r.clone()],
            (Identity::Kind(k), _) => k,
        }
    }
}

/// One aligned record: the original (with its index) and the remediated one. `pos` is
/// where it stands in the original's order (an added record: the index of the original
/// after it), so that failures are reported in that order however late a record was
/// matched.
#[allow(clippy::large_enum_variant)] // one per record in flight, moved once: boxing buys nothing
enum Pair {
    /// The same record in both dumps; `moved` when it was found out of order.
    Both {
        index: u64,
        x: Item,
        y: Item,
        moved: bool,
    },
    Dropped(u64, Item),
    Added {
        pos: u64,
        y: Item,
        code: AuditCode,
    },
}

impl Pair {
    /// The order of the report: (position in the original, added before the rest).
    fn order(&self) -> (u64, u8) {
        match self {
            Pair::Both { index, .. } | Pair::Dropped(index, _) => (*index, 1),
            Pair::Added { pos, .. } => (*pos, 0),
        }
    }
}

/// How far ahead of the current record the alignment looks on each side for its match.
const LOOKAHEAD: usize = 64;

/// Aligns two streams by identity. The current records match, or one of them is found
/// within [`LOOKAHEAD`] records on the other side (the records before it were dropped or
/// added), or neither is (the same place with different content: checked as a pair). A
/// record that has no match in sight is set aside, and matched when its counterpart turns
/// up later (a record moved: reported as such), else reported dropped or added at the end.
/// Identities are compared as bytes; only the records set aside are hashed.
struct Align<A, B> {
    a: A,
    b: B,
    qa: VecDeque<Keyed>,
    qb: VecDeque<Keyed>,
    /// Originals read so far (the index of the next one).
    read_a: u64,
    /// Records set aside, by identity: originals without a match yet, and remediated ones.
    aside_a: HashMap<Vec<u8>, VecDeque<Keyed>>,
    aside_b: HashMap<Vec<u8>, VecDeque<(u64, Keyed)>>,
    /// The identity of the last remediated record taken (reused buffer), if any.
    last_b: Option<Vec<u8>>,
    /// Set once both streams are exhausted: what is set aside is reported.
    flushing: Option<std::vec::IntoIter<Pair>>,
}

impl<A, B> Align<A, B> {
    fn new(a: A, b: B) -> Self {
        Align {
            a,
            b,
            qa: VecDeque::new(),
            qb: VecDeque::new(),
            read_a: 0,
            aside_a: HashMap::new(),
            aside_b: HashMap::new(),
            last_b: None,
            flushing: None,
        }
    }
    fn is_last_b(&self, y: &Keyed) -> bool {
        self.last_b.as_deref() == Some(y.identity())
    }
    fn remember_b(&mut self, id: &[u8]) {
        let last = self.last_b.get_or_insert_with(Vec::new);
        last.clear();
        last.extend_from_slice(id);
    }
    /// The position of the next original (where an added record stands).
    fn pos(&self) -> u64 {
        self.qa.front().map_or(self.read_a, |x| x.index)
    }
}

fn take<T>(map: &mut HashMap<Vec<u8>, VecDeque<T>>, id: &[u8]) -> Option<T> {
    let q = map.get_mut(id)?;
    let t = q.pop_front();
    if q.is_empty() {
        map.remove(id);
    }
    t
}

fn put<T>(map: &mut HashMap<Vec<u8>, VecDeque<T>>, id: Vec<u8>, t: T) {
    map.entry(id).or_default().push_back(t);
}

impl<A: Iterator<Item = Item>, B: Iterator<Item = Item>> Iterator for Align<A, B> {
    type Item = Pair;
    fn next(&mut self) -> Option<Pair> {
        if let Some(rest) = &mut self.flushing {
            return rest.next();
        }
        loop {
            while self.qa.len() < LOOKAHEAD {
                let Some(x) = self.a.next() else { break };
                self.qa.push_back(Keyed::new(x, self.read_a));
                self.read_a += 1;
            }
            while self.qb.len() < LOOKAHEAD {
                let Some(y) = self.b.next() else { break };
                self.qb.push_back(Keyed::new(y, 0));
            }
            let (x, y) = match (self.qa.front(), self.qb.front()) {
                (None, None) => {
                    // Whatever is still set aside has no counterpart.
                    let mut rest: Vec<Pair> = std::mem::take(&mut self.aside_a)
                        .into_values()
                        .flatten()
                        .map(|k| Pair::Dropped(k.index, k.item))
                        .chain(
                            std::mem::take(&mut self.aside_b)
                                .into_values()
                                .flatten()
                                .map(|(pos, k)| Pair::Added {
                                    pos,
                                    y: k.item,
                                    code: AuditCode::Added,
                                }),
                        )
                        .collect();
                    rest.sort_by_key(Pair::order);
                    let mut rest = rest.into_iter();
                    let first = rest.next();
                    self.flushing = Some(rest);
                    return first;
                }
                (x, y) => (x, y),
            };
            if let (Some(x), Some(y)) = (x, y) {
                if x.identity() == y.identity() {
                    let (x, y) = (self.qa.pop_front()?, self.qb.pop_front()?);
                    self.remember_b(y.identity());
                    return Some(Pair::Both {
                        index: x.index,
                        x: x.item,
                        y: y.item,
                        moved: false,
                    });
                }
            }
            // The remediated record: a repeat of the one before, or an original seen earlier.
            if let Some(y) = y {
                if self.is_last_b(y) {
                    let pos = self.pos();
                    let y = self.qb.pop_front()?;
                    return Some(Pair::Added {
                        pos,
                        y: y.item,
                        code: AuditCode::Duplicated,
                    });
                }
                if let Some(k) = take(&mut self.aside_a, y.identity()) {
                    let y = self.qb.pop_front()?;
                    self.remember_b(y.identity());
                    return Some(Pair::Both {
                        index: k.index,
                        x: k.item,
                        y: y.item,
                        moved: true,
                    });
                }
            }
            // The original: a remediated record seen earlier.
            if let Some(x) = x {
                if let Some((_, k)) = take(&mut self.aside_b, x.identity()) {
                    let x = self.qa.pop_front()?;
                    return Some(Pair::Both {
                        index: x.index,
                        x: x.item,
                        y: k.item,
                        moved: true,
                    });
                }
            }
            match (x, y) {
                (Some(_), None) => {
                    // Nothing left on the remediated side: set aside until the end.
                    let x = self.qa.pop_front()?;
                    let id = x.identity().to_vec();
                    put(&mut self.aside_a, id, x);
                }
                (None, Some(_)) => {
                    let pos = self.pos();
                    let y = self.qb.pop_front()?;
                    let id = y.identity().to_vec();
                    put(&mut self.aside_b, id, (pos, y));
                }
                (Some(x), Some(y)) => {
                    let x_ahead = self.qb.iter().position(|k| k.identity() == x.identity());
                    let y_ahead = self.qa.iter().position(|k| k.identity() == y.identity());
                    match (x_ahead, y_ahead) {
                        // Neither in sight: the same place, different content.
                        (None, None) => {
                            let (x, y) = (self.qa.pop_front()?, self.qb.pop_front()?);
                            self.remember_b(y.identity());
                            return Some(Pair::Both {
                                index: x.index,
                                x: x.item,
                                y: y.item,
                                moved: false,
                            });
                        }
                        // The original is further on the remediated side (and nearer than
                        // the remediated record on the original side): this one was added,
                        // or moved here from further on.
                        (Some(j), i) if i.is_none_or(|i| j <= i) => {
                            let pos = self.pos();
                            let y = self.qb.pop_front()?;
                            let id = y.identity().to_vec();
                            put(&mut self.aside_b, id, (pos, y));
                        }
                        // The remediated record is further on the original side: this
                        // original was dropped, or moved further on.
                        _ => {
                            let x = self.qa.pop_front()?;
                            let id = x.identity().to_vec();
                            put(&mut self.aside_a, id, x);
                        }
                    }
                }
                (None, None) => unreachable!("handled above"),
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
    /// Left alone, and kept out of a converted dump.
    KeptOut,
    Other,
}

/// Where the two dumps are: the directories a tree's file names are relative to.
#[derive(Debug, Clone, Default)]
pub struct Roots {
    /// The original dump as given (a directory, a file, or `-`).
    original: Option<PathBuf>,
    /// The remediated dump as given.
    remediated: Option<PathBuf>,
    /// The original is a directory tree (looked up once).
    original_tree: bool,
    /// The remediated dump is a directory tree.
    remediated_tree: bool,
    /// The two dumps are in different formats (`smki_repo::dump_format`): a conversion,
    /// which keeps unreadable records out.
    conversion: bool,
}

impl Roots {
    /// The dumps at these paths.
    pub fn of(original: &Path, remediated: &Path) -> Roots {
        let format = |p: &Path| smki_repo::dump_format(p).ok();
        Roots {
            original: Some(original.to_path_buf()),
            remediated: Some(remediated.to_path_buf()),
            original_tree: original.is_dir(),
            remediated_tree: remediated.is_dir(),
            conversion: matches!(
                (format(original), format(remediated)),
                (Some(a), Some(b)) if a != b
            ),
        }
    }
    /// The relative path of `file` in a dump: under its directory, or the file's name for a
    /// dump that is one file.
    fn relative<'a>(root: Option<&Path>, file: &'a FileName) -> &'a Path {
        let file = file.as_path();
        root.and_then(|r| file.strip_prefix(r).ok())
            .filter(|r| !r.as_os_str().is_empty())
            .or_else(|| file.file_name().map(Path::new))
            .unwrap_or(file)
    }
    /// Where the remediation writes record `index` in a remediated tree, as the writer names
    /// it (`smki_repo::Writer::write`): a record from a certificate file of an original
    /// tree under that file's relative path; any other under `smki_repo::tree_file_name` of
    /// its index and the bytes written (compared without the extension). None when the
    /// remediated dump is not a tree.
    fn expected_name(&self, index: u64, x: &Locator, y: &Item) -> Option<ExpectedName> {
        if !self.remediated_tree {
            return None;
        }
        let from_tree = self.original_tree && !smki_repo::is_extract_file(x.file.as_path());
        Some(if from_tree {
            ExpectedName::Same(Roots::relative(self.original.as_deref(), &x.file).to_path_buf())
        } else {
            let bytes = match y {
                Ok(r) => &r.der[..],
                Err(e) => e.raw.as_deref().unwrap_or_default(),
            };
            ExpectedName::Stem(smki_repo::tree_file_name(index, bytes))
        })
    }
}

/// The name a record must have in a remediated tree.
enum ExpectedName {
    /// Exactly this relative path (the original file's).
    Same(PathBuf),
    /// This relative path with an extension (`der` or `pem`).
    Stem(PathBuf),
}

/// Audits the remediated dump at `remediated` against the original at `original`, with
/// `manifest` (the manifest's text).
pub fn audit_dumps<B: Backend>(
    ex: &Examiner<B>,
    original: &Path,
    remediated: &Path,
    manifest: &str,
    threads: usize,
) -> AuditReport {
    audit_with(
        ex,
        smki_repo::open(original),
        smki_repo::open(remediated),
        manifest,
        threads,
        &Roots::of(original, remediated),
    )
}

/// Audits `remediated` against `original` with `manifest` (the manifest's text), not
/// knowing where the dumps are: file names in trees are not compared ([`audit_dumps`]
/// compares them).
pub fn audit<B: Backend>(
    ex: &Examiner<B>,
    original: impl Iterator<Item = Item> + Send,
    remediated: impl Iterator<Item = Item> + Send,
    manifest: &str,
    threads: usize,
) -> AuditReport {
    audit_with(
        ex,
        original,
        remediated,
        manifest,
        threads,
        &Roots::default(),
    )
}

/// Audits `remediated` against `original` with `manifest`; `roots` says where the dumps
/// are (for file names in trees, and locators given under another spelling of the root).
pub fn audit_with<B: Backend>(
    ex: &Examiner<B>,
    original: impl Iterator<Item = Item> + Send,
    remediated: impl Iterator<Item = Item> + Send,
    manifest: &str,
    threads: usize,
    roots: &Roots,
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
    let pairs = Align::new(original, remediated);
    let mut seen = std::collections::BTreeSet::new();
    // The failures of the records, with the order they are reported in.
    let mut records: Vec<((u64, u8), AuditFailure)> = Vec::new();
    let _ = for_each_ordered(
        pairs,
        threads,
        |batch| check_batch(ex, batch, &entries, roots),
        |p, (failures, kind): PairResult| -> Result<(), ()> {
            match &p {
                Pair::Both { index, .. } => {
                    report.original_records += 1;
                    report.remediated_records += 1;
                    seen.insert(*index);
                }
                Pair::Dropped(i, _) => {
                    report.original_records += 1;
                    seen.insert(*i);
                }
                Pair::Added { .. } => report.remediated_records += 1,
            }
            match kind {
                Kind::Unchanged => report.unchanged += 1,
                Kind::Changed => report.changed += 1,
                Kind::LeftAlone => report.left_alone += 1,
                Kind::KeptOut => {
                    report.left_alone += 1;
                    report.kept_out += 1;
                }
                Kind::Other => {}
            }
            let order = p.order();
            records.extend(failures.into_iter().map(|f| (order, f)));
            Ok(())
        },
    );
    records.sort_by_key(|(order, _)| *order);
    for (_, f) in records {
        report.fail(f);
    }
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

/// The certificate with its signatureValue re-encoded as canonical DER of the same (r, s),
/// when that changes its bytes: what a remediation of it must give.
fn reencoding(der: &[u8]) -> Option<Vec<u8>> {
    let view = CertView::split(der).ok()?;
    let sig = view.analyse_signature();
    if view.reencoding_changes_nothing(&sig) {
        return None;
    }
    let (r, s) = sig.rs()?;
    Some(view.reencoded(&r, &s))
}

/// The checks on a batch of aligned pairs: the originals and the changed certificates are
/// examined (and verified) in one batch; then the re-encodings of the remediable
/// certificates left unchanged (was it right to leave them?).
fn check_batch<B: Backend>(
    ex: &Examiner<B>,
    batch: &[Pair],
    entries: &BTreeMap<u64, Entry>,
    roots: &Roots,
) -> Vec<PairResult> {
    /// The pairs whose bytes differ: the remediated certificate is examined too.
    fn changed(p: &Pair) -> Option<(&Record, &Record)> {
        match p {
            Pair::Both {
                x: Ok(x), y: Ok(y), ..
            } if x.der != y.der => Some((x, y)),
            _ => None,
        }
    }
    /// The original of a pair of both, or of a record the manifest says was kept out.
    fn original<'a>(p: &'a Pair, entries: &BTreeMap<u64, Entry>) -> Option<Input<'a>> {
        match p {
            Pair::Both { x, .. } => Some(x.into()),
            Pair::Dropped(i, x) if kept_out(entries.get(i)) => Some(x.into()),
            _ => None,
        }
    }
    let examined = |p: &&Pair| original(p, entries).is_some();
    let n = batch.iter().filter(examined).count();
    let remediated = batch
        .iter()
        .filter_map(changed)
        .map(|(x, y)| Input::der(&y.der, &x.locator));
    let mut originals = ex.examine_batch(
        batch
            .iter()
            .filter_map(|p| original(p, entries))
            .chain(remediated),
    );
    let news = originals.split_off(n);
    // The remediable originals left byte for byte: their re-encodings, examined.
    let kept: Vec<(usize, Vec<u8>, &Locator)> = batch
        .iter()
        .filter(examined)
        .zip(&originals)
        .enumerate()
        .filter_map(|(i, (p, f))| match p {
            Pair::Both {
                x: Ok(x), y: Ok(y), ..
            } if x.der == y.der && f.verdict == Verdict::Remediable => {
                Some((i, reencoding(&x.der)?, &x.locator))
            }
            _ => None,
        })
        .collect();
    let reencoded = ex.examine_batch(kept.iter().map(|(_, der, loc)| Input::der(der, loc)));
    let mut fixable: BTreeMap<usize, bool> = BTreeMap::new();
    for ((i, _, _), after) in kept.iter().zip(reencoded) {
        let orig = &originals[*i];
        let same_rs = after.r.is_some() && after.r == orig.r && after.s == orig.s;
        fixable.insert(*i, after.verdict == Verdict::Clean && same_rs);
    }
    let (mut originals, mut news) = (originals.into_iter(), news.into_iter());
    let mut both = 0usize;
    batch
        .iter()
        .map(|p| {
            let orig = examined(&p).then(|| originals.next().expect("examined"));
            let fix = orig.as_ref().and_then(|_| fixable.get(&both).copied());
            if orig.is_some() {
                both += 1;
            }
            let new = changed(p).map(|_| news.next().expect("examined"));
            check_pair(p, orig, new, fix, entries, roots)
        })
        .collect()
}

/// The reason of a finding without the locator an unreadable record's reason starts with
/// (the dump's root may be spelled differently on the remediation's command line).
fn reason_class<'a>(reason: &'a str, locator: &Locator) -> &'a str {
    reason
        .strip_prefix(&format!("{locator}: "))
        .unwrap_or(reason)
}

/// The same place in the original dump: record, line and offset, and the file relative to
/// the dump's root.
fn same_locator(claimed: &Locator, actual: &Locator, root: Option<&Path>) -> bool {
    claimed.record == actual.record
        && claimed.line == actual.line
        && claimed.offset == actual.offset
        && (claimed.file == actual.file
            || claimed
                .file
                .as_path()
                .ends_with(Roots::relative(root, &actual.file)))
}

/// The checks on one aligned pair, given the finding on the original (for a pair of both),
/// on the remediated certificate (for a changed one), and whether the re-encoding of a
/// remediable original left unchanged comes out clean (`fixable`).
fn check_pair(
    p: &Pair,
    orig: Option<Finding>,
    new: Option<Finding>,
    fixable: Option<bool>,
    entries: &BTreeMap<u64, Entry>,
    roots: &Roots,
) -> PairResult {
    let mut out = Vec::new();
    let (i, x, y, moved) = match p {
        Pair::Dropped(i, _) if kept_out(entries.get(i)) => {
            let orig = orig.expect("a record kept out has its original examined");
            return check_kept_out(*i, orig, entries.get(i), roots);
        }
        Pair::Dropped(i, x) => {
            out.push(AuditFailure {
                code: AuditCode::Dropped,
                index: Some(*i),
                locator: Some(locator(x)),
                detail: "the record is missing from the remediated dump".into(),
            });
            return (out, Kind::Other);
        }
        Pair::Added { y, code, .. } => {
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
        Pair::Both { index, x, y, moved } => (*index, x, y, *moved),
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
    if kept_out(entry) {
        fail(
            AuditCode::ManifestMismatch,
            "the manifest says kept out of the remediated dump, but the record is in it".into(),
        );
    }
    // Where the record is: in a tree made from a tree, under the same relative path; in the
    // original's order.
    let (xl, yl) = (locator(x), locator(y));
    let renamed = roots.expected_name(i, &xl, y).and_then(|expected| {
        let ry = Roots::relative(roots.remediated.as_deref(), &yl.file);
        let (ok, name) = match &expected {
            ExpectedName::Same(rx) => (rx == ry, rx.clone()),
            ExpectedName::Stem(stem) => (
                ry.with_extension("") == *stem
                    && ry.extension().is_some_and(|e| e == "der" || e == "pem"),
                stem.with_extension("der|pem"),
            ),
        };
        (!ok).then(|| {
            format!(
                "{} is {} in the remediated tree",
                FileName::from(name.as_path()),
                FileName::from(ry)
            )
        })
    });
    if let Some(detail) = renamed {
        fail(AuditCode::Moved, format!("renamed: {detail}"));
    } else if moved {
        fail(
            AuditCode::Moved,
            format!("reordered: the record stands at {yl} in the remediated dump, out of the original's order"),
        );
    }
    // What the entry says of where the record is.
    if let Some(e) = entry {
        let claimed = match e {
            Entry::Changed { locator, .. } | Entry::LeftAlone { locator, .. } => Some(locator),
            Entry::End { .. } => None,
        };
        if let Some(claimed) = claimed {
            if !same_locator(claimed, &orig.locator, roots.original.as_deref()) {
                fail(
                    AuditCode::ManifestLocator,
                    format!(
                        "the manifest places record {i} at {claimed}; it is at {}",
                        orig.locator
                    ),
                );
            }
        }
    }
    // A left_alone entry: its sha256 and its verdict against the audit's.
    if let Some(Entry::LeftAlone {
        sha256,
        verdict,
        reason,
        locator,
        ..
    }) = entry
    {
        if *sha256 != orig.sha256 {
            fail(
                AuditCode::LeftAloneSha256,
                format!(
                    "the manifest's sha256 {} is not the record's {}",
                    sha256.map(hex::encode).unwrap_or_default(),
                    orig.sha256.map(hex::encode).unwrap_or_default()
                ),
            );
        }
        let unchanged = match (x, y) {
            (Ok(x), Ok(y)) => x.der == y.der,
            (Err(x), Err(y)) => x.raw == y.raw,
            _ => false,
        };
        match orig.verdict {
            Verdict::Clean => fail(
                AuditCode::LeftAloneClean,
                "listed as left alone, but the record is clean".into(),
            ),
            Verdict::Remediable if fixable == Some(true) || !unchanged => {
                // Reported as NOT_REMEDIATED below (or checked as a changed record); a
                // verdict other than remediable is a false one too.
                if *verdict != Verdict::Remediable {
                    fail(
                        AuditCode::LeftAloneVerdict,
                        format!("listed as {verdict}, but the record is remediable"),
                    );
                }
            }
            Verdict::Remediable => {
                let ok = *verdict == Verdict::Remediable
                    && reason.starts_with("remediable, but re-encoding failed: ");
                if !ok {
                    fail(
                        AuditCode::LeftAloneVerdict,
                        format!("listed as {verdict} ({reason}); the record is remediable, and its re-encoding does not come out clean"),
                    );
                }
            }
            v if *verdict != v => fail(
                AuditCode::LeftAloneVerdict,
                format!(
                    "listed as {verdict}, but the record is {v}: {}",
                    orig.reason
                ),
            ),
            _ => {
                if reason_class(reason, locator) != reason_class(&orig.reason, &orig.locator) {
                    fail(
                        AuditCode::LeftAloneVerdict,
                        format!(
                            "the entry's reason {reason:?} is not the record's: {:?}",
                            orig.reason
                        ),
                    );
                }
            }
        }
    }
    // Extract metadata: the remediated row says what the original row said.
    if let (Ok(xr), Ok(yr)) = (x, y) {
        if let Some(m) = &yr.meta {
            let differs = match &xr.meta {
                Some(o) => o != m,
                // Metadata the original did not have: none of what only the repository
                // knows may appear.
                // The serial listed is the certificate's, as the writer derives it.
                None => {
                    m.serial != smki_repo::serial_text(&yr.der)
                        || m.status.is_some()
                        || m.role.is_some()
                        || m.usage.is_some()
                        || m.manufacturing.is_some()
                        || m.lifecycle.is_some()
                        || m.issued.is_some()
                }
            };
            if differs {
                fail(
                    AuditCode::MetadataChanged,
                    metadata_changes(xr.meta.as_ref(), m),
                );
            }
        }
    }
    let (xd, yd) = match (x, y) {
        (Ok(x), Ok(y)) => (&x.der, &y.der),
        (Err(ex), Err(ey)) => {
            if ex.raw != ey.raw {
                fail(
                    AuditCode::UnreadableChanged,
                    "an unreadable record's bytes differ in the remediated dump (they are copied unaltered)".into(),
                );
            }
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
                } else if fixable == Some(true) {
                    fail(
                        AuditCode::NotRemediated,
                        format!(
                            "remediable ({}) and its re-encoding verifies, but left unchanged (listed as left alone)",
                            orig.codes_text(", ")
                        ),
                    );
                }
                Kind::LeftAlone
            }
            v => {
                if !matches!(entry, Some(Entry::LeftAlone { .. })) {
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
    if orig.verdict == Verdict::Unreadable {
        fail(
            AuditCode::UnreadableChanged,
            "an unreadable record's bytes differ in the remediated dump (they are copied unaltered)".into(),
        );
        return (out, Kind::Other);
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
            serial,
            issuer_key_id,
            eui64,
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
            let mut ids = Vec::new();
            if *serial != orig.serial {
                ids.push("serial");
            }
            if *issuer_key_id != orig.issuer_key_id {
                ids.push("issuer_key_id");
            }
            if *eui64 != orig.eui64 {
                ids.push("eui64");
            }
            if !ids.is_empty() {
                fail(
                    AuditCode::ManifestIdentifiers,
                    format!(
                        "manifest entry's {} not the certificate's",
                        ids.join(", ") + if ids.len() > 1 { " are" } else { " is" }
                    ),
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

/// Is this a left_alone entry that says its record was kept out of the remediated dump?
fn kept_out(entry: Option<&Entry>) -> bool {
    matches!(entry, Some(Entry::LeftAlone { kept_out: true, .. }))
}

/// A record missing from the remediated dump whose entry says it was kept out: right only
/// in a conversion, for a record the audit finds unreadable, listed with its own sha256,
/// locator and verdict (docs/outputs.md, "Converting a dump"). Otherwise the record was
/// dropped.
fn check_kept_out(i: u64, orig: Finding, entry: Option<&Entry>, roots: &Roots) -> PairResult {
    let mut out = Vec::new();
    let mut fail = |code: AuditCode, detail: String| {
        out.push(AuditFailure {
            code,
            index: Some(i),
            locator: Some(orig.locator.clone()),
            detail,
        })
    };
    let Some(Entry::LeftAlone {
        locator,
        sha256,
        verdict,
        reason,
        ..
    }) = entry
    else {
        unreachable!("checked by kept_out")
    };
    if !roots.conversion {
        fail(
            AuditCode::Dropped,
            "the record is missing from the remediated dump (listed as kept out, but only a conversion to another format keeps records out)".into(),
        );
        return (out, Kind::Other);
    }
    if orig.verdict != Verdict::Unreadable {
        fail(
            AuditCode::Dropped,
            format!(
                "the record is missing from the remediated dump (listed as kept out, but it is {}, not unreadable: only unreadable records are kept out)",
                orig.verdict
            ),
        );
        return (out, Kind::Other);
    }
    if !same_locator(locator, &orig.locator, roots.original.as_deref()) {
        fail(
            AuditCode::ManifestLocator,
            format!(
                "the manifest places record {i} at {locator}; it is at {}",
                orig.locator
            ),
        );
    }
    if *sha256 != orig.sha256 {
        fail(
            AuditCode::LeftAloneSha256,
            format!(
                "the manifest's sha256 {} is not the record's {}",
                sha256.map(hex::encode).unwrap_or_default(),
                orig.sha256.map(hex::encode).unwrap_or_default()
            ),
        );
    }
    if *verdict != Verdict::Unreadable
        || reason_class(reason, locator) != reason_class(&orig.reason, &orig.locator)
    {
        fail(
            AuditCode::LeftAloneVerdict,
            format!(
                "listed as {verdict} ({reason:?}), but the record is unreadable: {:?}",
                orig.reason
            ),
        );
    }
    (out, Kind::KeptOut)
}

/// What differs between the original row's metadata and the remediated row's, field by
/// field (as the columns are named).
fn metadata_changes(original: Option<&Metadata>, remediated: &Metadata) -> String {
    let value = |m: Option<&Metadata>| serde_json::to_value(m.cloned().unwrap_or_default());
    let (Ok(a), Ok(b)) = (value(original), value(Some(remediated))) else {
        return "the remediated row's metadata is not the original's".into();
    };
    let null = serde_json::Value::Null;
    let fields: std::collections::BTreeSet<&String> = a
        .as_object()
        .into_iter()
        .chain(b.as_object())
        .flat_map(|o| o.keys())
        .collect();
    let changes: Vec<String> = fields
        .into_iter()
        .filter_map(|k| {
            let (x, y) = (a.get(k).unwrap_or(&null), b.get(k).unwrap_or(&null));
            (x != y).then(|| format!("{k} {x} in the original, {y} in the remediated row"))
        })
        .collect();
    format!("metadata changed: {}", changes.join("; "))
}

fn locator(item: &Item) -> Locator {
    match item {
        Ok(r) => r.locator.clone(),
        Err(e) => e.locator.clone(),
    }
}
