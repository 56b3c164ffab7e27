//! ECDSA P-256 / SHA-256 verification for SMKI certificates.
//!
//! The public surface is the list of `pub use` below; every module is private, one concern
//! each:
//!
//! | module | what |
//! |---|---|
//! | `key` | [`PublicKey`]: a validated uncompressed P-256 point, with its SMKI key identifier ([`smki_x509::key_id`]) |
//! | `backend` | [`Backend`], the small crypto-backend trait, and [`PlainBackend`], the reference on RustCrypto `p256` |
//! | `fast` | [`FastBackend`] and its per-issuer [`FastKey`]: fixed-base tables, variable-time incomplete formulas, no final inversion |
//! | `batch` | its [`Backend::verify_batch`]: one scalar inversion for all the 1/s, the additions in affine coordinates across the batch |
//! | `table` | [`FixedBaseTable`] (signed windows), [`g_fast_table`], [`G_WINDOW`], [`Q_WINDOW`] |
//! | `field` | arithmetic mod p (our Montgomery field type) and the 256-bit limb helpers |
//! | `scalar` | arithmetic mod n: scalars from r, s and the digest, the binary inversion (no zero by type) |
//! | `point` | Jacobian and affine point operations, affine additions across a batch |
//! | `registry` | [`Registry`]: issuer keys by key identifier, then by normalised name; anchors and recovered keys, reported as such |
//! | `recover` | [`recover_keys`], the candidate keys for a signature; [`recover_pinned`], the one the authorityKeyIdentifier names |
//! | `mul_g`, `sign` | feature `sign` (the simulator's): k G one at a time, for a batch and as a walk, `GTable`, and the signers (variable time: test keys only) |
//!
//! The fast backend is tested against the reference one (tests/fast_*.rs).
//!
//! Features:
//! * `sign`: the simulator's fixed-base signing (`mul_g_affine`, `mul_g_batch`,
//!   `mul_g_batch_x`, `GWalk`, `GTable`, `g_table`, `sign_prehash_with_table`,
//!   `sign_batch_with_nonces`, `SignWalk`, `rfc6979_k`, `invert_scalars`). Only `smki-sim`
//!   enables it. **Not constant time**: never for real keys.
//! * `test-hooks`: internals for this crate's own tests and benches (`invert_scalar`,
//!   `verify_with_tables`, `x_matches_affine_for_tests`, `AFFINE_MIN`); enabled through its
//!   dev-dependency on itself, by no other crate. Not a stable API.
#![forbid(unsafe_code)]

mod backend;
mod batch;
mod error;
mod fast;
mod field;
mod key;
#[cfg(feature = "sign")]
mod mul_g;
mod point;
mod recover;
mod registry;
mod scalar;
#[cfg(feature = "sign")]
mod sign;
mod table;

pub use backend::{Backend, BatchItem, PlainBackend};
pub use error::{Error, ErrorKind};
pub use fast::{FastBackend, FastKey};
pub use key::PublicKey;
pub use recover::{recover_keys, recover_pinned};
pub use registry::{Issuer, IssuerId, KeySource, Lookup, Registry};
pub use table::{g_fast_table, FixedBaseTable, G_WINDOW, Q_WINDOW};

#[cfg(feature = "sign")]
pub use mul_g::{g_table, mul_g_affine, mul_g_batch, mul_g_batch_x, Coordinates, GTable, GWalk};
#[cfg(feature = "sign")]
pub use scalar::invert_scalars;
#[cfg(feature = "sign")]
pub use sign::{rfc6979_k, sign_batch_with_nonces, sign_prehash_with_table, SignWalk, Signature};

#[cfg(feature = "test-hooks")]
pub use batch::AFFINE_MIN;
#[cfg(feature = "test-hooks")]
pub use fast::{verify_with_tables, x_matches_affine_for_tests};
#[cfg(feature = "test-hooks")]
pub use scalar::invert_scalar;
