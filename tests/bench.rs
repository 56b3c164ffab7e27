//! `smki bench` end to end on a small corpus: every stage is measured, the scan at 1 and 2
//! threads twice per round (1, 2, 2, 1), next to `openssl speed` of the same round, and its
//! own remediation passes its own audit (the command fails otherwise).
mod support;
use support::{require_tool, smki};

#[test]
fn bench_measures_every_stage_next_to_openssl() {
    require_tool("openssl");
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let out = smki(
        &[
            "bench",
            "--count",
            "400",
            "--plain-count",
            "30",
            "--threads",
            "2",
            "--rounds",
            "2",
            "--openssl-seconds",
            "1",
        ],
        &[("--json", &json)],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("scan scaling: 2 threads"), "{stdout}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let openssl = &v["openssl_verify_per_second"];
    let rounds = openssl["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 2);
    assert!(
        rounds.iter().all(|r| r.as_f64().unwrap() > 100.0),
        "{openssl}"
    );
    assert_eq!(openssl["multi_scaling_rounds"].as_array().unwrap().len(), 2);
    assert_eq!(v["scan_scaling_rounds"].as_array().unwrap().len(), 2);
    assert!(v["scan_scaling"].as_f64().unwrap() > 0.0);

    let rows = v["rows"].as_array().unwrap();
    let row = |stage: &str, backend: &str, threads: u64| {
        rows.iter()
            .find(|r| r["stage"] == stage && r["backend"] == backend && r["threads"] == threads)
            .unwrap_or_else(|| panic!("no row {stage} {backend} {threads}: {v}"))
    };
    // (stage, backend, threads, records, runs)
    for (stage, backend, threads, records, runs) in [
        ("simulate", "-", 2, 400, 1),
        ("scan", "fast", 1, 400, 4),
        ("scan", "fast", 2, 400, 4),
        ("remediate", "fast", 2, 400, 2),
        ("audit", "fast", 2, 400, 2),
        ("scan", "plain", 1, 30, 1),
        ("scan", "plain", 2, 30, 1),
    ] {
        let r = row(stage, backend, threads);
        assert_eq!(r["records"], records, "{r}");
        let all = r["runs"].as_array().unwrap();
        assert_eq!(all.len(), runs, "{r}");
        let best = all
            .iter()
            .map(|x| x["seconds"].as_f64().unwrap())
            .fold(f64::INFINITY, f64::min);
        assert_eq!(r["seconds"].as_f64().unwrap(), best, "{r}");
        let per_core = records as f64 / best / threads as f64;
        assert!((r["per_second_per_core"].as_f64().unwrap() - per_core).abs() < 1e-6 * per_core);
        assert!(r["ratio_to_openssl"].as_f64().unwrap() > 0.0, "{r}");
    }
}
