//! `smki bench`: throughput of every stage, per core, next to `openssl speed ecdsap256`
//! measured in the same run.
use super::inputs;
use smki_repo::{AtomicFile, OutputFormat, Writer};
use smki_scan::{manifest::ManifestWriter, prepare_issuers, Examiner};
use smki_verify::Backend;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Certificates to simulate for the corpus (ignored with --corpus).
    #[arg(long, default_value_t = 100_000)]
    count: u64,
    /// Use this dump instead of simulating one (with --issuers for its CA certificates).
    #[arg(long, value_name = "PATH")]
    corpus: Option<PathBuf>,
    /// CA certificates of --corpus.
    #[arg(long, value_name = "PATH")]
    issuers: Option<PathBuf>,
    /// Scan with 1..=N threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Records scanned with the plain (reference) backend, which is slow (0: skip).
    #[arg(long, default_value_t = 10_000)]
    plain_count: usize,
    /// Rounds: each runs `openssl speed` and then every stage once. Reported: each stage's
    /// best round, its median ratio to the openssl of its round, all rounds in --json.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Seconds `openssl speed` runs in each round (and once on all cores, at the end).
    #[arg(long, default_value_t = 2)]
    openssl_seconds: u32,
    /// Write the results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// One measured row.
#[derive(serde::Serialize)]
struct Row {
    stage: &'static str,
    backend: &'static str,
    threads: usize,
    records: u64,
    /// The best round.
    seconds: f64,
    /// Every round: (seconds, `openssl speed` verifies/s measured in the same round).
    rounds: Vec<(f64, f64)>,
    /// Of the best round.
    per_second: f64,
    per_second_per_core: f64,
    /// The median over the rounds of (certificates/s per core) / (openssl verifies/s of
    /// the same round): the load of other processes moves both together.
    ratio_to_openssl: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// `openssl speed -seconds N [-multi T] ecdsap256`: verifies per second (on T cores).
fn openssl_verify_rate(seconds: u32, multi: usize) -> Result<f64, String> {
    let mut args = vec!["speed".to_string(), "-seconds".into(), seconds.to_string()];
    if multi > 1 {
        args.extend(["-multi".into(), multi.to_string()]);
    }
    args.push("ecdsap256".into());
    let out = Command::new("openssl")
        .args(&args)
        .output()
        .map_err(|e| format!("running openssl speed: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("ecdsa (nistp256)"))
        .ok_or_else(|| format!("openssl speed printed no nistp256 line:\n{text}"))?;
    line.split_whitespace()
        .last()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("cannot read the verify rate in {line:?}"))
}

/// Registers the CA certificates (of --issuers and of the first `limit` records of the
/// corpus): the first pass every command makes, timed with the stage it precedes.
fn prepare<B: Backend>(ex: &Examiner<B>, issuers: Option<&Path>, corpus: &Path, limit: usize) {
    if let Some(i) = issuers {
        prepare_issuers(ex, inputs(i));
    }
    prepare_issuers(ex, inputs(corpus).take(limit));
}

/// A timed scan as `smki scan --findings FILE` runs it: the first pass over the dump (its CA
/// certificates), then examining, rendering and writing every finding to `findings`
/// (committed: synced and renamed, as remediation's output is).
fn time_scan<B: Backend>(
    ex: &Examiner<B>,
    issuers: Option<&Path>,
    corpus: &Path,
    threads: usize,
    limit: usize,
    findings: &Path,
) -> Result<(u64, f64), String> {
    let started = Instant::now();
    prepare(ex, issuers, corpus, limit);
    let mut out = AtomicFile::create(findings).map_err(|e| e.to_string())?;
    let summary = smki_scan::scan(
        ex,
        inputs(corpus).take(limit),
        threads,
        |f| {
            let mut line = serde_json::to_vec(f).expect("a finding serialises");
            line.push(b'\n');
            line
        },
        |_, line| out.write_all(&line).map_err(|e| e.to_string()),
    )?;
    out.commit().map_err(|e| e.to_string())?;
    Ok((summary.records, started.elapsed().as_secs_f64()))
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let max_threads = super::threads(args.threads);
    let rounds = args.rounds.max(1);
    let mut openssl = openssl_verify_rate(args.openssl_seconds, 1)?;
    let mut openssl_runs = vec![openssl];
    println!("openssl speed ecdsap256: {openssl:.0} verifies/s");
    let tmp = std::env::temp_dir().join(format!("smki-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    // (stage, backend, threads, records, (seconds, openssl of the round) of each round)
    type Measured = (&'static str, &'static str, usize, u64, Vec<(f64, f64)>);
    let mut measured: Vec<Measured> = Vec::new();
    let mut record = |stage, backend, threads, records, seconds: f64, openssl: f64| {
        println!(
            "  {stage:<10} {backend:<6} {threads:>2} threads {records:>8} records {seconds:>8.2} s"
        );
        match measured
            .iter_mut()
            .find(|m| (m.0, m.1, m.2) == (stage, backend, threads))
        {
            Some(m) => m.4.push((seconds, openssl)),
            None => measured.push((stage, backend, threads, records, vec![(seconds, openssl)])),
        }
    };
    let (corpus, issuers) = match (&args.corpus, &args.issuers) {
        (Some(c), i) => (c.clone(), i.clone()),
        (None, _) => {
            let out = tmp.join("sim");
            let opts = smki_sim::SimOptions {
                count: args.count,
                format: OutputFormat::Der,
                out: out.clone(),
                threads: Some(max_threads),
                ..smki_sim::SimOptions::default()
            };
            let s = smki_sim::simulate(&opts).map_err(|e| e.to_string())?;
            record(
                "simulate",
                "-",
                max_threads,
                s.certificates,
                s.elapsed.as_secs_f64(),
                openssl,
            );
            (out.join("certificates.der"), Some(out.join("cas")))
        }
    };
    let issuers = issuers.as_deref();
    let findings = tmp.join("findings.jsonl");
    let rem = tmp.join("remediated.der");
    let man = tmp.join("manifest.jsonl");
    for round in 0..rounds {
        if round > 0 {
            openssl = openssl_verify_rate(args.openssl_seconds, 1)?;
            openssl_runs.push(openssl);
            println!("openssl speed ecdsap256: {openssl:.0} verifies/s");
        }
        // Scan, fast backend, 1..=N threads.
        for threads in 1..=max_threads {
            let (n, secs) = time_scan(
                &Examiner::fast(false),
                issuers,
                &corpus,
                threads,
                usize::MAX,
                &findings,
            )?;
            record("scan", "fast", threads, n, secs, openssl);
        }
        // Remediate, then audit it afresh as `smki audit` does; fast backend, all threads.
        let (n, secs) = time_remediate(issuers, &corpus, max_threads, &rem, &man)?;
        record("remediate", "fast", max_threads, n, secs, openssl);
        let started = Instant::now();
        let ex = Examiner::fast(false);
        prepare(&ex, issuers, &corpus, usize::MAX);
        let text = std::fs::read_to_string(&man).map_err(|e| e.to_string())?;
        let report =
            smki_scan::audit::audit(&ex, inputs(&corpus), inputs(&rem), &text, max_threads);
        record(
            "audit",
            "fast",
            max_threads,
            report.original_records,
            started.elapsed().as_secs_f64(),
            openssl,
        );
        if !report.passed() {
            return Err(format!(
                "the benchmark's own audit failed: {:?}",
                report.failure_counts
            ));
        }
    }
    if args.plain_count > 0 {
        for threads in [1, max_threads] {
            let ex = Examiner::plain(false);
            let (n, secs) = time_scan(&ex, issuers, &corpus, threads, args.plain_count, &findings)?;
            record("scan", "plain", threads, n, secs, openssl);
        }
    }
    let best_openssl = openssl_runs.iter().copied().fold(0.0, f64::max);
    let openssl_multi = if max_threads > 1 {
        let rate = openssl_verify_rate(args.openssl_seconds, max_threads)?;
        println!(
            "openssl speed -multi {max_threads} ecdsap256: {rate:.0} verifies/s ({:.2}x its best single-core run: what this machine's cores give together)",
            rate / best_openssl
        );
        Some(rate)
    } else {
        None
    };
    let _ = std::fs::remove_dir_all(&tmp);
    println!(
        "\n{rounds} round(s); openssl speed ecdsap256 in them: {} verifies/s",
        openssl_runs
            .iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("seconds, per s, per core: the best round; x openssl: per core, the median over the rounds of the ratio to the openssl run of the same round");
    let rows: Vec<Row> = measured
        .into_iter()
        .map(|(stage, backend, threads, records, rounds)| {
            let seconds = rounds.iter().map(|r| r.0).fold(f64::INFINITY, f64::min);
            let per_second = records as f64 / seconds.max(1e-9);
            let ratio_to_openssl = median(
                rounds
                    .iter()
                    .map(|(secs, openssl)| records as f64 / secs / threads as f64 / openssl)
                    .collect(),
            );
            Row {
                stage,
                backend,
                threads,
                records,
                seconds,
                rounds,
                per_second,
                per_second_per_core: per_second / threads as f64,
                ratio_to_openssl,
            }
        })
        .collect();
    println!(
        "  {:<10} {:<6} {:>7} {:>8} {:>8} {:>10} {:>10} {:>9}",
        "stage", "backend", "threads", "records", "seconds", "per s", "per core", "x openssl"
    );
    for r in &rows {
        println!(
            "  {:<10} {:<6} {:>7} {:>8} {:>8.2} {:>10.0} {:>10.0} {:>9.2}",
            r.stage,
            r.backend,
            r.threads,
            r.records,
            r.seconds,
            r.per_second,
            r.per_second_per_core,
            r.ratio_to_openssl
        );
    }
    // Scaling: per round (1 and N threads run back to back), the median over the rounds.
    let scan_rounds = |t: usize| {
        rows.iter()
            .find(|r| (r.stage, r.backend, r.threads) == ("scan", "fast", t))
            .map(|r| r.rounds.clone())
    };
    let scaling = match (scan_rounds(1), scan_rounds(max_threads)) {
        (Some(one), Some(all)) if max_threads > 1 => {
            let s = median(one.iter().zip(&all).map(|(a, b)| a.0 / b.0).collect());
            println!(
                "scan scaling: {max_threads} threads {s:.2}x one thread (median over the rounds)"
            );
            Some(s)
        }
        _ => None,
    };
    if let Some(path) = &args.json {
        let openssl = serde_json::json!({
            "rounds": openssl_runs,
            "multi": openssl_multi,
            "multi_threads": max_threads,
        });
        super::write_json(
            path,
            serde_json::json!({ "rows": rows }),
            &[
                ("openssl_verify_per_second", openssl),
                ("scan_scaling", scaling.into()),
            ],
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A timed remediation as `smki remediate` runs it (first pass included), to `rem` and `man`.
fn time_remediate(
    issuers: Option<&Path>,
    corpus: &Path,
    threads: usize,
    rem: &Path,
    man: &Path,
) -> Result<(u64, f64), String> {
    let started = Instant::now();
    let ex = Examiner::fast(false);
    prepare(&ex, issuers, corpus, usize::MAX);
    let mut out = Writer::create(OutputFormat::Der, rem).map_err(|e| e.to_string())?;
    let mut manifest = ManifestWriter::new(AtomicFile::create(man).map_err(|e| e.to_string())?);
    let sum =
        smki_scan::remediate::remediate(&ex, inputs(corpus), threads, &mut out, &mut manifest)
            .map_err(|e| e.to_string())?;
    out.finish().map_err(|e| e.to_string())?;
    manifest
        .finish(sum.records)
        .map_err(|e| e.to_string())?
        .commit()
        .map_err(|e| e.to_string())?;
    Ok((sum.records, started.elapsed().as_secs_f64()))
}
