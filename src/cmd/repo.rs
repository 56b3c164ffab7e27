//! `smki repo load DUMP... --db PATH`: a store from dumps (docs/service.md, "Loading");
//! `smki repo extract --db PATH --out FILE`: an extract generated from a store.
use super::{file_output, plan_outputs, IssuerArgs, RunArgs};
use crate::output;
use anyhow::{bail, Context};
use serde::Serialize;
use smki_repo::outputs::Output;
use smki_repo::{Error as RecordError, Record};
use smki_scan::{for_each_ordered, Counts, Verdict};
use smki_store::{Day, Extract, Location, NewCert, Store, Stored};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Load dumps (any format smki reads) into a store: every certificate with its
    /// metadata, the examiner's verdict and defect codes. Loading a certificate again (same
    /// SHA-256) stores nothing new; an extract delta's new status updates it.
    Load(LoadArgs),
    /// Write an extract generated from a store, in the format `smki simulate --format
    /// extract` writes and `smki scan` reads: the full extract (as of now, or of --as-of),
    /// or the delta of one day (--delta).
    Extract(ExtractArgs),
}

#[derive(clap::Args, Debug)]
struct ExtractArgs {
    /// The store (`smki repo load` makes it).
    #[arg(long, value_name = "PATH")]
    db: String,
    /// The extract file to write (written whole or not at all).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// The delta of this day (YYYY-MM-DD): the certificates stored or changed that day.
    #[arg(long, value_name = "DAY", value_parser = parse_day, conflicts_with = "as_of")]
    delta: Option<Day>,
    /// The full extract as of the end of this day (YYYY-MM-DD) instead of now.
    #[arg(long, value_name = "DAY", value_parser = parse_day)]
    as_of: Option<Day>,
}

pub(crate) fn parse_day(text: &str) -> Result<Day, String> {
    Day::parse(text).map_err(|e| e.to_string())
}

/// Today (UTC), the day a load's changes are recorded on by default.
fn today() -> Day {
    Day::parse(&smki_sim::Date::today().to_string()).expect("a calendar date")
}

#[derive(clap::Args, Debug)]
struct LoadArgs {
    /// Dumps: directory trees, PEM bundles, concatenated DER, extract CSV (full plus
    /// deltas), or `-` for stdin.
    #[arg(required = true, value_name = "DUMP")]
    paths: Vec<PathBuf>,
    /// The store: a SQLite file (created when absent), or a PostgreSQL database
    /// (`postgres://USER@HOST:PORT/DB`, the database must exist; its tables are created).
    #[arg(long, value_name = "PATH|URL")]
    db: String,
    /// Certificates per transaction.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    batch: u64,
    /// The day the certificates' arrival and changes are recorded on (what the extracts'
    /// deltas are made of): YYYY-MM-DD, default today (UTC).
    #[arg(long, value_name = "DAY", value_parser = parse_day)]
    day: Option<Day>,
    #[command(flatten)]
    issuers: IssuerArgs,
    #[command(flatten)]
    run: RunArgs,
}

/// What one record came to.
enum Loaded {
    Cert(Box<NewCert>, Verdict),
    /// Not stored: where and why.
    Error(String),
}

/// The summary of a load.
#[derive(Debug, Default, Serialize)]
struct LoadSummary {
    records: u64,
    #[serde(flatten)]
    stored: Stored,
    /// Records that are not certificates the store can hold (reported on stderr).
    errors: u64,
    /// Verdicts of the certificates stored (new or not).
    verdicts: Counts,
    elapsed_seconds: f64,
    records_per_second: f64,
    certificates_in_store: u64,
    store_bytes: Option<u64>,
}

/// The store writer stopped (its error is the one reported).
#[derive(Debug)]
struct WriterGone;

/// At most this many errors are printed one by one; the rest are counted.
const ERRORS_SHOWN: u64 = 100;

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Load(a) => load(a),
        Command::Extract(a) => extract(a),
    }
}

fn extract(args: ExtractArgs) -> anyhow::Result<ExitCode> {
    let inputs: Vec<&Path> = super::existing_store(&args.db)?.into_iter().collect();
    plan_outputs(&inputs, &[file_output("--out", &args.out)], false)?;
    let store = Store::open(&args.db)?;
    let which = match args.delta {
        Some(day) => Extract::Delta { day },
        None => Extract::Full { as_of: args.as_of },
    };
    let mut out = super::create(&args.out)?;
    for chunk in store.extract(which) {
        std::io::Write::write_all(&mut out, chunk?.as_bytes())
            .with_context(|| args.out.display().to_string())?;
    }
    super::commit(out, &args.out)?;
    Ok(ExitCode::SUCCESS)
}

fn load(args: LoadArgs) -> anyhow::Result<ExitCode> {
    for p in &args.paths {
        if p.as_os_str() != "-" && !p.exists() {
            bail!("{}: no such file or directory", p.display());
        }
    }
    let mut inputs: Vec<&Path> = args.paths.iter().map(PathBuf::as_path).collect();
    inputs.extend(args.issuers.issuers.iter().map(PathBuf::as_path));
    let mut outputs: Vec<Output<'_>> = Vec::new();
    if let Location::File(db_path) = Location::of(&args.db) {
        outputs.push(file_output("--db", db_path));
    }
    if let Some(json) = &args.run.json {
        outputs.push(file_output("--json", json));
    }
    plan_outputs(&inputs, &outputs, false)?;
    let mut json_out = args.run.json.as_deref().map(super::create).transpose()?;
    let store = Store::open(&args.db)?;
    let day = args.day.clone().unwrap_or_else(today);

    let threads = super::threads(args.run.threads);
    let started = Instant::now();
    // As `smki scan`: CA certificates in the dump serve as issuers.
    let prepared = args.issuers.examiner(
        args.paths
            .iter()
            .filter(|p| p.as_os_str() != "-")
            .flat_map(|p| smki_repo::open(p)),
        threads,
    )?;
    let ex = prepared.examiner;
    let records = args.paths.iter().flat_map(|p| smki_repo::open(p));
    let mut summary = LoadSummary::default();
    let mut progress = super::scan::Progress::new(args.run.quiet, "loaded");
    let batch_size = args.batch as usize;
    // The store writes on its own thread, while the workers examine the next records: a
    // batch is handed over whole, and at most one more waits (memory stays flat).
    let (to_writer, batches) = std::sync::mpsc::sync_channel::<Vec<NewCert>>(1);
    let writer = || -> anyhow::Result<Stored> {
        let mut stored = Stored::default();
        for batch in batches {
            stored += store.insert(&batch, &day)?;
        }
        Ok(stored)
    };
    let examined = std::thread::scope(|scope| {
        let writer = scope.spawn(writer);
        let mut pending: Vec<NewCert> = Vec::with_capacity(batch_size.min(100_000));
        let examined = for_each_ordered(
            records,
            threads,
            |batch: &[Result<Record, RecordError>]| {
                let findings = ex.examine_batch(batch);
                batch
                    .iter()
                    .zip(findings)
                    .map(|(read, f)| match read {
                        Err(e) => Loaded::Error(e.to_string()),
                        Ok(rec) => match NewCert::from_finding(&f, &rec.der) {
                            Some(c) => Loaded::Cert(Box::new(c), f.verdict),
                            None => {
                                Loaded::Error(format!("{}: not stored: {}", f.locator, f.reason))
                            }
                        },
                    })
                    .collect()
            },
            |_, loaded: Loaded| -> Result<(), WriterGone> {
                progress.tick();
                summary.records += 1;
                match loaded {
                    Loaded::Cert(c, verdict) => {
                        summary.verdicts.add(verdict);
                        pending.push(*c);
                        if pending.len() >= batch_size {
                            let full = std::mem::replace(
                                &mut pending,
                                Vec::with_capacity(batch_size.min(100_000)),
                            );
                            to_writer.send(full).map_err(|_| WriterGone)?;
                        }
                    }
                    Loaded::Error(e) => {
                        summary.errors += 1;
                        if summary.errors <= ERRORS_SHOWN {
                            output::note(format_args!("smki: {e}"));
                        }
                    }
                }
                Ok(())
            },
        )
        .and_then(|()| to_writer.send(pending).map_err(|_| WriterGone));
        drop(to_writer);
        // The writer's own error, when it stopped, says why better than `WriterGone`.
        let stored = writer.join().expect("store writer thread")?;
        summary.stored += stored;
        examined.map_err(|_| anyhow::anyhow!("the store writer stopped"))
    });
    examined.context("loading")?;
    progress.done();
    if summary.errors > ERRORS_SHOWN {
        output::note(format_args!(
            "smki: {} more records not stored (not shown)",
            summary.errors - ERRORS_SHOWN
        ));
    }
    summary.elapsed_seconds = started.elapsed().as_secs_f64();
    summary.records_per_second = summary.records as f64 / summary.elapsed_seconds.max(1e-9);
    let stats = store.stats()?;
    summary.certificates_in_store = stats.certificates;
    summary.store_bytes = stats.disk_bytes;
    if let Some(mut file) = json_out.take() {
        super::fill_json(&mut file, &summary, &[])?;
        super::commit(file, args.run.json.as_deref().expect("--json"))?;
    }
    if !args.run.quiet {
        let mut out = output::stdout();
        writeln!(
            out,
            "loaded {} records into {} in {:.2} s ({:.0} records/s): {} new, {} updated, {} unchanged, {} not stored",
            summary.records,
            smki_store::shown(&args.db),
            summary.elapsed_seconds,
            summary.records_per_second,
            summary.stored.inserted,
            summary.stored.updated,
            summary.stored.unchanged,
            summary.errors
        )?;
        let v = &summary.verdicts;
        writeln!(
            out,
            "verdicts: {} clean, {} remediable, {} needs_reissue, {} unverifiable",
            v.clean, v.remediable, v.needs_reissue, v.unverifiable
        )?;
        writeln!(
            out,
            "store: {} certificates{}",
            stats.certificates,
            stats
                .disk_bytes
                .map(|b| format!(", {b} bytes on disk"))
                .unwrap_or_default()
        )?;
    }
    Ok(if summary.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
