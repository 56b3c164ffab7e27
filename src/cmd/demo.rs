//! `smki demo`: simulate a repository, scan it, remediate it, audit the result, and scan the
//! remediated dump again, printing each stage's summary and time. It runs the very commands
//! a user would (parsed from their command lines), so it shows exactly what they do.
use anyhow::{bail, Context};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Certificates to simulate.
    #[arg(long, default_value_t = 100_000)]
    count: u64,
    /// Simulation seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where to keep everything (default: a temporary directory, removed at the end).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut out = crate::output::stdout();
    let (dir, temporary) = match &args.out {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("smki-demo-{}", std::process::id())),
            true,
        ),
    };
    if dir.exists()
        && std::fs::read_dir(&dir)
            .with_context(|| dir.display().to_string())?
            .next()
            .is_some()
    {
        bail!("{}: exists and is not empty", dir.display());
    }
    let p = |rel: &str| dir.join(rel).display().to_string();
    let threads = super::threads(args.threads).to_string();
    let (count, seed) = (args.count.to_string(), args.seed.to_string());
    let stages: Vec<(&str, Vec<String>)> = vec![
        (
            "simulate",
            vec![
                "simulate".into(),
                "--count".into(),
                count,
                "--seed".into(),
                seed,
                "--out".into(),
                p("sim"),
                "--format".into(),
                "der".into(),
                "--threads".into(),
                threads.clone(),
            ],
        ),
        (
            "scan",
            vec![
                "scan".into(),
                p("sim/certificates.der"),
                "--issuers".into(),
                p("sim/cas"),
                "--findings".into(),
                p("findings.jsonl"),
                "--json".into(),
                p("scan.json"),
                "--threads".into(),
                threads.clone(),
                "--fail-on".into(),
                "never".into(),
            ],
        ),
        (
            "remediate",
            vec![
                "remediate".into(),
                p("sim/certificates.der"),
                "--issuers".into(),
                p("sim/cas"),
                "--out".into(),
                p("remediated.der"),
                "--manifest".into(),
                p("manifest.jsonl"),
                "--threads".into(),
                threads.clone(),
            ],
        ),
        (
            "audit",
            vec![
                "audit".into(),
                "--original".into(),
                p("sim/certificates.der"),
                "--remediated".into(),
                p("remediated.der"),
                "--manifest".into(),
                p("manifest.jsonl"),
                "--issuers".into(),
                p("sim/cas"),
                "--threads".into(),
                threads.clone(),
            ],
        ),
        (
            "rescan",
            vec![
                "scan".into(),
                p("remediated.der"),
                "--issuers".into(),
                p("sim/cas"),
                "--threads".into(),
                threads.clone(),
                "--quiet".into(),
            ],
        ),
    ];
    let mut times = Vec::new();
    let mut ok = true;
    for (name, argv) in stages {
        writeln!(out, "\n=== {name}: smki {}", argv.join(" "))?;
        let started = Instant::now();
        let code = super::run_argv(&argv)?;
        let secs = started.elapsed().as_secs_f64();
        let passed = code == ExitCode::SUCCESS;
        writeln!(
            out,
            "=== {name}: {} in {secs:.2} s",
            if passed { "ok" } else { "FAILED (exit code 1)" }
        )?;
        times.push((name, secs, passed));
        ok &= passed;
    }
    writeln!(out, "\n=== demo: {} certificates", args.count)?;
    for (name, secs, passed) in &times {
        writeln!(
            out,
            "  {name:<10} {secs:>8.2} s  {:>9.0} certificates/s  {}",
            args.count as f64 / secs.max(1e-9),
            if *passed { "ok" } else { "FAILED" }
        )?;
    }
    writeln!(
        out,
        "{}",
        if ok {
            "demo: the 2018 defect was found, remediated and the remediation audited; the remediated dump scans clean"
        } else {
            "demo: a stage failed (see above)"
        }
    )?;
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        writeln!(out, "everything is in {}", dir.display())?;
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
