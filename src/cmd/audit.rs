//! `smki audit --original INPUT --remediated OUTPUT --manifest MANIFEST`
use super::{commit, create, file_output, fill_json, plan_outputs, threads, IssuerArgs, RunArgs};
use crate::output;
use anyhow::{bail, Context};
use smki_scan::audit::{audit_dumps, AuditReport};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The dump before remediation.
    #[arg(long, value_name = "INPUT")]
    original: PathBuf,
    /// The dump after remediation.
    #[arg(long, value_name = "OUTPUT")]
    remediated: PathBuf,
    /// The manifest written by `smki remediate`.
    #[arg(long, value_name = "MANIFEST")]
    manifest: PathBuf,
    #[command(flatten)]
    issuers: IssuerArgs,
    #[command(flatten)]
    run: RunArgs,
}

/// Exit 0 when everything holds, 1 when anything fails (each failure named), 2 on I/O errors.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    for p in [&args.original, &args.remediated, &args.manifest] {
        if !p.exists() {
            bail!("{}: no such file or directory", p.display());
        }
    }
    let mut inputs = vec![
        args.original.as_path(),
        args.remediated.as_path(),
        args.manifest.as_path(),
    ];
    inputs.extend(args.issuers.issuers.iter().map(PathBuf::as_path));
    if let Some(json) = &args.run.json {
        plan_outputs(&inputs, &[file_output("--json", json)], false)?;
    }
    let mut json = args.run.json.as_deref().map(create).transpose()?;
    let manifest = std::fs::read_to_string(&args.manifest)
        .with_context(|| args.manifest.display().to_string())?;
    let threads = threads(args.run.threads);
    let started = Instant::now();
    let ex = args
        .issuers
        .examiner(smki_repo::open(&args.original), threads)?
        .examiner;
    let report = audit_dumps(&ex, &args.original, &args.remediated, &manifest, threads);
    let elapsed = started.elapsed().as_secs_f64();
    if let (Some(mut file), Some(path)) = (json.take(), &args.run.json) {
        fill_json(
            &mut file,
            &report,
            &[
                ("passed", report.passed().into()),
                ("elapsed_seconds", elapsed.into()),
            ],
        )?;
        commit(file, path)?;
    }
    if !args.run.quiet {
        let mut out = output::stdout();
        write!(out, "{}", text(&report))?;
        writeln!(
            out,
            "audited {} records in {elapsed:.2} s: {:.0} records/s on {threads} threads",
            report.original_records,
            report.original_records as f64 / elapsed.max(1e-9)
        )?;
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn text(r: &AuditReport) -> String {
    let mut o = format!(
        "original records {}, remediated records {}, manifest entries {}\n  unchanged {}  changed and verified {}  left alone {}\n",
        r.original_records, r.remediated_records, r.manifest_entries, r.unchanged, r.changed, r.left_alone
    );
    if r.passed() {
        o.push_str("AUDIT PASSED: every check holds\n");
    } else {
        o.push_str(&format!("AUDIT FAILED: {} failures\n", r.failures.len()));
        for (code, n) in &r.failure_counts {
            o.push_str(&format!("  {code:<20} {n}\n"));
        }
        for f in r.failures.iter().take(50) {
            let at = match (&f.locator, f.index) {
                (Some(l), _) => l.to_string(),
                (None, Some(i)) => format!("record {i}"),
                _ => "manifest".into(),
            };
            o.push_str(&format!("  {} {at}: {}\n", f.code, f.detail));
        }
        if r.failures.len() > 50 {
            o.push_str(&format!(
                "  ... and {} more (see --json)\n",
                r.failures.len() - 50
            ));
        }
    }
    o
}
