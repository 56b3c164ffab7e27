//! Tampering is caught: starting from a correct remediation, each kind of tampering makes
//! `smki audit` fail with the right reason.
mod support;

use serde_json::Value;
use smki_scan::audit::AuditCode;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const SMKI: &str = env!("CARGO_BIN_EXE_smki");

struct Corpus {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Corpus {
    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(SMKI).args(args).output().expect("run smki")
}

/// A simulated DER tree with the 2018 defect at 10%, remediated.
fn remediated_corpus() -> Corpus {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let s = |p: &str| root.join(p).display().to_string();
    let o = run(&[
        "simulate",
        "--quiet",
        "--count",
        "300",
        "--seed",
        "5",
        "--defect-rate",
        "0.1",
        "--out",
        &s("sim"),
    ]);
    assert!(
        o.status.success(),
        "simulate: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = run(&[
        "remediate",
        &s("sim/certs"),
        "--issuers",
        &s("sim/cas"),
        "--out",
        &s("rem"),
        "--manifest",
        &s("manifest.jsonl"),
        "--quiet",
    ]);
    assert!(
        o.status.success(),
        "remediate: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    Corpus { _dir: dir, root }
}

/// Audits `rem` with `manifest` against the original; returns (exit code, failure codes).
fn audit(c: &Corpus, rem: &Path, manifest: &Path) -> (i32, Vec<AuditCode>) {
    let json = c.path("audit.json");
    let o = Command::new(SMKI)
        .args(["audit", "--quiet", "--original"])
        .arg(c.path("sim/certs"))
        .arg("--remediated")
        .arg(rem)
        .arg("--manifest")
        .arg(manifest)
        .arg("--issuers")
        .arg(c.path("sim/cas"))
        .arg("--json")
        .arg(&json)
        .output()
        .expect("run smki audit");
    let report: Value = serde_json::from_slice(&fs::read(&json).expect("audit json")).unwrap();
    let codes = report["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| serde_json::from_value(f["code"].clone()).unwrap())
        .collect();
    (o.status.code().unwrap_or(-1), codes)
}

fn manifest_lines(c: &Corpus) -> Vec<String> {
    fs::read_to_string(c.path("manifest.jsonl"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

/// The remediated path of a manifest entry's certificate.
fn remediated_file(c: &Corpus, tree: &Path, entry: &Value) -> PathBuf {
    let orig = PathBuf::from(entry["locator"]["file"].as_str().unwrap());
    tree.join(orig.strip_prefix(c.path("sim/certs")).unwrap())
}

fn changed_entries(c: &Corpus) -> Vec<Value> {
    manifest_lines(c)
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| {
            matches!(
                serde_json::from_value(v.clone()),
                Ok(smki_scan::manifest::Entry::Changed { .. })
            )
        })
        .collect()
}

/// All files of a tree, sorted.
fn files(tree: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![tree.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if !p.ends_with(".smki-tree") {
                // Not the tree's marker (docs/outputs.md): a certificate file.
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A clean (unchanged) certificate file of the remediated tree.
fn clean_file(c: &Corpus, tree: &Path) -> PathBuf {
    let changed: Vec<PathBuf> = changed_entries(c)
        .iter()
        .map(|e| remediated_file(c, tree, e))
        .collect();
    files(tree)
        .into_iter()
        .find(|f| !changed.contains(f))
        .unwrap()
}

/// Offsets of the tbsCertificate and the signature's s INTEGER content in a canonical certificate.
fn tbs_range(der: &[u8]) -> std::ops::Range<usize> {
    let v = smki_x509::CertView::split(der).unwrap();
    v.tbs.content.clone()
}

fn reencode(der: &[u8], f: impl Fn([u8; 32], [u8; 32]) -> Vec<u8>) -> Vec<u8> {
    let v = smki_x509::CertView::split(der).unwrap();
    let (r, s) = v.analyse_signature().rs().unwrap();
    smki_der::encode::certificate(v.tbs_bytes(), v.signature_algorithm_bytes(), &f(r, s))
}

/// n - s, big-endian.
fn neg(s: [u8; 32]) -> [u8; 32] {
    let n = smki_der::P256_ORDER;
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = n[i] as i16 - s[i] as i16 - borrow;
        out[i] = d.rem_euclid(256) as u8;
        borrow = i16::from(d < 0);
    }
    out
}

fn expect_failure(c: &Corpus, rem: &Path, manifest: &Path, code: AuditCode, what: &str) {
    let (exit, codes) = audit(c, rem, manifest);
    assert_eq!(exit, 1, "{what}: audit must fail (codes {codes:?})");
    assert!(
        codes.contains(&code),
        "{what}: expected {code}, got {codes:?}"
    );
    println!("{what}: caught as {codes:?}");
}

#[test]
fn every_kind_of_tampering_is_caught() {
    let c = remediated_corpus();
    let manifest = c.path("manifest.jsonl");
    let (exit, codes) = audit(&c, &c.path("rem"), &manifest);
    assert_eq!(
        (exit, codes.clone()),
        (0, vec![]),
        "the untampered remediation passes"
    );
    let changed = changed_entries(&c);
    assert!(
        changed.len() >= 10,
        "the corpus has remediated certificates: {}",
        changed.len()
    );
    let fresh = |name: &str| {
        let t = c.path(name);
        support::copy_tree(&c.path("rem"), &t);
        t
    };

    // One byte of a tbsCertificate changed (in a remediated certificate).
    let t = fresh("t-tbs");
    let f = remediated_file(&c, &t, &changed[0]);
    let mut der = fs::read(&f).unwrap();
    let at = tbs_range(&der).start + 20;
    der[at] ^= 0x01;
    fs::write(&f, der).unwrap();
    expect_failure(&c, &t, &manifest, AuditCode::TbsChanged, "tbs byte flipped");

    // A different valid signature swapped in: (r, n - s) verifies too.
    let t = fresh("t-sig");
    let f = remediated_file(&c, &t, &changed[1]);
    let der = reencode(&fs::read(&f).unwrap(), |r, s| {
        smki_der::encode::signature_bit_string(&r, &neg(s))
    });
    fs::write(&f, der).unwrap();
    expect_failure(
        &c,
        &t,
        &manifest,
        AuditCode::RsChanged,
        "other valid signature",
    );

    // A certificate dropped.
    let t = fresh("t-drop");
    fs::remove_file(clean_file(&c, &t)).unwrap();
    expect_failure(&c, &t, &manifest, AuditCode::Dropped, "certificate dropped");

    // One added (a copy of a CA certificate, under a new name).
    let t = fresh("t-add");
    let victim = clean_file(&c, &t);
    fs::copy(
        c.path("sim/cas/root.der"),
        victim.with_file_name("0-added.der"),
    )
    .unwrap();
    expect_failure(&c, &t, &manifest, AuditCode::Added, "certificate added");

    // One duplicated (a second copy right after the original).
    let t = fresh("t-dup");
    let victim = clean_file(&c, &t);
    let mut name = victim.file_name().unwrap().to_os_string();
    name.push(".dup.der");
    fs::copy(&victim, victim.with_file_name(name)).unwrap();
    expect_failure(
        &c,
        &t,
        &manifest,
        AuditCode::Duplicated,
        "certificate duplicated",
    );

    // A manifest line edited.
    let mut lines = manifest_lines(&c);
    lines[0] = lines[0].replacen("\"serial\":\"", "\"serial\":\"00", 1);
    let edited = c.path("m-edited.jsonl");
    fs::write(&edited, lines.join("\n") + "\n").unwrap();
    expect_failure(
        &c,
        &c.path("rem"),
        &edited,
        AuditCode::ManifestChain,
        "manifest line edited",
    );

    // Manifest lines reordered.
    let mut lines = manifest_lines(&c);
    lines.swap(0, 1);
    let reordered = c.path("m-reordered.jsonl");
    fs::write(&reordered, lines.join("\n") + "\n").unwrap();
    expect_failure(
        &c,
        &c.path("rem"),
        &reordered,
        AuditCode::ManifestChain,
        "manifest lines reordered",
    );

    // An unaffected certificate re-encoded anyway (outer length in long form: same tbs,
    // same signature), with a manifest forged to match and correctly chained: the audit
    // does not take the manifest's word for it.
    let t = fresh("t-unaffected");
    let victim = clean_file(&c, &t);
    let der = fs::read(&victim).unwrap();
    let v = smki_x509::CertView::split(&der).unwrap();
    let body = &der[v.outer.content.clone()];
    let mut re = vec![0x30, 0x83, 0x00, (body.len() >> 8) as u8, body.len() as u8];
    re.extend_from_slice(body);
    fs::write(&victim, &re).unwrap();
    let mut forged = smki_scan::manifest::ManifestWriter::new(Vec::new());
    let mut entries: Vec<smki_scan::manifest::Entry> = manifest_lines(&c)
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|e| !matches!(e, smki_scan::manifest::Entry::End { .. }))
        .collect();
    let orig_path = c.path("sim/certs").join(victim.strip_prefix(&t).unwrap());
    let orig = fs::read(&orig_path).unwrap();
    let index = files(&c.path("sim/certs"))
        .iter()
        .position(|p| *p == orig_path)
        .unwrap() as u64;
    let (r, s) = v.analyse_signature().rs().unwrap();
    entries.push(smki_scan::manifest::Entry::Changed {
        index,
        locator: smki_repo::Locator {
            file: orig_path.display().to_string().into(),
            record: 0,
            line: None,
            offset: 0,
        },
        serial: None,
        issuer_key_id: None,
        eui64: None,
        old_sha256: smki_x509::sha256(&orig),
        new_sha256: smki_x509::sha256(&re),
        defects_fixed: vec![],
        r,
        s,
        prev: Default::default(),
    });
    entries.sort_by_key(|e| e.index());
    for e in entries {
        forged.push(e).unwrap();
    }
    let forged_path = c.path("m-forged.jsonl");
    fs::write(&forged_path, forged.finish(300).unwrap()).unwrap();
    expect_failure(
        &c,
        &t,
        &forged_path,
        AuditCode::UnaffectedChanged,
        "unaffected certificate re-encoded",
    );
}

#[test]
fn remediation_is_idempotent_and_refuses_its_input() {
    let c = remediated_corpus();
    let s = |p: &str| c.path(p).display().to_string();
    // Running it on its own output changes nothing.
    let o = run(&[
        "remediate",
        &s("rem"),
        "--issuers",
        &s("sim/cas"),
        "--out",
        &s("rem2"),
        "--manifest",
        &s("m2.jsonl"),
        "--json",
        &s("r2.json"),
        "--quiet",
    ]);
    assert!(o.status.success());
    let r2: Value = serde_json::from_slice(&fs::read(c.path("r2.json")).unwrap()).unwrap();
    assert_eq!(r2["changed"], 0, "second remediation changes nothing");
    let (a, b) = (files(&c.path("rem")), files(&c.path("rem2")));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            fs::read(x).unwrap(),
            fs::read(y).unwrap(),
            "{}",
            x.display()
        );
    }
    // An output equal to the input (or inside it) is refused, and the input is untouched.
    let before: Vec<Vec<u8>> = files(&c.path("sim/certs"))
        .iter()
        .map(|p| fs::read(p).unwrap())
        .collect();
    for out in [s("sim/certs"), s("sim/certs/inner")] {
        let o = run(&[
            "remediate",
            &s("sim/certs"),
            "--out",
            &out,
            "--manifest",
            &s("m3.jsonl"),
        ]);
        assert_eq!(o.status.code(), Some(2), "output {out} refused");
        assert!(String::from_utf8_lossy(&o.stderr).contains("refused"));
    }
    let after: Vec<Vec<u8>> = files(&c.path("sim/certs"))
        .iter()
        .map(|p| fs::read(p).unwrap())
        .collect();
    assert_eq!(before, after, "the input is never modified");
}
