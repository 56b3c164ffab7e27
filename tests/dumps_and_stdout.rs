//! Which files make a dump, and where the output goes, through the `smki` binary:
//!
//! * a dump directory with two symlink loops is scanned to the end, each loop reported once,
//!   every certificate found (the tree walked once, by the one walker of `smki-repo`);
//! * `inspect` of an extract directory reports the extract's certificates;
//! * a closed standard output (`smki scan BIG | head -1`) ends every printing command
//!   quietly with exit 0, a failing one (`> /dev/full`) with exit 2 and a message; never a
//!   panic.
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

mod support;

use support::{run_timeout, sample_certificates, smki};

const SMKI: &str = env!("CARGO_BIN_EXE_smki");

/// A hang guard, not a timing assertion: every run here takes well under a second.
const LIMIT: Duration = Duration::from_secs(20);

fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample")
}

/// A simulated dump (`format`, `count` certificates, the usual defects) in `dir`.
fn simulate(dir: &Path, format: &str, count: u64) {
    let out = smki(
        &[
            "simulate",
            "--count",
            &count.to_string(),
            "--format",
            format,
            "--quiet",
        ],
        &[("--out", dir)],
    );
    assert!(out.status.success(), "{out:?}");
}

fn no_panic(stderr: &[u8]) {
    let text = String::from_utf8_lossy(stderr);
    assert!(!text.contains("panicked"), "{text}");
}

#[test]
fn two_symlink_loops_are_reported_once_each_and_every_certificate_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    let certs = sample_certificates();
    let (in_a, rest) = certs.split_at(certs.len() / 3);
    let (in_b, in_extract) = rest.split_at(rest.len() / 2);
    for (sub, certs) in [("a", in_a), ("b", in_b)] {
        fs::create_dir_all(dump.join(sub)).unwrap();
        for (i, der) in certs.iter().enumerate() {
            fs::write(dump.join(format!("{sub}/{i:03}.der")), der).unwrap();
        }
    }
    // An extract among them: extract files are found by the same walk.
    let mut extract = format!("{}\n", smki_repo::EXTRACT_HEADER);
    for (i, der) in in_extract.iter().enumerate() {
        let meta = smki_repo::Metadata {
            serial: Some(format!("{i:04x}")),
            status: Some("I".into()),
            ..Default::default()
        };
        extract.push_str(&smki_repo::extract_row(der, Some(&meta)));
    }
    fs::write(dump.join("b/full-20240101.csv"), extract).unwrap();
    // Two links back to the top: a walker without a loop guard follows 2^40 paths (the
    // kernel's limit of 40 links per path ends each one), which is forever.
    std::os::unix::fs::symlink("..", dump.join("a/loop")).unwrap();
    std::os::unix::fs::symlink("..", dump.join("b/loop2")).unwrap();

    let findings = dir.path().join("findings.jsonl");
    let started = Instant::now();
    let out = run_timeout(
        Command::new(SMKI)
            .arg("scan")
            .arg(&dump)
            .arg("--issuers")
            .arg(sample().join("cas"))
            .arg("--findings")
            .arg(&findings)
            .args(["--fail-on", "never", "--quiet"]),
        LIMIT,
    );
    let elapsed = started.elapsed();
    no_panic(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let all = support::jsonl(&findings);
    let loops: Vec<&str> = all
        .iter()
        .filter(|f| {
            f["reason"]
                .as_str()
                .is_some_and(|r| r.contains("symlink loop"))
        })
        .map(|f| f["locator"]["file"].as_str().unwrap())
        .collect();
    assert_eq!(loops.len(), 2, "each loop once: {loops:?}");
    assert!(loops.iter().any(|f| f.ends_with("a/loop")), "{loops:?}");
    assert!(loops.iter().any(|f| f.ends_with("b/loop2")), "{loops:?}");
    let read: Vec<_> = all
        .iter()
        .filter(|f| f["verdict"] != "unreadable")
        .collect();
    assert_eq!(read.len(), certs.len(), "every certificate once");
    assert_eq!(all.len(), certs.len() + 2, "nothing else");
    let from_extract = read
        .iter()
        .filter(|f| f["locator"]["file"].as_str().unwrap().ends_with(".csv"))
        .count();
    assert_eq!(from_extract, in_extract.len());
    // Informative only (the limit above guards against a hang; speed is measured elsewhere).
    eprintln!("scanned the dump with two loops in {elapsed:?}");
}

#[test]
fn inspect_of_an_extract_directory_reports_its_certificates() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path(), "extract", 40);
    let extract = dir.path().join("extract");
    assert!(fs::read_dir(&extract).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("delta")));
    let findings = dir.path().join("findings.jsonl");
    let scan = smki(
        &["scan", "--fail-on", "never", "--quiet"],
        &[("", &extract), ("--findings", &findings)],
    );
    assert!(scan.status.success(), "{scan:?}");
    let scanned = support::jsonl(&findings);
    assert!(scanned.len() >= 40, "{}", scanned.len());

    let out = smki(&["inspect", "--format", "json"], &[("", &extract)]);
    no_panic(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let inspected: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(inspected.len(), scanned.len(), "the records scan reads");
    for (i, s) in inspected.iter().zip(&scanned) {
        assert_eq!(i["locator"], s["locator"]);
        assert_eq!(i["sha256"], s["sha256"]);
    }
    assert!(inspected
        .iter()
        .all(|f| f["locator"]["file"].as_str().unwrap().ends_with(".csv")));
}

/// Where the child's standard output goes.
enum Stdout {
    /// A pipe whose reader reads `lines` lines, then goes away (`| head -N`).
    ClosedAfter(usize),
    /// `/dev/full`: every write fails with ENOSPC.
    Full,
}

/// Runs `smki ARGS` with its standard output sent to `stdout`; returns its status and stderr.
fn run_with_stdout(args: &[&std::ffi::OsStr], stdout: Stdout) -> (ExitStatus, String) {
    let mut cmd = Command::new(SMKI);
    cmd.args(args).stdin(Stdio::null()).stderr(Stdio::piped());
    match stdout {
        Stdout::ClosedAfter(_) => cmd.stdout(Stdio::piped()),
        Stdout::Full => cmd.stdout(fs::File::create("/dev/full").unwrap()),
    };
    let mut child: Child = cmd.spawn().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    if let Stdout::ClosedAfter(lines) = stdout {
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        for _ in 0..lines {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
        }
        drop(reader);
    }
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("smki {args:?} did not finish within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stderr = err.join().unwrap();
    assert!(!stderr.contains("panicked"), "smki {args:?}: {stderr}");
    assert_ne!(status.code(), Some(101), "smki {args:?}: {stderr}");
    (status, stderr)
}

/// Every command that prints, on a simulated dump and its remediation.
struct Commands {
    _dir: tempfile::TempDir,
    dir: PathBuf,
}

impl Commands {
    fn new() -> Commands {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        simulate(&root.join("sim"), "der", 2000);
        let out = smki(
            &["remediate", "--quiet"],
            &[
                ("", &root.join("sim/certificates.der")),
                ("--issuers", &root.join("sim/cas")),
                ("--out", &root.join("remediated.der")),
                ("--manifest", &root.join("manifest.jsonl")),
            ],
        );
        assert!(out.status.success(), "{out:?}");
        Commands {
            _dir: dir,
            dir: root,
        }
    }

    fn p(&self, rel: &str) -> std::ffi::OsString {
        self.dir.join(rel).into_os_string()
    }

    /// (name, argv) of every printing command; `n` makes fresh output paths.
    fn all(&self, n: usize) -> Vec<(&'static str, Vec<std::ffi::OsString>)> {
        let os = |s: &str| std::ffi::OsString::from(s);
        vec![
            (
                "simulate",
                vec![
                    os("simulate"),
                    os("--count"),
                    os("20"),
                    os("--out"),
                    self.p(&format!("sim-{n}")),
                ],
            ),
            (
                "scan",
                vec![
                    os("scan"),
                    self.p("sim/certificates.der"),
                    os("--issuers"),
                    self.p("sim/cas"),
                ],
            ),
            (
                "inspect",
                vec![
                    os("inspect"),
                    self.p("sim/certificates.der"),
                    os("--issuers"),
                    self.p("sim/cas"),
                ],
            ),
            (
                "remediate",
                vec![
                    os("remediate"),
                    self.p("sim/certificates.der"),
                    os("--issuers"),
                    self.p("sim/cas"),
                    os("--out"),
                    self.p(&format!("rem-{n}.der")),
                    os("--manifest"),
                    self.p(&format!("man-{n}.jsonl")),
                ],
            ),
            (
                "audit",
                vec![
                    os("audit"),
                    os("--original"),
                    self.p("sim/certificates.der"),
                    os("--remediated"),
                    self.p("remediated.der"),
                    os("--manifest"),
                    self.p("manifest.jsonl"),
                    os("--issuers"),
                    self.p("sim/cas"),
                ],
            ),
        ]
    }
}

fn argv(v: &[std::ffi::OsString]) -> Vec<&std::ffi::OsStr> {
    v.iter().map(|s| s.as_os_str()).collect()
}

#[test]
fn a_closed_stdout_ends_every_command_quietly() {
    let c = Commands::new();
    // `| head -0`: the reader is gone before the first write.
    for (name, args) in c.all(0) {
        let (status, stderr) = run_with_stdout(&argv(&args), Stdout::ClosedAfter(0));
        assert_eq!(status.code(), Some(0), "{name}: {stderr}");
        assert!(stderr.is_empty(), "{name}: {stderr}");
    }
    // `smki inspect BIG | head -1`: the first line read, then the reader goes while smki is
    // still writing (the report is far larger than a pipe's buffer).
    let (_, args) = c.all(1).remove(2);
    let (status, stderr) = run_with_stdout(&argv(&args), Stdout::ClosedAfter(1));
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    // `smki scan BIG | head -1`.
    let (_, args) = c.all(1).remove(1);
    let (status, stderr) = run_with_stdout(&argv(&args), Stdout::ClosedAfter(1));
    assert!(matches!(status.code(), Some(0 | 1)), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn a_failing_stdout_is_exit_2_with_a_message() {
    let c = Commands::new();
    for (name, args) in c.all(2) {
        let (status, stderr) = run_with_stdout(&argv(&args), Stdout::Full);
        assert_eq!(status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.starts_with("smki: writing to standard output: ")
                && stderr.contains("No space left on device"),
            "{name}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
    }
}
