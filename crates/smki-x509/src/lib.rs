//! SMKI certificates: the zero-copy [`CertView`], the parsed [`Fields`], the SMKI
//! [`Profile`] and its lints, the strict DER walk named by certificate paths, and the
//! table of the OBJECT IDENTIFIERs the workspace names ([`Oid`]).
//!
//! ```text
//! Certificate  ::=  SEQUENCE  {
//!      tbsCertificate       TBSCertificate,
//!      signatureAlgorithm   AlgorithmIdentifier,
//!      signatureValue       BIT STRING  }
//! ```
#![forbid(unsafe_code)]

mod ber;
mod digest;
mod elements;
mod error;
mod extensions;
mod fields;
mod names;
mod oid;
mod profile;
mod view;

pub use ber::{ber_issues, path_name, CertBer, CertNode, CertificateSchema, KnownExtension};
pub use digest::{key_id, sha256};
pub use error::{Error, ErrorKind, FieldProblem};
pub use extensions::{BasicConstraints, DuplicateExtension, ExtensionInfo, HardwareModuleName};
pub use fields::{EncodedTime, Fields, KeyAlgorithm, Usage};
pub use names::{Attribute, Name};
pub use oid::Oid;
pub use profile::{lints, role_name, Lint, LintCode, Profile};
pub use view::{CertView, Extension, Extensions, SignatureAlgorithm, ECDSA_WITH_SHA256};
