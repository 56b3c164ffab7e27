//! `smki remediate INPUT --out OUTPUT --manifest MANIFEST`
use super::{threads, write_json, IssuerArgs, RunArgs};
use crate::output;
use anyhow::{bail, Context};
use smki_repo::{AtomicFile, OutputFormat, Writer};
use smki_scan::manifest::ManifestWriter;
use smki_scan::remediate::{remediate, RemediationSummary};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The dump to remediate (never modified).
    #[arg(value_name = "INPUT")]
    input: PathBuf,
    /// Where the remediated dump goes (a directory for trees, else a file).
    #[arg(long, value_name = "OUTPUT")]
    out: PathBuf,
    /// The manifest to write (JSONL, hash-chained).
    #[arg(long, value_name = "MANIFEST")]
    manifest: PathBuf,
    /// Output format (default: the input's): der-tree, pem-tree, pem, der, extract.
    #[arg(long)]
    format: Option<OutputFormat>,
    #[command(flatten)]
    issuers: IssuerArgs,
    #[command(flatten)]
    run: RunArgs,
}

/// Refuses an output that is the input, or inside it, or contains it.
pub fn refuse_overlap(input: &Path, output: &Path, what: &str) -> anyhow::Result<()> {
    let canon = |p: &Path| -> PathBuf {
        std::fs::canonicalize(p).unwrap_or_else(|_| {
            let parent = p
                .parent()
                .filter(|x| !x.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            std::fs::canonicalize(parent)
                .unwrap_or(parent.to_path_buf())
                .join(p.file_name().unwrap_or_default())
        })
    };
    let (i, o) = (canon(input), canon(output));
    if i == o || o.starts_with(&i) || (input.is_dir() && i.starts_with(&o)) {
        bail!(
            "{what} {} overlaps the input {}: refused (the input is never modified)",
            output.display(),
            input.display()
        );
    }
    Ok(())
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !args.input.exists() {
        bail!("{}: no such file or directory", args.input.display());
    }
    refuse_overlap(&args.input, &args.out, "--out")?;
    refuse_overlap(&args.input, &args.manifest, "--manifest")?;
    let format = match args.format {
        Some(f) => f,
        None => smki_repo::dump_format(&args.input)?,
    };
    let threads = threads(args.run.threads);
    let started = Instant::now();
    let ex = args
        .issuers
        .examiner(smki_repo::open(&args.input), threads)?
        .examiner;
    let mut out =
        Writer::create(format, &args.out).with_context(|| args.out.display().to_string())?;
    if format.is_tree() && args.input.is_dir() {
        out = out.with_input_root(&args.input);
        if args.format.is_none() {
            out = out.keeping_encoding();
        }
    }
    let manifest_file =
        AtomicFile::create(&args.manifest).with_context(|| args.manifest.display().to_string())?;
    let mut manifest = ManifestWriter::new(manifest_file);
    let sum = remediate(
        &ex,
        smki_repo::open(&args.input),
        threads,
        &mut out,
        &mut manifest,
    )
    .context("remediating")?;
    out.finish()
        .with_context(|| args.out.display().to_string())?;
    let mut file = manifest
        .finish(sum.records)
        .with_context(|| args.manifest.display().to_string())?;
    file.flush()?;
    file.commit()
        .with_context(|| args.manifest.display().to_string())?;
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(path) = &args.run.json {
        write_json(
            path,
            &sum,
            &[
                ("elapsed_seconds", elapsed.into()),
                ("threads", threads.into()),
            ],
        )?;
    }
    if !args.run.quiet {
        let mut out = output::stdout();
        write!(out, "{}", text(&sum))?;
        writeln!(
            out,
            "remediated {} records in {elapsed:.2} s: {:.0} records/s on {threads} threads; output {} ({}), manifest {}",
            sum.records,
            sum.records as f64 / elapsed.max(1e-9),
            args.out.display(),
            format,
            args.manifest.display()
        )?;
    }
    Ok(if sum.failed > 0 || sum.not_copied > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn text(s: &RemediationSummary) -> String {
    let mut o = format!(
        "records: {}\n  unchanged (clean)      {:>10}\n  changed (re-encoded)   {:>10}\n",
        s.records, s.unchanged, s.changed
    );
    for (v, n) in &s.left_alone {
        o.push_str(&format!("  left alone: {v:<11}{n:>10}\n"));
    }
    if s.failed > 0 {
        o.push_str(&format!(
            "  remediable but re-encoding did not verify: {} (left alone)\n",
            s.failed
        ));
    }
    if s.not_copied > 0 {
        o.push_str(&format!(
            "  unreadable records that could not be copied: {}\n",
            s.not_copied
        ));
    }
    o
}
