//! `smki simulate`
use anyhow::Context;
use smki_repo::outputs::{self, Output, OutputKind};
use smki_sim::{OutputFormat, SimOptions};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Certificates in the dump (the CA certificates come in addition).
    #[arg(long, default_value_t = 1000)]
    pub count: u64,
    /// Seed: the same seed and options give byte-identical output.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output format: der-tree, pem-tree, pem, der, extract.
    #[arg(long, default_value = "der-tree")]
    pub format: OutputFormat,
    /// Output directory (the dump, cas/ and ground-truth.jsonl go inside). Written as a
    /// whole and swapped in at the end; an existing directory is replaced only when smki
    /// wrote it (it holds `.smki-tree`) or it is empty, unless --force.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace an existing directory `--out` that smki did not write (its files are
    /// deleted).
    #[arg(long)]
    pub force: bool,
    /// Share of all certificates with the 2018 defect (the incident's 4% by default).
    #[arg(long, default_value_t = 0.04)]
    pub defect_rate: f64,
    /// Inject another defect: NAME=RATE (repeatable). NAME is a defect code
    /// (SIG_INT_NEGATIVE, CERT_BER, ...) or BAD_SIGNATURE, ISSUER_ABSENT, UNREADABLE.
    #[arg(long = "inject", value_name = "NAME=RATE", value_parser = parse_inject)]
    pub inject: Vec<(String, f64)>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Extract format: daily delta files after the full extract.
    #[arg(long, default_value_t = 7)]
    pub delta_days: u32,
    /// Print nothing on stdout.
    #[arg(long, short)]
    pub quiet: bool,
}

pub(crate) fn parse_inject(s: &str) -> Result<(String, f64), String> {
    let (name, rate) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected NAME=RATE"))?;
    let rate: f64 = rate
        .parse()
        .map_err(|_| format!("{s:?}: rate {rate:?} is not a number"))?;
    Ok((name.to_ascii_uppercase(), rate))
}

impl Args {
    pub fn options(&self) -> SimOptions {
        SimOptions {
            count: self.count,
            seed: self.seed,
            format: self.format,
            out: self.out.clone(),
            defect_rate: self.defect_rate,
            inject: self.inject.clone(),
            threads: self.threads.map(|t| super::threads(Some(t))),
            delta_days: self.delta_days,
            ..SimOptions::default()
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // --out is a tree output like remediate's: checked before anything is written, the
    // simulation written beside it (`.DIR.tmp-PID`) and swapped in whole at the end
    // (docs/outputs.md).
    let out = Output {
        flag: "--out",
        path: &args.out,
        kind: OutputKind::Tree,
    };
    super::plan_outputs(&[], &[out], args.force)?;
    let temp = outputs::temp_path(&args.out);
    let mut opts = args.options();
    opts.out = temp.clone();
    let simulated = smki_sim::simulate(&opts)
        .map_err(anyhow::Error::from)
        .and_then(|mut s| {
            s.ground_truth = args.out.join("ground-truth.jsonl");
            s.out = args.out.clone();
            outputs::commit_tree(&temp, &args.out)
                .with_context(|| args.out.display().to_string())?;
            Ok(s)
        });
    let summary = match simulated {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&temp);
            return Err(e);
        }
    };
    if !args.quiet {
        writeln!(crate::output::stdout(), "{summary}")?;
    }
    Ok(ExitCode::SUCCESS)
}
