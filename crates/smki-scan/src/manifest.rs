//! The remediation manifest: JSONL, one entry per changed certificate and per record left
//! alone, each carrying the SHA-256 of the previous line (`prev`), and a final line with the
//! counts and the chain head, so that a removed, edited or reordered entry is evident.
//!
//! ```text
//! {"kind":"changed","index":0,"locator":{..},"serial":"..","issuer_key_id":"..","eui64":"..",
//!  "old_sha256":"..","new_sha256":"..","defects_fixed":["SIG_INT_LEADING_ZERO"],"r":"..","s":"..","prev":".."}
//! {"kind":"left_alone","index":7,"locator":{..},"sha256":"..","verdict":"needs_reissue","reason":"..","prev":".."}
//! {"kind":"end","records":100000,"changed":4000,"left_alone":12,"head":".."}
//! ```
use serde::{Deserialize, Serialize};
use smki_repo::Locator;
use std::io::{self, Write};

/// The `prev` of the first entry: SHA-256 of this string.
pub const GENESIS: &str = "smki remediation manifest v1";

/// One manifest entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry {
    /// A certificate whose signatureValue was re-encoded.
    Changed {
        /// Position of the record in the dump (0-based, input order).
        index: u64,
        locator: Locator,
        serial: Option<String>,
        issuer_key_id: Option<String>,
        eui64: Option<String>,
        old_sha256: String,
        new_sha256: String,
        defects_fixed: Vec<String>,
        r: String,
        s: String,
        #[serde(default)]
        prev: String,
    },
    /// A record copied unchanged although it is not clean: it needs a reissue, its issuer is
    /// unknown, or it is unreadable.
    LeftAlone {
        index: u64,
        locator: Locator,
        sha256: String,
        verdict: String,
        reason: String,
        #[serde(default)]
        prev: String,
    },
    /// The last line.
    End {
        records: u64,
        changed: u64,
        left_alone: u64,
        head: String,
    },
}

impl Entry {
    fn set_prev(&mut self, p: String) {
        match self {
            Entry::Changed { prev, .. } | Entry::LeftAlone { prev, .. } => *prev = p,
            Entry::End { .. } => {}
        }
    }
    pub fn prev(&self) -> Option<&str> {
        match self {
            Entry::Changed { prev, .. } | Entry::LeftAlone { prev, .. } => Some(prev),
            Entry::End { .. } => None,
        }
    }
    pub fn index(&self) -> Option<u64> {
        match self {
            Entry::Changed { index, .. } | Entry::LeftAlone { index, .. } => Some(*index),
            Entry::End { .. } => None,
        }
    }
}

/// SHA-256 (hex) of a manifest line as written, without its line feed.
pub fn line_hash(line: &str) -> String {
    hex::encode(smki_x509::sha256(line.as_bytes()))
}

/// Writes the manifest, chaining the entries.
pub struct ManifestWriter<W: Write> {
    out: W,
    prev: String,
    changed: u64,
    left_alone: u64,
}

impl<W: Write> ManifestWriter<W> {
    pub fn new(out: W) -> Self {
        ManifestWriter {
            out,
            prev: line_hash(GENESIS),
            changed: 0,
            left_alone: 0,
        }
    }
    /// Appends an entry (its `prev` is set here).
    pub fn push(&mut self, mut e: Entry) -> io::Result<()> {
        match e {
            Entry::Changed { .. } => self.changed += 1,
            Entry::LeftAlone { .. } => self.left_alone += 1,
            Entry::End { .. } => return Err(io::Error::other("the end line is written by finish")),
        }
        e.set_prev(self.prev.clone());
        let line = serde_json::to_string(&e).map_err(io::Error::other)?;
        writeln!(self.out, "{line}")?;
        self.prev = line_hash(&line);
        Ok(())
    }
    /// Writes the end line and returns the writer.
    pub fn finish(mut self, records: u64) -> io::Result<W> {
        let end = Entry::End {
            records,
            changed: self.changed,
            left_alone: self.left_alone,
            head: self.prev.clone(),
        };
        writeln!(
            self.out,
            "{}",
            serde_json::to_string(&end).map_err(io::Error::other)?
        )?;
        Ok(self.out)
    }
}

/// A manifest read back and checked: its entries, and every break in the chain.
#[derive(Debug, Default)]
pub struct ManifestCheck {
    pub entries: Vec<Entry>,
    pub end: Option<(u64, u64, u64)>,
    /// Each problem: line number (1-based) and what is wrong.
    pub problems: Vec<(usize, String)>,
}

/// Reads a manifest and checks its chain: each `prev` is the hash of the line before, the
/// end line's counts and head agree, entries are in increasing index order.
pub fn read_manifest(text: &str) -> ManifestCheck {
    let mut check = ManifestCheck::default();
    let mut prev = line_hash(GENESIS);
    let mut last_index: Option<u64> = None;
    let (mut changed, mut left) = (0u64, 0u64);
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        let e: Entry = match serde_json::from_str(line) {
            Ok(e) => e,
            Err(err) => {
                check
                    .problems
                    .push((n, format!("not a manifest entry: {err}")));
                prev = line_hash(line);
                continue;
            }
        };
        if let Entry::End {
            records,
            changed: c,
            left_alone: l,
            head,
        } = &e
        {
            if n != lines.len() {
                check
                    .problems
                    .push((n, "end line is not the last line".into()));
            }
            if *head != prev {
                check
                    .problems
                    .push((n, "chain head does not match the last entry".into()));
            }
            if *c != changed || *l != left {
                check.problems.push((n, format!("end line counts {c} changed / {l} left alone, entries say {changed} / {left}")));
            }
            check.end = Some((*records, *c, *l));
            continue;
        }
        if e.prev() != Some(prev.as_str()) {
            check.problems.push((n, "chain broken: prev is not the hash of the line before (edited, removed or reordered)".into()));
        }
        if let (Some(last), Some(idx)) = (last_index, e.index()) {
            if idx <= last {
                check
                    .problems
                    .push((n, format!("entry index {idx} after {last}: out of order")));
            }
        }
        last_index = e.index();
        match e {
            Entry::Changed { .. } => changed += 1,
            Entry::LeftAlone { .. } => left += 1,
            Entry::End { .. } => {}
        }
        prev = line_hash(line);
        check.entries.push(e);
    }
    if check.end.is_none() {
        check.problems.push((
            lines.len() + 1,
            "no end line: the manifest is truncated".into(),
        ));
    }
    check
}
