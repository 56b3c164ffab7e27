//! Everything the commands print goes through here. Standard output is [`stdout()`], whose
//! writes return their errors (a closed pipe, a full disk) where `print!` would panic;
//! `main` maps them: a closed pipe (`smki scan X | head -1`) ends the command quietly
//! (exit 0), any other failed write is exit 2 with a message. Notes on standard error go
//! through [`note`], which never fails (there is nowhere left to report a failure to).
//!
//! Rust ignores SIGPIPE, so a write to a closed pipe is an `EPIPE` error
//! ([`io::ErrorKind::BrokenPipe`]), not a signal.
//!
//! Text written with `write!` / `writeln!` and notes are made safe for a terminal on the
//! way out ([`terminal_safe`]): a file name, subject or issuer may hold control characters
//! (a file named `x\e[3A\e[JAUDIT PASSED...` must not rewrite the lines above it). Bytes
//! written with [`Stdout::write_all`] (JSON lines, CSV rows, certificates) go out as they
//! are: JSON escapes control characters itself.
use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};

/// `text` with every control character but newline and tab (C0, DEL and the C1 range
/// U+0080..U+009F, which terminals also obey) written as a visible escape: ESC as `\e`,
/// others as `\xNN` / `\u{NN}`. Borrowed when there is none (the common case).
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\u{1b}' => out.push_str("\\e"),
            c if unsafe_char(c) && (c as u32) < 0x80 => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Standard output, for `write!` / `writeln!`: `writeln!(output::stdout(), "...")?`.
pub fn stdout() -> Stdout {
    Stdout
}

/// The handle of [`stdout()`]: every write returns a [`StdoutError`] instead of panicking.
pub struct Stdout;

impl Stdout {
    /// What `write!` and `writeln!` call: the text, [`terminal_safe`].
    pub fn write_fmt(&mut self, args: fmt::Arguments<'_>) -> Result<(), StdoutError> {
        let text = match args.as_str() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(args.to_string()),
        };
        io::stdout()
            .lock()
            .write_all(terminal_safe(&text).as_bytes())
            .map_err(StdoutError)
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
    let text = args.to_string();
    let _ = writeln!(io::stderr().lock(), "{}", terminal_safe(&text));
}

#[cfg(test)]
mod tests {
    use super::terminal_safe;

    #[test]
    fn control_characters_become_visible() {
        let cases = [
            (
                "plain text, tab\tand\nnewline",
                "plain text, tab\tand\nnewline",
            ),
            (
                "zz\u{1b}[3A\u{1b}[JAUDIT PASSED\u{1b}[8m.der",
                "zz\\e[3A\\e[JAUDIT PASSED\\e[8m.der",
            ),
            ("bell\u{7} cr\r del\u{7f}", "bell\\x07 cr\\x0d del\\x7f"),
            ("csi\u{9b}2J", "csi\\u{9b}2J"),
            ("é ü 🙂", "é ü 🙂"),
        ];
        for (input, want) in cases {
            assert_eq!(terminal_safe(input), want, "{input:?}");
        }
    }
}
