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
use crate::hexbytes;
use crate::Verdict;
use serde::{Deserialize, Serialize};
use smki_der::DefectCode;
use smki_repo::Locator;
use std::fmt;
use std::io::{self, Write};

/// The `prev` of the first entry: SHA-256 of this string.
pub const GENESIS: &str = "smki remediation manifest v1";

/// A SHA-256 digest: of a certificate, or of a manifest line.
pub type Digest = [u8; 32];

/// One manifest entry. Bytes are written as lowercase hex, and read back only in that form
/// (a line that does not read is a broken chain).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry {
    /// A certificate whose signatureValue was re-encoded.
    Changed {
        /// Position of the record in the dump (0-based, input order).
        index: u64,
        locator: Locator,
        #[serde(with = "hexbytes::option")]
        serial: Option<Vec<u8>>,
        #[serde(with = "hexbytes::option")]
        issuer_key_id: Option<Vec<u8>>,
        eui64: Option<String>,
        #[serde(with = "hexbytes")]
        old_sha256: Digest,
        #[serde(with = "hexbytes")]
        new_sha256: Digest,
        defects_fixed: Vec<DefectCode>,
        #[serde(with = "hexbytes")]
        r: [u8; 32],
        #[serde(with = "hexbytes")]
        s: [u8; 32],
        /// The hash of the line before (set by [`ManifestWriter::push`]).
        #[serde(default, with = "hexbytes")]
        prev: Digest,
    },
    /// A record copied unchanged although it is not clean: it needs a reissue, its issuer is
    /// unknown, or it is unreadable (`sha256` is `None`, written `""`, when the reader kept
    /// none of its bytes).
    LeftAlone {
        index: u64,
        locator: Locator,
        #[serde(with = "hexbytes::or_empty")]
        sha256: Option<Digest>,
        verdict: Verdict,
        reason: String,
        /// The record is not in the remediated dump: it does not read, and the remediated
        /// dump is in another format than the original (a conversion), where its bytes
        /// cannot stand (docs/outputs.md, "Converting a dump"). Written only when true.
        #[serde(default, skip_serializing_if = "is_false")]
        kept_out: bool,
        #[serde(default, with = "hexbytes")]
        prev: Digest,
    },
    /// The last line.
    End {
        records: u64,
        changed: u64,
        left_alone: u64,
        #[serde(with = "hexbytes")]
        head: Digest,
    },
}

impl Entry {
    fn set_prev(&mut self, p: Digest) {
        match self {
            Entry::Changed { prev, .. } | Entry::LeftAlone { prev, .. } => *prev = p,
            Entry::End { .. } => {}
        }
    }
    pub fn prev(&self) -> Option<&Digest> {
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

/// The fields as the manifest writes them (bytes in hex, codes and verdicts by name): the
/// audit quotes an entry this way (MANIFEST_EXTRA).
impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = |b: &[u8]| hex::encode(b);
        match self {
            Entry::Changed {
                index,
                locator,
                serial,
                issuer_key_id,
                eui64,
                old_sha256,
                new_sha256,
                defects_fixed,
                r,
                s,
                prev,
            } => f
                .debug_struct("Changed")
                .field("index", index)
                .field("locator", locator)
                .field("serial", &serial.as_deref().map(hex))
                .field("issuer_key_id", &issuer_key_id.as_deref().map(hex))
                .field("eui64", eui64)
                .field("old_sha256", &hex(old_sha256))
                .field("new_sha256", &hex(new_sha256))
                .field(
                    "defects_fixed",
                    &defects_fixed.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
                )
                .field("r", &hex(r))
                .field("s", &hex(s))
                .field("prev", &hex(prev))
                .finish(),
            Entry::LeftAlone {
                index,
                locator,
                sha256,
                verdict,
                reason,
                kept_out,
                prev,
            } => {
                let mut d = f.debug_struct("LeftAlone");
                d.field("index", index)
                    .field("locator", locator)
                    .field(
                        "sha256",
                        &sha256.as_ref().map_or_else(String::new, |d| hex(d)),
                    )
                    .field("verdict", &verdict.as_str())
                    .field("reason", reason);
                if *kept_out {
                    d.field("kept_out", kept_out);
                }
                d.field("prev", &hex(prev)).finish()
            }
            Entry::End {
                records,
                changed,
                left_alone,
                head,
            } => f
                .debug_struct("End")
                .field("records", records)
                .field("changed", changed)
                .field("left_alone", left_alone)
                .field("head", &hex(head))
                .finish(),
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// SHA-256 of a manifest line as written, without its line feed.
pub fn line_hash(line: &str) -> Digest {
    smki_x509::sha256(line.as_bytes())
}

/// Writes the manifest, chaining the entries.
pub struct ManifestWriter<W: Write> {
    out: W,
    prev: Digest,
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
        e.set_prev(self.prev);
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
            head: self.prev,
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
    let mut lines: Vec<&str> = text.lines().collect();
    // Blank lines after the end line are not part of the manifest (an editor's trailing
    // newline); anywhere else a blank line is a line that does not read.
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
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
        // Every line, the end line included, must be exactly what the writer writes for its
        // entry: a field added, reordered or respelled is an edit the chain alone would not
        // show on the end line (no line comes after it). Reported once per line: a line whose
        // chain is broken is not reported again for its form.
        let canonical = serde_json::to_string(&e).is_ok_and(|c| c == *line);
        let chained = match &e {
            Entry::End { head, .. } => *head == prev,
            _ => e.prev() == Some(&prev),
        };
        if !canonical && chained {
            check.problems.push((
                n,
                "not as smki writes it (a field added, removed, reordered or respelled)".into(),
            ));
        }
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
        if e.prev() != Some(&prev) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn changed() -> Entry {
        Entry::Changed {
            index: 3,
            locator: Locator {
                file: "dump/a.pem".into(),
                record: 3,
                line: Some(40),
                offset: 1234,
            },
            serial: Some(vec![0x06, 0x26]),
            issuer_key_id: None,
            eui64: Some("00-1A-3C-02-0A-00-00-05".into()),
            old_sha256: [0x1d; 32],
            new_sha256: [0xab; 32],
            defects_fixed: vec![DefectCode::SigIntLeadingZero, DefectCode::CertBer],
            r: [0; 32],
            s: [0xff; 32],
            prev: [0x01; 32],
        }
    }

    fn left_alone(index: u64, sha256: Option<Digest>) -> Entry {
        Entry::LeftAlone {
            index,
            locator: Locator {
                file: "-".into(),
                record: 6,
                line: None,
                offset: 0,
            },
            sha256,
            verdict: Verdict::NeedsReissue,
            reason: "the signature does not verify \"here\"".into(),
            kept_out: false,
            prev: [0x02; 32],
        }
    }

    #[test]
    fn entries_read_back_as_written() {
        let mut w = ManifestWriter::new(Vec::new());
        let entries = [changed(), left_alone(6, Some([7; 32])), left_alone(8, None)];
        for e in entries.clone() {
            w.push(e).unwrap();
        }
        let text = String::from_utf8(w.finish(9).unwrap()).unwrap();
        assert!(text.contains(r#""verdict":"needs_reissue""#), "{text}");
        assert!(text.contains(r#""sha256":"","#), "{text}");
        assert!(
            text.contains(r#""defects_fixed":["SIG_INT_LEADING_ZERO","CERT_BER"]"#),
            "{text}"
        );
        let check = read_manifest(&text);
        assert_eq!(check.problems, []);
        assert_eq!(check.end, Some((9, 1, 2)));
        let strip = |mut e: Entry| {
            e.set_prev([0; 32]);
            e
        };
        assert_eq!(
            check.entries.into_iter().map(strip).collect::<Vec<_>>(),
            entries.map(strip)
        );
        // Anything but what the writer writes does not read.
        let line = text.lines().next().unwrap();
        let sha = hex::encode([0x1d; 32]);
        for bad in [
            sha.to_uppercase(),
            format!("0x{}", &sha[2..]),
            sha[2..].to_string(),
        ] {
            let edited = line.replace(&sha, &bad);
            assert!(serde_json::from_str::<Entry>(&edited).is_err(), "{edited}");
        }
        let edited = line.replace("SIG_INT_LEADING_ZERO", "SIG_INT_LEADING_ONE");
        assert!(serde_json::from_str::<Entry>(&edited).is_err(), "{edited}");
    }

    /// Blank lines after the end line are an editor's, not a break; the end line is
    /// checked like every other line (exactly as written, no field added).
    #[test]
    fn trailing_blank_lines_and_the_end_line() {
        let mut w = ManifestWriter::new(Vec::new());
        w.push(changed()).unwrap();
        w.push(left_alone(6, Some([7; 32]))).unwrap();
        let text = String::from_utf8(w.finish(9).unwrap()).unwrap();
        assert_eq!(read_manifest(&text).problems, []);
        assert_eq!(read_manifest(&format!("{text}\n \n")).problems, []);
        assert_eq!(read_manifest(&text.replace('\n', "\r\n")).problems, []);
        let end = text.replace(r#"{"kind":"end","#, r#"{"kind":"end","note":"ok","#);
        let problems = read_manifest(&end).problems;
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].0, 3);
        assert!(
            problems[0].1.contains("not as smki writes it"),
            "{problems:?}"
        );
        // A blank line between entries is a line that does not read.
        let blank = text.replacen('\n', "\n\n", 1);
        assert!(!read_manifest(&blank).problems.is_empty());
        // An entry respelled (fields reordered), its successor's prev recomputed: the
        // entry's own line is reported, once.
        let mut first = changed();
        first.set_prev(line_hash(GENESIS));
        let line = serde_json::to_string(&first).unwrap();
        assert_eq!(Some(line.as_str()), text.lines().next());
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let respelled = serde_json::to_string(&v).unwrap();
        assert_ne!(respelled, line, "serde_json::Value sorts the keys");
        let mut second = left_alone(6, Some([7; 32]));
        second.set_prev(line_hash(&respelled));
        let second = serde_json::to_string(&second).unwrap();
        let end = serde_json::to_string(&Entry::End {
            records: 9,
            changed: 1,
            left_alone: 1,
            head: line_hash(&second),
        })
        .unwrap();
        let forged = format!("{respelled}\n{second}\n{end}\n");
        let problems = read_manifest(&forged).problems;
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].1.contains("not as smki writes it"),
            "{problems:?}"
        );
        assert_eq!(problems[0].0, 1);
    }

    /// The entries as they were when every field was text: the audit quotes an entry with
    /// `{:?}`, and that text must not change.
    #[derive(Debug)]
    #[allow(dead_code)] // read by Debug only
    enum TextEntry {
        Changed {
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
            prev: String,
        },
        LeftAlone {
            index: u64,
            locator: Locator,
            sha256: String,
            verdict: String,
            reason: String,
            prev: String,
        },
        End {
            records: u64,
            changed: u64,
            left_alone: u64,
            head: String,
        },
    }

    #[test]
    fn debug_is_the_text_of_the_fields() {
        let text = |e: &Entry| -> TextEntry {
            let v = serde_json::to_value(e).unwrap();
            let s = |k: &str| v[k].as_str().unwrap().to_string();
            let o = |k: &str| v[k].as_str().map(str::to_string);
            let n = |k: &str| v[k].as_u64().unwrap();
            let locator = || serde_json::from_value(v["locator"].clone()).unwrap();
            match e {
                Entry::Changed { .. } => TextEntry::Changed {
                    index: n("index"),
                    locator: locator(),
                    serial: o("serial"),
                    issuer_key_id: o("issuer_key_id"),
                    eui64: o("eui64"),
                    old_sha256: s("old_sha256"),
                    new_sha256: s("new_sha256"),
                    defects_fixed: serde_json::from_value(v["defects_fixed"].clone()).unwrap(),
                    r: s("r"),
                    s: s("s"),
                    prev: s("prev"),
                },
                Entry::LeftAlone { .. } => TextEntry::LeftAlone {
                    index: n("index"),
                    locator: locator(),
                    sha256: s("sha256"),
                    verdict: s("verdict"),
                    reason: s("reason"),
                    prev: s("prev"),
                },
                Entry::End { .. } => TextEntry::End {
                    records: n("records"),
                    changed: n("changed"),
                    left_alone: n("left_alone"),
                    head: s("head"),
                },
            }
        };
        let end = Entry::End {
            records: 1,
            changed: 2,
            left_alone: 3,
            head: [0xcd; 32],
        };
        for e in [
            changed(),
            left_alone(6, Some([7; 32])),
            left_alone(8, None),
            end,
        ] {
            assert_eq!(format!("{e:?}"), format!("{:?}", text(&e)));
            assert_eq!(format!("{e:#?}"), format!("{:#?}", text(&e)));
        }
    }
}
