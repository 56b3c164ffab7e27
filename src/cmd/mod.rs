pub mod audit;
pub mod bench;
pub mod demo;
pub mod inspect;
pub mod remediate;
pub mod scan;
pub mod simulate;

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
) -> Result<(), String> {
    let mut v = serde_json::to_value(value).map_err(|e| e.to_string())?;
    for (k, x) in extra {
        v[*k] = x.clone();
    }
    let bytes = serde_json::to_vec_pretty(&v).map_err(|e| e.to_string())?;
    smki_repo::AtomicFile::write_all_to(path, &bytes)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs `smki ARGV...` in this process (used by `smki demo`).
pub fn run_argv(argv: &[String]) -> Result<std::process::ExitCode, String> {
    use clap::Parser;
    let cli =
        crate::Cli::try_parse_from(std::iter::once("smki".to_string()).chain(argv.iter().cloned()))
            .map_err(|e| e.to_string())?;
    crate::dispatch(cli.command)
}

/// The worker thread count: the option, else all cores.
pub fn threads(opt: Option<usize>) -> usize {
    opt.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

use smki_repo::{Error as RecordError, Record};
use std::path::Path;

/// Every record of one input path: certificate files and trees through `smki_repo::open`,
/// plus, in a directory, extract CSV files (a full extract and its deltas, applied in name
/// order: `full-*` before `delta-*`).
pub fn inputs(path: &Path) -> Box<dyn Iterator<Item = Result<Record, RecordError>> + Send> {
    let records = smki_repo::open(path);
    if !path.is_dir() {
        return records;
    }
    let mut csv = Vec::new();
    collect_csv(path, &mut csv);
    if csv.is_empty() {
        return records;
    }
    csv.sort_by_key(|p| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        (!name.starts_with("full"), p.clone())
    });
    Box::new(records.chain(smki_repo::read_extracts(&csv)))
}

fn collect_csv(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_csv(&p, out);
        } else if p.extension().is_some_and(|x| x.eq_ignore_ascii_case("csv")) {
            out.push(p);
        }
    }
}

use smki_scan::Examiner;
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
    /// An examiner with every CA certificate of `--issuers` registered. Unreadable issuer
    /// files are errors (exit 2): a run without its anchors would mislead.
    pub fn examiner(&self) -> Result<Examiner<smki_verify::FastBackend>, String> {
        let ex = Examiner::fast(self.recover_issuer_keys);
        for path in &self.issuers {
            for rec in smki_repo::open(path) {
                let rec = rec.map_err(|e| format!("--issuers: {e}"))?;
                if let Err(e) = ex.add_issuer(&rec.der, rec.locator.to_string()) {
                    eprintln!("smki: --issuers: {}: skipped: {e}", rec.locator);
                }
            }
        }
        Ok(ex)
    }
}
