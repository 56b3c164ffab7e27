//! A fixed-base table for the P-256 generator G (window 8), for fast signing and key
//! generation in the simulator, and a table-based ECDSA signer.
//!
//! **Not constant time.** [`GTable::mul`] skips zero windows and indexes the table by the
//! scalar's bytes, so its timing and memory access pattern depend on the scalar. That is
//! fine for the simulator and for verification (public data only); it must NOT be used with
//! secret scalars (private keys, nonces) in production.

use crate::jacobian::{batch_to_affine, Affine, Jacobian};
use p256::elliptic_curve::bigint::ArrayEncoding;
use p256::elliptic_curve::ops::{Invert, Reduce};
use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::{Curve, Field, PrimeField};
use p256::{AffinePoint, FieldBytes, NistP256, ProjectivePoint, Scalar, U256};
use std::sync::OnceLock;

const WINDOWS: usize = 32;
const PER_WINDOW: usize = 255;

/// Window-8 fixed-base table for G: for each of the 32 byte positions i, the multiples
/// j * 2^(8i) G for j = 1..=255, in affine coordinates (about 0.5 MB).
pub struct GTable {
    /// `points[i * 255 + (j - 1)] = j * 2^(8i) G`.
    points: Vec<AffinePoint>,
}

impl core::fmt::Debug for GTable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "GTable({} points)", self.points.len())
    }
}

impl Default for GTable {
    fn default() -> Self {
        Self::new()
    }
}

impl GTable {
    /// Builds the table with variable-time Jacobian additions over `p256`'s field
    /// arithmetic, then one batch normalisation (one field inversion for all 8,160 points;
    /// `p256` 0.13 has no batch normalisation of its own: `group::Curve::batch_normalize`
    /// falls back to one inversion per point). Every point is checked to be on the curve
    /// when converted to `p256::AffinePoint`.
    pub fn new() -> GTable {
        let mut jac = Vec::with_capacity(WINDOWS * PER_WINDOW);
        let mut base = Affine::from_p256(&AffinePoint::GENERATOR);
        for w in 0..WINDOWS {
            let b = Jacobian::from_affine(&base);
            jac.push(b);
            let mut acc = b.double();
            jac.push(acc);
            for _ in 3..=PER_WINDOW {
                acc = acc.add_affine(&base);
                jac.push(acc);
            }
            if w + 1 < WINDOWS {
                // 256 * base = 2^(8(w+1)) G; acc is 255 * base.
                base = acc.add_affine(&base).to_affine().expect("not the identity");
            }
        }
        let points: Vec<AffinePoint> = batch_to_affine(&jac)
            .into_iter()
            .map(|p| p.to_p256().expect("table point on the curve"))
            .collect();
        GTable { points }
    }

    /// k * G: the sum over the 32 byte windows of k of one table look-up each (mixed
    /// additions, zero windows skipped). Variable time: see the module documentation.
    pub fn mul(&self, k: &Scalar) -> ProjectivePoint {
        let bytes = k.to_bytes(); // big-endian
        let mut acc = ProjectivePoint::IDENTITY;
        for (i, &b) in bytes.iter().rev().enumerate() {
            if b != 0 {
                acc += &self.points[i * PER_WINDOW + (b as usize - 1)];
            }
        }
        acc
    }
}

/// The process-wide [`GTable`], built on first use.
pub fn g_table() -> &'static GTable {
    static TABLE: OnceLock<GTable> = OnceLock::new();
    TABLE.get_or_init(GTable::new)
}

/// The digest as a scalar: bits2int (a 32-octet digest is taken whole) reduced mod n.
fn digest_scalar(digest: &[u8; 32]) -> Scalar {
    <Scalar as Reduce<U256>>::reduce_bytes(&FieldBytes::from(*digest))
}

/// ECDSA P-256 signature of a SHA-256 `digest` with private key `d` and nonce `k`, using
/// [`g_table`] for k * G: r = x(kG) mod n, s = k^-1 (z + r d), as 32-octet big-endian
/// values. s is not normalised to low s (neither is `p256` 0.13's signer). `None` when k is
/// 0 or r or s comes out 0. Variable time: for the simulator, not for production keys.
pub fn sign_prehash_with_table(
    d: &Scalar,
    digest: &[u8; 32],
    k: &Scalar,
) -> Option<([u8; 32], [u8; 32])> {
    // Variable-time inversion (binary extended Euclid): ~2.5x faster than `invert`.
    let k_inv = Option::<Scalar>::from(Invert::invert_vartime(k))?;
    let big_r = g_table().mul(k).to_affine();
    let r = <Scalar as Reduce<U256>>::reduce_bytes(&big_r.x());
    if bool::from(r.is_zero()) {
        return None;
    }
    let s = k_inv * (digest_scalar(digest) + r * d);
    if bool::from(s.is_zero()) {
        return None;
    }
    Some((r.to_bytes().into(), s.to_bytes().into()))
}

/// The RFC 6979 (section 3.2) deterministic nonce for private key `d` and a SHA-256
/// `digest`, with HMAC-SHA-256 and no additional data.
///
/// Follows the RFC: the digest enters the HMAC_DRBG as bits2octets, i.e. reduced mod n.
/// (`p256` 0.13 / `ecdsa` 0.16 pass the digest unreduced; the two differ only for a digest
/// >= n, probability about 2^-32.)
pub fn rfc6979_k(d: &Scalar, digest: &[u8; 32]) -> Scalar {
    let n = NistP256::ORDER.to_be_byte_array();
    let h = digest_scalar(digest).to_bytes();
    let k = rfc6979::generate_k::<sha2::Sha256, _>(&d.to_bytes(), &n, &h, &[]);
    // generate_k only returns 0 < k < n.
    Option::from(Scalar::from_repr(k)).expect("rfc6979 returns a scalar below n")
}
