//! `smki bench`: throughput of every stage, per core, next to `openssl speed ecdsap256`
//! measured in the same run.
use crate::output;
use anyhow::{bail, Context};
use smki_repo::{AtomicFile, OutputFormat, Writer};
use smki_scan::{manifest::ManifestWriter, Examiner};
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
    /// Rounds: each runs `openssl speed`, then every stage (the scan twice at each thread
    /// count: 1..N, N..1), then `openssl speed -multi N`. Reported: each stage's best run,
    /// its median ratio to the openssl of its round, scaling per round; every run in --json.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Seconds `openssl speed` runs, on one core and on all, in each round.
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
    /// The best run.
    seconds: f64,
    /// Every run, with `openssl speed` verifies/s measured in the same round.
    runs: Vec<Run>,
    /// Of the best run.
    per_second: f64,
    per_second_per_core: f64,
    /// The median over the runs of (certificates/s per core) / (openssl verifies/s of
    /// the same round): the load of other processes moves both together.
    ratio_to_openssl: f64,
    /// The median over the runs of the share of CPU time the hypervisor stole.
    stolen: Option<f64>,
}

/// One timed run of a stage.
#[derive(serde::Serialize, Clone, Copy)]
struct Run {
    seconds: f64,
    /// `openssl speed ecdsap256` verifies/s of the round.
    openssl: f64,
    /// Of all the machine's CPU time during the run, the share left idle (work this tool
    /// did not spread over the cores) and the share stolen by the hypervisor for other
    /// guests (from /proc/stat; absent elsewhere than Linux).
    idle: Option<f64>,
    stolen: Option<f64>,
}

/// A started stopwatch, with the machine's CPU time counters at the start.
struct Clock {
    started: Instant,
    ticks: Option<[u64; 3]>,
}

impl Clock {
    fn start() -> Clock {
        Clock {
            ticks: cpu_ticks(),
            started: Instant::now(),
        }
    }

    fn stop(&self, openssl: f64) -> Run {
        let seconds = self.started.elapsed().as_secs_f64();
        let share = |i: usize| {
            let (a, b) = (self.ticks?, cpu_ticks()?);
            let total = b[0].checked_sub(a[0]).filter(|&t| t > 0)?;
            Some(b[i].saturating_sub(a[i]) as f64 / total as f64)
        };
        Run {
            seconds,
            openssl,
            idle: share(1),
            stolen: share(2),
        }
    }
}

/// The machine's CPU time in ticks, all cores: [total, idle (with iowait), steal], from the
/// first line of /proc/stat (`cpu user nice system idle iowait irq softirq steal ...`).
fn cpu_ticks() -> Option<[u64; 3]> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let v: Vec<u64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .map(|t| t.parse().ok())
        .collect::<Option<_>>()?;
    let f = |i: usize| v.get(i).copied();
    Some([v.iter().take(8).sum(), f(3)? + f(4)?, f(7)?])
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

/// `2.01, 1.93, ...`
fn list(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{x:.2}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `openssl speed -seconds N [-multi T] ecdsap256`: verifies per second (on T cores).
fn openssl_verify_rate(seconds: u32, multi: usize) -> anyhow::Result<f64> {
    let mut args = vec!["speed".to_string(), "-seconds".into(), seconds.to_string()];
    if multi > 1 {
        args.extend(["-multi".into(), multi.to_string()]);
    }
    args.push("ecdsap256".into());
    let out = Command::new("openssl")
        .args(&args)
        .output()
        .context("running openssl speed")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("ecdsa (nistp256)"))
        .with_context(|| format!("openssl speed printed no nistp256 line:\n{text}"))?;
    line.split_whitespace()
        .last()
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("cannot read the verify rate in {line:?}"))
}

/// The benchmark's dump and the CA certificates it is verified against.
#[derive(Clone, Copy)]
struct Corpus<'a> {
    dump: &'a Path,
    issuers: Option<&'a Path>,
}

impl Corpus<'_> {
    /// An examiner made ready as every command makes its own: the CA certificates of the
    /// issuers registered, the first pass over the first `limit` records of the dump, the
    /// tables of the issuers in use built (timed with the stage it precedes).
    fn examiner<B: Backend>(
        self,
        backend: B,
        limit: usize,
        threads: usize,
    ) -> anyhow::Result<Examiner<B>> {
        Ok(Examiner::builder(backend)
            .issuers(self.issuers.into_iter().flat_map(smki_repo::open))
            .dump(smki_repo::open(self.dump).take(limit))
            .build(threads)
            .context("issuers")?
            .examiner)
    }
}

/// A timed scan as `smki scan --findings FILE` runs it: the first pass over the dump (its CA
/// certificates), then examining, rendering and writing every finding to `findings`
/// (committed: synced and renamed, as remediation's output is).
fn time_scan<B: Backend>(
    backend: B,
    corpus: Corpus,
    threads: usize,
    limit: usize,
    findings: &Path,
    openssl: f64,
) -> anyhow::Result<(u64, Run)> {
    // The previous run's output is deleted untimed: replacing it makes the kernel drop ~90 MB
    // of cached pages inside the rename, which is no work of the scan's.
    let _ = std::fs::remove_file(findings);
    let clock = Clock::start();
    let ex = corpus.examiner(backend, limit, threads)?;
    let mut out = AtomicFile::create(findings)?;
    let summary = smki_scan::scan(
        &ex,
        smki_repo::open(corpus.dump).take(limit),
        threads,
        |f| {
            let mut line = serde_json::to_vec(f).expect("a finding serialises");
            line.push(b'\n');
            line
        },
        |_, line| out.write_all(&line),
    )?;
    out.commit()?;
    Ok((summary.records, clock.stop(openssl)))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.json {
        super::plan_outputs(&[], &[super::file_output("--json", path)], false)?;
    }
    let max_threads = super::threads(args.threads);
    let rounds = args.rounds.max(1);
    let mut openssl = openssl_verify_rate(args.openssl_seconds, 1)?;
    let mut openssl_runs = vec![openssl];
    writeln!(
        output::stdout(),
        "openssl speed ecdsap256: {openssl:.0} verifies/s"
    )?;
    let tmp = std::env::temp_dir().join(format!("smki-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).with_context(|| tmp.display().to_string())?;
    // (stage, backend, threads, records, every run)
    type Measured = (&'static str, &'static str, usize, u64, Vec<Run>);
    let mut measured: Vec<Measured> = Vec::new();
    let mut record = |stage, backend, threads, records, run: Run| -> anyhow::Result<()> {
        let pct = |x: Option<f64>| x.map_or("-".into(), |x| format!("{:.0}%", x * 100.0));
        writeln!(
            output::stdout(),
            "  {stage:<10} {backend:<6} {threads:>2} threads {records:>8} records {:>8.2} s   (cores idle {}, stolen {})",
            run.seconds,
            pct(run.idle),
            pct(run.stolen)
        )?;
        match measured
            .iter_mut()
            .find(|m| (m.0, m.1, m.2) == (stage, backend, threads))
        {
            Some(m) => m.4.push(run),
            None => measured.push((stage, backend, threads, records, vec![run])),
        }
        Ok(())
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
            let clock = Clock::start();
            let s = smki_sim::simulate(&opts)?;
            let run = Run {
                // The simulator's own timing (without writing the CA files).
                seconds: s.elapsed.as_secs_f64(),
                ..clock.stop(openssl)
            };
            record("simulate", "-", max_threads, s.certificates, run)?;
            (out.join("certificates.der"), Some(out.join("cas")))
        }
    };
    let bench = Corpus {
        dump: &corpus,
        issuers: issuers.as_deref(),
    };
    let findings = tmp.join("findings.jsonl");
    let rem = tmp.join("remediated.der");
    let man = tmp.join("manifest.jsonl");
    // Per round: the scan's N-thread speed-up, and what `openssl speed -multi N` gets from
    // the same cores in the same round.
    let (mut scan_scaling, mut machine_scaling) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        if round > 0 {
            openssl = openssl_verify_rate(args.openssl_seconds, 1)?;
            openssl_runs.push(openssl);
            writeln!(
                output::stdout(),
                "openssl speed ecdsap256: {openssl:.0} verifies/s"
            )?;
        }
        // Scan, fast backend, 1..=N threads and back again (N..=1): the load of other
        // processes drifts, and this order (A B B A) cancels a steady drift out of the
        // comparison of 1 and N threads. Scaling of the round: the sum of the 1-thread times
        // over the sum of the N-thread times.
        let mut times = vec![0.0; max_threads + 1];
        for threads in (1..=max_threads).chain((1..=max_threads).rev()) {
            let (n, run) = time_scan(
                smki_verify::FastBackend,
                bench,
                threads,
                usize::MAX,
                &findings,
                openssl,
            )?;
            times[threads] += run.seconds;
            record("scan", "fast", threads, n, run)?;
        }
        if max_threads > 1 {
            scan_scaling.push(times[1] / times[max_threads]);
            let multi = openssl_verify_rate(args.openssl_seconds, max_threads)?;
            writeln!(
                output::stdout(),
                "openssl speed -multi {max_threads} ecdsap256: {multi:.0} verifies/s ({:.2}x the single-core run of this round)",
                multi / openssl
            )?;
            machine_scaling.push(multi / openssl);
        }
        // Remediate, then audit it afresh as `smki audit` does; fast backend, all threads.
        let (n, run) = time_remediate(bench, max_threads, &rem, &man, openssl)?;
        record("remediate", "fast", max_threads, n, run)?;
        let clock = Clock::start();
        let ex = bench.examiner(smki_verify::FastBackend, usize::MAX, max_threads)?;
        let text = std::fs::read_to_string(&man).with_context(|| man.display().to_string())?;
        let report = smki_scan::audit::audit(
            &ex,
            smki_repo::open(&corpus),
            smki_repo::open(&rem),
            &text,
            max_threads,
        );
        record(
            "audit",
            "fast",
            max_threads,
            report.original_records,
            clock.stop(openssl),
        )?;
        if !report.passed() {
            bail!(
                "the benchmark's own audit failed: {:?}",
                report.failure_counts
            );
        }
    }
    if args.plain_count > 0 {
        for threads in [1, max_threads] {
            let (n, run) = time_scan(
                smki_verify::PlainBackend,
                bench,
                threads,
                args.plain_count,
                &findings,
                openssl,
            )?;
            record("scan", "plain", threads, n, run)?;
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    writeln!(
        output::stdout(),
        "\n{rounds} round(s); openssl speed ecdsap256 in them: {} verifies/s",
        openssl_runs
            .iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    writeln!(output::stdout(), "seconds, per s, per core: the best run; x openssl: per core, the median over the runs of the ratio to the openssl run of the same round; stolen: the median share of the machine's CPU time the hypervisor gave other guests during the runs")?;
    let rows: Vec<Row> = measured
        .into_iter()
        .map(|(stage, backend, threads, records, runs)| {
            let seconds = runs.iter().map(|r| r.seconds).fold(f64::INFINITY, f64::min);
            let per_second = records as f64 / seconds.max(1e-9);
            let ratio_to_openssl = median(
                runs.iter()
                    .map(|r| records as f64 / r.seconds / threads as f64 / r.openssl)
                    .collect(),
            );
            let stolen: Option<Vec<f64>> = runs.iter().map(|r| r.stolen).collect();
            Row {
                stolen: stolen.map(median),
                stage,
                backend,
                threads,
                records,
                seconds,
                runs,
                per_second,
                per_second_per_core: per_second / threads as f64,
                ratio_to_openssl,
            }
        })
        .collect();
    writeln!(
        output::stdout(),
        "  {:<10} {:<6} {:>7} {:>8} {:>8} {:>10} {:>10} {:>9} {:>7}",
        "stage",
        "backend",
        "threads",
        "records",
        "seconds",
        "per s",
        "per core",
        "x openssl",
        "stolen"
    )?;
    for r in &rows {
        writeln!(
            output::stdout(),
            "  {:<10} {:<6} {:>7} {:>8} {:>8.2} {:>10.0} {:>10.0} {:>9.2} {:>7}",
            r.stage,
            r.backend,
            r.threads,
            r.records,
            r.seconds,
            r.per_second,
            r.per_second_per_core,
            r.ratio_to_openssl,
            r.stolen
                .map_or("-".into(), |x| format!("{:.0}%", x * 100.0))
        )?;
    }
    let scaling = if max_threads > 1 {
        let (scan, machine) = (
            median(scan_scaling.clone()),
            median(machine_scaling.clone()),
        );
        writeln!(
            output::stdout(),
            "scan scaling: {max_threads} threads {scan:.2}x one thread (median over the rounds: {}); openssl speed -multi {max_threads}: {machine:.2}x (median: {})",
            list(&scan_scaling),
            list(&machine_scaling)
        )?;
        Some((scan, machine))
    } else {
        None
    };
    if let Some(path) = &args.json {
        let openssl = serde_json::json!({
            "rounds": openssl_runs,
            "multi_threads": max_threads,
            "multi_scaling_rounds": machine_scaling,
            "multi_scaling": scaling.map(|s| s.1),
        });
        super::write_json(
            path,
            serde_json::json!({ "rows": rows }),
            &[
                ("openssl_verify_per_second", openssl),
                ("scan_scaling", scaling.map(|s| s.0).into()),
                ("scan_scaling_rounds", scan_scaling.into()),
            ],
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A timed remediation as `smki remediate` runs it (first pass included), to `rem` and `man`.
fn time_remediate(
    corpus: Corpus,
    threads: usize,
    rem: &Path,
    man: &Path,
    openssl: f64,
) -> anyhow::Result<(u64, Run)> {
    let _ = (std::fs::remove_file(rem), std::fs::remove_file(man));
    let clock = Clock::start();
    let ex = corpus.examiner(smki_verify::FastBackend, usize::MAX, threads)?;
    let mut out = Writer::create(OutputFormat::Der, rem)?;
    let mut manifest = ManifestWriter::new(AtomicFile::create(man)?);
    let sum = smki_scan::remediate::remediate(
        &ex,
        smki_repo::open(corpus.dump),
        threads,
        &mut out,
        &mut manifest,
    )?;
    out.finish()?;
    manifest.finish(sum.records)?.commit()?;
    Ok((sum.records, clock.stop(openssl)))
}
