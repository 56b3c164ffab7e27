//! SMKI certificates: the zero-copy [`CertView`], the parsed [`Fields`], the SMKI
//! [`Profile`] and its lints, and the strict DER walk named by certificate paths.
//!
//! ```text
//! Certificate  ::=  SEQUENCE  {
//!      tbsCertificate       TBSCertificate,
//!      signatureAlgorithm   AlgorithmIdentifier,
//!      signatureValue       BIT STRING  }
//! ```
#![forbid(unsafe_code)]

mod ber;
mod error;
mod fields;
mod profile;
mod view;

pub use ber::{ber_issues, path_name, CertBer};
pub use error::{Error, ErrorKind, FieldProblem};
pub use fields::{der_oid, ExtensionInfo, Fields, KeyAlgorithm, Name, Usage};
pub use profile::{lints, role_name, Lint, Profile};
pub use view::{CertView, ECDSA_WITH_SHA256};
