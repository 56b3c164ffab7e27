//! `smki scan PATH...`
use super::{commit, create, file_output, fill_json, plan_outputs, IssuerArgs, RunArgs};
use crate::output;
use anyhow::{bail, Context};
use smki_repo::outputs::Output;
use smki_scan::{report, text, Finding, Verdict};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Dumps: directory trees of .der/.cer/.crt/.pem, PEM bundles, concatenated DER,
    /// extract CSV (full plus deltas, applied in name order), or `-` for stdin.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    issuers: IssuerArgs,
    #[command(flatten)]
    run: RunArgs,
    /// Write one JSON line per certificate to FILE.
    #[arg(long, value_name = "FILE")]
    findings: Option<PathBuf>,
    /// Write one CSV row per certificate to FILE.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Exit 1 when any record's verdict is at or above this level
    /// (clean < remediable < unverifiable < needs-reissue < unreadable), or never.
    #[arg(long, value_enum, default_value_t = FailOn::Remediable)]
    fail_on: FailOn,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOn {
    Remediable,
    Unverifiable,
    NeedsReissue,
    Unreadable,
    Never,
}

impl FailOn {
    /// The least grave verdict that fails the run (`None`: never).
    fn threshold(self) -> Option<Verdict> {
        match self {
            FailOn::Remediable => Some(Verdict::Remediable),
            FailOn::Unverifiable => Some(Verdict::Unverifiable),
            FailOn::NeedsReissue => Some(Verdict::NeedsReissue),
            FailOn::Unreadable => Some(Verdict::Unreadable),
            FailOn::Never => None,
        }
    }

    /// Does a record of verdict `v` fail the run ([`Verdict::severity`] at or above the
    /// threshold)?
    pub fn fails(self, v: Verdict) -> bool {
        self.threshold()
            .is_some_and(|t| v.severity() >= t.severity())
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    for p in &args.paths {
        if p.as_os_str() != "-" && !p.exists() {
            bail!("{}: no such file or directory", p.display());
        }
    }
    // Every output is checked against every input and the others, and created as a
    // temporary, before any work; all are committed at the end.
    let mut inputs: Vec<&Path> = args.paths.iter().map(PathBuf::as_path).collect();
    inputs.extend(args.issuers.issuers.iter().map(PathBuf::as_path));
    let outputs: Vec<Output<'_>> = [
        ("--findings", &args.findings),
        ("--csv", &args.csv),
        ("--json", &args.run.json),
    ]
    .into_iter()
    .filter_map(|(flag, p)| p.as_deref().map(|p| file_output(flag, p)))
    .collect();
    plan_outputs(&inputs, &outputs, false)?;
    let open = |p: &Option<PathBuf>| p.as_deref().map(create).transpose();
    let mut findings_out = open(&args.findings)?;
    let mut csv_out = open(&args.csv)?;
    let mut json_out = open(&args.run.json)?;

    let threads = super::threads(args.run.threads);
    let started = Instant::now();
    // First pass: CA certificates in the dump serve as issuers, and unknown issuer keys are
    // recovered (not possible on stdin, where the main pass does it as it goes).
    let prepared = args.issuers.examiner(
        args.paths
            .iter()
            .filter(|p| p.as_os_str() != "-")
            .flat_map(|p| smki_repo::open(p)),
        threads,
    )?;
    let (ex, from_dump) = (prepared.examiner, prepared.found);
    if let Some(c) = csv_out.as_mut() {
        writeln!(c, "{}", report::CSV_HEADER)?;
    }
    let mut progress = Progress::new(args.run.quiet, "scanned");
    let records = args.paths.iter().flat_map(|p| smki_repo::open(p));
    let mut failing = 0u64;
    let (want_json, want_csv) = (findings_out.is_some(), csv_out.is_some());
    let summary = smki_scan::scan(
        &ex,
        records,
        threads,
        |f: &Finding| {
            // Rendered on the workers: the ordered stage only writes bytes.
            let json = want_json.then(|| {
                let mut line = serde_json::to_vec(f).expect("a finding serialises");
                line.push(b'\n');
                line
            });
            let csv = want_csv.then(|| report::csv_row(f) + "\n");
            (json, csv)
        },
        |f: &Finding, (json, csv)| -> std::io::Result<()> {
            progress.tick();
            if args.fail_on.fails(f.verdict) {
                failing += 1;
            }
            if let (Some(out), Some(line)) = (findings_out.as_mut(), json) {
                out.write_all(&line)?;
            }
            if let (Some(out), Some(row)) = (csv_out.as_mut(), csv) {
                out.write_all(row.as_bytes())?;
            }
            Ok(())
        },
    )
    .context("writing findings")?;
    progress.done();
    let elapsed = started.elapsed().as_secs_f64();
    let rate = summary.records as f64 / elapsed.max(1e-9);
    if let Some(file) = json_out.as_mut() {
        let extra = [
            ("elapsed_seconds", elapsed.into()),
            ("threads", threads.into()),
            ("records_per_second", rate.into()),
            ("issuers_from_dump", serde_json::to_value(&from_dump)?),
            ("issuer_keys", ex.issuer_count().into()),
        ];
        fill_json(file, &summary, &extra)?;
    }
    for (out, path) in [
        (findings_out, &args.findings),
        (csv_out, &args.csv),
        (json_out, &args.run.json),
    ] {
        if let (Some(out), Some(path)) = (out, path) {
            commit(out, path)?;
        }
    }
    if !args.run.quiet {
        let mut out = output::stdout();
        write!(out, "{}", text::summary(&summary))?;
        writeln!(
            out,
            "issuer keys: {} ({} CA certificates from the dump, {} recovered from signatures)",
            ex.issuer_count(),
            from_dump.anchors,
            from_dump.recovered
        )?;
        writeln!(
            out,
            "scanned {} records in {elapsed:.2} s: {rate:.0} records/s on {threads} threads ({:.0} per thread)",
            summary.records,
            rate / threads as f64
        )?;
    }
    Ok(if failing > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Progress on stderr: a live line on a terminal, a plain line every 10 s otherwise.
pub(crate) struct Progress {
    /// What is done to the records (`scanned`, `loaded`).
    what: &'static str,
    bar: Option<indicatif::ProgressBar>,
    plain: bool,
    n: u64,
    start: Instant,
    last: Instant,
}

impl Progress {
    pub(crate) fn new(quiet: bool, what: &'static str) -> Progress {
        let tty = std::io::stderr().is_terminal();
        let bar = (tty && !quiet).then(|| {
            let b = indicatif::ProgressBar::new_spinner();
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {pos} records  {per_sec}  {elapsed}",
                )
                .expect("template"),
            );
            b.enable_steady_tick(Duration::from_millis(200));
            b
        });
        let now = Instant::now();
        Progress {
            what,
            bar,
            plain: !tty && !quiet,
            n: 0,
            start: now,
            last: now,
        }
    }
    pub(crate) fn tick(&mut self) {
        self.n += 1;
        if let Some(b) = &self.bar {
            if self.n.is_multiple_of(256) {
                b.set_position(self.n);
            }
        } else if self.plain
            && self.n.is_multiple_of(4096)
            && self.last.elapsed() >= Duration::from_secs(10)
        {
            self.last = Instant::now();
            let rate = self.n as f64 / self.start.elapsed().as_secs_f64();
            output::note(format_args!(
                "smki: {} records {} ({rate:.0}/s)",
                self.n, self.what
            ));
        }
    }
    pub(crate) fn done(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FailOn;
    use smki_scan::Verdict;

    #[test]
    fn fail_on_is_by_severity() {
        let failing = |level: FailOn| -> Vec<Verdict> {
            Verdict::ALL
                .iter()
                .copied()
                .filter(|&v| level.fails(v))
                .collect()
        };
        use Verdict::*;
        assert_eq!(
            failing(FailOn::Remediable),
            [Remediable, NeedsReissue, Unverifiable, Unreadable]
        );
        assert_eq!(
            failing(FailOn::Unverifiable),
            [NeedsReissue, Unverifiable, Unreadable]
        );
        assert_eq!(failing(FailOn::NeedsReissue), [NeedsReissue, Unreadable]);
        assert_eq!(failing(FailOn::Unreadable), [Unreadable]);
        assert!(failing(FailOn::Never).is_empty());
    }
}
