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
    /// A tbsCertificate field cannot be read: `element` names it the way RFC 5280 does
    /// (`tbsCertificate.validity.notBefore`, `tbsCertificate.extensions[2].extnValue`),
    /// `problem` says what is wrong; the error's position is the offending byte.
    Field {
        element: String,
        problem: FieldProblem,
    },
}

/// What is wrong with a tbsCertificate field ([`ErrorKind::Field`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldProblem {
    /// The element cannot be read as a TLV (truncated, bad length, high tag number).
    Der(smki_der::ErrorKind),
    /// The element has another tag than the structure requires.
    WrongTag { expected: u8, found: u8 },
    /// A mandatory element is missing.
    Missing,
    /// An element (first identifier octet `tag`) where the structure has ended.
    Unexpected { tag: u8 },
    /// An OBJECT IDENTIFIER that is not a valid encoding (or has an arc beyond 64 bits).
    BadOid,
    /// A UTCTime (`tag` 0x17) or GeneralizedTime (0x18) not in the form RFC 5280 requires
    /// (`YYMMDDHHMMSSZ` / `YYYYMMDDHHMMSSZ`) or not a valid date and time.
    BadTime { tag: u8 },
    /// A value that cannot be read (`what` says which and why).
    BadValue(&'static str),
}

impl Error {
    pub(crate) fn der(e: smki_der::Error) -> Error {
        Error {
            kind: ErrorKind::Der(e.kind),
            position: e.position,
        }
    }

    /// A [`ErrorKind::Field`] error.
    pub(crate) fn field(element: &str, problem: FieldProblem, position: usize) -> Error {
        Error {
            kind: ErrorKind::Field {
                element: element.to_string(),
                problem,
            },
            position,
        }
    }

    /// The same error with its element named within `outer` (`tbsCertificate.issuer` +
    /// `[2][0].type`, or `tbsCertificate.extensions[1]` + `extnValue`).
    pub(crate) fn within(mut self, outer: &str) -> Error {
        if let ErrorKind::Field { element, .. } = &mut self.kind {
            if element.is_empty() {
                *element = outer.to_string();
            } else {
                let sep = if element.starts_with('[') { "" } else { "." };
                *element = format!("{outer}{sep}{element}");
            }
        }
        self
    }
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldProblem::Der(k) => match *k {
                smki_der::ErrorKind::Truncated { needed, available } => {
                    write!(
                        f,
                        "truncated ({needed} bytes needed, {available} available)"
                    )
                }
                smki_der::ErrorKind::HighTagNumber => write!(f, "high-tag-number form"),
                smki_der::ErrorKind::LengthTooLong => write!(f, "length too long"),
                smki_der::ErrorKind::BadIndefinite => write!(f, "bad indefinite length"),
                other => write!(f, "{other:?}"),
            },
            FieldProblem::WrongTag { expected, found } => {
                write!(f, "expected tag 0x{expected:02x}, found 0x{found:02x}")
            }
            FieldProblem::Missing => write!(f, "missing"),
            FieldProblem::Unexpected { tag } => write!(f, "unexpected element (tag 0x{tag:02x})"),
            FieldProblem::BadOid => write!(f, "malformed OBJECT IDENTIFIER"),
            FieldProblem::BadTime { tag: 0x17 } => write!(f, "bad UTCTime"),
            FieldProblem::BadTime { .. } => write!(f, "bad GeneralizedTime"),
            FieldProblem::BadValue(what) => write!(f, "{what}"),
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
            ErrorKind::Field {
                element,
                problem: FieldProblem::Missing,
            } => write!(f, "{element} missing (at byte {})", self.position),
            ErrorKind::Field { element, problem } => {
                write!(f, "{element}: {problem} at byte {}", self.position)
            }
        }
    }
}

impl std::error::Error for Error {}
