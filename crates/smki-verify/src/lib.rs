//! ECDSA P-256 / SHA-256 verification for SMKI certificates.
//!
//! * [`PublicKey`]: a validated uncompressed P-256 point, with its SMKI key identifier
//!   (RFC 5280 section 4.2.1.2 method 2, 8 octets).
//! * [`Backend`]: the small crypto-backend trait; [`PlainBackend`] is the reference
//!   implementation on RustCrypto `p256`. A faster backend implements the same trait and is
//!   tested against this one.
//! * [`Registry`]: issuer keys by subject key identifier, then by normalised name; anchors
//!   (from CA certificates) and keys recovered from signatures, reported as such.
//! * [`recover_keys`]: the candidate public keys for a signature over a digest;
//!   [`recover_pinned`]: the one whose key identifier equals the authorityKeyIdentifier.
//! * [`FastBackend`]: fixed-base tables for G and per issuer key, variable-time incomplete
//!   formulas, no final inversion; [`Backend::verify_batch`] batches the 1/s inversions and
//!   runs the additions in affine coordinates across the batch. Tested against
//!   [`PlainBackend`] (tests/fast_*.rs).
//! * [`fixed_base`]: a window-8 table for the generator G and a table-based signer (for the
//!   simulator; variable time).
#![forbid(unsafe_code)]

mod backend;
mod error;
mod fast;
pub mod fixed_base;
mod jacobian;
mod key;
mod recover;
mod registry;
mod sign;

pub use backend::{Backend, BatchItem, PlainBackend};
pub use error::{Error, ErrorKind};
pub use fast::{g_fast_table, FastBackend, FastKey, FixedBaseTable, G_WINDOW, Q_WINDOW};
#[doc(hidden)]
pub use fast::{invert_scalar, verify_with_tables, x_matches_affine_for_tests, AFFINE_MIN};
pub use key::{key_id, PublicKey};
pub use recover::{recover_keys, recover_pinned};
pub use registry::{Issuer, IssuerId, KeySource, Lookup, Registry};

/// SHA-256 of `data` (the digest ECDSA signs for ecdsa-with-SHA256).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}
