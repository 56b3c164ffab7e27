use crate::Locator;
use core::fmt;

/// A record (or file) that could not be read: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    /// The file, record index and byte offset concerned.
    pub locator: Locator,
    /// The bytes of the bad record exactly as they stand in the file (the PEM block from its
    /// BEGIN line to its END line, the CSV row with its line end, the rest of a DER file from
    /// the bad length on, a whole unrecognisable file), so that a remediation can copy it
    /// unaltered. None when nothing could be read (I/O errors).
    pub raw: Option<Vec<u8>>,
}

impl Error {
    /// An error with no raw bytes.
    pub fn new(kind: ErrorKind, locator: Locator) -> Error {
        Error {
            kind,
            locator,
            raw: None,
        }
    }
    /// The same error carrying the bad record's bytes.
    pub fn with_raw(mut self, raw: Vec<u8>) -> Error {
        self.raw = Some(raw);
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be read.
    Io(String),
    /// A PEM block is malformed (missing END line, bad base64, ...).
    Pem(String),
    /// A PEM block has a label other than CERTIFICATE (or X509 CERTIFICATE, TRUSTED CERTIFICATE).
    PemLabel(String),
    /// DER that does not start a complete TLV (truncated, bad length) in concatenated DER.
    Der(String),
    /// An extract row that cannot be read.
    Csv(String),
    /// Nothing recognisable in the file.
    UnknownFormat,
    /// The file is empty.
    Empty,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.locator)?;
        match &self.kind {
            ErrorKind::Io(m) => write!(f, "cannot read: {m}"),
            ErrorKind::Pem(m) => write!(f, "bad PEM: {m}"),
            ErrorKind::PemLabel(l) => write!(f, "PEM block labelled {l:?}, not CERTIFICATE"),
            ErrorKind::Der(m) => write!(f, "bad DER: {m}"),
            ErrorKind::Csv(m) => write!(f, "bad extract row: {m}"),
            ErrorKind::UnknownFormat => write!(f, "not a certificate, PEM bundle, DER or extract"),
            ErrorKind::Empty => write!(f, "empty file"),
        }
    }
}

impl std::error::Error for Error {}
