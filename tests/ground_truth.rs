//! `smki inspect` and `smki scan` agree with the simulator's ground truth on every
//! certificate of a corpus that carries every defect code and every other injection, in
//! every dump format.
mod support;

use serde_json::Value;
use smki_der::DefectCode;
use smki_scan::Verdict;
use smki_sim::Injection;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use support::{typed, verdict};

const SMKI: &str = env!("CARGO_BIN_EXE_smki");

/// The defect code an injection puts into a certificate, if it is one.
fn injected_code(i: Injection) -> Option<DefectCode> {
    match i {
        Injection::Sig(code) => Some(code),
        Injection::CertBer => Some(DefectCode::CertBer),
        _ => None,
    }
}

fn simulate(out: &Path, format: &str, count: u32) {
    let mut cmd = Command::new(SMKI);
    cmd.args([
        "simulate",
        "--quiet",
        "--seed",
        "11",
        "--count",
        &count.to_string(),
        "--format",
        format,
    ]);
    cmd.arg("--out").arg(out);
    // Every injection the simulator knows, at a rate that gives each a few dozen certificates.
    for i in Injection::all() {
        cmd.args(["--inject", &format!("{}=0.012", i.name())]);
    }
    let st = cmd.status().expect("run smki simulate");
    assert!(st.success(), "smki simulate failed");
}

fn ground_truth(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out.join("ground-truth.jsonl"))
        .expect("ground-truth.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("ground truth line"))
        .filter(|v: &Value| !v["file"].as_str().unwrap_or("").starts_with("cas/"))
        .collect()
}

/// The dump inside the simulator's output directory.
fn dump(out: &Path) -> std::path::PathBuf {
    for name in ["certs", "certificates.pem", "certificates.der", "extract"] {
        if out.join(name).exists() {
            return out.join(name);
        }
    }
    panic!("no dump in {}", out.display());
}

/// Compares findings (JSON objects with locator, sha256, verdict, defects) with the ground
/// truth, by the record's place (file relative to `out`, record index).
fn compare(out: &Path, truth: &[Value], findings: &[Value], what: &str) {
    let prefix = format!("{}/", out.display());
    let by_place: HashMap<(String, u64), &Value> = findings
        .iter()
        .map(|f| {
            let file = f["locator"]["file"]
                .as_str()
                .unwrap()
                .trim_start_matches(&prefix)
                .to_string();
            ((file, f["locator"]["record"].as_u64().unwrap()), f)
        })
        .collect();
    assert_eq!(
        findings.len(),
        truth.len(),
        "{what}: one finding per certificate"
    );
    let mut per_verdict: HashMap<Verdict, usize> = HashMap::new();
    let mut per_code: HashMap<DefectCode, usize> = HashMap::new();
    for t in truth {
        let key = (
            t["file"].as_str().unwrap().to_string(),
            t["record"].as_u64().unwrap(),
        );
        let f = by_place
            .get(&key)
            .unwrap_or_else(|| panic!("{what}: no finding for {key:?}"));
        let expected: Verdict = typed(&t["expected_verdict"]);
        assert_eq!(
            verdict(f),
            expected,
            "{what}: {key:?} ({}): verdict; finding: {f}",
            t["injected"]
        );
        *per_verdict.entry(expected).or_default() += 1;
        assert_eq!(
            f["sha256"], t["sha256"],
            "{what}: {key:?}: sha256 ({expected})"
        );
        let mut want: Vec<DefectCode> = typed(&t["defects"]);
        let mut got: Vec<DefectCode> = f["defects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| typed(&d["code"]))
            .collect();
        want.sort();
        want.dedup();
        got.sort();
        got.dedup();
        assert_eq!(
            got, want,
            "{what}: {key:?} ({}): defect codes; finding: {f}",
            t["injected"]
        );
        for c in want {
            *per_code.entry(c).or_default() += 1;
        }
    }
    println!(
        "{what}: {} certificates agree; verdicts {per_verdict:?}; codes {per_code:?}",
        truth.len()
    );
    for code in Injection::all().into_iter().filter_map(injected_code) {
        assert!(
            per_code.get(&code).copied().unwrap_or(0) > 0,
            "{what}: corpus has no {code}"
        );
    }
    for v in Verdict::ALL {
        assert!(
            per_verdict.get(v).copied().unwrap_or(0) > 0,
            "{what}: corpus has no {v}"
        );
    }
}

fn inspect(out: &Path) -> Vec<Value> {
    let o = Command::new(SMKI)
        .arg("inspect")
        .arg(dump(out))
        .arg("--issuers")
        .arg(out.join("cas"))
        .args(["--format", "json"])
        .output()
        .expect("run smki inspect");
    assert!(
        o.status.success(),
        "smki inspect: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("inspect JSON")
}

fn scan(out: &Path, threads: &str) -> (Vec<Value>, Value, i32) {
    let findings = out.join(format!("findings-{threads}.jsonl"));
    let summary = out.join(format!("summary-{threads}.json"));
    let st = Command::new(SMKI)
        .arg("scan")
        .arg(dump(out))
        .arg("--issuers")
        .arg(out.join("cas"))
        .args(["--threads", threads, "--quiet", "--findings"])
        .arg(&findings)
        .arg("--json")
        .arg(&summary)
        .status()
        .expect("run smki scan");
    let lines = std::fs::read_to_string(&findings).expect("findings");
    let f = lines
        .lines()
        .map(|l| serde_json::from_str(l).expect("finding line"))
        .collect();
    let s =
        serde_json::from_slice(&std::fs::read(&summary).expect("summary")).expect("summary JSON");
    (f, s, st.code().unwrap_or(-1))
}

#[test]
fn inspect_agrees_with_ground_truth_der_tree() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path(), "der-tree", 2500);
    let truth = ground_truth(dir.path());
    compare(dir.path(), &truth, &inspect(dir.path()), "inspect der-tree");
}

#[test]
fn scan_agrees_with_ground_truth_in_every_format() {
    for format in ["pem", "der", "pem-tree", "extract"] {
        let dir = tempfile::tempdir().unwrap();
        simulate(dir.path(), format, 1500);
        let truth = ground_truth(dir.path());
        let (findings, summary, code) = scan(dir.path(), "2");
        assert_eq!(code, 1, "{format}: remediable records present: exit code 1");
        if format != "extract" {
            compare(dir.path(), &truth, &findings, &format!("scan {format}"));
        } else {
            // Deltas may re-list a serial (a status change): compare by content and counts.
            let want: usize = truth.len();
            assert_eq!(
                summary["records"].as_u64().unwrap() as usize,
                want,
                "extract: records after applying deltas"
            );
            let verdicts = |vs: Vec<Verdict>| {
                let mut m: HashMap<Verdict, usize> = HashMap::new();
                for v in vs {
                    *m.entry(v).or_default() += 1;
                }
                m
            };
            let got = verdicts(findings.iter().map(verdict).collect());
            let exp = verdicts(
                truth
                    .iter()
                    .map(|t| typed(&t["expected_verdict"]))
                    .collect(),
            );
            assert_eq!(got, exp, "extract: verdict counts");
            let by_sha: HashMap<&str, &Value> = findings
                .iter()
                .map(|f| (f["sha256"].as_str().unwrap(), f))
                .collect();
            for t in truth
                .iter()
                .filter(|t| typed::<Verdict>(&t["expected_verdict"]) != Verdict::Unreadable)
            {
                let f = by_sha
                    .get(t["sha256"].as_str().unwrap())
                    .unwrap_or_else(|| panic!("extract: no finding for {t}"));
                assert_eq!(f["verdict"], t["expected_verdict"], "extract: {t}");
            }
            println!("scan extract: {} certificates agree", truth.len());
        }
        // The summary counts what the findings say.
        let remediable = findings
            .iter()
            .filter(|f| verdict(f) == Verdict::Remediable)
            .count();
        assert_eq!(
            summary["verdicts"][Verdict::Remediable.as_str()]
                .as_u64()
                .unwrap() as usize,
            remediable,
            "{format}"
        );
    }
}

#[test]
fn scan_output_does_not_depend_on_threads() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path(), "pem", 1200);
    let (one, s1, _) = scan(dir.path(), "1");
    let (two, s2, _) = scan(dir.path(), "2");
    assert_eq!(one, two, "findings in the same order with the same content");
    assert_eq!(s1["verdicts"], s2["verdicts"]);
    assert_eq!(s1["by_month"], s2["by_month"]);
    assert_eq!(s1["root_cause"], s2["root_cause"]);
}
