use core::fmt;

/// An error from this crate: its kind and the byte offset (within the input given) it
/// concerns, where one applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub position: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The public key is not 65 octets starting with 0x04.
    NotUncompressedPoint,
    /// The coordinates are not a point on P-256 (or are the identity).
    NotOnCurve,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::NotUncompressedPoint => {
                write!(
                    f,
                    "public key is not an uncompressed P-256 point (byte {})",
                    self.position
                )
            }
            ErrorKind::NotOnCurve => {
                write!(f, "public key is not on P-256 (byte {})", self.position)
            }
        }
    }
}

impl std::error::Error for Error {}
