use crate::Locator;
use core::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

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
    /// Concatenated DER resynchronised after this error ([`ErrorKind::Skipped`]): the file
    /// offset where reading resumed, at the next certificate.
    pub fn resumed_at(&self) -> Option<usize> {
        match self.kind {
            ErrorKind::Skipped { count, .. } => Some(self.locator.offset + count),
            _ => None,
        }
    }
    /// The same error carrying the bad record's bytes.
    pub fn with_raw(mut self, raw: Vec<u8>) -> Error {
        self.raw = Some(raw);
        self
    }
}

/// Why a record or a file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file or directory could not be read: the operating system's error.
    Io(IoError),
    /// A FIFO, socket or device where a certificate file was expected: not read (reading it
    /// could block forever).
    NotAFile,
    /// A symbolic link to a directory that contains it (`a/loop -> ..`): followed, the walk
    /// would never end. `target` is the directory it leads back to (canonical).
    SymlinkLoop { target: PathBuf },
    /// A directory reached a second time through another link (`c -> a`): read once only.
    /// `target` is the directory (canonical).
    AlreadyVisited { target: PathBuf },
    /// A PEM block is malformed.
    Pem(PemError),
    /// A PEM block has a label other than CERTIFICATE (or X509 CERTIFICATE, TRUSTED CERTIFICATE)
    /// and no label of a known non-certificate object ([`ErrorKind::NotACertificate`]).
    PemLabel(String),
    /// A well-formed object that is not a certificate (a CRL, a certificate request, a key),
    /// recognised by its PEM label (`pem_label`) or, in DER, by its ASN.1 shape
    /// (docs/repository.md, "Reading a dump").
    NotACertificate {
        object: ObjectKind,
        /// The PEM block's label, when the object was recognised by it.
        pem_label: Option<String>,
    },
    /// DER that does not start a complete TLV (truncated, bad length) in concatenated DER,
    /// with no certificate after it: the DER reader's error, with its byte position in the
    /// file. The record holds the rest of the file.
    Der(smki_der::Error),
    /// Concatenated DER: `count` bytes that do not frame a certificate (a truncated record, a
    /// bad length, garbage), from the locator's offset, skipped up to the next certificate,
    /// which starts at file offset `locator.offset + count` ([`Error::resumed_at`]) and is
    /// read as the next record. `cause` is what is wrong with the skipped bytes: the DER
    /// reader's error, or, for a record whose declared length runs past the next
    /// certificate, `Truncated { needed: declared length, available: count }` at the record's
    /// offset.
    Skipped {
        count: usize,
        cause: smki_der::Error,
    },
    /// An extract line (header or row) that cannot be read.
    Csv(CsvError),
    /// Nothing recognisable in the file.
    UnknownFormat,
    /// The file is empty.
    Empty,
}

/// What a record that is not a certificate is ([`ErrorKind::NotACertificate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ObjectKind {
    /// A certificate revocation list (X.509 CertificateList).
    Crl,
    /// A certificate request (PKCS#10 CertificationRequest).
    Csr,
    /// A private key (PKCS#8, encrypted PKCS#8, SEC1 ECPrivateKey, PKCS#1 RSA, DSA).
    PrivateKey,
    /// A public key (SubjectPublicKeyInfo, PKCS#1 RSAPublicKey).
    PublicKey,
    /// A PKCS#7 / CMS message (ContentInfo), such as a `.p7b` bundle.
    Pkcs7,
    /// Domain parameters (EC, DH, DSA).
    Parameters,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectKind::Crl => "a CRL",
            ObjectKind::Csr => "a certificate request (CSR)",
            ObjectKind::PrivateKey => "a private key",
            ObjectKind::PublicKey => "a public key",
            ObjectKind::Pkcs7 => "a PKCS#7/CMS message",
            ObjectKind::Parameters => "domain parameters",
        })
    }
}

/// What is wrong with a PEM block.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PemError {
    /// A BEGIN line with no END line before the next BEGIN or the end of the file.
    Unterminated,
    /// A block whose END label is not its BEGIN label.
    MismatchedEnd { begin: String, end: String },
    /// The body is not base64.
    Base64(base64::DecodeError),
}

/// What is wrong with an extract line. Columns are 1-based character positions.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CsvError {
    /// The header lacks a required column (`serial`, `certificate`).
    MissingColumn(&'static str),
    /// A row with another number of fields than the header.
    FieldCount { found: usize, header: usize },
    /// A manufacturing flag other than Y or N.
    ManufacturingFlag(String),
    /// An empty serial.
    EmptySerial,
    /// An empty certificate.
    EmptyCertificate,
    /// The certificate is not base64.
    Base64(base64::DecodeError),
    /// Text between a closing quote and the next comma.
    TextAfterQuote { column: usize },
    /// A quote inside a field that does not start with one.
    QuoteInField { column: usize },
    /// A quoted field without its closing quote.
    UnterminatedQuote,
}

/// An operating-system error, shared (so that a record error can be cloned) and compared
/// by its kind and message.
#[derive(Debug, Clone)]
pub struct IoError(Arc<io::Error>);

impl IoError {
    /// The error itself.
    pub fn get(&self) -> &io::Error {
        &self.0
    }
    pub fn kind(&self) -> io::ErrorKind {
        self.0.kind()
    }
}

impl From<io::Error> for IoError {
    fn from(e: io::Error) -> IoError {
        IoError(Arc::new(e))
    }
}

impl PartialEq for IoError {
    fn eq(&self, other: &IoError) -> bool {
        self.kind() == other.kind() && self.0.to_string() == other.0.to_string()
    }
}

impl Eq for IoError {}

impl fmt::Display for IoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl ErrorKind {
    /// An operating-system error.
    pub fn io(e: io::Error) -> ErrorKind {
        ErrorKind::Io(e.into())
    }
}

impl fmt::Display for PemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PemError::Unterminated => write!(f, "BEGIN without END"),
            PemError::MismatchedEnd { begin, end } => {
                write!(f, "BEGIN {begin} closed by END {end}")
            }
            PemError::Base64(e) => write!(f, "base64: {e}"),
        }
    }
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CsvError::MissingColumn(c) => write!(f, "header has no {c} column"),
            CsvError::FieldCount { found, header } => {
                write!(f, "{found} fields, the header has {header}")
            }
            CsvError::ManufacturingFlag(v) => write!(f, "manufacturing flag {v:?} is not Y or N"),
            CsvError::EmptySerial => write!(f, "empty serial"),
            CsvError::EmptyCertificate => write!(f, "empty certificate"),
            CsvError::Base64(e) => write!(f, "certificate base64: {e}"),
            CsvError::TextAfterQuote { column } => {
                write!(f, "text after a closing quote at column {column}")
            }
            CsvError::QuoteInField { column } => {
                write!(f, "quote inside an unquoted field at column {column}")
            }
            CsvError::UnterminatedQuote => write!(f, "unterminated quoted field"),
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Io(e) => write!(f, "cannot read: {e}"),
            ErrorKind::NotAFile => write!(
                f,
                "cannot read: not a regular file (a FIFO, socket or device): not read"
            ),
            ErrorKind::SymlinkLoop { target } => write!(
                f,
                "cannot read: symlink loop: leads back to the directory {}, not followed",
                target.display()
            ),
            ErrorKind::AlreadyVisited { target } => write!(
                f,
                "cannot read: directory {} already visited (through another link), not read again",
                target.display()
            ),
            ErrorKind::Pem(m) => write!(f, "bad PEM: {m}"),
            ErrorKind::PemLabel(l) => write!(f, "PEM block labelled {l:?}, not CERTIFICATE"),
            ErrorKind::NotACertificate { object, pem_label } => {
                write!(f, "not a certificate: {object}")?;
                match pem_label {
                    Some(l) => write!(f, " (PEM block labelled {l:?})"),
                    None => Ok(()),
                }
            }
            ErrorKind::Der(e) => write!(f, "bad DER: {e}"),
            ErrorKind::Skipped { count, cause } => write!(
                f,
                "bad DER: {cause}; {count} bytes skipped up to the next certificate"
            ),
            ErrorKind::Csv(m) => write!(f, "bad extract row: {m}"),
            ErrorKind::UnknownFormat => write!(f, "not a certificate, PEM bundle, DER or extract"),
            ErrorKind::Empty => write!(f, "empty file"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.locator, self.kind)?;
        match self.resumed_at() {
            Some(at) => write!(f, ", at byte {at}"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for CsvError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CsvError::Base64(e) => Some(e),
            _ => None,
        }
    }
}

impl std::error::Error for PemError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PemError::Base64(e) => Some(e),
            _ => None,
        }
    }
}

/// The source is the underlying error (I/O, DER, base64), whose text the message already
/// ends with.
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io(e) => Some(e.get()),
            ErrorKind::Der(e) | ErrorKind::Skipped { cause: e, .. } => Some(e),
            ErrorKind::Pem(PemError::Base64(e)) | ErrorKind::Csv(CsvError::Base64(e)) => Some(e),
            _ => None,
        }
    }
}
