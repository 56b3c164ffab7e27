//! No command loses data (issue 15), run on the real `smki` binary:
//!
//! * every output option pointed at an input (the same file, through a symbolic or hard
//!   link, inside an input directory, a directory holding the input), two outputs naming the
//!   same file, and unusable output paths: refused with exit 2, a message naming both paths,
//!   and every file of the working directory byte-identical (SHA-256 before and after), with
//!   nothing added;
//! * an existing directory smki did not write, as `--out`: refused without `--force`, its
//!   files untouched; replaced with `--force`; a tree smki wrote is replaced without it;
//! * a remediation replacing an earlier tree output, killed with SIGKILL at timed points
//!   spread over its run and at each step of the tree swap (the `SMKI_TEST_PAUSE_AT` hook):
//!   the final path holds nothing, the complete old output or the complete new one (compared
//!   file by file with reference runs), which `smki audit` passes; the next run restores or
//!   removes what was left and ends with the new output and no leftover.
//!
//! The oracles: the input's bytes (SHA-256) before the run, and reference runs of the same
//! commands that were not interrupted.
mod support;

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::smki;

/// Every file under `root` (symbolic links not followed: a link is recorded as its target
/// path), relative path -> SHA-256 of its bytes. Directories are recorded too (empty hash).
fn snapshot(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for e in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let e = e.unwrap();
            let path = e.path();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            let ty = e.file_type().unwrap();
            if ty.is_symlink() {
                out.insert(
                    rel,
                    format!("-> {}", fs::read_link(&path).unwrap().display()),
                );
            } else if ty.is_dir() {
                out.insert(rel.clone() + "/", String::new());
                walk(root, &path, out);
            } else {
                out.insert(rel, hex::encode(Sha256::digest(fs::read(&path).unwrap())));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `smki` in `dir` (relative paths are relative to it).
fn smki_in(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_smki"));
    cmd.current_dir(dir).args(args);
    support::run_timeout(&mut cmd, support::CHILD_LIMIT)
}

/// The working directory of the overlap cases: `in.pem` (the sample corpus), `cas/` (its
/// issuers), `d/in.pem`, `link.pem` -> `in.pem`, `hard.pem` (a hard link to `in.pem`),
/// `linkd` -> `d`, and a remediation of `in.pem` (`r.pem`, `m.jsonl`) for the audit cases.
fn overlap_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    fs::copy(sample().join("certificates.pem"), p.join("in.pem")).unwrap();
    support::copy_tree(&sample().join("cas"), &p.join("cas"));
    fs::create_dir(p.join("d")).unwrap();
    fs::copy(p.join("in.pem"), p.join("d/in.pem")).unwrap();
    std::os::unix::fs::symlink("in.pem", p.join("link.pem")).unwrap();
    std::os::unix::fs::symlink("d", p.join("linkd")).unwrap();
    fs::hard_link(p.join("in.pem"), p.join("hard.pem")).unwrap();
    let o = smki_in(
        p,
        &[
            "remediate",
            "in.pem",
            "--issuers",
            "cas",
            "--out",
            "r.pem",
            "--manifest",
            "m.jsonl",
            "-q",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    dir
}

/// Each output aimed at an input, or at another output, or at an unusable path: exit 2, a
/// message naming both paths (`names`), and the working directory unchanged byte for byte.
#[test]
fn outputs_overlapping_inputs_are_refused_and_nothing_is_written() {
    let dir = overlap_dir();
    let p = dir.path();
    let rem = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut v = vec!["remediate", "in.pem", "--issuers", "cas"];
        v.extend_from_slice(extra);
        v
    };
    let audit = |json: &'static str| {
        vec![
            "audit",
            "--original",
            "in.pem",
            "--remediated",
            "r.pem",
            "--manifest",
            "m.jsonl",
            "--issuers",
            "cas",
            "--json",
            json,
        ]
    };
    let scan = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut v = vec!["scan", "in.pem", "--issuers", "cas"];
        v.extend_from_slice(extra);
        v
    };
    // (what, argv, the words the message must contain)
    let cases: Vec<(&str, Vec<&str>, Vec<&str>)> = vec![
        (
            "remediate --json INPUT",
            rem(&[
                "--out",
                "o.pem",
                "--manifest",
                "o.jsonl",
                "--json",
                "in.pem",
            ]),
            vec!["--json in.pem", "input in.pem"],
        ),
        (
            "remediate --out INPUT",
            rem(&["--out", "in.pem", "--manifest", "o.jsonl"]),
            vec!["--out in.pem", "input in.pem"],
        ),
        (
            "remediate --manifest INPUT",
            rem(&["--out", "o.pem", "--manifest", "in.pem"]),
            vec!["--manifest in.pem", "input in.pem"],
        ),
        (
            "remediate --manifest a symlink to INPUT",
            rem(&["--out", "o.pem", "--manifest", "link.pem"]),
            vec!["--manifest link.pem", "input in.pem"],
        ),
        (
            "remediate --manifest a hard link to INPUT",
            rem(&["--out", "o.pem", "--manifest", "hard.pem"]),
            vec!["--manifest hard.pem", "input in.pem"],
        ),
        (
            "remediate --manifest inside --issuers",
            rem(&["--out", "o.pem", "--manifest", "cas/o.jsonl"]),
            vec!["--manifest cas/o.jsonl", "input directory cas"],
        ),
        (
            "remediate --out an issuer file",
            {
                let mut v = vec!["remediate", "d/in.pem", "--issuers", "cas/bundle.pem"];
                v.extend(["--out", "cas/bundle.pem", "--manifest", "o.jsonl"]);
                v
            },
            vec!["--out cas/bundle.pem", "input cas/bundle.pem"],
        ),
        (
            "remediate d/in.pem --format der-tree --out d",
            vec![
                "remediate",
                "d/in.pem",
                "--issuers",
                "cas",
                "--format",
                "der-tree",
                "--out",
                "d",
                "--manifest",
                "o.jsonl",
            ],
            vec!["--out d", "input d/in.pem"],
        ),
        (
            "remediate d/in.pem --format der-tree --out linkd (a symlink to d)",
            vec![
                "remediate",
                "d/in.pem",
                "--issuers",
                "cas",
                "--format",
                "der-tree",
                "--out",
                "linkd",
                "--manifest",
                "o.jsonl",
            ],
            vec!["--out linkd", "input d/in.pem"],
        ),
        (
            "remediate d --out d/sub (inside the input directory)",
            vec![
                "remediate",
                "d",
                "--issuers",
                "cas",
                "--out",
                "d/sub",
                "--manifest",
                "o.jsonl",
            ],
            vec!["--out d/sub", "input directory d"],
        ),
        (
            "remediate --manifest inside a symlinked input directory",
            vec![
                "remediate",
                "d",
                "--issuers",
                "cas",
                "--out",
                "o.pem",
                "--manifest",
                "linkd/o.jsonl",
            ],
            vec!["--manifest linkd/o.jsonl", "input directory d"],
        ),
        (
            "remediate --out and --manifest the same file",
            rem(&["--out", "o.pem", "--manifest", "./o.pem"]),
            vec!["--manifest ./o.pem", "--out o.pem"],
        ),
        (
            "remediate --manifest and --json the same file",
            rem(&[
                "--out",
                "o.pem",
                "--manifest",
                "o.jsonl",
                "--json",
                "o.jsonl",
            ]),
            vec!["--json o.jsonl", "--manifest o.jsonl"],
        ),
        (
            "remediate --manifest inside the tree --out",
            rem(&[
                "--format",
                "der-tree",
                "--out",
                "t",
                "--manifest",
                "t/o.jsonl",
            ]),
            vec!["--manifest t/o.jsonl", "--out t"],
        ),
        (
            "remediate --manifest under a file",
            rem(&["--out", "o.pem", "--manifest", "in.pem/o.jsonl"]),
            vec!["--manifest in.pem/o.jsonl", "in.pem is not a directory"],
        ),
        (
            "remediate --manifest an existing directory",
            rem(&["--out", "o.pem", "--manifest", "d"]),
            vec!["--manifest d is an existing directory"],
        ),
        (
            "remediate --manifest in a directory that cannot be created",
            rem(&["--out", "o.pem", "--manifest", "/proc/smki-no/o.jsonl"]),
            vec!["/proc/smki-no/o.jsonl"],
        ),
        (
            "scan --findings INPUT",
            scan(&["--findings", "in.pem"]),
            vec!["--findings in.pem", "input in.pem"],
        ),
        (
            "scan --csv INPUT",
            scan(&["--csv", "in.pem"]),
            vec!["--csv in.pem", "input in.pem"],
        ),
        (
            "scan --json INPUT",
            scan(&["--json", "in.pem"]),
            vec!["--json in.pem", "input in.pem"],
        ),
        (
            "scan --findings a symlink to INPUT",
            scan(&["--findings", "link.pem"]),
            vec!["--findings link.pem", "input in.pem"],
        ),
        (
            "scan d --csv inside d",
            vec!["scan", "d", "--issuers", "cas", "--csv", "d/f.csv"],
            vec!["--csv d/f.csv", "input directory d"],
        ),
        (
            "scan --findings and --csv the same file",
            scan(&["--findings", "f.out", "--csv", "f.out"]),
            vec!["--csv f.out", "--findings f.out"],
        ),
        (
            "audit --json ORIGINAL",
            audit("in.pem"),
            vec!["--json in.pem", "input in.pem"],
        ),
        (
            "audit --json REMEDIATED",
            audit("r.pem"),
            vec!["--json r.pem", "input r.pem"],
        ),
        (
            "audit --json MANIFEST",
            audit("m.jsonl"),
            vec!["--json m.jsonl", "input m.jsonl"],
        ),
    ];
    for (what, argv, names) in &cases {
        let before = snapshot(p);
        let o = smki_in(p, argv);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{what}: exit 2 expected; {err}");
        for name in names {
            assert!(
                err.contains(name),
                "{what}: the message names {name:?}: {err}"
            );
        }
        if !what.contains("cannot be created") {
            assert!(err.contains("refused"), "{what}: {err}");
        }
        assert_eq!(
            snapshot(p),
            before,
            "{what}: nothing written, nothing changed"
        );
    }
}

/// An existing directory smki did not write is refused as a tree `--out` unless `--force`;
/// with it, replaced; a tree smki wrote (and an empty directory) is replaced without it.
#[test]
fn a_foreign_directory_is_replaced_only_with_force() {
    let dir = overlap_dir();
    let p = dir.path();
    fs::create_dir(p.join("foreign")).unwrap();
    fs::write(p.join("foreign/keep.txt"), b"not smki's").unwrap();
    fs::create_dir(p.join("foreign/sub")).unwrap();
    fs::write(p.join("foreign/sub/cert.der"), b"someone's file").unwrap();
    let run = |out: &str, force: bool| {
        let mut argv = vec![
            "remediate",
            "in.pem",
            "--issuers",
            "cas",
            "--format",
            "der-tree",
            "--out",
            out,
            "--manifest",
            "t.jsonl",
            "-q",
        ];
        if force {
            argv.push("--force");
        }
        smki_in(p, &argv)
    };
    let before = snapshot(p);
    let o = run("foreign", false);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("--out foreign is an existing directory that smki did not write")
    );
    assert_eq!(snapshot(p), before, "refused: nothing written");

    let o = run("foreign", true);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let forced = snapshot(&p.join("foreign"));
    assert!(!forced.contains_key("keep.txt") && !forced.contains_key("sub/cert.der"));
    assert!(forced.contains_key(".smki-tree"), "{forced:?}");
    assert!(
        forced.keys().any(|k| !k.starts_with('.')),
        "the remediated dump is in it: {forced:?}"
    );

    // smki's own tree: replaced without --force (the same content again).
    let o = run("foreign", false);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(snapshot(&p.join("foreign")), forced);

    // An empty directory holds nothing to lose.
    fs::create_dir(p.join("empty")).unwrap();
    let o = run("empty", false);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(snapshot(&p.join("empty")), forced);
}

/// `smki simulate --out` goes through the same checks as every tree output: an existing
/// directory smki did not write is refused (exit 2, nothing changed) unless `--force`; the
/// simulation carries `.smki-tree` and replaces its own earlier output without `--force`
/// (no leftover beside it); an input of another command is not a place to simulate into.
#[test]
fn simulate_out_is_checked_like_every_tree_output() {
    let dir = overlap_dir();
    let p = dir.path();
    fs::create_dir(p.join("home")).unwrap();
    fs::write(p.join("home/notes.txt"), b"not smki's").unwrap();
    let sim = |out: &str, seed: &str, force: bool| {
        let mut argv = vec![
            "simulate", "--quiet", "--count", "5", "--seed", seed, "--format", "pem", "--out", out,
        ];
        if force {
            argv.push("--force");
        }
        smki_in(p, &argv)
    };
    let before = snapshot(p);
    let o = sim("home", "1", false);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("--out home is an existing directory that smki did not write"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(snapshot(p), before, "refused: nothing written");
    // A file where the directory would go: refused too.
    let o = sim("in.pem", "1", false);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert_eq!(snapshot(p), before, "refused: nothing written");

    // A new directory: the simulation, marked as smki's.
    let o = sim("sim", "1", false);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let first = snapshot(&p.join("sim"));
    for k in [
        ".smki-tree",
        "certificates.pem",
        "ground-truth.jsonl",
        "cas/",
    ] {
        assert!(first.contains_key(k), "{k}: {first:?}");
    }
    // Its own output: replaced without --force, by the other seed's simulation, nothing
    // left beside it.
    let o = sim("sim", "2", false);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let second = snapshot(&p.join("sim"));
    assert_ne!(second["certificates.pem"], first["certificates.pem"]);
    assert_eq!(
        second.keys().collect::<Vec<_>>(),
        first.keys().collect::<Vec<_>>()
    );
    let beside: Vec<String> = fs::read_dir(p)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(beside.is_empty(), "{beside:?}");

    // --force: the foreign directory's files are gone, the simulation is there.
    let o = sim("home", "1", true);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(snapshot(&p.join("home")), first);
}

/// What the final path holds after a kill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    Absent,
    Old,
    New,
}

/// One simulated dump and its reference remediation (not interrupted).
struct Reference {
    certs: PathBuf,
    cas: PathBuf,
    tree: BTreeMap<String, String>,
    manifest: PathBuf,
    out: PathBuf,
}

fn reference(work: &Path, name: &str, seed: &str, count: &str) -> Reference {
    let sim = work.join(format!("sim-{name}"));
    let o = smki(
        &[
            "simulate", "--count", count, "--seed", seed, "--format", "der-tree", "-q",
        ],
        &[("--out", &sim)],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = work.join(format!("ref-{name}"));
    let manifest = work.join(format!("ref-{name}.jsonl"));
    let o = smki(
        &["remediate", "-q"],
        &[
            ("", &sim.join("certs")),
            ("--issuers", &sim.join("cas")),
            ("--out", &out),
            ("--manifest", &manifest),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    Reference {
        certs: sim.join("certs"),
        cas: sim.join("cas"),
        tree: snapshot(&out),
        manifest,
        out,
    }
}

fn audit_passes(r: &Reference, remediated: &Path) -> bool {
    let o = smki(
        &["audit", "-q"],
        &[
            ("--original", &r.certs),
            ("--remediated", remediated),
            ("--manifest", &r.manifest),
            ("--issuers", &r.cas),
        ],
    );
    o.status.code() == Some(0)
}

/// Where to kill the run.
#[derive(Debug, Clone, Copy)]
enum Point {
    After(Duration),
    Hook(&'static str),
}

/// A remediation (`new`'s dump) over the output of an earlier one (`old`'s), killed at 28
/// points: 14 spread evenly over 1.5 times its measured run, 10 dense from 0.9 to 1.8 times
/// it (the end, where the tree is swapped and the old one removed, on a loaded machine), and
/// at each named step of the commit (`files-in`: the manifest committed, the tree not yet;
/// the next run finishes that commit from its journal) and of the swap. After each kill the
/// final path is absent, or the complete old output, or the complete new one, and the audit
/// (against the matching reference's input and manifest) passes; the next run cleans up.
#[test]
fn a_remediation_killed_anywhere_leaves_the_old_or_the_new_output() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let old = reference(w, "old", "1", "2000");
    let new = reference(w, "new", "2", "2000");
    assert_ne!(old.tree, new.tree, "the two outputs differ");
    assert!(old.tree.len() > 2000 && new.tree.len() > 2000);

    let run_dir = w.join("run");
    // A fresh final path holding the old output (the earlier run's tree and manifest).
    let prepare = || {
        let _ = fs::remove_dir_all(&run_dir);
        fs::create_dir(&run_dir).unwrap();
        support::copy_tree(&old.out, &run_dir.join("OUT"));
        fs::copy(&old.manifest, run_dir.join("man.jsonl")).unwrap();
    };
    let command = |pause: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_smki"));
        cmd.arg("remediate")
            .arg(&new.certs)
            .arg("--issuers")
            .arg(&new.cas)
            .arg("--out")
            .arg(run_dir.join("OUT"))
            .arg("--manifest")
            .arg(run_dir.join("man.jsonl"))
            .arg("-q")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(step) = pause {
            cmd.env("SMKI_TEST_PAUSE_AT", step);
        }
        cmd
    };

    // The measured run time of the interrupted command (the longer of 2).
    let mut run_time = Duration::ZERO;
    for _ in 0..2 {
        prepare();
        let start = Instant::now();
        let o = support::run_timeout(&mut command(None), support::CHILD_LIMIT);
        run_time = run_time.max(start.elapsed());
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert_eq!(snapshot(&run_dir.join("OUT")), new.tree);
    }
    // A loaded machine runs slower than the measurement: the points reach past it, so that
    // some land in the swap and after the end.
    let mut points: Vec<Point> = (0..14)
        .map(|i| Point::After(run_time.mul_f64(1.5 * i as f64 / 13.0)))
        .collect();
    points.extend((0..10).map(|i| Point::After(run_time.mul_f64(0.9 + 0.1 * i as f64))));
    points.extend(["tree-written", "files-in", "old-aside", "new-in"].map(Point::Hook));

    let held = |path: &Path| -> Held {
        if fs::symlink_metadata(path).is_err() {
            return Held::Absent;
        }
        let s = snapshot(path);
        if s == old.tree {
            Held::Old
        } else if s == new.tree {
            Held::New
        } else {
            let missing = old.tree.len().max(new.tree.len()) as isize - s.len() as isize;
            panic!(
                "{}: neither the old nor the new output ({} entries; {missing} fewer than the larger)",
                path.display(),
                s.len()
            );
        }
    };
    let manifest_state = |path: &Path| -> &'static str {
        match fs::read(path) {
            Err(_) => "absent",
            Ok(b) if b == fs::read(&old.manifest).unwrap() => "old",
            Ok(b) if b == fs::read(&new.manifest).unwrap() => "new",
            Ok(_) => panic!("{}: neither manifest", path.display()),
        }
    };

    let mut table = Vec::new();
    for (n, point) in points.iter().enumerate() {
        prepare();
        let started = Instant::now();
        let (killed_at, finished) = match *point {
            Point::After(t) => {
                let mut child = command(None).spawn().unwrap();
                let mut finished = false;
                while started.elapsed() < t {
                    if child.try_wait().unwrap().is_some() {
                        finished = true;
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                if !finished {
                    child.kill().unwrap(); // SIGKILL
                }
                child.wait().unwrap();
                (format!("{:.0} ms", t.as_secs_f64() * 1e3), finished)
            }
            Point::Hook(step) => {
                let mut child = command(Some(step)).spawn().unwrap();
                let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
                let paused = lines.any(|l| l.unwrap().contains(&format!("paused at {step}")));
                assert!(paused, "the run reached {step}");
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                (format!("hook {step}"), false)
            }
        };
        let out = run_dir.join("OUT");
        let state = held(&out);
        let man = manifest_state(&run_dir.join("man.jsonl"));
        let audit = match state {
            Held::Old => audit_passes(&old, &out),
            Held::New => audit_passes(&new, &out),
            Held::Absent => true,
        };
        assert!(
            audit,
            "point {n} ({killed_at}): the audit of the {state:?} output passes"
        );
        let leftovers: Vec<String> = fs::read_dir(&run_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        let journal = leftovers.iter().any(|l| l.starts_with(".OUT.tmp-commit-"));
        if journal {
            // Killed inside the commit (the new manifest in, the old tree still there): the
            // journal names every output, and the next run finishes that commit before
            // anything else (shown by pausing it with its own tree written).
            let mut child = command(Some("tree-written")).spawn().unwrap();
            let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
            let mut said = Vec::new();
            for l in lines.by_ref() {
                let l = l.unwrap();
                let done = l.contains("paused at tree-written");
                said.push(l);
                if done {
                    break;
                }
            }
            child.kill().unwrap();
            child.wait().unwrap();
            assert!(
                said.iter().any(|l| l.contains("completed the commit")),
                "{said:?}"
            );
            assert_eq!(held(&out), Held::New, "the interrupted commit finished");
            assert_eq!(manifest_state(&run_dir.join("man.jsonl")), "new");
            assert!(audit_passes(&new, &out));
        }
        if state == Held::Absent && !journal {
            // Killed between the two renames: the old output is complete at its aside name,
            // and the next run puts it back before anything else (shown by pausing that run
            // with its new tree written, before its own swap).
            assert!(leftovers.iter().any(|l| l.starts_with(".OUT.tmp-old-")));
            let mut child = command(Some("tree-written")).spawn().unwrap();
            let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
            let mut said = Vec::new();
            for l in lines.by_ref() {
                let l = l.unwrap();
                let done = l.contains("paused at tree-written");
                said.push(l);
                if done {
                    break;
                }
            }
            child.kill().unwrap();
            child.wait().unwrap();
            assert!(said.iter().any(|l| l.contains("restored")), "{said:?}");
            assert_eq!(held(&out), Held::Old, "the old output restored");
            assert!(audit_passes(&old, &out));
        }
        // The next run: completes, says what it cleaned, leaves nothing else behind.
        let o = support::run_timeout(&mut command(None), support::CHILD_LIMIT);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{err}");
        assert_eq!(held(&out), Held::New);
        assert_eq!(manifest_state(&run_dir.join("man.jsonl")), "new");
        let names: Vec<String> = fs::read_dir(&run_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let mut names = names;
        names.sort();
        assert_eq!(
            names,
            ["OUT", "man.jsonl"],
            "no leftover after the next run"
        );
        let reported = err
            .lines()
            .filter(|l| l.contains("interrupted run"))
            .count();
        assert!(
            leftovers.is_empty() || reported > 0,
            "leftovers {leftovers:?} reported by the next run: {err}"
        );
        table.push(format!(
            "| {n:>2} | {killed_at:<17} | {:<8} | {man:<6} | {} | {} |",
            if finished {
                "New (run had finished)".to_string()
            } else {
                format!("{state:?}")
            },
            match state {
                Held::Absent if journal =>
                    "n/a (commit finished to New by the next run, audit passes)",
                Held::Absent => "n/a (restored to Old by the next run, audit passes)",
                _ if journal => "passes (commit finished to New by the next run)",
                _ => "passes",
            },
            if leftovers.is_empty() {
                "none".to_string()
            } else {
                format!("{} ({} reported, cleaned)", leftovers.join(" "), reported)
            }
        ));
    }
    let states: Vec<&String> = table.iter().collect();
    eprintln!(
        "run time {:.0} ms; {} kill points\n| # | killed at | final path | manifest | audit | leftovers |\n{}",
        run_time.as_secs_f64() * 1e3,
        points.len(),
        states
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(points.len() >= 20);
}
