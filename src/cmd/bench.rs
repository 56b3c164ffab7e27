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
    /// Seconds `openssl speed` runs (each of two runs, before and after).
    #[arg(long, default_value_t = 3)]
    openssl_seconds: u32,
    /// Write the results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// One measured row.
#[derive(serde::Serialize)]
struct Row {
    stage: String,
    backend: &'static str,
    threads: usize,
    records: u64,
    seconds: f64,
    per_second: f64,
    per_second_per_core: f64,
    ratio_to_openssl: f64,
}

/// `openssl speed -seconds N ecdsap256`: verifies per second (one core).
fn openssl_verify_rate(seconds: u32) -> Result<f64, String> {
    let out = Command::new("openssl")
        .args(["speed", "-seconds", &seconds.to_string(), "ecdsap256"])
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

/// A timed scan as `smki scan --findings` runs it: the first pass over the dump (its CA
/// certificates), then examining, rendering and writing every finding.
fn time_scan<B: Backend>(
    ex: &Examiner<B>,
    issuers: Option<&Path>,
    corpus: &Path,
    threads: usize,
    limit: usize,
) -> Result<(u64, f64), String> {
    let started = Instant::now();
    prepare(ex, issuers, corpus, limit);
    let mut sink = std::io::sink();
    // As `smki scan --findings` does: each finding serialised (on the workers) and written.
    let summary = smki_scan::scan(
        ex,
        inputs(corpus).take(limit),
        threads,
        |f| {
            let mut line = serde_json::to_vec(f).expect("a finding serialises");
            line.push(b'\n');
            line
        },
        |_, line| sink.write_all(&line).map_err(|e| e.to_string()),
    )?;
    Ok((summary.records, started.elapsed().as_secs_f64()))
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let max_threads = super::threads(args.threads);
    let openssl_before = openssl_verify_rate(args.openssl_seconds)?;
    println!("openssl speed ecdsap256: {openssl_before:.0} verifies/s (before)");
    let tmp = std::env::temp_dir().join(format!("smki-bench-{}", std::process::id()));
    let mut rows: Vec<Row> = Vec::new();
    let mut push = |stage: &str,
                    backend: &'static str,
                    threads: usize,
                    records: u64,
                    seconds: f64,
                    openssl: f64| {
        let per_second = records as f64 / seconds.max(1e-9);
        let row = Row {
            stage: stage.into(),
            backend,
            threads,
            records,
            seconds,
            per_second,
            per_second_per_core: per_second / threads as f64,
            ratio_to_openssl: per_second / threads as f64 / openssl,
        };
        println!(
            "  {:<10} {:<6} {:>2} threads {:>8} records {:>8.2} s {:>9.0}/s {:>9.0}/s per core  {:>5.2}x openssl",
            row.stage, row.backend, row.threads, row.records, row.seconds, row.per_second, row.per_second_per_core, row.ratio_to_openssl
        );
        rows.push(row);
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
            push(
                "simulate",
                "-",
                max_threads,
                s.certificates,
                s.elapsed.as_secs_f64(),
                openssl_before,
            );
            (out.join("certificates.der"), Some(out.join("cas")))
        }
    };
    // Scan, fast backend, 1..=N threads.
    for threads in 1..=max_threads {
        let ex = Examiner::fast(false);
        let (n, secs) = time_scan(&ex, issuers.as_deref(), &corpus, threads, usize::MAX)?;
        push("scan", "fast", threads, n, secs, openssl_before);
    }
    if args.plain_count > 0 {
        for threads in [1, max_threads] {
            let ex = Examiner::plain(false);
            let (n, secs) = time_scan(&ex, issuers.as_deref(), &corpus, threads, args.plain_count)?;
            push("scan", "plain", threads, n, secs, openssl_before);
        }
    }
    // Remediate and audit, fast backend, all threads.
    let ex = Examiner::fast(false);
    let rem = tmp.join("remediated.der");
    let man = tmp.join("manifest.jsonl");
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    let started = Instant::now();
    prepare(&ex, issuers.as_deref(), &corpus, usize::MAX);
    let mut out = Writer::create(OutputFormat::Der, &rem).map_err(|e| e.to_string())?;
    let mut manifest = ManifestWriter::new(AtomicFile::create(&man).map_err(|e| e.to_string())?);
    let sum =
        smki_scan::remediate::remediate(&ex, inputs(&corpus), max_threads, &mut out, &mut manifest)
            .map_err(|e| e.to_string())?;
    out.finish().map_err(|e| e.to_string())?;
    manifest
        .finish(sum.records)
        .map_err(|e| e.to_string())?
        .commit()
        .map_err(|e| e.to_string())?;
    push(
        "remediate",
        "fast",
        max_threads,
        sum.records,
        started.elapsed().as_secs_f64(),
        openssl_before,
    );
    // The auditor starts afresh, as `smki audit` does.
    let ex = Examiner::fast(false);
    let started = Instant::now();
    prepare(&ex, issuers.as_deref(), &corpus, usize::MAX);
    let text = std::fs::read_to_string(&man).map_err(|e| e.to_string())?;
    let report = smki_scan::audit::audit(&ex, inputs(&corpus), inputs(&rem), &text, max_threads);
    push(
        "audit",
        "fast",
        max_threads,
        report.original_records,
        started.elapsed().as_secs_f64(),
        openssl_before,
    );
    if !report.passed() {
        return Err(format!(
            "the benchmark's own audit failed: {:?}",
            report.failure_counts
        ));
    }
    let openssl_after = openssl_verify_rate(args.openssl_seconds)?;
    println!("openssl speed ecdsap256: {openssl_after:.0} verifies/s (after)");
    let _ = std::fs::remove_dir_all(&tmp);
    if let Some(path) = &args.json {
        let openssl = serde_json::json!({ "before": openssl_before, "after": openssl_after });
        super::write_json(
            path,
            serde_json::json!({ "rows": rows }),
            &[("openssl_verify_per_second", openssl)],
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
