//! `smki remediate INPUT --out OUTPUT --manifest MANIFEST`
use super::{create, file_output, fill_json, plan_outputs, threads, IssuerArgs, RunArgs};
use crate::output;
use anyhow::{bail, Context};
use smki_repo::outputs::{Output, OutputKind};
use smki_repo::{OutputFormat, Writer};
use smki_scan::manifest::ManifestWriter;
use smki_scan::remediate::{remediate, RemediationSummary};
use std::io::Write;
use std::path::PathBuf;
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
    /// Replace an existing directory `--out` that smki did not write (its files are
    /// deleted). Without it, such a directory is refused; a tree smki wrote (it holds
    /// `.smki-tree`) or an empty directory is replaced without it.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    issuers: IssuerArgs,
    #[command(flatten)]
    run: RunArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !args.input.exists() {
        bail!("{}: no such file or directory", args.input.display());
    }
    let input_format = smki_repo::dump_format(&args.input)?;
    let format = args.format.unwrap_or(input_format);
    // Every output is checked against every input and the others, and created as a
    // temporary, before any work; all are committed at the end, the tree last.
    let mut inputs = vec![args.input.as_path()];
    inputs.extend(args.issuers.issuers.iter().map(PathBuf::as_path));
    let mut outputs = vec![
        Output {
            flag: "--out",
            path: &args.out,
            kind: if format.is_tree() {
                OutputKind::Tree
            } else {
                OutputKind::File
            },
        },
        file_output("--manifest", &args.manifest),
    ];
    if let Some(json) = &args.run.json {
        outputs.push(file_output("--json", json));
    }
    plan_outputs(&inputs, &outputs, args.force)?;
    // Another format than the input's: what is written must read back as written, and the
    // unreadable records are kept out (listed in the manifest).
    let mut out = Writer::create(format, &args.out)
        .with_context(|| args.out.display().to_string())?
        .converting(format != input_format);
    let mut manifest = ManifestWriter::new(create(&args.manifest)?);
    let mut json = args.run.json.as_deref().map(create).transpose()?;

    let threads = threads(args.run.threads);
    let started = Instant::now();
    let ex = args
        .issuers
        .examiner(smki_repo::open(&args.input), threads)?
        .examiner;
    if format.is_tree() && args.input.is_dir() {
        out = out.with_input_root(&args.input);
        if args.format.is_none() {
            out = out.keeping_encoding();
        }
    }
    let sum = remediate(
        &ex,
        smki_repo::open(&args.input),
        threads,
        &mut out,
        &mut manifest,
    )
    .context("remediating")?;
    let mut manifest_file = manifest
        .finish(sum.records)
        .with_context(|| args.manifest.display().to_string())?;
    manifest_file.flush()?;
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(file) = json.as_mut() {
        fill_json(
            file,
            &sum,
            &[
                ("elapsed_seconds", elapsed.into()),
                ("threads", threads.into()),
            ],
        )?;
    }
    // Every output on disk at its temporary name, then committed together through a
    // journal (a kill between the manifest and the tree is finished by the next run:
    // docs/outputs.md, "Committing several outputs").
    let mut staged = vec![manifest_file
        .prepare()
        .with_context(|| args.manifest.display().to_string())?];
    if let (Some(file), Some(path)) = (json, &args.run.json) {
        staged.push(file.prepare().with_context(|| path.display().to_string())?);
    }
    staged.push(
        out.prepare()
            .with_context(|| args.out.display().to_string())?,
    );
    smki_repo::outputs::commit_all(&staged)
        .with_context(|| format!("committing {}", args.out.display()))?;
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
    if s.kept_out > 0 {
        o.push_str(&format!(
            "  unreadable records kept out of the converted dump (listed in the manifest): {}\n",
            s.kept_out
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
