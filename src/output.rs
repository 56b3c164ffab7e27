//! Everything the commands print goes through here. Standard output is [`stdout()`], whose
//! writes return their errors (a closed pipe, a full disk) where `print!` would panic;
//! `main` maps them: a closed pipe (`smki scan X | head -1`) ends the command quietly
//! (exit 0), any other failed write is exit 2 with a message. Notes on standard error go
//! through [`note`], which never fails (there is nowhere left to report a failure to).
//!
//! Rust ignores SIGPIPE, so a write to a closed pipe is an `EPIPE` error
//! ([`io::ErrorKind::BrokenPipe`]), not a signal.
use std::fmt;
use std::io::{self, Write};

/// Standard output, for `write!` / `writeln!`: `writeln!(output::stdout(), "...")?`.
pub fn stdout() -> Stdout {
    Stdout
}

/// The handle of [`stdout()`]: every write returns a [`StdoutError`] instead of panicking.
pub struct Stdout;

impl Stdout {
    /// What `write!` and `writeln!` call.
    pub fn write_fmt(&mut self, args: fmt::Arguments<'_>) -> Result<(), StdoutError> {
        io::stdout().lock().write_fmt(args).map_err(StdoutError)
    }

    pub fn write_all(&mut self, bytes: &[u8]) -> Result<(), StdoutError> {
        io::stdout().lock().write_all(bytes).map_err(StdoutError)
    }

    /// Writes what is buffered (a line-buffered stdout holds an unfinished line).
    pub fn flush(&mut self) -> Result<(), StdoutError> {
        io::stdout().lock().flush().map_err(StdoutError)
    }
}

/// A write to standard output failed; the source is the operating system's error.
#[derive(Debug)]
pub struct StdoutError(io::Error);

impl StdoutError {
    /// Whoever read standard output has gone (`| head`): not an error of the command.
    pub fn is_closed_pipe(&self) -> bool {
        self.0.kind() == io::ErrorKind::BrokenPipe
    }
}

impl fmt::Display for StdoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("writing to standard output")
    }
}

impl std::error::Error for StdoutError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// A line on standard error (progress, warnings, the final error). A failed write is
/// ignored: standard error is where failures are reported.
pub fn note(args: fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "{args}");
}
