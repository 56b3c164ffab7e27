//! Reading certificates: DER (one or concatenated), PEM bundles and extract CSV, streamed.
use crate::extract::ExtractColumns;
use crate::{Error, ErrorKind, PemError};
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt;
use std::io::{BufRead, Read};
use std::sync::Arc;

/// Where a record came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Locator {
    /// The file (as given on the command line or found in a directory), `-` for stdin.
    pub file: Arc<str>,
    /// 0-based index of the record within the file.
    pub record: usize,
    /// 1-based line, for line-oriented formats (PEM, CSV).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// Byte offset of the record within the file.
    pub offset: usize,
}

impl fmt::Display for Locator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.file, self.record)?;
        if let Some(line) = self.line {
            write!(f, " (line {line}, byte {})", self.offset)
        } else {
            write!(f, " (byte {})", self.offset)
        }
    }
}

/// What the repository's web service says of a certificate (extracts carry it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// P pending, I in use, N not in use, E expired, R revoked.
    pub status: Option<String>,
    /// Remote-party role (two hex digits) or device type.
    pub role: Option<String>,
    /// DS or KA.
    pub usage: Option<String>,
    /// The manufacturing flag.
    pub manufacturing: Option<bool>,
    /// installed / in_storage / in_manufacturing.
    pub lifecycle: Option<String>,
    /// The serial number as the repository lists it (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// The subject name (organisation certificates), as the repository lists it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The EUI-64 of the subject (device or party), as 90-B3-D5-...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eui64: Option<String>,
    /// The issuance date, YYYY-MM-DD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued: Option<String>,
}

/// One certificate read from a dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub locator: Locator,
    pub der: Vec<u8>,
    pub meta: Option<Metadata>,
}

/// A dump format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Format {
    /// One or more DER certificates, back to back.
    Der,
    /// PEM blocks (one or many).
    Pem,
    /// The repository extract: CSV with metadata and base64 DER.
    Extract,
}

/// Detects the format of a buffer from its content (the first bytes of a file suffice).
pub fn detect(bytes: &[u8]) -> Option<Format> {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let rest = &bytes[start..];
    if rest.first() == Some(&0x30) {
        Some(Format::Der)
    } else if rest.windows(11).take(4096).any(|w| w == b"-----BEGIN ") {
        Some(Format::Pem)
    } else if rest.starts_with(b"serial,") || rest.starts_with(b"\"serial\"") {
        Some(Format::Extract)
    } else {
        None
    }
}

/// Reads every certificate in `bytes` (the whole content of `file`), detecting the format.
/// Records and errors come in file order; a bad record does not stop the others where the
/// format allows resynchronising (PEM, CSV); in concatenated DER a bad length ends the file
/// with one error at its offset.
pub fn parse_buffer(file: &Arc<str>, bytes: &[u8]) -> Vec<Result<Record, Error>> {
    RecordReader::new(file.clone(), bytes).collect()
}

enum State {
    Detect,
    Der,
    /// Concatenated DER whose rest is already in memory (after an indefinite-length record):
    /// `buf` starts at file offset `base`, `at` is the next unread index.
    DerBuffered {
        buf: Vec<u8>,
        at: usize,
        base: usize,
    },
    Pem {
        block: Option<PemBlock>,
    },
    Extract(Option<ExtractColumns>),
    Done,
}

struct PemBlock {
    label: String,
    line: usize,
    offset: usize,
    b64: String,
    /// The block's lines as read (for copying a bad block unaltered).
    raw: Vec<u8>,
}

/// A streaming reader of one file's records (DER, PEM or extract CSV, detected from the first
/// bytes): an iterator of records and errors in file order, reading the source incrementally
/// so that memory stays bounded by the largest record, not the file.
pub struct RecordReader<R> {
    file: Arc<str>,
    src: R,
    state: State,
    /// Byte offset of the next unread byte.
    pos: usize,
    /// Lines consumed so far (line-oriented formats).
    line: usize,
    /// Index of the next record (successful or not).
    index: usize,
    /// Errors or records produced ahead of time.
    queue: VecDeque<Result<Record, Error>>,
    /// The bytes of the last line read, exactly as in the source.
    last_line: Vec<u8>,
}

impl<R: BufRead> RecordReader<R> {
    /// A reader of `src`, whose records are located as coming from `file`.
    pub fn new(file: Arc<str>, src: R) -> Self {
        RecordReader {
            file,
            src,
            state: State::Detect,
            pos: 0,
            line: 0,
            index: 0,
            queue: VecDeque::new(),
            last_line: Vec::new(),
        }
    }

    /// The format detected (None before the first record is read or when unknown).
    pub fn format(&self) -> Option<Format> {
        match self.state {
            State::Der | State::DerBuffered { .. } => Some(Format::Der),
            State::Pem { .. } => Some(Format::Pem),
            State::Extract(_) => Some(Format::Extract),
            State::Detect | State::Done => None,
        }
    }

    fn loc(&self, record: usize, line: Option<usize>, offset: usize) -> Locator {
        Locator {
            file: self.file.clone(),
            record,
            line,
            offset,
        }
    }

    fn err(&mut self, kind: ErrorKind, line: Option<usize>, offset: usize) -> Error {
        let locator = self.loc(self.index, line, offset);
        self.index += 1;
        Error::new(kind, locator)
    }

    /// The next record: a DER certificate read from `offset`.
    fn der_record(&mut self, der: Vec<u8>, offset: usize) -> Option<Result<Record, Error>> {
        let locator = self.loc(self.index, None, offset);
        self.index += 1;
        Some(Ok(Record {
            locator,
            der,
            meta: None,
        }))
    }

    fn io_error(&mut self, e: std::io::Error) -> Option<Result<Record, Error>> {
        self.state = State::Done;
        let (line, pos) = (
            if self.line > 0 {
                Some(self.line + 1)
            } else {
                None
            },
            self.pos,
        );
        Some(Err(self.err(ErrorKind::io(e), line, pos)))
    }

    fn detect(&mut self) -> Option<Result<Record, Error>> {
        // Fill the buffer with up to 4 KiB (or the whole source) for detection.
        let buf = match self.src.fill_buf() {
            Ok(b) => b,
            Err(e) => return self.io_error(e),
        };
        if buf.is_empty() {
            self.state = State::Done;
            return Some(Err(self
                .err(ErrorKind::Empty, None, 0)
                .with_raw(Vec::new())));
        }
        match detect(buf) {
            Some(Format::Der) => self.state = State::Der,
            Some(Format::Pem) => self.state = State::Pem { block: None },
            Some(Format::Extract) => self.state = State::Extract(None),
            None => {
                self.state = State::Done;
                let mut raw = Vec::new();
                if let Err(e) = self.src.read_to_end(&mut raw) {
                    return self.io_error(e);
                }
                return Some(Err(self
                    .err(ErrorKind::UnknownFormat, None, 0)
                    .with_raw(raw)));
            }
        }
        self.next()
    }

    /// Reads up to `n` more bytes into `out` (fewer only at the end of the source).
    fn read_upto(&mut self, n: usize, out: &mut Vec<u8>) -> std::io::Result<()> {
        let start = out.len();
        (&mut self.src).take(n as u64).read_to_end(out)?;
        self.pos += out.len() - start;
        Ok(())
    }

    fn next_der(&mut self) -> Option<Result<Record, Error>> {
        // Skip whitespace between (and after) the certificates.
        loop {
            let buf = match self.src.fill_buf() {
                Ok(b) => b,
                Err(e) => return self.io_error(e),
            };
            if buf.is_empty() {
                self.state = State::Done;
                return None;
            }
            let ws = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
            if ws == 0 {
                break;
            }
            self.src.consume(ws);
            self.pos += ws;
        }
        let start = self.pos;
        // The common case: the whole record is in the buffer (64 KiB hold ~150 certificates),
        // and is copied out in one go. Otherwise (across the buffer's end, or bad) it is read
        // piece by piece below, which also reports any error.
        if let Ok(buf) = self.src.fill_buf() {
            if let Ok(h) = smki_der::read_header(buf, 0, start) {
                let der = buf[..h.end - start].to_vec();
                self.src.consume(der.len());
                self.pos = h.end;
                return self.der_record(der, start);
            }
        }
        let mut bytes = Vec::with_capacity(512);
        if let Err(e) = self.read_upto(2, &mut bytes) {
            return self.io_error(e);
        }
        let needed = match bytes.get(1) {
            Some(&l) if l < 0x80 => Some(l as usize),
            Some(&0x80) => None,
            Some(&l) => {
                let n = (l & 0x7f) as usize;
                if n <= 8 {
                    if let Err(e) = self.read_upto(n, &mut bytes) {
                        return self.io_error(e);
                    }
                }
                if n <= 8 && bytes.len() == 2 + n {
                    let len = bytes[2..].iter().fold(0u128, |a, &b| (a << 8) | b as u128);
                    usize::try_from(len).ok().filter(|&l| l <= 1 << 32)
                } else {
                    Some(0) // let read_header report the error
                }
            }
            None => Some(0),
        };
        let res = match needed {
            Some(len) => self.read_upto(len, &mut bytes),
            // Indefinite length: the end is found by walking the contents; read the rest.
            None => self.src.read_to_end(&mut bytes).map(|n| self.pos += n),
        };
        if let Err(e) = res {
            return self.io_error(e);
        }
        match smki_der::read_header(&bytes, 0, start) {
            Ok(h) => {
                let end = h.end - start;
                if end < bytes.len() {
                    // Indefinite length: the rest of the source was read to find the end;
                    // what follows the record is read from memory from now on.
                    let rest = bytes.split_off(end);
                    self.pos = h.end;
                    self.state = State::DerBuffered {
                        buf: rest,
                        at: 0,
                        base: h.end,
                    };
                }
                self.der_record(bytes, start)
            }
            Err(e) => {
                // The rest of the file from the bad record on: nothing after it can be framed.
                self.state = State::Done;
                if let Err(e) = self.src.read_to_end(&mut bytes) {
                    return self.io_error(e);
                }
                Some(Err(self
                    .err(ErrorKind::Der(e), None, start)
                    .with_raw(bytes)))
            }
        }
    }

    /// The next record of concatenated DER held in memory (offsets relative to the file).
    fn next_der_buffered(&mut self) -> Option<Result<Record, Error>> {
        let State::DerBuffered { buf, at, base } = &mut self.state else {
            return None;
        };
        while buf.get(*at).is_some_and(|b| b.is_ascii_whitespace()) {
            *at += 1;
        }
        if *at >= buf.len() {
            self.state = State::Done;
            return None;
        }
        let (start, file_base) = (*at, *base);
        match smki_der::read_header(buf, start, file_base) {
            Ok(h) => {
                let der = buf[start..h.end - file_base].to_vec();
                *at = h.end - file_base;
                self.pos = h.end;
                self.der_record(der, file_base + start)
            }
            Err(e) => {
                let raw = buf[start..].to_vec();
                self.state = State::Done;
                Some(Err(self
                    .err(ErrorKind::Der(e), None, file_base + start)
                    .with_raw(raw)))
            }
        }
    }

    /// Reads one line (with its terminator); None at the end. Returns (line number, offset, text).
    fn read_line(&mut self) -> Option<std::io::Result<(usize, usize, String)>> {
        self.last_line.clear();
        match self.src.read_until(b'\n', &mut self.last_line) {
            Ok(0) => None,
            Ok(n) => {
                let offset = self.pos;
                self.pos += n;
                self.line += 1;
                Some(Ok((
                    self.line,
                    offset,
                    String::from_utf8_lossy(&self.last_line).into_owned(),
                )))
            }
            Err(e) => Some(Err(e)),
        }
    }

    fn next_pem(&mut self) -> Option<Result<Record, Error>> {
        loop {
            let (line_no, offset, raw) = match self.read_line() {
                None => {
                    let block = match &mut self.state {
                        State::Pem { block } => block.take(),
                        _ => None,
                    };
                    self.state = State::Done;
                    return block.map(|b| {
                        let e = self.err(
                            ErrorKind::Pem(PemError::Unterminated),
                            Some(b.line),
                            b.offset,
                        );
                        Err(e.with_raw(b.raw))
                    });
                }
                Some(Err(e)) => return self.io_error(e),
                Some(Ok(l)) => l,
            };
            let line = raw.trim();
            let State::Pem { block } = &mut self.state else {
                return None;
            };
            if let Some(label) = line
                .strip_prefix("-----BEGIN ")
                .and_then(|l| l.strip_suffix("-----"))
            {
                let old = block.replace(PemBlock {
                    label: label.to_string(),
                    line: line_no,
                    offset,
                    b64: String::new(),
                    raw: self.last_line.clone(),
                });
                if let Some(b) = old {
                    let e = self.err(
                        ErrorKind::Pem(PemError::Unterminated),
                        Some(b.line),
                        b.offset,
                    );
                    return Some(Err(e.with_raw(b.raw)));
                }
            } else if let Some(label) = line
                .strip_prefix("-----END ")
                .and_then(|l| l.strip_suffix("-----"))
            {
                if let Some(mut b) = block.take() {
                    let locator = self.loc(self.index, Some(b.line), b.offset);
                    self.index += 1;
                    b.raw.extend_from_slice(&self.last_line);
                    let raw_block = std::mem::take(&mut b.raw);
                    if b.label != label {
                        let kind = ErrorKind::Pem(PemError::MismatchedEnd {
                            begin: b.label,
                            end: label.to_string(),
                        });
                        return Some(Err(Error::new(kind, locator).with_raw(raw_block)));
                    }
                    if !matches!(
                        b.label.as_str(),
                        "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE"
                    ) {
                        return Some(Err(
                            Error::new(ErrorKind::PemLabel(b.label), locator).with_raw(raw_block)
                        ));
                    }
                    return Some(
                        match base64::engine::general_purpose::STANDARD.decode(b.b64.as_bytes()) {
                            Ok(der) => Ok(Record {
                                locator,
                                der,
                                meta: None,
                            }),
                            Err(e) => Err(Error::new(ErrorKind::Pem(PemError::Base64(e)), locator)
                                .with_raw(raw_block)),
                        },
                    );
                }
            } else if let Some(b) = block.as_mut() {
                b.raw.extend_from_slice(&self.last_line);
                if !line.contains(':') {
                    b.b64.push_str(line);
                }
            }
        }
    }

    fn next_extract(&mut self) -> Option<Result<Record, Error>> {
        loop {
            let (line_no, offset, raw) = match self.read_line()? {
                Err(e) => return self.io_error(e),
                Ok(l) => l,
            };
            let text = raw.trim_end_matches(['\n', '\r']);
            if text.trim().is_empty() {
                continue;
            }
            let State::Extract(cols) = &mut self.state else {
                return None;
            };
            match cols {
                None => match ExtractColumns::from_header(text) {
                    Ok(c) => *cols = Some(c),
                    Err(m) => {
                        self.state = State::Done;
                        return Some(Err(self.err(ErrorKind::Csv(m), Some(line_no), offset)));
                    }
                },
                Some(c) => {
                    let row = c.parse_row(text);
                    let locator = self.loc(self.index, Some(line_no), offset);
                    self.index += 1;
                    return Some(match row {
                        Ok((der, meta)) => Ok(Record {
                            locator,
                            der,
                            meta: Some(meta),
                        }),
                        Err(m) => {
                            Err(Error::new(ErrorKind::Csv(m), locator)
                                .with_raw(self.last_line.clone()))
                        }
                    });
                }
            }
        }
    }
}

impl<R: BufRead> Iterator for RecordReader<R> {
    type Item = Result<Record, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(r) = self.queue.pop_front() {
            return Some(r);
        }
        match self.state {
            State::Detect => self.detect(),
            State::Der => self.next_der(),
            State::DerBuffered { .. } => self.next_der_buffered(),
            State::Pem { .. } => self.next_pem(),
            State::Extract(_) => self.next_extract(),
            State::Done => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_and_der() {
        let file: Arc<str> = "t".into();
        let der = [0x30, 0x03, 0x02, 0x01, 0x05];
        let recs = parse_buffer(&file, &[&der[..], &der[..]].concat());
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1].as_ref().unwrap().locator.offset, 5);
        let pem = "junk\n-----BEGIN CERTIFICATE-----\nMAMCAQU=\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nMAMCAQU=\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nM!!!\n-----END CERTIFICATE-----\n";
        let recs = parse_buffer(&file, pem.as_bytes());
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[0].as_ref().unwrap().der, der);
        assert_eq!(recs[0].as_ref().unwrap().locator.line, Some(2));
        assert!(matches!(
            recs[1].as_ref().unwrap_err().kind,
            ErrorKind::PemLabel(_)
        ));
        let e = recs[2].as_ref().unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Pem(_)));
        assert_eq!(e.locator.line, Some(8));
        assert_eq!(e.locator.record, 2);
    }

    #[test]
    fn der_truncated() {
        let file: Arc<str> = "t".into();
        let recs = parse_buffer(&file, &[0x30, 0x03, 0x02, 0x01, 0x05, 0x30, 0x10, 0x00]);
        assert_eq!(recs.len(), 2);
        let e = recs[1].as_ref().unwrap_err();
        assert_eq!(e.locator.offset, 5);
    }
}
