pub mod audit;
pub mod bench;
pub mod demo;
pub mod inspect;
pub mod remediate;
pub mod repo;
pub mod scan;
pub mod serve;
pub mod simulate;

use anyhow::Context;
use smki_repo::outputs::{self, Output, OutputKind};
use smki_repo::AtomicFile;
use std::io::Write;
use std::path::Path;

/// Options every pipeline command shares.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct RunArgs {
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Write the summary (report) as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Print nothing on stdout (files still get written).
    #[arg(long, short)]
    pub quiet: bool,
}

/// Writes `value` as pretty JSON to `path`, atomically, with `extra` fields added to it.
pub fn write_json(
    path: &Path,
    value: impl serde::Serialize,
    extra: &[(&str, serde_json::Value)],
) -> anyhow::Result<()> {
    let mut file = create(path)?;
    fill_json(&mut file, value, extra)?;
    commit(file, path)
}

/// Writes `value` as pretty JSON, with `extra` fields added to it, to a file created up front
/// (see [`create`]) and committed with the command's other outputs.
pub fn fill_json(
    file: &mut AtomicFile,
    value: impl serde::Serialize,
    extra: &[(&str, serde_json::Value)],
) -> anyhow::Result<()> {
    let mut v = serde_json::to_value(value)?;
    for (k, x) in extra {
        v[*k] = x.clone();
    }
    let bytes = serde_json::to_vec_pretty(&v)?;
    file.write_all(&bytes)?;
    Ok(())
}

/// Checks every output of a command against its inputs and its other outputs before
/// anything is written (`smki_repo::outputs::plan`: refused, exit 2, with a sentence naming
/// both paths), then deals with what an interrupted earlier run left beside the outputs
/// (each thing done said on standard error). Every command that writes files calls this
/// first, then creates every output as a temporary ([`create`], `Writer::create`) before its
/// work, and commits them all at the end, a tree last.
pub fn plan_outputs(inputs: &[&Path], outputs: &[Output<'_>], force: bool) -> anyhow::Result<()> {
    let plan = outputs::plan(inputs, outputs, force)?;
    for note in plan
        .recover_leftovers()
        .context("recovering an interrupted run's outputs")?
    {
        crate::output::note(format_args!("smki: {note}"));
    }
    Ok(())
}

/// A file output, as a temporary beside `path` (renamed into place by [`commit`]).
pub fn create(path: &Path) -> anyhow::Result<AtomicFile> {
    AtomicFile::create(path).with_context(|| path.display().to_string())
}

/// Renames a file output into place.
pub fn commit(file: AtomicFile, path: &Path) -> anyhow::Result<()> {
    file.commit().with_context(|| path.display().to_string())
}

/// A file output of option `flag`, for [`plan_outputs`].
/// The store `--db` names, which must exist: its file (SQLite), or None (a PostgreSQL URL:
/// the server says whether it is there).
pub fn existing_store(db: &str) -> anyhow::Result<Option<&Path>> {
    match smki_store::Location::of(db) {
        smki_store::Location::File(path) if !path.is_file() => {
            anyhow::bail!("--db {db}: no such store (make one with smki repo load)")
        }
        smki_store::Location::File(path) => Ok(Some(path)),
        _ => Ok(None),
    }
}

pub fn file_output<'a>(flag: &'static str, path: &'a Path) -> Output<'a> {
    Output {
        flag,
        path,
        kind: OutputKind::File,
    }
}

/// Runs `smki ARGV...` in this process (used by `smki demo`).
pub fn run_argv(argv: &[String]) -> anyhow::Result<std::process::ExitCode> {
    use clap::Parser;
    let cli = crate::Cli::try_parse_from(
        std::iter::once("smki".to_string()).chain(argv.iter().cloned()),
    )?;
    crate::dispatch(cli.command)
}

/// The worker thread count: the option, else all cores.
pub fn threads(opt: Option<usize>) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cap = max_threads(cores);
    match opt {
        Some(n) if n > cap => {
            crate::output::note(format_args!(
                "smki: --threads {n}: using {cap} ({MAX_THREADS_PER_CORE} per core of {cores}; each thread costs a stack and a share of the work for nothing beyond that)"
            ));
            cap
        }
        Some(n) => n.max(1),
        None => cores,
    }
}

/// Threads per core beyond which more threads only cost memory (about 7 MB each).
const MAX_THREADS_PER_CORE: usize = 4;

/// The most worker threads a command starts on `cores` cores.
pub fn max_threads(cores: usize) -> usize {
    cores.max(1) * MAX_THREADS_PER_CORE
}

use smki_repo::{Error as RecordError, Record};
use smki_scan::{Examiner, Prepared};
use std::path::PathBuf;

/// Issuer options shared by the commands that verify.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct IssuerArgs {
    /// CA certificates to verify against: files, directories or bundles (repeatable).
    #[arg(long = "issuers", value_name = "PATH")]
    pub issuers: Vec<PathBuf>,
    /// Recover unknown issuer keys from signatures, pinned by the authorityKeyIdentifier
    /// (reported as recovered, never as anchors).
    #[arg(long)]
    pub recover_issuer_keys: bool,
}

impl IssuerArgs {
    /// An examiner made ready for `dump` (see `smki_scan::ExaminerBuilder::build`): every CA
    /// certificate of `--issuers` registered, then the first pass over the dump. Unreadable
    /// issuer files are errors (exit 2): a run without its anchors would mislead.
    pub fn examiner(
        &self,
        dump: impl IntoIterator<Item = Result<Record, RecordError>>,
        threads: usize,
    ) -> anyhow::Result<Prepared<smki_verify::FastBackend>> {
        let prepared = Examiner::builder(smki_verify::FastBackend)
            .recover(self.recover_issuer_keys)
            .issuers(self.issuers.iter().flat_map(|p| smki_repo::open(p)))
            .dump(dump)
            .build(threads)
            .context("--issuers")?;
        for (locator, e) in &prepared.skipped {
            crate::output::note(format_args!("smki: --issuers: {locator}: skipped: {e}"));
        }
        Ok(prepared)
    }
}
