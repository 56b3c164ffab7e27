//! The wire formats, pinned: snapshots (insta) of what the real `smki` binary writes.
//!
//! * `inspect --format json`,
//! * `scan --findings` (JSONL), `--csv`, `--json` (the summary),
//! * `remediate`'s manifest and its `--json` summary,
//! * `audit --json`: a passing audit, and a failing one on a tampered remediation whose
//!   failures carry every audit failure code (METADATA_CHANGED on the extract),
//!
//! on `fixtures/sample` and on a seeded simulated corpus made here with every injection
//! (`smki simulate --inject`) plus two certificates altered by hand (the algorithm
//! mismatches the simulator does not make); `inspect` and `scan` on certificates made here
//! that break the SMKI profile rules one at a time (tests/support/lint_corpus.rs: fixed keys,
//! RFC 6979 signatures); `scan`, `remediate` and `audit` on a simulated extract (a full CSV
//! and daily deltas with new rows and status updates: the findings' `meta`, the summary's
//! `by_status` and `by_lifecycle`). A coverage check makes sure the snapshots hold every
//! defect code, lint code, verdict, signature status, manifest entry kind and audit failure
//! code.
//!
//! Every output is snapshotted byte for byte, except the fields that depend on the clock
//! (`elapsed_seconds`, `records_per_second`), which are masked, and the temporary
//! directory's path (the commands run inside it with relative paths, so none is expected).
//! Each snapshot ends with a line giving the output's length in bytes, since insta ignores
//! trailing whitespace and line-ending differences.
//!
//! A refactor must leave every snapshot unchanged: never accept an update to make this pass.
//! Only when an output is meant to change (a new field, a new code) are the snapshots
//! regenerated, in the same commit: `INSTA_UPDATE=always cargo test --test snapshots`, then
//! review the diff of `tests/snapshots/`.
#[path = "support/lint_corpus.rs"]
mod lint_corpus;
mod support;

use p256::elliptic_curve::PrimeField;
use serde_json::Value;
use smki_der::DefectCode;
use smki_scan::audit::AuditCode;
use smki_scan::manifest::Entry;
use smki_scan::Verdict;
use smki_x509::LintCode;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::{
    assemble_certificate, bit_string, der_int, der_sig, header, int_content, run_timeout,
    split_certificate, tlv, typed, verdict, CHILD_LIMIT,
};

/// Worker threads for every run (scan's outputs are checked to be the same on 1 and 3).
const THREADS: &str = "2";

/// The simulated corpus: certificates, seed, and the rate of each injection.
const SIM_COUNT: &str = "240";
const SIM_SEED: &str = "13";
const SIM_DEFECT_RATE: &str = "0.05";
const SIM_INJECT_RATE: f64 = 0.03;

/// The extract: certificates, seed, delta files, and the injections (about one each).
const EXTRACT_COUNT: &str = "80";
const EXTRACT_SEED: &str = "1";
const EXTRACT_DELTA_DAYS: &str = "60";
const EXTRACT_INJECT: &[&str] = &[
    "UNREADABLE=0.0125",
    "SIG_INT_NEGATIVE=0.0125",
    "ISSUER_ABSENT=0.0125",
    "BAD_SIGNATURE=0.0125",
    "CERT_BER=0.0125",
];

/// Keys of the JSON summaries whose values depend on the clock.
const TIMING_KEYS: &[&str] = &["elapsed_seconds", "records_per_second"];

/// ecdsa-with-SHA256's OBJECT IDENTIFIER element.
const ECDSA_WITH_SHA256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `smki ARGS` in `dir`; asserts its exit code.
fn smki_in(dir: &Path, args: &[&str], exit: i32) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_smki"));
    cmd.current_dir(dir).args(args);
    let out = run_timeout(&mut cmd, CHILD_LIMIT);
    assert_eq!(
        out.status.code(),
        Some(exit),
        "smki {args:?} in {}: {}\n{}",
        dir.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Everything the snapshots were compared with, and the codes seen in them (a vocabulary's
/// code is read as its enum: a name the vocabulary does not declare fails the test).
struct Pins {
    tmp: PathBuf,
    failed: Vec<String>,
    sizes: Vec<(String, usize)>,
    defect_codes: BTreeSet<&'static str>,
    lint_codes: BTreeSet<&'static str>,
    verdicts: BTreeSet<&'static str>,
    signature_statuses: BTreeSet<String>,
    key_sources: BTreeSet<String>,
    manifest_kinds: BTreeSet<String>,
    left_alone_verdicts: BTreeSet<&'static str>,
    audit_codes: BTreeSet<&'static str>,
}

impl Pins {
    fn new(tmp: &Path) -> Pins {
        Pins {
            tmp: tmp.to_path_buf(),
            failed: Vec::new(),
            sizes: Vec::new(),
            defect_codes: BTreeSet::new(),
            lint_codes: BTreeSet::new(),
            verdicts: BTreeSet::new(),
            signature_statuses: BTreeSet::new(),
            key_sources: BTreeSet::new(),
            manifest_kinds: BTreeSet::new(),
            left_alone_verdicts: BTreeSet::new(),
            audit_codes: BTreeSet::new(),
        }
    }

    /// Masks the temporary directory and the timing fields, then compares `text` with the
    /// snapshot `name` (a mismatch is recorded; every snapshot is compared before failing).
    fn pin(&mut self, name: &str, text: &str) {
        let mut masked = text.to_string();
        let canonical = fs::canonicalize(&self.tmp).unwrap_or_else(|_| self.tmp.clone());
        for p in [&canonical, &self.tmp] {
            masked = masked.replace(&p.display().to_string(), "[TMP]");
        }
        masked = mask_timing(&masked);
        let body = format!("{masked}[{} bytes]\n", masked.len());
        self.sizes.push((name.to_string(), body.len()));
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        let ok = settings
            .bind(|| std::panic::catch_unwind(|| insta::assert_snapshot!(name, body)).is_ok());
        if !ok {
            self.failed.push(name.to_string());
        }
    }

    fn pin_file(&mut self, name: &str, path: &Path) {
        self.pin(name, &read(path));
    }

    /// The codes of one finding (a JSON object, as `--findings` and `inspect` write it).
    fn finding(&mut self, f: &Value) {
        let s = |v: &Value| v.as_str().expect("a string").to_string();
        self.verdicts.insert(verdict(f).as_str());
        for d in f["defects"].as_array().expect("defects") {
            self.defect_codes
                .insert(typed::<DefectCode>(&d["code"]).as_str());
        }
        for l in f["lints"].as_array().expect("lints") {
            self.lint_codes
                .insert(typed::<LintCode>(&l["code"]).as_str());
        }
        let sig = &f["signature"];
        self.signature_statuses.insert(s(&sig["status"]));
        if let Some(kind) = sig["key_source"]["kind"].as_str() {
            self.key_sources.insert(kind.to_string());
        }
    }

    fn findings_jsonl(&mut self, path: &Path) {
        for v in support::jsonl(path) {
            self.finding(&v);
        }
    }

    fn manifest(&mut self, path: &Path) {
        for v in support::jsonl(path) {
            let kind = v["kind"].as_str().expect("kind").to_string();
            if let Entry::LeftAlone { verdict, .. } = typed(&v) {
                self.left_alone_verdicts.insert(verdict.as_str());
            }
            self.manifest_kinds.insert(kind);
        }
    }

    fn audit(&mut self, path: &Path) -> Value {
        let v: Value = serde_json::from_str(&read(path)).expect("audit JSON");
        for f in v["failures"].as_array().expect("failures") {
            self.audit_codes
                .insert(typed::<AuditCode>(&f["code"]).as_str());
        }
        v
    }
}

/// The value of every line `"KEY": VALUE` (pretty JSON) whose KEY is a timing key, masked.
fn mask_timing(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let key = TIMING_KEYS
            .iter()
            .find(|k| trimmed.starts_with(&format!("\"{k}\": ")));
        match key {
            Some(k) => {
                let indent = &line[..line.len() - trimmed.len()];
                let comma = if line.trim_end().ends_with(',') {
                    ","
                } else {
                    ""
                };
                let end = if line.ends_with('\n') { "\n" } else { "" };
                out.push_str(&format!("{indent}\"{k}\": \"[masked]\"{comma}{end}"));
            }
            None => out.push_str(line),
        }
    }
    out
}

/// The extract is what its snapshots are meant to show: the repository's metadata on every
/// readable row, every status and lifecycle, and a status update in a delta (a row that
/// replaces a row of the full extract).
fn check_extract(extract: &Dump) {
    let findings = support::jsonl(&extract.path("scan.jsonl"));
    let full = fs::read_dir(extract.tmp.join(extract.input))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("full-")
        })
        .expect("a full extract");
    let full = read(&full);
    let mut updated = 0;
    for f in &findings {
        let file = f["locator"]["file"].as_str().unwrap();
        assert!(
            f["meta"].is_object() || verdict(f) == Verdict::Unreadable,
            "no metadata: {f}"
        );
        if file.contains("/delta-") && f["serial"].as_str().is_some_and(|s| full.contains(s)) {
            updated += 1;
        }
    }
    assert!(updated > 0, "no status update in the deltas");
    let summary: Value = serde_json::from_str(&read(&extract.path("scan.json"))).unwrap();
    for (key, want) in [
        ("by_status", &["I", "N", "P", "R"][..]),
        (
            "by_lifecycle",
            &["installed", "in_storage", "in_manufacturing"][..],
        ),
    ] {
        for w in want {
            assert!(
                summary[key][w].is_object(),
                "{key} has no {w}: {}",
                summary[key]
            );
        }
    }
}

/// A CSV dump, pinned small: its length and SHA-256, then each row with its certificate
/// column (the last: base64, no comma) replaced by the SHA-256 of the certificate (as the
/// manifest gives it), or by `unreadable` when it is not base64.
fn csv_digest(text: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let sha = |b: &[u8]| hex::encode(sha2::Sha256::digest(b));
    let mut out = format!("{} bytes, sha256 {}\n", text.len(), sha(text.as_bytes()));
    let mut lines = text.lines();
    out.push_str(lines.next().unwrap_or_default());
    out.push('\n');
    for line in lines {
        let (head, cert) = line.rsplit_once(',').expect("a certificate column");
        let cert = match base64::engine::general_purpose::STANDARD.decode(cert) {
            Ok(der) => sha(&der),
            Err(_) => "unreadable".to_string(),
        };
        out.push_str(&format!("{head},{cert}\n"));
    }
    out
}

/// The position of the last (or first) occurrence of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8], last: bool) -> usize {
    let mut windows = hay.windows(needle.len());
    let hit = if last {
        windows.rposition(|w| w == needle)
    } else {
        windows.position(|w| w == needle)
    };
    hit.expect("the bytes occur")
}

/// A certificate whose OBJECT IDENTIFIER ecdsa-with-SHA256 becomes ecdsa-with-SHA384, in the
/// tbsCertificate (`outer` false) or in the outer signatureAlgorithm.
fn sha384_alg(der: &[u8], outer: bool) -> Vec<u8> {
    let mut der = der.to_vec();
    let at = find(&der, ECDSA_WITH_SHA256, outer) + ECDSA_WITH_SHA256.len() - 1;
    der[at] = 0x03;
    der
}

/// Two certificates made by hand from a clean simulated one, with the findings the simulator
/// does not make: tbsCertificate.signature is not signatureAlgorithm
/// (CERT_SIG_ALG_MISMATCH), and a signature algorithm that is not ecdsa-with-SHA256
/// (CERT_UNSUPPORTED_ALG).
fn hand_made(tmp: &Path) {
    let truth = support::jsonl(&tmp.join("sim/ground-truth.jsonl"));
    let clean = truth
        .iter()
        .find(|t| {
            typed::<Verdict>(&t["expected_verdict"]) == Verdict::Clean
                && t["file"].as_str().unwrap().starts_with("certs/")
        })
        .expect("a clean certificate");
    let der = fs::read(tmp.join("sim").join(clean["file"].as_str().unwrap())).unwrap();
    let dir = tmp.join("sim/certs/zz-hand-made");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("alg-mismatch.der"), sha384_alg(&der, false)).unwrap();
    fs::write(dir.join("unsupported-alg.der"), sha384_alg(&der, true)).unwrap();
}

/// One record of the original simulated dump, in input order.
struct Rec {
    index: usize,
    file: String,
    verdict: Verdict,
}

/// The remediated counterpart of an original file (`sim/certs/X` -> `tree/X`).
fn counterpart(tree: &Path, file: &str) -> PathBuf {
    tree.join(
        file.strip_prefix("sim/certs/")
            .expect("a file of sim/certs"),
    )
}

/// Records to tamper with, each at least 4 records from any other (the audit's alignment
/// looks one record ahead).
struct Picker<'a> {
    records: &'a [Rec],
    taken: Vec<usize>,
}

impl<'a> Picker<'a> {
    fn pick(&mut self, what: AuditCode, want: impl Fn(&Rec) -> bool) -> &'a Rec {
        let last = self.records.len() - 1;
        let rec = self
            .records
            .iter()
            .filter(|r| r.index >= 2 && r.index + 2 <= last)
            .find(|r| want(r) && self.taken.iter().all(|&t| t.abs_diff(r.index) >= 4))
            .unwrap_or_else(|| panic!("no record left to tamper for {what}"));
        self.taken.push(rec.index);
        rec
    }
}

/// A copy of the remediation (`sim-remediated` -> `sim-tampered`, `sim-manifest.jsonl` ->
/// `sim-manifest-tampered.jsonl`) tampered so that the audit reports every failure code. Each
/// tampering touches a different record, at least 3 records from any other.
fn tamper(sim: &Dump, records: &[Rec]) {
    let tmp = sim.tmp;
    let bad = sim.path("tampered");
    support::copy_tree(&sim.path("remediated"), &bad);
    let mut lines: Vec<String> = read(&sim.path("manifest.jsonl"))
        .lines()
        .map(String::from)
        .collect();
    let entries: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let entry = |index: usize| {
        entries
            .iter()
            .position(|e| e["index"].as_u64() == Some(index as u64))
    };
    let changed = |r: &Rec| {
        entry(r.index).is_some_and(|i| matches!(typed(&entries[i]), Entry::Changed { .. }))
    };
    let mut picker = Picker {
        records,
        taken: Vec::new(),
    };
    let mut rewrite =
        |what: AuditCode, want: &dyn Fn(&Rec) -> bool, f: &dyn Fn(&[u8]) -> Vec<u8>| {
            let rec = picker.pick(what, want);
            let path = counterpart(&bad, &rec.file);
            let der = fs::read(&path).unwrap();
            fs::write(&path, f(&der)).unwrap();
        };
    let clean = |r: &Rec| r.verdict == Verdict::Clean;
    let rs = |der: &[u8]| -> ([u8; 32], [u8; 32]) {
        let sig = split_certificate(der).2;
        // BIT STRING { 0 unused bits, SEQUENCE { INTEGER r, INTEGER s } }, canonical here.
        let seq = &sig[header(&sig).0 + 1..];
        let ints = support::elements(&seq[header(seq).0..]);
        let int = |e: &[u8]| {
            let v = &e[header(e).0..];
            let mut out = [0u8; 32];
            let v = &v[v.len().saturating_sub(32)..];
            out[32 - v.len()..].copy_from_slice(v);
            out
        };
        (int(ints[0]), int(ints[1]))
    };

    // TBS_CHANGED (and NOT_VALID, MANIFEST_MISMATCH): one byte of a remediated
    // certificate's tbsCertificate flipped.
    rewrite(AuditCode::TbsChanged, &changed, &|der| {
        let mut der = der.to_vec();
        let tbs_content = header(&der).0 + header(&der[header(&der).0..]).0;
        der[tbs_content + 20] ^= 0x01;
        der
    });
    // SIG_ALG_CHANGED: signatureAlgorithm of a remediated certificate made ecdsa-with-SHA384.
    rewrite(AuditCode::SigAlgChanged, &changed, &|der| {
        sha384_alg(der, true)
    });
    // RS_CHANGED: another valid signature, (r, n - s), put in.
    rewrite(AuditCode::RsChanged, &changed, &|der| {
        let (r, s) = rs(der);
        let s = p256::Scalar::from_repr(s.into()).unwrap();
        let n_minus_s: [u8; 32] = (-s).to_repr().into();
        let (tbs, alg, _) = split_certificate(der);
        assemble_certificate(&tbs, &alg, &bit_string(0, &der_sig(&r, &n_minus_s)))
    });
    // NOT_CANONICAL: the same (r, s), r with a redundant leading zero octet.
    rewrite(AuditCode::NotCanonical, &changed, &|der| {
        let (r, s) = rs(der);
        let r = tlv(0x02, &[&[0u8][..], &int_content(&r)].concat());
        let sig = tlv(0x30, &[r, der_int(&s)].concat());
        let (tbs, alg, _) = split_certificate(der);
        assemble_certificate(&tbs, &alg, &bit_string(0, &sig))
    });
    // UNAFFECTED_CHANGED (and NOT_IN_MANIFEST, NOT_VALID): a clean certificate re-encoded
    // (outer length in long form).
    rewrite(AuditCode::UnaffectedChanged, &clean, &|der| {
        let body = &der[header(der).0..];
        let len = body.len();
        [
            &[0x30, 0x83, (len >> 16) as u8, (len >> 8) as u8, len as u8][..],
            body,
        ]
        .concat()
    });
    // UNREADABLE: a certificate replaced by bytes that are not one.
    rewrite(AuditCode::Unreadable, &clean, &|_| {
        b"not a certificate\n".to_vec()
    });
    // NOT_REMEDIATED (and MANIFEST_MISMATCH): a remediable certificate left as it was,
    // though the manifest says changed.
    let rec = picker.pick(AuditCode::NotRemediated, changed);
    fs::copy(tmp.join(&rec.file), counterpart(&bad, &rec.file)).unwrap();
    // DROPPED: a certificate removed.
    let rec = picker.pick(AuditCode::Dropped, clean);
    fs::remove_file(counterpart(&bad, &rec.file)).unwrap();
    // ADDED: the root CA certificate put in after a certificate.
    let rec = picker.pick(AuditCode::Added, clean);
    let mut added = counterpart(&bad, &rec.file).into_os_string();
    added.push(".added.der");
    fs::copy(tmp.join("sim/cas/root.der"), added).unwrap();
    // DUPLICATED: a certificate repeated right after itself.
    let rec = picker.pick(AuditCode::Duplicated, clean);
    let victim = counterpart(&bad, &rec.file);
    let mut dup = victim.clone().into_os_string();
    dup.push(".dup.der");
    fs::copy(&victim, dup).unwrap();

    // The manifest: LEFT_ALONE_UNLISTED (an entry of a needs_reissue record removed),
    // MANIFEST_EXTRA (an entry for a record the dump does not have, before the end line),
    // MANIFEST_CHAIN (both break the chain).
    let rec = picker.pick(AuditCode::LeftAloneUnlisted, |r: &Rec| {
        r.verdict == Verdict::NeedsReissue
    });
    let removed = entry(rec.index).expect("a left_alone entry");
    let mut extra = entries[removed].clone();
    extra["index"] = Value::from(1_000_000u64);

    // UNREADABLE_CHANGED: one byte of an unreadable record changed.
    let rec = picker.pick(AuditCode::UnreadableChanged, |r: &Rec| {
        r.verdict == Verdict::Unreadable && entry(r.index).is_some()
    });
    let victim = counterpart(&bad, &rec.file);
    let mut bytes = fs::read(&victim).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    fs::write(&victim, bytes).unwrap();
    // MOVED: a clean certificate's file renamed.
    let rec = picker.pick(AuditCode::Moved, clean);
    let victim = counterpart(&bad, &rec.file);
    fs::rename(&victim, victim.with_file_name("0-renamed.der")).unwrap();
    // LEFT_ALONE_CLEAN: a clean certificate listed as left alone (the entry of another
    // record, moved to its index).
    let rec = picker.pick(AuditCode::LeftAloneClean, clean);
    let model = entries
        .iter()
        .position(|e| e["kind"] == "left_alone" && e["verdict"] == "needs_reissue")
        .unwrap();
    let prev = (0..lines.len())
        .rev()
        .find(|&i| {
            entries[i]["index"]
                .as_u64()
                .is_some_and(|x| x < rec.index as u64)
        })
        .unwrap();
    let mut v = entries[model].clone();
    v["index"] = Value::from(rec.index as u64);
    v["locator"]["file"] = Value::from(rec.file.clone());
    let sha = smki_x509::sha256(&fs::read(tmp.join(&rec.file)).unwrap());
    v["sha256"] = Value::from(sha.iter().map(|b| format!("{b:02x}")).collect::<String>());
    let clean_listed = (
        prev + 1,
        serde_json::to_string(&typed::<Entry>(&v)).unwrap(),
    );
    // Manifest entries edited in place (each also breaks the chain at the line after it):
    // the audit derives every fact of an entry itself.
    let mut edit = |what: AuditCode, want: &dyn Fn(&Rec) -> bool, f: &dyn Fn(&mut Value)| {
        let rec = picker.pick(what, |r: &Rec| want(r) && entry(r.index).is_some());
        let at = entry(rec.index).unwrap();
        let mut v = entries[at].clone();
        f(&mut v);
        lines[at] = serde_json::to_string(&typed::<Entry>(&v)).unwrap();
    };
    let flip_hex = |v: &mut Value, key: &str| {
        let mut hex = v[key].as_str().unwrap().to_string();
        let last = if hex.ends_with('0') { "1" } else { "0" };
        hex.replace_range(hex.len() - 1.., last);
        v[key] = Value::from(hex);
    };
    // LEFT_ALONE_VERDICT: an unverifiable record listed as needing a reissue.
    edit(
        AuditCode::LeftAloneVerdict,
        &|r: &Rec| r.verdict == Verdict::Unverifiable,
        &|v| v["verdict"] = Value::from("needs_reissue"),
    );
    // LEFT_ALONE_SHA256: a left_alone entry's sha256 edited.
    edit(
        AuditCode::LeftAloneSha256,
        &|r: &Rec| r.verdict == Verdict::NeedsReissue,
        &|v| flip_hex(v, "sha256"),
    );
    // MANIFEST_IDENTIFIERS: a changed entry's serial edited.
    edit(AuditCode::ManifestIdentifiers, &changed, &|v| {
        flip_hex(v, "serial")
    });
    // MANIFEST_LOCATOR: a changed entry's locator edited.
    edit(AuditCode::ManifestLocator, &changed, &|v| {
        v["locator"]["offset"] = Value::from(1)
    });

    let mut out: Vec<String> = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != removed)
        .flat_map(|(i, l)| {
            let listed = (i == clean_listed.0).then(|| clean_listed.1.clone());
            listed.into_iter().chain([l.clone()])
        })
        .collect();
    out.insert(out.len() - 1, serde_json::to_string(&extra).unwrap());
    fs::write(sim.path("manifest-tampered.jsonl"), out.join("\n") + "\n").unwrap();
}

/// One dump put through the commands, in the temporary directory (relative paths): its
/// outputs are the files `NAME-*`, its snapshots `NAME__*`.
struct Dump<'a> {
    tmp: &'a Path,
    name: &'a str,
    input: &'a str,
    issuers: Option<&'a str>,
    /// The exit code of `scan` (1 when the dump holds remediable certificates or worse:
    /// --fail-on remediable).
    scan_exit: i32,
}

impl Dump<'_> {
    /// `smki ARGS --issuers ISSUERS --threads THREADS --quiet` in the temporary directory.
    fn smki(&self, args: &[&str], threads: &str, exit: i32) {
        let mut all = args.to_vec();
        if let Some(cas) = self.issuers {
            all.extend(["--issuers", cas]);
        }
        all.extend(["--threads", threads, "--quiet"]);
        smki_in(self.tmp, &all, exit);
    }

    /// The output file `NAME-WHAT` (relative to the temporary directory).
    fn file(&self, what: &str) -> String {
        format!("{}-{what}", self.name)
    }

    fn path(&self, what: &str) -> PathBuf {
        self.tmp.join(self.file(what))
    }

    /// `inspect --format json INPUT --issuers ISSUERS` (on stdout), pinned.
    fn pin_inspect(&self, pins: &mut Pins) {
        let mut args = vec!["inspect", "--format", "json", self.input];
        if let Some(cas) = self.issuers {
            args.extend(["--issuers", cas]);
        }
        let out = smki_in(self.tmp, &args, 0);
        let inspect = String::from_utf8(out.stdout).expect("UTF-8");
        for f in serde_json::from_str::<Vec<Value>>(&inspect).expect("a JSON array") {
            pins.finding(&f);
        }
        pins.pin(&format!("{}__inspect.json", self.name), &inspect);
    }

    /// `scan --findings NAME-TAG.jsonl --csv NAME-TAG.csv --json NAME-TAG.json EXTRA`.
    fn scan(&self, threads: &str, tag: &str, extra: &[&str]) {
        let files = ["jsonl", "csv", "json"].map(|ext| self.file(&format!("{tag}.{ext}")));
        let mut args = vec![
            "scan",
            self.input,
            "--findings",
            &files[0],
            "--csv",
            &files[1],
            "--json",
            &files[2],
        ];
        args.extend(extra);
        self.smki(&args, threads, self.scan_exit);
    }

    /// Scans, and pins the findings, the CSV and the summary.
    fn pin_scan(&self, pins: &mut Pins, tag: &str, extra: &[&str]) {
        self.scan(THREADS, tag, extra);
        pins.findings_jsonl(&self.path(&format!("{tag}.jsonl")));
        for (ext, what) in [
            ("jsonl", "_findings.jsonl"),
            ("csv", ".csv"),
            ("json", "_summary.json"),
        ] {
            pins.pin_file(
                &format!("{}__{tag}{what}", self.name),
                &self.path(&format!("{tag}.{ext}")),
            );
        }
    }

    /// Remediates into `NAME-remediated` (plus `ext`), and pins the manifest and summary.
    fn pin_remediate(&self, pins: &mut Pins, ext: &str) {
        let (out, manifest, json) = (
            self.file(&format!("remediated{ext}")),
            self.file("manifest.jsonl"),
            self.file("remediation.json"),
        );
        let args = [
            "remediate",
            self.input,
            "--out",
            &out,
            "--manifest",
            &manifest,
            "--json",
            &json,
        ];
        self.smki(&args, THREADS, 0);
        pins.manifest(&self.path("manifest.jsonl"));
        pins.pin_file(
            &format!("{}__remediate_manifest.jsonl", self.name),
            &self.path("manifest.jsonl"),
        );
        pins.pin_file(
            &format!("{}__remediate_summary.json", self.name),
            &self.path("remediation.json"),
        );
    }

    /// Audits `remediated` with `manifest` (files of this dump) into `NAME-TAG.json`, pins the
    /// report, and checks whether it passed.
    fn pin_audit(
        &self,
        pins: &mut Pins,
        remediated: &str,
        manifest: &str,
        tag: &str,
        passed: bool,
    ) {
        let (remediated, manifest, json) = (
            self.file(remediated),
            self.file(manifest),
            self.file(&format!("{tag}.json")),
        );
        let args = [
            "audit",
            "--original",
            self.input,
            "--remediated",
            &remediated,
            "--manifest",
            &manifest,
            "--json",
            &json,
        ];
        self.smki(&args, THREADS, if passed { 0 } else { 1 });
        let report = pins.audit(&self.path(&format!("{tag}.json")));
        assert_eq!(report["passed"], passed, "{} {tag}", self.name);
        pins.pin_file(
            &format!("{}__{tag}.json", self.name),
            &self.path(&format!("{tag}.json")),
        );
    }
}

#[test]
fn wire_formats_are_pinned() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let tmp = dir.path();
    let mut pins = Pins::new(tmp);

    // ---- fixtures/sample (a copy: every command runs in the temporary directory) -------
    support::copy_tree(
        &repo_root().join("fixtures/sample"),
        &tmp.join("fixtures/sample"),
    );
    let sample = Dump {
        tmp,
        name: "sample",
        input: "fixtures/sample/certificates.pem",
        issuers: Some("fixtures/sample/cas"),
        scan_exit: 1,
    };
    sample.pin_inspect(&mut pins);
    sample.pin_scan(&mut pins, "scan", &[]);
    // Without the CA certificates: every issuer key recovered from the signatures.
    let recovered = Dump {
        issuers: None,
        ..sample
    };
    recovered.pin_scan(&mut pins, "scan_recovered", &["--recover-issuer-keys"]);
    sample.pin_remediate(&mut pins, ".pem");
    sample.pin_audit(
        &mut pins,
        "remediated.pem",
        "manifest.jsonl",
        "audit_passed",
        true,
    );

    // ---- a simulated corpus with every injection ------------------------------------
    let mut args: Vec<String> = [
        "simulate",
        "--quiet",
        "--count",
        SIM_COUNT,
        "--seed",
        SIM_SEED,
        "--defect-rate",
        SIM_DEFECT_RATE,
        "--threads",
        THREADS,
        "--out",
        "sim",
    ]
    .map(String::from)
    .to_vec();
    for inj in smki_sim::Injection::all() {
        args.push("--inject".into());
        args.push(format!("{}={SIM_INJECT_RATE}", inj.name()));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    smki_in(tmp, &args, 0);
    let truth = support::jsonl(&tmp.join("sim/ground-truth.jsonl"));
    for inj in smki_sim::Injection::all() {
        assert!(
            truth.iter().any(|t| t["injected"] == inj.name()),
            "the simulated corpus has no {} certificate: change SIM_SEED or SIM_COUNT",
            inj.name()
        );
    }
    hand_made(tmp);
    let sim = Dump {
        tmp,
        name: "sim",
        input: "sim/certs",
        issuers: Some("sim/cas"),
        scan_exit: 1,
    };
    sim.pin_scan(&mut pins, "scan", &[]);
    // The same bytes on one thread and on three (the summary's `threads` aside).
    for threads in ["1", "3"] {
        sim.scan(threads, "threads", &[]);
        for ext in ["jsonl", "csv"] {
            assert!(
                fs::read(sim.path(&format!("threads.{ext}"))).unwrap()
                    == fs::read(sim.path(&format!("scan.{ext}"))).unwrap(),
                "scan --threads {threads} writes other {ext} than --threads {THREADS}"
            );
        }
    }
    sim.pin_remediate(&mut pins, "");
    sim.pin_audit(
        &mut pins,
        "remediated",
        "manifest.jsonl",
        "audit_passed",
        true,
    );
    let records: Vec<Rec> = support::jsonl(&sim.path("scan.jsonl"))
        .iter()
        .enumerate()
        .map(|(index, f)| Rec {
            index,
            file: f["locator"]["file"].as_str().unwrap().to_string(),
            verdict: verdict(f),
        })
        .collect();
    tamper(&sim, &records);
    sim.pin_audit(
        &mut pins,
        "tampered",
        "manifest-tampered.jsonl",
        "audit_failed",
        false,
    );

    // ---- the SMKI profile lints: certificates made here, each breaking a rule ----------
    let root = lint_corpus::Root::new();
    for dir in ["lints/cas", "lints/certs"] {
        fs::create_dir_all(tmp.join(dir)).unwrap();
    }
    fs::write(tmp.join("lints/cas/root.der"), &root.der).unwrap();
    for (file, der) in lint_corpus::corpus(&root) {
        fs::write(tmp.join("lints/certs").join(file), der).unwrap();
    }
    let lints = Dump {
        tmp,
        name: "lints",
        input: "lints/certs",
        issuers: Some("lints/cas"),
        scan_exit: 1,
    };
    lints.pin_inspect(&mut pins);
    lints.pin_scan(&mut pins, "scan", &[]);

    // ---- an extract: a full CSV and its daily deltas (new rows, status updates) --------
    let mut args = vec![
        "simulate",
        "--quiet",
        "--format",
        "extract",
        "--count",
        EXTRACT_COUNT,
        "--seed",
        EXTRACT_SEED,
        "--defect-rate",
        SIM_DEFECT_RATE,
        "--delta-days",
        EXTRACT_DELTA_DAYS,
        "--threads",
        THREADS,
        "--out",
        "ext",
    ];
    for inj in EXTRACT_INJECT {
        args.extend(["--inject", inj]);
    }
    smki_in(tmp, &args, 0);
    let extract = Dump {
        tmp,
        name: "extract",
        input: "ext/extract",
        issuers: Some("ext/cas"),
        scan_exit: 1,
    };
    extract.pin_scan(&mut pins, "scan", &[]);
    check_extract(&extract);
    extract.pin_remediate(&mut pins, ".csv");
    pins.pin(
        "extract__remediated.csv",
        &csv_digest(&read(&extract.path("remediated.csv"))),
    );
    extract.pin_audit(
        &mut pins,
        "remediated.csv",
        "manifest.jsonl",
        "audit_passed",
        true,
    );
    // METADATA_CHANGED: a row's status edited in the remediated extract.
    let mut rows: Vec<String> = read(&extract.path("remediated.csv"))
        .lines()
        .map(String::from)
        .collect();
    let row = rows
        .iter()
        .position(|l| !l.contains('"') && l.split(',').nth(3) == Some("I"))
        .expect("a row in use");
    let mut cols: Vec<&str> = rows[row].split(',').collect();
    cols[3] = "R";
    rows[row] = cols.join(",");
    fs::write(extract.path("tampered.csv"), rows.join("\n") + "\n").unwrap();
    extract.pin_audit(
        &mut pins,
        "tampered.csv",
        "manifest.jsonl",
        "audit_failed",
        false,
    );

    // ---- every code is in the snapshots ------------------------------------------------
    fn missing<T: AsRef<str> + Ord + std::fmt::Debug>(
        what: &str,
        want: impl IntoIterator<Item = &'static str>,
        seen: &BTreeSet<T>,
    ) {
        let missing: Vec<&str> = want
            .into_iter()
            .filter(|c| !seen.iter().any(|s| s.as_ref() == *c))
            .collect();
        assert!(
            missing.is_empty(),
            "{what} missing from the snapshotted outputs: {missing:?} (seen: {seen:?})"
        );
    }
    // Every defect code: the DefectCodes of the signature and of the certificate (CERT_BER,
    // and CERT_SIG_ALG_MISMATCH / CERT_UNSUPPORTED_ALG from the hand-made certificates).
    missing(
        "defect codes",
        DefectCode::ALL.iter().map(|c| c.as_str()),
        &pins.defect_codes,
    );
    missing(
        "verdicts",
        Verdict::ALL.iter().map(|v| v.as_str()),
        &pins.verdicts,
    );
    // The tags of the enums that carry data (SignatureCheck, KeySource, manifest Entry).
    missing(
        "signature statuses",
        ["valid", "invalid", "issuer_unknown", "not_checked"],
        &pins.signature_statuses,
    );
    missing("key sources", ["anchor", "recovered"], &pins.key_sources);
    missing(
        "manifest entry kinds",
        ["changed", "left_alone", "end"],
        &pins.manifest_kinds,
    );
    missing(
        "verdicts of records left alone",
        [
            Verdict::NeedsReissue,
            Verdict::Unverifiable,
            Verdict::Unreadable,
        ]
        .map(Verdict::as_str),
        &pins.left_alone_verdicts,
    );
    missing(
        "audit failure codes",
        AuditCode::ALL.iter().map(|c| c.as_str()),
        &pins.audit_codes,
    );
    missing(
        "lint codes",
        LintCode::ALL.iter().map(|c| c.as_str()),
        &pins.lint_codes,
    );
    println!("lint codes pinned: {:?}", pins.lint_codes);
    for (name, size) in &pins.sizes {
        println!("{name}: {size} bytes");
    }
    assert!(
        pins.failed.is_empty(),
        "outputs differ from their snapshots (tests/snapshots/): {:?}",
        pins.failed
    );
}
