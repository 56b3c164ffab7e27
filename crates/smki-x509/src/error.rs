use core::fmt;

/// Why a record cannot be taken as a certificate, and where (byte offset in the record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub position: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bytes cannot be read as TLVs.
    Der(smki_der::ErrorKind),
    /// An element has the wrong tag (`element` names it).
    WrongTag {
        element: &'static str,
        expected: u8,
        found: u8,
    },
    /// The Certificate SEQUENCE lacks an element.
    Missing(&'static str),
    /// The Certificate SEQUENCE holds more than three elements.
    ExtraElement,
    /// Bytes follow the Certificate SEQUENCE.
    TrailingData(usize),
    /// The tbsCertificate fields could not be parsed (x509-parser's reason).
    Fields(String),
}

impl Error {
    pub(crate) fn der(e: smki_der::Error) -> Error {
        Error {
            kind: ErrorKind::Der(e.kind),
            position: e.position,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Der(k) => write!(f, "{}", smki_der::Error::new(*k, self.position)),
            ErrorKind::WrongTag {
                element,
                expected,
                found,
            } => write!(
                f,
                "{element}: expected tag 0x{expected:02x}, found 0x{found:02x} at byte {}",
                self.position
            ),
            ErrorKind::Missing(what) => write!(f, "{what} missing (at byte {})", self.position),
            ErrorKind::ExtraElement => {
                write!(
                    f,
                    "Certificate has more than three elements (byte {})",
                    self.position
                )
            }
            ErrorKind::TrailingData(n) => {
                write!(
                    f,
                    "{n} bytes after the Certificate (byte {})",
                    self.position
                )
            }
            ErrorKind::Fields(m) => write!(f, "tbsCertificate fields unreadable: {m}"),
        }
    }
}

impl std::error::Error for Error {}
