//! DER for SMKI certificates, without crypto.
//!
//! * [`read_header`]: the one lenient TLV header reader. It reads BER (long-form and
//!   indefinite lengths, non-minimal length octets) and records how the header deviates from
//!   DER, so that every other part of the project reads DER through it.
//! * [`analyse_signature`]: reads a certificate's `signatureValue` BIT STRING and the
//!   `ECDSA-Sig-Value` inside it leniently, reports every deviation from DER as a [`Defect`]
//!   with its byte offset, and recovers `(r, s)` wherever the bytes can be read at all.
//! * [`walk_with`]: strict DER walk of a whole TLV tree under a [`Schema`] (what an ASN.1
//!   module adds: which OCTET STRINGs hold DER, DEFAULT values, named BIT STRINGs; [`walk`]:
//!   under none), reporting every non-DER encoding with its
//!   path of element indices ([`BerIssue`]).
//! * [`oid_text`]: an OBJECT IDENTIFIER's contents as dotted text; [`utc_time`] and
//!   [`generalized_time`]: a Time's contents (RFC 5280 forms) as Unix seconds; [`ber_time`]:
//!   in any form X.680 allows.
//! * [`vocabulary!`]: the one way a stable code (a defect code, a verdict, a lint code...)
//!   is declared: an enum whose variants carry their names, serialised under them.
//! * [`encode`]: canonical DER encoding (lengths, INTEGERs, TLVs, `ECDSA-Sig-Value`) and the
//!   defect injectors used by the simulator and the tests.
//!
//! ```text
//! ECDSA-Sig-Value ::= SEQUENCE {
//!     r  INTEGER,
//!     s  INTEGER }
//! ```
//! (RFC 5480 section 2.2.3 / RFC 3279 section 2.2.3.)
#![forbid(unsafe_code)]

mod error;
mod header;
mod oid;
mod signature;
mod time;
mod vocabulary;
mod walk;

pub mod encode;

pub use error::{Error, ErrorKind, Result};
pub use header::{read_header, Header, LengthForm, Tag};
pub use oid::{is_valid_oid, oid_text};
pub use signature::{
    analyse_signature, analyse_signature_on, Component, Curve, Defect, DefectCode, IntRead,
    SignatureEncoding, P256_ORDER, P384_ORDER, P521_ORDER,
};
pub use time::{ber_time, days_from_civil, generalized_time, utc_time};
pub use walk::{walk, walk_with, BerIssue, BerIssueKind, NoSchema, PathStep, Rule, Schema, Walk};
