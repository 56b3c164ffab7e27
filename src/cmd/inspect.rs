//! `smki inspect FILE...`
use super::IssuerArgs;
use crate::output;
use smki_scan::{text, Finding};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Certificates: DER or PEM files (one or many certificates each), directories, `-` for stdin.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    issuers: IssuerArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Format {
    Text,
    Json,
}

/// Inspects every record; CA certificates among the inputs also serve as issuers. Exit 0
/// when every input was read (whatever the verdicts), 2 when an input file could not be.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut records = Vec::new();
    let mut io_failed = false;
    for path in &args.files {
        if path.as_os_str() != "-" && !path.exists() {
            output::note(format_args!(
                "smki: {}: no such file or directory",
                path.display()
            ));
            io_failed = true;
            continue;
        }
        records.extend(smki_repo::open(path));
    }
    let ex = args.issuers.examiner(records.iter().cloned(), 1)?.examiner;
    // Each prediction names the party version it was measured against (docs/predictions.md).
    let findings: Vec<Finding> = ex
        .examine_batch(&records)
        .into_iter()
        .map(|mut f| {
            f.predictions = f.predictions.with_tested_with();
            f
        })
        .collect();
    let mut out = output::stdout();
    match args.format {
        Format::Json => {
            let mut json = serde_json::to_vec_pretty(&findings)?;
            json.push(b'\n');
            out.write_all(&json)?;
        }
        Format::Text => {
            for f in &findings {
                writeln!(out, "{}", text::finding(f))?;
            }
        }
    }
    Ok(if io_failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
