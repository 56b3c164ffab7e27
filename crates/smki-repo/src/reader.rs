//! Reading certificates: DER (one or concatenated), PEM bundles and extract CSV, streamed; the
//! detection and resynchronisation rules are in docs/repository.md, "Reading a dump".
use crate::extract::ExtractColumns;
use crate::{Error, ErrorKind, FileName, ObjectKind, PemError};
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt;
use std::io::{BufRead, Read};
use std::ops::Range;

/// Where a record came from.
/// In JSON: `file` (the name as text), `file_bytes_hex` (only for a name that is not UTF-8:
/// its exact bytes), `record`, `line`, `offset` (docs/outputs.md, "File names").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(
    into = "crate::name::LocatorRepr",
    try_from = "crate::name::LocatorRepr"
)]
pub struct Locator {
    /// The file (as given on the command line or found in a directory, its name's bytes
    /// exactly), `-` for stdin.
    pub file: FileName,
    /// 0-based index of the record within the file.
    pub record: usize,
    /// 1-based line, for line-oriented formats (PEM, CSV).
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

/// The UTF-8 byte-order mark.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// Detects the format of a buffer from its content, by the rules the reader follows
/// (docs/repository.md, "Reading a dump"): after an optional UTF-8 byte-order mark and
/// whitespace, a first byte 0x30 (without a byte-order mark) is DER; otherwise the content
/// is text: an extract when its first line is an extract header, PEM when a `-----BEGIN `
/// marker is anywhere in it, else unknown. On a part of a file this can only say what that
/// part shows: the reader decides while streaming, with no limit on where the first BEGIN
/// line is.
pub fn detect(bytes: &[u8]) -> Option<Format> {
    let (body, bom) = match bytes.strip_prefix(BOM) {
        Some(rest) => (rest, true),
        None => (bytes, false),
    };
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    let rest = &body[start..];
    let first_line = rest.split(|&b| b == b'\n').next().unwrap_or_default();
    if rest.first() == Some(&0x30) && !bom {
        Some(Format::Der)
    } else if rest.is_empty() {
        None
    } else if is_extract_header(&String::from_utf8_lossy(first_line)) {
        Some(Format::Extract)
    } else if find(rest, b"-----BEGIN ").is_some() {
        Some(Format::Pem)
    } else {
        None
    }
}

/// Is this first line of a text file an extract header? It starts with the `serial` column
/// (as the writers put it), or names both required columns in any order.
fn is_extract_header(line: &str) -> bool {
    let line = line.trim();
    line.starts_with("serial,")
        || line.starts_with("\"serial\"")
        || ExtractColumns::from_header(line).is_ok()
}

/// The first position of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A PEM marker (`-----BEGIN LABEL-----` when `kind` is `b"-----BEGIN "`) in `line` from
/// `from`: (where it starts, its label, where it ends).
fn pem_marker(line: &[u8], from: usize, kind: &[u8]) -> Option<(usize, String, usize)> {
    let mut at = from;
    while let Some(i) = find(&line[at..], kind) {
        let start = at + i;
        let label_start = start + kind.len();
        if let Some(k) = find(&line[label_start..], b"-----") {
            let label = String::from_utf8_lossy(&line[label_start..label_start + k]);
            return Some((start, label.into_owned(), label_start + k + 5));
        }
        at = label_start;
    }
    None
}

/// What a complete DER element is, by its ASN.1 shape (read with `smki_der::read_header`
/// only): the decision the reader takes for every record of concatenated DER, and for the
/// content of PEM and extract records (docs/repository.md, "Reading a dump").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A SEQUENCE of three elements that tile it exactly (a SEQUENCE, a SEQUENCE, a BIT
    /// STRING: a signed object) whose first is not shaped as a tbsCertList or a
    /// CertificationRequestInfo: a certificate, or what the examiner is to judge as one.
    Certificate,
    /// A CRL, a certificate request, a key... (not a certificate).
    Object(ObjectKind),
    /// Anything else: read as a record for the examiner, but in concatenated DER first
    /// looked into for the start of a certificate (a truncated record that swallowed it).
    Unknown,
}

/// The element at `at` inside `der[..end]` (None at `end`, or when it does not fit).
fn element(der: &[u8], at: usize, end: usize) -> Option<smki_der::Header> {
    if at >= end {
        return None;
    }
    smki_der::read_header(&der[..end], at, 0).ok()
}

/// The object identifier arc of PKCS#7 content types (1.2.840.113549.1.7), as encoded.
const PKCS7_ARC: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07];

/// The shape of the DER element at the start of `der` (see [`Shape`]).
pub(crate) fn shape(der: &[u8]) -> Shape {
    shape_and_tail(der).0
}

/// [`shape`], and the content of the element's last element: where, in concatenated DER, a
/// record truncated inside its last element (the signature of a certificate) hides the next
/// certificate with every length still consistent (see [`RecordReader`]'s `der_shape`).
/// Empty for [`Shape::Unknown`].
fn shape_and_tail(der: &[u8]) -> (Shape, Range<usize>) {
    let shape = shape_of(der);
    let (shape, tail) = match shape {
        (Shape::Object(_), None) => {
            // the content of the last element
            let tail = element(der, 0, der.len()).and_then(|outer| {
                let mut at = outer.content.start;
                let mut last = None;
                while let Some(h) = element(der, at, outer.content.end) {
                    at = h.end;
                    last = Some(h.content);
                }
                last
            });
            (shape.0, tail)
        }
        other => other,
    };
    (shape, tail.unwrap_or(0..0))
}

/// [`shape`], with the content of the last element when it was read on the way.
fn shape_of(der: &[u8]) -> (Shape, Option<Range<usize>>) {
    use smki_der::Tag;
    let Some(outer) = element(der, 0, der.len()) else {
        return (Shape::Unknown, None);
    };
    if outer.tag != Tag::SEQUENCE {
        return (Shape::Unknown, None);
    }
    let end = outer.content.end;
    let Some(first) = element(der, outer.content.start, end) else {
        return (Shape::Unknown, None);
    };
    let Some(second) = element(der, first.end, end) else {
        return (Shape::Unknown, None);
    };
    let starts_with_oid =
        || element(der, first.content.start, first.content.end).is_some_and(|h| h.tag == Tag::OID);
    match first.tag {
        Tag::SEQUENCE => match (second.tag, element(der, second.end, end)) {
            (Tag::SEQUENCE, Some(third)) if third.tag == Tag::BIT_STRING && third.end == end => {
                (signed(der, &first), Some(third.content))
            }
            // SubjectPublicKeyInfo: algorithm, subjectPublicKey
            (Tag::BIT_STRING, None) if second.end == end && starts_with_oid() => {
                (Shape::Object(ObjectKind::PublicKey), None)
            }
            // EncryptedPrivateKeyInfo: encryptionAlgorithm, encryptedData
            (Tag::OCTET_STRING, None) if second.end == end && starts_with_oid() => {
                (Shape::Object(ObjectKind::PrivateKey), None)
            }
            _ => (Shape::Unknown, None),
        },
        Tag::INTEGER => {
            let version = &der[first.content.clone()];
            match second.tag {
                // PKCS#8 PrivateKeyInfo / OneAsymmetricKey: version, algorithm, privateKey
                Tag::SEQUENCE
                    if matches!(version, [0] | [1])
                        && element(der, second.end, end)
                            .is_some_and(|h| h.tag == Tag::OCTET_STRING) =>
                {
                    (Shape::Object(ObjectKind::PrivateKey), None)
                }
                // SEC1 ECPrivateKey: version 1, privateKey
                Tag::OCTET_STRING if version == [1] => {
                    (Shape::Object(ObjectKind::PrivateKey), None)
                }
                // PKCS#1 RSAPrivateKey (9 INTEGERs or more), DSA private key (6)
                Tag::INTEGER if version == [0] => {
                    let (mut at, mut count) = (first.end, 1);
                    while let Some(h) = element(der, at, end) {
                        if h.tag != Tag::INTEGER {
                            return (Shape::Unknown, None);
                        }
                        (at, count) = (h.end, count + 1);
                    }
                    if at == end && count >= 6 {
                        (Shape::Object(ObjectKind::PrivateKey), None)
                    } else {
                        (Shape::Unknown, None)
                    }
                }
                _ => (Shape::Unknown, None),
            }
        }
        // ContentInfo: contentType (pkcs7 data, signedData...), [0] content
        Tag::OID if der[first.content.clone()].starts_with(PKCS7_ARC) => {
            (Shape::Object(ObjectKind::Pkcs7), None)
        }
        _ => (Shape::Unknown, None),
    }
}

/// A signed object (to-be-signed, algorithm, signature): which, by its to-be-signed part.
fn signed(der: &[u8], tbs: &smki_der::Header) -> Shape {
    use smki_der::Tag;
    let t = tbs.content.clone();
    // The common case: a v2/v3 tbsCertificate starts with its [0] version.
    if der.get(t.start) == Some(&0xa0) {
        return Shape::Certificate;
    }
    let tag = |h: Option<&smki_der::Header>| h.map(|h| h.tag);
    let a = element(der, t.start, t.end);
    let b = a.as_ref().and_then(|a| element(der, a.end, t.end));
    let c = b.as_ref().and_then(|b| element(der, b.end, t.end));
    let d = c.as_ref().and_then(|c| element(der, c.end, t.end));
    const SEQ: Option<u8> = Some(Tag::SEQUENCE);
    const INT: Option<u8> = Some(Tag::INTEGER);
    const UTC: Option<u8> = Some(Tag::UTC_TIME);
    const GEN: Option<u8> = Some(Tag::GENERALIZED_TIME);
    match (
        tag(a.as_ref()),
        tag(b.as_ref()),
        tag(c.as_ref()),
        tag(d.as_ref()),
    ) {
        // tbsCertList v2: version, signature, issuer, thisUpdate
        (INT, SEQ, SEQ, UTC | GEN) => Shape::Object(ObjectKind::Crl),
        // tbsCertList v1: signature, issuer, thisUpdate
        (SEQ, SEQ, UTC | GEN, _) => Shape::Object(ObjectKind::Crl),
        // CertificationRequestInfo: version, subject, subjectPKInfo, [0] attributes
        (INT, SEQ, SEQ, Some(0xa0)) => Shape::Object(ObjectKind::Csr),
        _ => Shape::Certificate,
    }
}

/// Could a certificate start at `b[0]`? A byte pattern only, to pick where
/// [`RecordReader`] tries [`shape`] while resynchronising concatenated DER: a SEQUENCE
/// (length of at most 3 octets) whose first element is a SEQUENCE that starts with the
/// `[0]` version of a tbsCertificate (`a0 03 02 01 0v`) or, for v1, an INTEGER.
fn may_start_certificate(b: &[u8]) -> bool {
    let header_len = |i: usize| match b.get(i + 1) {
        Some(0..=0x7f) => Some(2),
        Some(&l @ 0x81..=0x83) => Some(2 + usize::from(l & 0x7f)),
        _ => None,
    };
    if b.first() != Some(&0x30) {
        return false;
    }
    let Some(h1) = header_len(0) else {
        return false;
    };
    if b.get(h1) != Some(&0x30) {
        return false;
    }
    let Some(h2) = header_len(h1) else {
        return false;
    };
    let k = h1 + h2;
    matches!(b.get(k..k + 5), Some([0xa0, 0x03, 0x02, 0x01, 0..=2])) || b.get(k) == Some(&0x02)
}

/// Bytes [`may_start_certificate`] looks at (at most).
const PATTERN: usize = 16;

/// The shape of a record of concatenated DER, `bytes[..len]` (`bytes` goes on with what
/// follows it, [`PATTERN`] bytes of it unless the file ends first), and whether the content
/// of its last element holds the start of a certificate ([`may_start_certificate`]): the
/// mark of a record truncated in its signature, whose declared length ran on into the next
/// certificate with every length still consistent. A few comparisons per byte of the
/// signature.
fn der_shape(bytes: &[u8], len: usize) -> (Shape, bool) {
    let (shape, tail) = shape_and_tail(&bytes[..len]);
    let from = &bytes[tail.start..];
    let hides = from[..tail.len()]
        .iter()
        .enumerate()
        .any(|(k, &b)| b == 0x30 && may_start_certificate(&from[k..]));
    (shape, hides)
}

/// Reads every certificate in `bytes` (the whole content of `file`), detecting the format.
/// Records and errors come in file order; a bad record does not stop the others: PEM and
/// CSV go on at the next block or row, concatenated DER at the next certificate.
pub fn parse_buffer(file: impl Into<FileName>, bytes: &[u8]) -> Vec<Result<Record, Error>> {
    RecordReader::new(file, bytes).collect()
}

enum State {
    Detect,
    /// Text whose first line decides between an extract and PEM.
    Text,
    Der,
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
    /// The block as read, from its BEGIN marker (for copying a bad block unaltered).
    raw: Vec<u8>,
}

/// A streaming reader of one file's records (DER, PEM or extract CSV, detected from the
/// content as it is read): an iterator of records and errors in file order, reading the
/// source incrementally so that memory stays bounded by the largest record, not the file.
pub struct RecordReader<R> {
    file: FileName,
    src: R,
    state: State,
    /// The format, once the content showed it.
    detected: Option<Format>,
    /// Byte offset of the next unread byte (in DER, of `carry[carry_at]` when `carry` holds
    /// bytes).
    pos: usize,
    /// Lines consumed so far (line-oriented formats).
    line: usize,
    /// Index of the next record (successful or not).
    index: usize,
    /// Errors or records produced ahead of time.
    queue: VecDeque<Result<Record, Error>>,
    /// The bytes of the last line read, exactly as in the source.
    last_line: Vec<u8>,
    /// The last line is to be read again (line number, offset): after the first line of
    /// text decided the format.
    replay: Option<(usize, usize)>,
    /// Text: every byte read while no BEGIN marker has been seen (an unrecognised file is one
    /// record holding them); None once one has.
    prefix: Option<Vec<u8>>,
    /// Concatenated DER: bytes read ahead, `carry[carry_at..]`, while a record is framed
    /// away from the fast path (across the source's buffer, an indefinite length, a bad
    /// record and the search for the next certificate). Empty on the fast path.
    carry: Vec<u8>,
    carry_at: usize,
    /// The source gave all it had (seen while filling `carry`).
    eof: bool,
}

impl<R: BufRead> RecordReader<R> {
    /// A reader of `src`, whose records are located as coming from `file`.
    pub fn new(file: impl Into<FileName>, src: R) -> Self {
        RecordReader {
            file: file.into(),
            src,
            state: State::Detect,
            detected: None,
            pos: 0,
            line: 0,
            index: 0,
            queue: VecDeque::new(),
            last_line: Vec::new(),
            replay: None,
            prefix: None,
            carry: Vec::new(),
            carry_at: 0,
            eof: false,
        }
    }

    /// The format detected (None before the content showed it: before the first record is
    /// read, and for a file of no known format).
    pub fn format(&self) -> Option<Format> {
        self.detected
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

    /// The record of a framed DER element of the given shape.
    fn framed(
        &mut self,
        der: Vec<u8>,
        offset: usize,
        shape: Shape,
    ) -> Option<Result<Record, Error>> {
        match shape {
            Shape::Object(object) => {
                let kind = ErrorKind::NotACertificate {
                    object,
                    pem_label: None,
                };
                Some(Err(self.err(kind, None, offset).with_raw(der)))
            }
            Shape::Certificate | Shape::Unknown => self.der_record(der, offset),
        }
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

    /// Decides DER or text from the first bytes that are not whitespace (or a byte-order
    /// mark), which are consumed: DER when it is 0x30 (and there is no byte-order mark).
    fn detect(&mut self) -> Option<Result<Record, Error>> {
        let mut head = Vec::new();
        let significant = loop {
            let buf = match self.src.fill_buf() {
                Ok(b) => b,
                Err(e) => return self.io_error(e),
            };
            let Some(&b) = buf.first() else {
                break None;
            };
            let partial_bom = head.len() < BOM.len() && BOM.starts_with(&head);
            if partial_bom && b == BOM[head.len()] {
                head.push(b);
                self.src.consume(1);
            } else if head.len() < BOM.len() && !head.is_empty() && partial_bom {
                // A byte-order mark cut short: text.
                break Some(head[0]);
            } else if b.is_ascii_whitespace() {
                let n = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
                head.extend_from_slice(&buf[..n]);
                self.src.consume(n);
            } else {
                break Some(b);
            }
        };
        self.pos = head.len();
        self.line = head.iter().filter(|&&b| b == b'\n').count();
        match significant {
            None if head.is_empty() => {
                self.state = State::Done;
                return Some(Err(self
                    .err(ErrorKind::Empty, None, 0)
                    .with_raw(Vec::new())));
            }
            None => {
                self.state = State::Done;
                return Some(Err(self
                    .err(ErrorKind::UnknownFormat, None, 0)
                    .with_raw(head)));
            }
            Some(0x30) if !head.starts_with(BOM) => {
                self.state = State::Der;
                self.detected = Some(Format::Der);
            }
            Some(_) => {
                self.state = State::Text;
                self.prefix = Some(head);
            }
        }
        self.next()
    }

    /// The first line of text: an extract header, or the first line of PEM.
    fn next_text(&mut self) -> Option<Result<Record, Error>> {
        let (line_no, offset) = match self.read_line() {
            None => {
                self.state = State::Pem { block: None };
                return self.pem_end();
            }
            Some(Err(e)) => return self.io_error(e),
            Some(Ok(l)) => l,
        };
        if is_extract_header(&String::from_utf8_lossy(&self.last_line)) {
            self.state = State::Extract(None);
            self.detected = Some(Format::Extract);
            self.prefix = None;
        } else {
            self.state = State::Pem { block: None };
        }
        self.replay = Some((line_no, offset));
        self.next()
    }

    /// Makes `carry[carry_at..]` hold at least `n` bytes, or all the source has left.
    fn ensure(&mut self, n: usize) -> std::io::Result<()> {
        let have = self.carry.len() - self.carry_at;
        if have >= n || self.eof {
            return Ok(());
        }
        if self.carry_at > 0 && self.carry_at * 2 >= self.carry.len() {
            self.carry.drain(..self.carry_at);
            self.carry_at = 0;
        }
        let want = n - have;
        let got = (&mut self.src)
            .take(want as u64)
            .read_to_end(&mut self.carry)?;
        if got < want {
            self.eof = true;
        }
        Ok(())
    }

    /// Moves past `n` bytes of `carry`.
    fn advance(&mut self, n: usize) {
        self.carry_at += n;
        self.pos += n;
        if self.carry_at >= self.carry.len() {
            self.carry.clear();
            self.carry_at = 0;
        }
    }

    fn next_der(&mut self) -> Option<Result<Record, Error>> {
        if self.carry.is_empty() {
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
            // The common case: the whole record is in the buffer (64 KiB hold ~150
            // certificates) and frames a certificate (or another known object): it is
            // copied out in one go. Otherwise (across the buffer's end, bad, or of unknown
            // shape) it is framed from `carry` below, which also resynchronises.
            let start = self.pos;
            if let Ok(buf) = self.src.fill_buf() {
                if let Ok(h) = smki_der::read_header(buf, 0, start) {
                    let len = h.end - start;
                    let (shape, hides) = der_shape(buf, len);
                    if shape != Shape::Unknown && !hides && len + PATTERN <= buf.len() {
                        let der = buf[..len].to_vec();
                        self.src.consume(len);
                        self.pos += len;
                        return self.framed(der, start, shape);
                    }
                }
            }
        }
        self.next_der_carried()
    }

    /// The next record of concatenated DER framed from `carry` (filled from the source as
    /// needed): a record whose shape is unknown is looked into for the start of a
    /// certificate, and a bad one is skipped up to the next certificate.
    fn next_der_carried(&mut self) -> Option<Result<Record, Error>> {
        loop {
            if let Err(e) = self.ensure(1) {
                return self.io_error(e);
            }
            match self.carry.get(self.carry_at) {
                None => {
                    self.state = State::Done;
                    return None;
                }
                Some(b) if b.is_ascii_whitespace() => self.advance(1),
                Some(_) => break,
            }
        }
        let start = self.pos;
        if let Err(e) = self.ensure(2) {
            return self.io_error(e);
        }
        if self.carry.get(self.carry_at + 1) == Some(&0x80) {
            // Indefinite length: the end is found by walking the contents; read the rest.
            if let Err(e) = self.ensure(usize::MAX) {
                return self.io_error(e);
            }
        }
        let header = loop {
            let have = self.carry.len() - self.carry_at;
            match smki_der::read_header(&self.carry[self.carry_at..], 0, start) {
                Err(e) if !self.eof => match e.kind {
                    smki_der::ErrorKind::Truncated { needed, .. } if needed > have => {
                        if let Err(e) = self.ensure(needed) {
                            return self.io_error(e);
                        }
                    }
                    _ => break Err(e),
                },
                r => break r,
            }
        };
        match header {
            Ok(h) => {
                let len = h.end - start;
                if let Err(e) = self.ensure(len + PATTERN) {
                    return self.io_error(e);
                }
                let (shape, hides) = der_shape(&self.carry[self.carry_at..], len);
                if shape == Shape::Unknown || hides {
                    match self.find_certificate(len) {
                        Err(e) => return self.io_error(e),
                        Ok(Some(j)) => {
                            let cause = smki_der::Error::new(
                                smki_der::ErrorKind::Truncated {
                                    needed: len,
                                    available: j,
                                },
                                start,
                            );
                            return self.skipped(j, cause);
                        }
                        Ok(None) => {}
                    }
                }
                let der = self.carry[self.carry_at..self.carry_at + len].to_vec();
                self.advance(len);
                self.framed(der, start, shape)
            }
            Err(e) => match self.find_certificate(usize::MAX) {
                Err(e) => self.io_error(e),
                Ok(Some(j)) => self.skipped(j, e),
                Ok(None) => {
                    // Nothing after the bad record can be framed: it holds the rest of the
                    // file (all of it is in `carry` now).
                    let raw = self.carry.split_off(self.carry_at);
                    self.carry.clear();
                    self.carry_at = 0;
                    self.pos += raw.len();
                    self.state = State::Done;
                    Some(Err(self.err(ErrorKind::Der(e), None, start).with_raw(raw)))
                }
            },
        }
    }

    /// The error record of the `count` bytes at `carry_at`, skipped up to a certificate.
    fn skipped(&mut self, count: usize, cause: smki_der::Error) -> Option<Result<Record, Error>> {
        let start = self.pos;
        let raw = self.carry[self.carry_at..self.carry_at + count].to_vec();
        self.advance(count);
        let kind = ErrorKind::Skipped { count, cause };
        Some(Err(self.err(kind, None, start).with_raw(raw)))
    }

    /// The first offset in `1..limit` (relative to `carry_at`) where a complete certificate
    /// starts: [`may_start_certificate`], then complete and of [`Shape::Certificate`]. Reads
    /// the source as far as needed (to its end when there is none).
    fn find_certificate(&mut self, limit: usize) -> std::io::Result<Option<usize>> {
        /// Read ahead by this much while searching.
        const CHUNK: usize = 1 << 12;
        let mut j = 1;
        while j < limit {
            if self.carry.len() - self.carry_at < j + PATTERN {
                self.ensure(j + CHUNK)?;
            }
            let from = self.carry_at + j;
            if from >= self.carry.len() {
                return Ok(None);
            }
            if may_start_certificate(&self.carry[from..]) {
                loop {
                    let from = self.carry_at + j;
                    let b = &self.carry[from..];
                    match smki_der::read_header(b, 0, 0) {
                        Ok(h) => {
                            if shape(&b[..h.end]) == Shape::Certificate {
                                return Ok(Some(j));
                            }
                            break;
                        }
                        Err(e) => match e.kind {
                            smki_der::ErrorKind::Truncated { needed, .. }
                                if !self.eof && needed > b.len() =>
                            {
                                self.ensure(j + needed)?
                            }
                            _ => break,
                        },
                    }
                }
            }
            j += 1;
        }
        Ok(None)
    }

    /// Reads one line (with its terminator) into `last_line`; None at the end. Returns (line
    /// number, offset).
    fn read_line(&mut self) -> Option<std::io::Result<(usize, usize)>> {
        if let Some(l) = self.replay.take() {
            return Some(Ok(l));
        }
        self.last_line.clear();
        match self.src.read_until(b'\n', &mut self.last_line) {
            Ok(0) => None,
            Ok(n) => {
                let offset = self.pos;
                self.pos += n;
                self.line += 1;
                if let Some(p) = self.prefix.as_mut() {
                    p.extend_from_slice(&self.last_line);
                }
                Some(Ok((self.line, offset)))
            }
            Err(e) => Some(Err(e)),
        }
    }

    /// The end of a PEM file: an unterminated block, or, when there was no BEGIN marker at
    /// all, the whole file as one record of unknown format.
    fn pem_end(&mut self) -> Option<Result<Record, Error>> {
        let block = match &mut self.state {
            State::Pem { block } => block.take(),
            _ => None,
        };
        self.state = State::Done;
        if let Some(b) = block {
            let e = self.err(
                ErrorKind::Pem(PemError::Unterminated),
                Some(b.line),
                b.offset,
            );
            return Some(Err(e.with_raw(b.raw)));
        }
        let raw = self.prefix.take()?;
        Some(Err(self
            .err(ErrorKind::UnknownFormat, None, 0)
            .with_raw(raw)))
    }

    fn next_pem(&mut self) -> Option<Result<Record, Error>> {
        loop {
            if let Some(r) = self.queue.pop_front() {
                return Some(r);
            }
            let (line_no, offset) = match self.read_line() {
                None => return self.pem_end(),
                Some(Err(e)) => return self.io_error(e),
                Some(Ok(l)) => l,
            };
            self.pem_line(line_no, offset);
        }
    }

    /// One line of PEM: its BEGIN and END markers, wherever they are in it (after a
    /// byte-order mark, after text, several on one line), and the body between them. Blocks
    /// it completes go to `queue`.
    fn pem_line(&mut self, line_no: usize, offset: usize) {
        let line = std::mem::take(&mut self.last_line);
        let mut at = 0;
        loop {
            let begin = pem_marker(&line, at, b"-----BEGIN ");
            let end = pem_marker(&line, at, b"-----END ");
            let State::Pem { block } = &mut self.state else {
                break;
            };
            let next_is_end = match (&begin, &end) {
                (Some(b), Some(e)) => e.0 < b.0,
                (None, Some(_)) => true,
                _ => false,
            };
            if next_is_end {
                let (start, label, stop) = end.expect("an END marker");
                // (a stray END marker is passed over)
                if let Some(mut b) = block.take() {
                    push_body(&mut b, &line[at..start]);
                    let rest_blank = line[stop..].iter().all(u8::is_ascii_whitespace);
                    let raw_end = if rest_blank { line.len() } else { stop };
                    b.raw.extend_from_slice(&line[start..raw_end]);
                    let r = self.finish_block(b, label);
                    self.queue.push_back(r);
                }
                at = stop;
            } else if let Some((start, label, stop)) = begin {
                let old = block.replace(PemBlock {
                    label,
                    line: line_no,
                    offset: offset + start,
                    b64: String::new(),
                    raw: line[start..stop].to_vec(),
                });
                self.prefix = None;
                self.detected = Some(Format::Pem);
                if let Some(mut b) = old {
                    b.raw.extend_from_slice(&line[at..start]);
                    let e = self.err(
                        ErrorKind::Pem(PemError::Unterminated),
                        Some(b.line),
                        b.offset,
                    );
                    self.queue.push_back(Err(e.with_raw(b.raw)));
                }
                at = stop;
            } else {
                if let Some(b) = block.as_mut() {
                    push_body(b, &line[at..]);
                }
                break;
            }
        }
        self.last_line = line;
    }

    /// The record of a PEM block closed by an END marker labelled `end`.
    fn finish_block(&mut self, mut b: PemBlock, end: String) -> Result<Record, Error> {
        let locator = self.loc(self.index, Some(b.line), b.offset);
        self.index += 1;
        let raw = std::mem::take(&mut b.raw);
        if b.label != end {
            let kind = ErrorKind::Pem(PemError::MismatchedEnd {
                begin: b.label,
                end,
            });
            return Err(Error::new(kind, locator).with_raw(raw));
        }
        if !matches!(
            b.label.as_str(),
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE"
        ) {
            let kind = match pem_object(&b.label) {
                Some(object) => ErrorKind::NotACertificate {
                    object,
                    pem_label: Some(b.label),
                },
                None => ErrorKind::PemLabel(b.label),
            };
            return Err(Error::new(kind, locator).with_raw(raw));
        }
        match base64::engine::general_purpose::STANDARD.decode(b.b64.as_bytes()) {
            Ok(der) => match shape(&der) {
                Shape::Object(object) => Err(Error::new(
                    ErrorKind::NotACertificate {
                        object,
                        pem_label: None,
                    },
                    locator,
                )
                .with_raw(raw)),
                Shape::Certificate | Shape::Unknown => Ok(Record {
                    locator,
                    der,
                    meta: None,
                }),
            },
            Err(e) => Err(Error::new(ErrorKind::Pem(PemError::Base64(e)), locator).with_raw(raw)),
        }
    }

    fn next_extract(&mut self) -> Option<Result<Record, Error>> {
        loop {
            let (line_no, offset) = match self.read_line()? {
                Err(e) => return self.io_error(e),
                Ok(l) => l,
            };
            let raw = String::from_utf8_lossy(&self.last_line).into_owned();
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
                        Ok((der, meta)) => match shape(&der) {
                            Shape::Object(object) => Err(Error::new(
                                ErrorKind::NotACertificate {
                                    object,
                                    pem_label: None,
                                },
                                locator,
                            )
                            .with_raw(self.last_line.clone())),
                            Shape::Certificate | Shape::Unknown => Ok(Record {
                                locator,
                                der,
                                meta: Some(meta),
                            }),
                        },
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

/// Adds a piece of a PEM block's body (what follows its BEGIN marker, a line, what precedes
/// its END marker): to its raw bytes, and to its base64 unless it is a header (`Name:
/// value`).
fn push_body(b: &mut PemBlock, piece: &[u8]) {
    b.raw.extend_from_slice(piece);
    let text = String::from_utf8_lossy(piece);
    let text = text.trim();
    if !text.contains(':') {
        b.b64.push_str(text);
    }
}

/// The object a PEM label names, other than a certificate (RFC 7468 and OpenSSL's labels).
fn pem_object(label: &str) -> Option<ObjectKind> {
    Some(match label {
        "X509 CRL" => ObjectKind::Crl,
        "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => ObjectKind::Csr,
        "PRIVATE KEY"
        | "ENCRYPTED PRIVATE KEY"
        | "RSA PRIVATE KEY"
        | "EC PRIVATE KEY"
        | "DSA PRIVATE KEY"
        | "ANY PRIVATE KEY" => ObjectKind::PrivateKey,
        "PUBLIC KEY" | "RSA PUBLIC KEY" => ObjectKind::PublicKey,
        "PKCS7" | "CMS" | "PKCS #7 SIGNED DATA" => ObjectKind::Pkcs7,
        "EC PARAMETERS" | "DH PARAMETERS" | "X9.42 DH PARAMETERS" | "DSA PARAMETERS" => {
            ObjectKind::Parameters
        }
        _ => return None,
    })
}

impl<R: BufRead> Iterator for RecordReader<R> {
    type Item = Result<Record, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(r) = self.queue.pop_front() {
            return Some(r);
        }
        match self.state {
            State::Detect => self.detect(),
            State::Text => self.next_text(),
            State::Der => self.next_der(),
            State::Pem { .. } => self.next_pem(),
            State::Extract(_) => self.next_extract(),
            State::Done => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

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
        assert_eq!(
            recs[1].as_ref().unwrap_err().kind,
            ErrorKind::NotACertificate {
                object: ObjectKind::PrivateKey,
                pem_label: Some("PRIVATE KEY".into())
            }
        );
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

    /// An extract header is recognised after a byte-order mark and with its columns in any
    /// order; the detection is the same whatever the reader's buffer.
    #[test]
    fn extract_header_after_a_bom_and_in_any_column_order() {
        let file: Arc<str> = "x.csv".into();
        for text in [
            "\u{feff}serial,certificate\n01,MAMCAQU=\n",
            "\u{feff}certificate,status,serial\r\nMAMCAQU=,I,01\r\n",
        ] {
            let recs = parse_buffer(&file, text.as_bytes());
            assert_eq!(recs.len(), 1, "{text:?}: {recs:?}");
            let r = recs[0].as_ref().unwrap();
            assert_eq!(r.der, [0x30, 0x03, 0x02, 0x01, 0x05]);
            assert_eq!(
                (r.locator.line, r.locator.offset),
                (Some(2), text.find('\n').unwrap() + 1)
            );
            assert_eq!(detect(text.as_bytes()), Some(Format::Extract));
            for cap in 1..8 {
                let src = std::io::BufReader::with_capacity(cap, text.as_bytes());
                let streamed: Vec<_> = RecordReader::new(file.clone(), src).collect();
                assert_eq!(streamed, recs, "{text:?}, buffer {cap}");
            }
        }
    }

    /// PEM markers inside lines: a body on the BEGIN line, END and BEGIN on one line, a stray
    /// END, a BEGIN after a byte-order mark; each record located at its BEGIN marker.
    #[test]
    fn pem_markers_inside_lines() {
        let file: Arc<str> = "p.pem".into();
        let text = "\u{feff}-----BEGIN CERTIFICATE-----MAMCAQU=-----END CERTIFICATE-----\n\
                    -----END CERTIFICATE-----\n\
                    x -----BEGIN CERTIFICATE-----\nMAMCAQY=\n-----END CERTIFICATE----------BEGIN X509 CRL-----\nMAMCAQc=\n-----END X509 CRL-----\n";
        let recs = parse_buffer(&file, text.as_bytes());
        assert_eq!(recs.len(), 3, "{recs:?}");
        let first = recs[0].as_ref().unwrap();
        assert_eq!(first.der[4], 5);
        assert_eq!((first.locator.line, first.locator.offset), (Some(1), 3));
        let second = recs[1].as_ref().unwrap();
        assert_eq!(second.der[4], 6);
        assert_eq!(second.locator.line, Some(3));
        assert!(text.as_bytes()[second.locator.offset..]
            .starts_with(b"-----BEGIN CERTIFICATE-----\nMAMCAQY="));
        let crl = recs[2].as_ref().unwrap_err();
        assert_eq!(crl.locator.line, Some(5));
        assert!(text.as_bytes()[crl.locator.offset..].starts_with(b"-----BEGIN X509 CRL"));
        assert!(crl
            .raw
            .as_ref()
            .unwrap()
            .ends_with(b"-----END X509 CRL-----\n"));
        assert_eq!(crl.to_string(), format!("p.pem#2 (line 5, byte {}): not a certificate: a CRL (PEM block labelled \"X509 CRL\")", crl.locator.offset));
        for cap in 1..12 {
            let src = std::io::BufReader::with_capacity(cap, text.as_bytes());
            let streamed: Vec<_> = RecordReader::new(file.clone(), src).collect();
            assert_eq!(streamed, recs, "buffer {cap}");
        }
    }
}
