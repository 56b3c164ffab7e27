use core::fmt;

/// Result alias for this crate.
pub type Result<T> = core::result::Result<T, Error>;

/// An error reading DER: what went wrong and at which byte offset (relative to the start of
/// the buffer given to the reader, plus any base offset the caller supplied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub position: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ends before the header or the content it declares.
    Truncated { needed: usize, available: usize },
    /// High-tag-number form (tag number >= 31) is not used in X.509 and not supported.
    HighTagNumber,
    /// A long-form length of more than 8 octets, or one that does not fit in `usize`.
    LengthTooLong,
    /// An indefinite length on a primitive element, or an end-of-contents marker was not found.
    BadIndefinite,
    /// A different tag was expected here.
    UnexpectedTag { expected: u8, found: u8 },
    /// Bytes remain after the element that should have ended the input.
    TrailingData { count: usize },
}

impl Error {
    pub fn new(kind: ErrorKind, position: usize) -> Self {
        Error { kind, position }
    }
    /// The same error with `base` added to its position.
    pub fn at_base(self, base: usize) -> Self {
        Error {
            kind: self.kind,
            position: self.position + base,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::Truncated { needed, available } => write!(
                f,
                "truncated at byte {}: {} bytes needed, {} available",
                self.position, needed, available
            ),
            ErrorKind::HighTagNumber => write!(f, "high-tag-number form at byte {}", self.position),
            ErrorKind::LengthTooLong => write!(f, "length too long at byte {}", self.position),
            ErrorKind::BadIndefinite => {
                write!(
                    f,
                    "bad indefinite-length encoding at byte {}",
                    self.position
                )
            }
            ErrorKind::UnexpectedTag { expected, found } => write!(
                f,
                "expected tag 0x{expected:02x}, found 0x{found:02x} at byte {}",
                self.position
            ),
            ErrorKind::TrailingData { count } => {
                write!(f, "{count} trailing bytes at byte {}", self.position)
            }
        }
    }
}

impl std::error::Error for Error {}
