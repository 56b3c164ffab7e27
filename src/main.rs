//! `smki`: the command-line tool. Each subcommand lives in `src/cmd/`.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cmd;
mod output;

/// A scan allocates a few dozen small strings per certificate on every thread; mimalloc's
/// thread-local free lists make that cheaper than glibc's malloc (measured: `smki bench`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// GB smart metering PKI (SMKI) certificates: simulate a repository, inspect and scan dumps
/// for ECDSA signature-encoding defects, verify every signature.
#[derive(Parser)]
#[command(name = "smki", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// The whole job on a simulated repository: simulate (100k certificates, the 2018 defect
    /// at 4%), scan, remediate, audit, rescan; prints each stage's summary and time.
    Demo(cmd::demo::Args),
    /// Simulate an SMKI repository (root, issuing CA, device CAs, organisations, devices)
    /// with the 2018 defect, in any dump format, with ground truth.
    Simulate(cmd::simulate::Args),
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
    /// Throughput of every stage (simulate, scan with 1..N threads and both backends,
    /// remediate, audit), per core, next to `openssl speed ecdsap256` measured in the same run.
    Bench(cmd::bench::Args),
    /// The repository store: `smki repo load DUMP... --db PATH` imports dumps (any format),
    /// with each certificate's metadata, verdict and defect codes.
    Repo(cmd::repo::Args),
    /// Serve a store: the DCC Boxed SMKI web service (XML, as the DCC's client speaks it),
    /// a JSON API, health.
    Serve(cmd::serve::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = dispatch(cli.command).and_then(|code| {
        output::stdout().flush()?;
        Ok(code)
    });
    match result {
        Ok(code) => code,
        Err(e) => exit_on_error(&e),
    }
}

/// The edge: a closed standard output ends the command quietly (exit 0: whoever read it has
/// what they wanted); any other error is exit 2 with its message and causes.
fn exit_on_error(e: &anyhow::Error) -> ExitCode {
    let stdout = e
        .chain()
        .find_map(|c| c.downcast_ref::<output::StdoutError>());
    if stdout.is_some_and(output::StdoutError::is_closed_pipe) {
        return ExitCode::SUCCESS;
    }
    output::note(format_args!("smki: {}", message(e)));
    ExitCode::from(2)
}

/// An error and its causes, `: `-separated; a cause whose text its error's message already
/// ends with (as the crates' errors end with their source's) is not repeated.
fn message(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.is_empty() {
            text = part;
        } else if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
    }
    text
}

/// Runs one command: Ok(exit code), or Err for usage and I/O errors (exit 2).
pub(crate) fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Demo(a) => cmd::demo::run(a),
        Command::Simulate(a) => cmd::simulate::run(a),
        Command::Inspect(a) => cmd::inspect::run(a),
        Command::Scan(a) => cmd::scan::run(a),
        Command::Remediate(a) => cmd::remediate::run(a),
        Command::Audit(a) => cmd::audit::run(a),
        Command::Bench(a) => cmd::bench::run(a),
        Command::Repo(a) => cmd::repo::run(a),
        Command::Serve(a) => cmd::serve::run(a),
    }
}
