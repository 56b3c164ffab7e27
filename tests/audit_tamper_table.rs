//! The tamper table (issue 15): every kind of tampering that passed the audit before, in
//! every dump format where it applies, made on a real remediation (`smki simulate`, then
//! `smki remediate`), and `smki audit --json` (the real binary) must fail with exactly the
//! failure codes named, no more and no fewer. A control row per format: the untampered
//! remediation passes. The expected codes come from the tampering made, not from the
//! audit: each row says what was done and what must be reported.
//!
//! Forged manifests are re-chained with the manifest writer, as a forger would: the chain
//! is no defence against them, only the audit's own examination of the dumps is.
use serde_json::Value;
use smki_repo::{extract_row, pem_block, Metadata, Record};
use smki_scan::audit::AuditCode;
use smki_scan::manifest::{Entry, ManifestWriter};
use smki_scan::Verdict;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const SMKI: &str = env!("CARGO_BIN_EXE_smki");

fn run(args: &[&str]) {
    let o = Command::new(SMKI).args(args).output().expect("run smki");
    assert!(
        o.status.success(),
        "smki {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fmt {
    DerTree,
    PemTree,
    Pem,
    Der,
    Extract,
}

impl Fmt {
    const ALL: [Fmt; 5] = [Fmt::DerTree, Fmt::PemTree, Fmt::Pem, Fmt::Der, Fmt::Extract];
    fn name(self) -> &'static str {
        match self {
            Fmt::DerTree => "der-tree",
            Fmt::PemTree => "pem-tree",
            Fmt::Pem => "pem",
            Fmt::Der => "der",
            Fmt::Extract => "extract",
        }
    }
    fn is_tree(self) -> bool {
        matches!(self, Fmt::DerTree | Fmt::PemTree)
    }
    /// The dump as `smki simulate` lays it out, and the remediated dump's name.
    fn input(self) -> &'static str {
        match self {
            Fmt::DerTree | Fmt::PemTree => "certs",
            Fmt::Pem => "certificates.pem",
            Fmt::Der => "certificates.der",
            Fmt::Extract => "extract",
        }
    }
    fn ext(self) -> &'static str {
        match self {
            Fmt::DerTree | Fmt::Der => "der",
            Fmt::PemTree | Fmt::Pem => "pem",
            Fmt::Extract => "csv",
        }
    }
    /// One record as the remediation writes it in this format.
    fn encode(self, der: &[u8], meta: Option<&Metadata>) -> Vec<u8> {
        match self {
            Fmt::DerTree | Fmt::Der => der.to_vec(),
            Fmt::PemTree | Fmt::Pem => pem_block(der).into_bytes(),
            Fmt::Extract => extract_row(der, meta).into_bytes(),
        }
    }
}

/// A remediated dump as chunks, one per record, in order: a tree's files (relative path,
/// bytes), or a file's records (byte spans between the records' offsets) after its head.
#[derive(Clone)]
struct Chunks {
    head: Vec<u8>,
    /// (relative path in a tree, the record's bytes).
    items: Vec<(PathBuf, Vec<u8>)>,
}

struct Case {
    dir: PathBuf,
    fmt: Fmt,
    original: PathBuf,
    remediated: PathBuf,
    cas: PathBuf,
    /// The original's records, in order (a reader error: its raw bytes).
    records: Vec<Result<Record, smki_repo::Error>>,
    /// The manifest's entries (the end line aside) and the record count.
    entries: Vec<Entry>,
    count: u64,
    chunks: Chunks,
}

impl Case {
    fn new(root: &Path, fmt: Fmt) -> Case {
        let dir = root.join(fmt.name());
        let s = |p: &Path| p.display().to_string();
        run(&[
            "simulate",
            "--quiet",
            "--count",
            "60",
            "--seed",
            "3",
            "--defect-rate",
            "0.2",
            "--inject",
            "UNREADABLE=0.05",
            "--inject",
            "BAD_SIGNATURE=0.05",
            "--format",
            fmt.name(),
            "--out",
            &s(&dir),
        ]);
        let original = dir.join(fmt.input());
        let remediated = dir.join(if fmt.is_tree() {
            "rem".to_string()
        } else {
            format!("rem.{}", fmt.ext())
        });
        let cas = dir.join("cas");
        run(&[
            "remediate",
            &s(&original),
            "--issuers",
            &s(&cas),
            "--out",
            &s(&remediated),
            "--manifest",
            &s(&dir.join("manifest.jsonl")),
            "--quiet",
        ]);
        let mut entries: Vec<Entry> = fs::read_to_string(dir.join("manifest.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let Some(Entry::End { records: count, .. }) = entries.pop() else {
            panic!("no end line")
        };
        let records: Vec<_> = smki_repo::open(&original).collect();
        assert_eq!(records.len() as u64, count);
        let chunks = load(fmt, &remediated);
        assert_eq!(
            chunks.items.len(),
            records.len(),
            "{}: one chunk per record",
            fmt.name()
        );
        Case {
            dir,
            fmt,
            original,
            remediated,
            cas,
            records,
            entries,
            count,
            chunks,
        }
    }

    fn entry(&self, index: u64) -> Option<&Entry> {
        self.entries.iter().find(|e| e.index() == Some(index))
    }

    /// Indices of the records whose entry matches `f`.
    fn indices(&self, f: impl Fn(&Entry) -> bool) -> Vec<u64> {
        self.entries
            .iter()
            .filter(|e| f(e))
            .filter_map(Entry::index)
            .collect()
    }

    fn changed(&self) -> Vec<u64> {
        self.indices(|e| matches!(e, Entry::Changed { .. }))
    }

    fn left_alone(&self, v: Verdict) -> Vec<u64> {
        self.indices(|e| matches!(e, Entry::LeftAlone { verdict, .. } if *verdict == v))
    }

    /// Records without an entry (clean), away from both ends.
    fn clean(&self) -> Vec<u64> {
        (2..self.count - 2)
            .filter(|i| self.entry(*i).is_none())
            .collect()
    }

    fn original_der(&self, i: u64) -> (&[u8], Option<&Metadata>) {
        let rec = self.records[i as usize]
            .as_ref()
            .expect("a readable record");
        (&rec.der, rec.meta.as_ref())
    }

    /// Writes `chunks` as a remediated dump named `name`; returns its path.
    fn write(&self, name: &str, chunks: &Chunks) -> PathBuf {
        let path = self.dir.join(if self.fmt.is_tree() {
            format!("t-{name}")
        } else {
            format!("t-{name}.{}", self.fmt.ext())
        });
        if self.fmt.is_tree() {
            for (rel, bytes) in &chunks.items {
                let p = path.join(rel);
                fs::create_dir_all(p.parent().unwrap()).unwrap();
                fs::write(p, bytes).unwrap();
            }
        } else {
            let mut all = chunks.head.clone();
            for (_, bytes) in &chunks.items {
                all.extend_from_slice(bytes);
            }
            fs::write(&path, all).unwrap();
        }
        path
    }

    /// Writes `entries` as a manifest, chained as the remediation chains it.
    fn forge(&self, name: &str, entries: &[Entry]) -> PathBuf {
        let mut w = ManifestWriter::new(Vec::new());
        for e in entries {
            w.push(e.clone()).unwrap();
        }
        let path = self.dir.join(format!("m-{name}.jsonl"));
        fs::write(&path, w.finish(self.count).unwrap()).unwrap();
        path
    }

    /// `smki audit --json`: the exit code and the failure codes, sorted.
    fn audit(&self, remediated: &Path, manifest: &Path) -> (i32, Vec<String>) {
        let json = self.dir.join("audit.json");
        let o = Command::new(SMKI)
            .args(["audit", "--quiet", "--original"])
            .arg(&self.original)
            .arg("--remediated")
            .arg(remediated)
            .arg("--manifest")
            .arg(manifest)
            .arg("--issuers")
            .arg(&self.cas)
            .arg("--json")
            .arg(&json)
            .output()
            .expect("run smki audit");
        let report: Value =
            serde_json::from_slice(&fs::read(&json).unwrap_or_else(|_| {
                panic!("no audit report: {}", String::from_utf8_lossy(&o.stderr))
            }))
            .unwrap();
        let mut codes: Vec<String> = report["failures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_string())
            .collect();
        codes.sort();
        (o.status.code().unwrap_or(-1), codes)
    }
}

/// The remediated dump as chunks, from the records' locators.
fn load(fmt: Fmt, path: &Path) -> Chunks {
    let locs: Vec<smki_repo::Locator> = smki_repo::open(path)
        .map(|r| match r {
            Ok(r) => r.locator,
            Err(e) => e.locator,
        })
        .collect();
    if fmt.is_tree() {
        let items = locs
            .iter()
            .map(|l| {
                assert_eq!(l.record, 0, "one record per file");
                let file = l.file.as_path().to_path_buf();
                let rel = file.strip_prefix(path).unwrap().to_path_buf();
                (rel, fs::read(&file).unwrap())
            })
            .collect();
        return Chunks {
            head: Vec::new(),
            items,
        };
    }
    let bytes = fs::read(path).unwrap();
    let mut offsets: Vec<usize> = locs.iter().map(|l| l.offset).collect();
    offsets.push(bytes.len());
    Chunks {
        head: bytes[..offsets[0]].to_vec(),
        items: offsets
            .windows(2)
            .map(|w| (PathBuf::new(), bytes[w[0]..w[1]].to_vec()))
            .collect(),
    }
}

/// Changes one character of a text record (a base64 letter or digit in its middle, away
/// from whatever makes it unreadable), or one byte of a binary one.
fn alter(bytes: &mut [u8], text: bool) {
    let mid = bytes.len() / 2;
    if !text {
        bytes[mid] ^= 0x01;
        return;
    }
    let at = (mid..bytes.len())
        .chain(0..mid)
        .find(|&i| bytes[i].is_ascii_alphanumeric())
        .expect("a letter");
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
}

/// An edit of a manifest entry, of extract metadata.
type EntryEdit<'a> = &'a dyn Fn(&mut Entry);
type MetaEdit<'a> = &'a dyn Fn(&mut Metadata);
/// One cell per class: the codes reported, or None where the class does not apply.
type Column = Vec<(&'static str, Option<Vec<String>>)>;

/// The classes of the table, in its order.
const CLASSES: &[&str] = &[
    "control (untampered)",
    "remediable left alone as needs_reissue",
    "left_alone entry for a clean certificate",
    "left_alone sha256 edited",
    "unreadable record's verdict edited",
    "unreadable record's bytes changed",
    "changed entry's serial edited",
    "changed entry's eui64 edited",
    "changed entry's issuer_key_id edited",
    "changed entry's locator edited",
    "file renamed in the tree",
    "extract status edited",
    "extract eui64 edited",
    "extract serial edited",
    "remediation changing nothing",
    "two adjacent records dropped",
    "two adjacent records added",
    "two records swapped",
    "trailing blank line in the manifest",
    "end line edited",
];

/// Runs every class on one format: (class, Some(codes reported) or None where it does not
/// apply). Each row asserts its exact codes.
fn column(root: &Path, fmt: Fmt) -> Column {
    let c = Case::new(root, fmt);
    let manifest = c.dir.join("manifest.jsonl");
    let changed = c.changed();
    let clean = c.clean();
    let reissue = c.left_alone(Verdict::NeedsReissue);
    let unreadable = c.left_alone(Verdict::Unreadable);
    assert!(changed.len() >= 6, "{fmt:?}: changed {changed:?}");
    assert!(!reissue.is_empty() && !unreadable.is_empty(), "{fmt:?}");
    let text = !matches!(fmt, Fmt::Der | Fmt::DerTree);
    let rows = std::cell::RefCell::new(Vec::new());
    let check = |class: &'static str, rem: &Path, man: &Path, want: &[AuditCode]| {
        let (exit, codes) = c.audit(rem, man);
        let mut want: Vec<String> = want.iter().map(|c| c.as_str().to_string()).collect();
        want.sort();
        assert_eq!(codes, want, "{} / {class}", fmt.name());
        assert_eq!(exit, if want.is_empty() { 0 } else { 1 }, "{class}");
        rows.borrow_mut().push((class, Some(codes)));
    };
    let with_entry = |i: u64, e: Option<Entry>| -> Vec<Entry> {
        let mut out: Vec<Entry> = c
            .entries
            .iter()
            .filter(|x| x.index() != Some(i))
            .cloned()
            .chain(e)
            .collect();
        out.sort_by_key(|e| e.index());
        out
    };
    let edit_changed = |i: u64, f: &dyn Fn(&mut Entry)| {
        let mut e = c.entry(i).unwrap().clone();
        f(&mut e);
        with_entry(i, Some(e))
    };

    // control
    check(CLASSES[0], &c.remediated, &manifest, &[]);

    // A remediable certificate left as it was, its entry rewritten as left alone /
    // needs_reissue (with the hash of the original bytes, as a careful forger would).
    let i = changed[0];
    let mut ch = c.chunks.clone();
    let (der, meta) = c.original_der(i);
    ch.items[i as usize].1 = fmt.encode(der, meta);
    let Some(Entry::Changed {
        locator,
        old_sha256,
        ..
    }) = c.entry(i).cloned()
    else {
        unreachable!()
    };
    let e = Entry::LeftAlone {
        index: i,
        locator,
        sha256: Some(old_sha256),
        verdict: Verdict::NeedsReissue,
        reason: "the signature does not verify under the issuer key".into(),
        kept_out: false,
        prev: Default::default(),
    };
    check(
        CLASSES[1],
        &c.write("remediable-left", &ch),
        &c.forge("remediable-left", &with_entry(i, Some(e))),
        &[AuditCode::NotRemediated, AuditCode::LeftAloneVerdict],
    );

    // A left_alone entry for a clean certificate.
    let i = clean[0];
    let rec = c.records[i as usize].as_ref().unwrap();
    let e = Entry::LeftAlone {
        index: i,
        locator: rec.locator.clone(),
        sha256: Some(smki_x509::sha256(&rec.der)),
        verdict: Verdict::NeedsReissue,
        reason: "the signature does not verify under the issuer key".into(),
        kept_out: false,
        prev: Default::default(),
    };
    check(
        CLASSES[2],
        &c.remediated,
        &c.forge("clean-listed", &with_entry(i, Some(e))),
        &[AuditCode::LeftAloneClean],
    );

    // A left_alone entry's sha256 edited.
    let entries = edit_changed(reissue[0], &|e| {
        if let Entry::LeftAlone { sha256, .. } = e {
            sha256.as_mut().unwrap()[0] ^= 1;
        }
    });
    check(
        CLASSES[3],
        &c.remediated,
        &c.forge("sha-edited", &entries),
        &[AuditCode::LeftAloneSha256],
    );

    // An unreadable record's verdict edited in its entry.
    let entries = edit_changed(unreadable[0], &|e| {
        if let Entry::LeftAlone { verdict, .. } = e {
            *verdict = Verdict::NeedsReissue;
        }
    });
    check(
        CLASSES[4],
        &c.remediated,
        &c.forge("unreadable-verdict", &entries),
        &[AuditCode::LeftAloneVerdict],
    );

    // An unreadable record's bytes changed in the remediated dump.
    let mut ch = c.chunks.clone();
    alter(&mut ch.items[unreadable[0] as usize].1, text);
    check(
        CLASSES[5],
        &c.write("unreadable-bytes", &ch),
        &manifest,
        &[AuditCode::UnreadableChanged],
    );

    // A changed entry's identifiers and locator edited, the chain recomputed.
    let flip = |v: &mut Option<Vec<u8>>| {
        let v = v.get_or_insert_with(|| vec![0]);
        let last = v.len() - 1;
        v[last] ^= 1;
    };
    let edits: [(&str, EntryEdit, AuditCode); 4] = [
        (
            CLASSES[6],
            &|e| {
                if let Entry::Changed { serial, .. } = e {
                    flip(serial)
                }
            },
            AuditCode::ManifestIdentifiers,
        ),
        (
            CLASSES[7],
            &|e| {
                if let Entry::Changed { eui64, .. } = e {
                    *eui64 = Some("00-11-22-33-44-55-66-77".into())
                }
            },
            AuditCode::ManifestIdentifiers,
        ),
        (
            CLASSES[8],
            &|e| {
                if let Entry::Changed { issuer_key_id, .. } = e {
                    flip(issuer_key_id)
                }
            },
            AuditCode::ManifestIdentifiers,
        ),
        (
            CLASSES[9],
            &|e| {
                if let Entry::Changed { locator, .. } = e {
                    locator.record += 1;
                    locator.offset += 1;
                }
            },
            AuditCode::ManifestLocator,
        ),
    ];
    for (k, (class, f, code)) in edits.into_iter().enumerate() {
        let entries = edit_changed(changed[1 + k], f);
        check(
            class,
            &c.remediated,
            &c.forge(&format!("edit-{k}"), &entries),
            &[code],
        );
    }

    // A file renamed in a remediated tree.
    if fmt.is_tree() {
        let mut ch = c.chunks.clone();
        let rel = &mut ch.items[clean[1] as usize].0;
        *rel = rel.with_file_name(format!("0-renamed.{}", fmt.ext()));
        check(
            CLASSES[10],
            &c.write("renamed", &ch),
            &manifest,
            &[AuditCode::Moved],
        );
    } else {
        rows.borrow_mut().push((CLASSES[10], None));
    }

    // Extract metadata edited in the remediated extract (status, eui64, serial).
    if fmt == Fmt::Extract {
        let edits: [(&str, MetaEdit); 3] = [
            (CLASSES[11], &|m| m.status = Some("R".into())),
            (CLASSES[12], &|m| {
                m.eui64 = Some("00-11-22-33-44-55-66-77".into())
            }),
            (CLASSES[13], &|m| {
                m.serial = Some(format!("{}0", m.serial.clone().unwrap_or_default()))
            }),
        ];
        for (k, (class, f)) in edits.into_iter().enumerate() {
            let i = clean[2 + k];
            let (der, meta) = c.original_der(i);
            let mut meta = meta.cloned().expect("an extract row has metadata");
            f(&mut meta);
            let mut ch = c.chunks.clone();
            ch.items[i as usize].1 = fmt.encode(der, Some(&meta));
            check(
                class,
                &c.write(&format!("meta-{k}"), &ch),
                &manifest,
                &[AuditCode::MetadataChanged],
            );
        }
    } else {
        for class in &CLASSES[11..14] {
            rows.borrow_mut().push((class, None));
        }
    }

    // A "remediation" that changes nothing and lists every non-clean record as left alone
    // (the remediable ones with the verdict the audit finds).
    let mut ch = c.chunks.clone();
    let entries: Vec<Entry> = c
        .entries
        .iter()
        .map(|e| match e {
            Entry::Changed {
                index,
                locator,
                old_sha256,
                ..
            } => {
                let (der, meta) = c.original_der(*index);
                ch.items[*index as usize].1 = fmt.encode(der, meta);
                Entry::LeftAlone {
                    index: *index,
                    locator: locator.clone(),
                    sha256: Some(*old_sha256),
                    verdict: Verdict::Remediable,
                    reason: "remediable, but re-encoding failed: left for later".into(),
                    kept_out: false,
                    prev: Default::default(),
                }
            }
            e => e.clone(),
        })
        .collect();
    let want = vec![AuditCode::NotRemediated; changed.len()];
    check(
        CLASSES[14],
        &c.write("nothing", &ch),
        &c.forge("nothing", &entries),
        &want,
    );

    // Two adjacent clean records dropped; two records added side by side.
    let pair = clean
        .windows(2)
        .find(|w| w[1] == w[0] + 1)
        .map(|w| w[0] as usize)
        .expect("two adjacent clean records");
    let mut ch = c.chunks.clone();
    ch.items.drain(pair..pair + 2);
    check(
        CLASSES[15],
        &c.write("two-dropped", &ch),
        &manifest,
        &[AuditCode::Dropped, AuditCode::Dropped],
    );
    let mut ch = c.chunks.clone();
    let after = ch.items[pair].0.clone();
    for (k, ca) in ["root.der", "issuing-ca.der"].iter().enumerate() {
        let der = fs::read(c.cas.join(ca)).unwrap();
        let meta = Metadata {
            serial: Some(format!("ca{k}")),
            ..Metadata::default()
        };
        let mut name = after.clone().into_os_string();
        name.push(format!(".added{k}.{}", fmt.ext()));
        ch.items
            .insert(pair + 1 + k, (name.into(), fmt.encode(&der, Some(&meta))));
    }
    check(
        CLASSES[16],
        &c.write("two-added", &ch),
        &manifest,
        &[AuditCode::Added, AuditCode::Added],
    );

    // Two records swapped (in a tree: their files' contents, which is two renames).
    let mut ch = c.chunks.clone();
    let (a, b) = (pair, pair + 1);
    let (ba, bb) = (ch.items[a].1.clone(), ch.items[b].1.clone());
    ch.items[a].1 = bb;
    ch.items[b].1 = ba;
    check(
        CLASSES[17],
        &c.write("swapped", &ch),
        &manifest,
        &[AuditCode::Moved, AuditCode::Moved][..if fmt.is_tree() { 2 } else { 1 }],
    );

    // The manifest with a trailing blank line (not a broken chain), and its end line
    // edited (a field added: the end line is part of the chain).
    let text = fs::read_to_string(&manifest).unwrap();
    let blank = c.dir.join("m-blank.jsonl");
    fs::write(&blank, format!("{text}\n")).unwrap();
    check(CLASSES[18], &c.remediated, &blank, &[]);
    let end = c.dir.join("m-end.jsonl");
    let edited = text.trim_end().strip_suffix('}').unwrap().to_string() + ",\"note\":\"ok\"}\n";
    fs::write(&end, edited).unwrap();
    check(
        CLASSES[19],
        &c.remediated,
        &end,
        &[AuditCode::ManifestChain],
    );
    rows.into_inner()
}

#[test]
fn tamper_table() {
    let dir = tempfile::tempdir().unwrap();
    let columns: Vec<Column> = Fmt::ALL.iter().map(|&f| column(dir.path(), f)).collect();
    // The table: class x format, the codes reported (every tampered row caught).
    let mut out = format!("{:<42}", "class");
    for f in Fmt::ALL {
        out.push_str(&format!(" | {:<32}", f.name()));
    }
    out.push('\n');
    for (r, class) in CLASSES.iter().enumerate() {
        out.push_str(&format!("{class:<42}"));
        for col in &columns {
            let (name, codes) = col.iter().find(|(n, _)| n == class).unwrap();
            assert_eq!(name, class);
            let cell = match codes {
                None => "n/a".to_string(),
                Some(c) if c.is_empty() => "passes".to_string(),
                Some(c) => {
                    let set: BTreeSet<&String> = c.iter().collect();
                    let names: Vec<String> = set
                        .into_iter()
                        .map(|n| {
                            let k = c.iter().filter(|x| *x == n).count();
                            if k > 1 {
                                format!("{n} x{k}")
                            } else {
                                n.clone()
                            }
                        })
                        .collect();
                    format!("caught: {}", names.join(" + "))
                }
            };
            assert!(
                r == 0 || r == 18 || cell != "passes",
                "{class} passes the audit"
            );
            out.push_str(&format!(" | {cell:<32}"));
        }
        out.push('\n');
    }
    println!("{out}");
}
