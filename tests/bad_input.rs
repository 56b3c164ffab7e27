//! A catalogue of bad input, each through `smki scan` and `smki remediate`: every bad record
//! is a finding naming the file, the record and the byte offset; the rest of the dump is
//! still scanned; the exit code follows the policy; nothing panics; remediation neither drops
//! nor alters the bad record.
use serde_json::Value;
use smki_der::DefectCode;
use smki_scan::Verdict;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod support;
use support::{typed, verdict};

const SMKI: &str = env!("CARGO_BIN_EXE_smki");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The good certificates: the project's own sample corpus, one DER file each.
fn good_certificates() -> Vec<Vec<u8>> {
    support::sample_certificates()
}

fn smki(args: &[&str]) -> Output {
    let out = Command::new(SMKI).args(args).output().expect("run smki");
    assert_ne!(
        out.status.code(),
        Some(101),
        "smki panicked: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn findings(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A dump directory: the good certificates as DER files, plus whatever `add` puts there.
struct Case {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Case {
    fn new(name: &str, add: impl FnOnce(&Path)) -> Case {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join(name);
        fs::create_dir_all(root.join("dump")).unwrap();
        for (i, der) in good_certificates().iter().enumerate() {
            fs::write(root.join(format!("dump/good-{i:03}.der")), der).unwrap();
        }
        add(&root.join("dump"));
        Case { _dir: dir, root }
    }
    fn p(&self, rel: &str) -> String {
        self.root.join(rel).display().to_string()
    }

    /// Scans the dump; checks every good certificate is there with its verdict and returns
    /// the findings that are not among the good ones.
    fn scan(&self) -> (Vec<Value>, i32) {
        let issuers = repo().join("fixtures/sample/cas").display().to_string();
        let out = smki(&[
            "scan",
            &self.p("dump"),
            "--issuers",
            &issuers,
            "--findings",
            &self.p("f.jsonl"),
            "--quiet",
            "--fail-on",
            "unreadable",
        ]);
        let all = findings(&self.root.join("f.jsonl"));
        let good: Vec<&Value> = all
            .iter()
            .filter(|f| f["locator"]["file"].as_str().unwrap().contains("/good-"))
            .collect();
        assert_eq!(
            good.len(),
            good_certificates().len(),
            "every good certificate is still scanned"
        );
        assert!(good.iter().all(|f| verdict(f) != Verdict::Unreadable));
        let bad = all
            .into_iter()
            .filter(|f| !f["locator"]["file"].as_str().unwrap().contains("/good-"))
            .collect();
        (bad, out.status.code().unwrap())
    }

    /// Remediates the dump and checks every file of the input is in the output, the bad ones
    /// byte for byte.
    fn remediate(&self, bad_files: &[&str]) -> Output {
        let issuers = repo().join("fixtures/sample/cas").display().to_string();
        let out = smki(&[
            "remediate",
            &self.p("dump"),
            "--issuers",
            &issuers,
            "--out",
            &self.p("out"),
            "--manifest",
            &self.p("m.jsonl"),
            "--quiet",
        ]);
        for name in bad_files {
            let original = fs::read(self.root.join("dump").join(name)).unwrap();
            let copied = fs::read(self.root.join("out").join(name))
                .unwrap_or_else(|e| panic!("{name} dropped by remediation: {e}"));
            assert_eq!(original, copied, "{name} altered by remediation");
        }
        let manifest = fs::read_to_string(self.root.join("m.jsonl")).unwrap();
        for name in bad_files {
            assert!(
                manifest
                    .lines()
                    .any(|l| l.contains("left_alone") && l.contains(name)),
                "{name} listed as left alone"
            );
        }
        out
    }
}

/// The single bad finding of a case, which must name the file, record and offset.
fn one_bad(bad: &[Value], file: &str, offset: u64, reason: &str) -> Value {
    assert_eq!(bad.len(), 1, "one finding for the bad record: {bad:?}");
    let f = bad[0].clone();
    assert!(
        f["locator"]["file"].as_str().unwrap().ends_with(file),
        "{f}"
    );
    assert_eq!(f["locator"]["record"], 0, "{f}");
    assert_eq!(f["locator"]["offset"], offset, "{f}");
    assert!(
        f["reason"].as_str().unwrap().contains(reason),
        "reason {:?} should say {reason:?}",
        f["reason"]
    );
    f
}

#[test]
fn empty_file() {
    let c = Case::new("empty", |d| fs::write(d.join("empty.der"), b"").unwrap());
    let (bad, code) = c.scan();
    let f = one_bad(&bad, "empty.der", 0, "empty file");
    assert_eq!(verdict(&f), Verdict::Unreadable);
    assert_eq!(
        code, 1,
        "--fail-on unreadable: an unreadable record fails the scan"
    );
    c.remediate(&["empty.der"]);
}

#[test]
fn truncated_certificate_and_length_past_the_end() {
    let good = good_certificates();
    let c = Case::new("truncated", |d| {
        fs::write(d.join("truncated.der"), &good[0][..good[0].len() / 2]).unwrap();
        fs::write(
            d.join("huge.der"),
            [&[0x30u8, 0x84, 0x7f, 0xff, 0xff, 0xff][..], &good[1][4..]].concat(),
        )
        .unwrap();
    });
    let (bad, _) = c.scan();
    assert_eq!(bad.len(), 2);
    for f in &bad {
        assert_eq!(verdict(f), Verdict::Unreadable);
        assert_eq!(f["locator"]["offset"], 0);
        assert!(f["reason"].as_str().unwrap().contains("truncated"), "{f}");
    }
    c.remediate(&["truncated.der", "huge.der"]);
}

#[test]
fn random_bytes() {
    let c = Case::new("random", |d| {
        let mut x: u64 = 0x243f6a8885a308d3;
        let bytes: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        fs::write(d.join("random.der"), bytes).unwrap();
    });
    let (bad, _) = c.scan();
    assert!(
        !bad.is_empty() && bad.iter().all(|f| verdict(f) == Verdict::Unreadable),
        "{bad:?}"
    );
    c.remediate(&["random.der"]);
}

#[test]
fn pem_with_wrong_label_and_broken_base64() {
    let good = good_certificates();
    let c = Case::new("pem", |d| {
        let block = support::pem_certificate(&good[0]);
        let wrong = block.replace("CERTIFICATE", "PRIVATE KEY");
        let mut broken = block.clone().into_bytes();
        broken[40] = b'!';
        let text = format!(
            "{}{}{}",
            wrong,
            String::from_utf8(broken).unwrap(),
            support::pem_certificate(&good[2])
        );
        fs::write(d.join("bundle.pem"), text).unwrap();
    });
    let (bad, _) = c.scan();
    assert_eq!(bad.len(), 3, "two bad blocks and one good one: {bad:?}");
    let lines: Vec<u64> = bad
        .iter()
        .map(|f| f["locator"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(verdict(&bad[0]), Verdict::Unreadable);
    assert!(
        bad[0]["reason"].as_str().unwrap().contains("PRIVATE KEY"),
        "{}",
        bad[0]
    );
    assert_eq!(verdict(&bad[1]), Verdict::Unreadable);
    assert!(
        bad[1]["reason"].as_str().unwrap().contains("base64"),
        "{}",
        bad[1]
    );
    assert_eq!(bad[1]["locator"]["record"], 1);
    assert!(bad[1]["locator"]["offset"].as_u64().unwrap() > 0);
    assert_ne!(
        verdict(&bad[2]),
        Verdict::Unreadable,
        "the good block after the bad ones is read"
    );
    assert!(lines[0] < lines[1] && lines[1] < lines[2]);
    let out = c.remediate(&[]);
    let _ = out;
    // The PEM bundle is rewritten: the bad blocks are in it unaltered, the good one too.
    let original = fs::read_to_string(c.root.join("dump/bundle.pem")).unwrap();
    let copied = fs::read_to_string(c.root.join("out/bundle.pem")).unwrap();
    assert_eq!(
        original, copied,
        "the bundle, bad blocks included, is copied unaltered"
    );
}

#[test]
fn rsa_p384_and_ed25519_certificates() {
    let openssl = support::require_tool("openssl");
    let c = Case::new("algorithms", |d| {
        for (name, args) in [
            ("rsa", vec!["-newkey", "rsa:2048"]),
            (
                "p384",
                vec!["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
            ),
            ("ed25519", vec!["-newkey", "ed25519"]),
        ] {
            let key = d.join(format!("{name}.key"));
            let cert = d.join(format!("{name}.der"));
            let mut cmd = Command::new(&openssl);
            cmd.args([
                "req",
                "-x509",
                "-nodes",
                "-subj",
                &format!("/CN={name}"),
                "-days",
                "30",
                "-outform",
                "DER",
            ]);
            cmd.args(&args)
                .arg("-keyout")
                .arg(&key)
                .arg("-out")
                .arg(&cert);
            support::run_ok(&mut cmd);
            fs::remove_file(key).unwrap();
        }
    });
    let (bad, code) = c.scan();
    assert_eq!(bad.len(), 3);
    for f in &bad {
        assert_eq!(verdict(f), Verdict::Unverifiable, "{f}");
        assert!(
            f["defects"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| typed::<DefectCode>(&d["code"]) == DefectCode::CertUnsupportedAlg),
            "{f}"
        );
        assert_eq!(f["locator"]["offset"], 0);
    }
    assert_eq!(
        code, 0,
        "--fail-on unreadable: unverifiable records do not fail the scan"
    );
    c.remediate(&["rsa.der", "p384.der", "ed25519.der"]);
}

#[test]
fn unreadable_file_and_symlink_loop() {
    let c = Case::new("links", |d| {
        std::os::unix::fs::symlink("/nonexistent/smki-test", d.join("dangling.der")).unwrap();
        fs::create_dir(d.join("sub")).unwrap();
        std::os::unix::fs::symlink("..", d.join("sub/loop")).unwrap();
    });
    let (bad, code) = c.scan();
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert!(bad.iter().any(|f| f["locator"]["file"]
        .as_str()
        .unwrap()
        .ends_with("dangling.der")));
    assert!(bad
        .iter()
        .any(|f| f["reason"].as_str().unwrap().contains("symlink loop")));
    assert!(bad.iter().all(|f| verdict(f) == Verdict::Unreadable));
    assert_eq!(code, 1);
    // Nothing can be read from them, so nothing can be copied: remediation says so (exit 1)
    // and lists them; every good certificate is still written.
    let out = c.remediate(&[]);
    assert_eq!(out.status.code(), Some(1));
    let n = fs::read_dir(c.root.join("out"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name() != ".smki-tree")
        .count();
    assert_eq!(n, good_certificates().len());
}

#[test]
fn extract_with_a_bad_row() {
    let good = good_certificates();
    let c = Case::new("extract", |d| {
        let mut text = format!("{}\n", smki_repo::EXTRACT_HEADER);
        for (i, der) in good.iter().take(3).enumerate() {
            let meta = smki_repo::Metadata {
                serial: Some(format!("{i:02x}")),
                status: Some("I".into()),
                ..Default::default()
            };
            text.push_str(&smki_repo::extract_row(der, Some(&meta)));
            if i == 0 {
                text.push_str("ff,,,I,,,,,,not*base64\n");
            }
        }
        fs::write(d.join("full-20200101.csv"), text).unwrap();
    });
    let (bad, _) = c.scan();
    let csv: Vec<&Value> = bad
        .iter()
        .filter(|f| f["locator"]["file"].as_str().unwrap().ends_with(".csv"))
        .collect();
    assert_eq!(csv.len(), 4, "3 good rows and the bad one");
    let b = csv
        .iter()
        .find(|f| verdict(f) == Verdict::Unreadable)
        .expect("the bad row");
    assert_eq!(b["locator"]["line"], 3);
    assert_eq!(b["locator"]["record"], 1);
    assert!(b["locator"]["offset"].as_u64().unwrap() > 0);
    assert!(
        csv.iter()
            .filter(|f| verdict(f) != Verdict::Unreadable)
            .count()
            == 3,
        "the rows after the bad one are read"
    );

    // Remediation of the extract alone: one extract out, every row in it, the bad row
    // unaltered.
    let only = c.root.join("extract-only");
    fs::create_dir_all(&only).unwrap();
    fs::copy(
        c.root.join("dump/full-20200101.csv"),
        only.join("full-20200101.csv"),
    )
    .unwrap();
    let issuers = repo().join("fixtures/sample/cas").display().to_string();
    let out = c.root.join("remediated.csv");
    smki(&[
        "remediate",
        &only.display().to_string(),
        "--issuers",
        &issuers,
        "--out",
        &out.display().to_string(),
        "--manifest",
        &c.p("m2.jsonl"),
        "--quiet",
    ]);
    let text = fs::read_to_string(&out).unwrap();
    let original = fs::read_to_string(only.join("full-20200101.csv")).unwrap();
    assert!(
        text.contains("ff,,,I,,,,,,not*base64\n"),
        "the bad row is copied unaltered:\n{text}"
    );
    assert_eq!(
        text.lines().count(),
        original.lines().count(),
        "no row dropped or added"
    );
}
