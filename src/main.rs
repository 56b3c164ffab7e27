//! `smki`: the command-line tool. Each subcommand lives in `src/cmd/`.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cmd;

/// GB smart metering PKI (SMKI) certificates: simulate a repository, inspect and scan dumps
/// for ECDSA signature-encoding defects, verify every signature.
#[derive(Parser)]
#[command(name = "smki", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Report on each certificate: profile, defects with offsets, verification, verdict,
    /// relying-party predictions.
    Inspect(cmd::inspect::Args),
    /// Scan repository dumps: summary, breakdowns, root cause, findings (JSONL / CSV).
    /// Exit 0: nothing at or above --fail-on; 1: something is; 2: usage or I/O error.
    Scan(cmd::scan::Args),
    /// Re-encode the signature of every remediable certificate; copy the rest byte for byte;
    /// write a hash-chained manifest. The input is never modified.
    Remediate(cmd::remediate::Args),
    /// Check a remediation independently: every pair of certificates, the manifest chain.
    /// Exit 0 only when everything holds.
    Audit(cmd::audit::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(a) => cmd::inspect::run(a),
        Command::Scan(a) => cmd::scan::run(a),
        Command::Remediate(a) => cmd::remediate::run(a),
        Command::Audit(a) => cmd::audit::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("smki: {e}");
            ExitCode::from(2)
        }
    }
}
