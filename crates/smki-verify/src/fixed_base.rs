//! A fixed-base table for the P-256 generator G (window 8), for fast signing and key
//! generation in the simulator, and a table-based ECDSA signer.
//!
//! Also the simulator's fast signing primitives, on the signed-window table of
//! [`crate::g_fast_table`] and our own field arithmetic: [`mul_g_affine`] (one k G),
//! [`mul_g_batch`] / [`mul_g_batch_x`] (k_i G for a batch, affine additions across the batch
//! with one field inversion per step and no final normalisation), [`invert_scalars`]
//! (Montgomery's trick, one variable-time scalar inversion per batch) and [`GWalk`] (the
//! points k G, (k + 1) G, ... in batches of 64, one field inversion per batch); on top of
//! them the signers [`sign_batch_with_nonces`] (many signatures with given nonces) and
//! [`SignWalk`] (the signatures with nonces k, k + 1, ...), whose scalar side runs in our
//! own Montgomery arithmetic modulo n.
//!
//! **Not constant time.** [`GTable::mul`] skips zero windows and indexes the table by the
//! scalar's bytes, so its timing and memory access pattern depend on the scalar; the fast
//! primitives above branch on the scalar's digits, on special cases of the point formulas
//! and in the binary scalar inversion. That is fine for the simulator (test keys that
//! protect nothing) and for verification (public data only); they must NOT be used with
//! secret scalars (private keys, nonces) in production.

use crate::fast;
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

/// Affine coordinates of a point as 32-octet big-endian integers: (x, y).
pub type Coordinates = ([u8; 32], [u8; 32]);

fn coordinates(a: &Affine) -> Coordinates {
    (a.x.to_be_bytes(), a.y.to_be_bytes())
}

/// k G in affine coordinates (None for k = 0), through the signed-window table
/// [`crate::g_fast_table`] (mixed Jacobian additions, one field inversion). Variable time:
/// see the module documentation.
pub fn mul_g_affine(k: &Scalar) -> Option<Coordinates> {
    fast::mul_g(k).map(|a| coordinates(&a))
}

/// k_i G for each k_i in affine coordinates (None for k_i = 0), the same as
/// [`mul_g_affine`] one by one: the additions of all scalars run in affine coordinates
/// across the batch with one field inversion per step (about 7 steps for any batch size),
/// so no per-point normalisation is needed. Best with batches of 32 or more. Variable time:
/// see the module documentation.
pub fn mul_g_batch(ks: &[Scalar]) -> Vec<Option<Coordinates>> {
    fast::mul_g_batch(ks)
        .iter()
        .map(|p| p.as_ref().map(coordinates))
        .collect()
}

/// The affine x coordinates of [`mul_g_batch`] (None for k_i = 0).
pub fn mul_g_batch_x(ks: &[Scalar]) -> Vec<Option<[u8; 32]>> {
    fast::mul_g_batch(ks)
        .iter()
        .map(|p| p.as_ref().map(|a| a.x.to_be_bytes()))
        .collect()
}

/// 1 / k_i mod n for each k_i (0 for k_i = 0) with one scalar inversion for the batch
/// (Montgomery's trick; variable-time binary inversion).
pub fn invert_scalars(ks: &[Scalar]) -> Vec<Scalar> {
    fast::invert_scalars(ks)
}

/// The points k G, (k + 1) G, (k + 2) G, ... in batches of [`GWalk::BATCH`]: one affine
/// addition per point (B + j G for the batch's first point B and a small table of j G) and
/// one field inversion per batch. For the simulator's nonce walk; variable time.
#[derive(Clone, Copy)]
pub struct GWalk {
    state: fast::GWalkState,
}

impl core::fmt::Debug for GWalk {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("GWalk")
    }
}

impl GWalk {
    /// Points per batch.
    pub const BATCH: usize = fast::WALK_BATCH;

    /// A walk starting at k G.
    pub fn new(k: &Scalar) -> GWalk {
        GWalk {
            state: fast::GWalkState::new(k),
        }
    }

    /// The affine x coordinates of the next [`GWalk::BATCH`] points, in order (None for
    /// the identity); `out` is cleared first. The walk then stands [`GWalk::BATCH`] further.
    pub fn next_batch_x(&mut self, out: &mut Vec<Option<[u8; 32]>>) {
        let mut pts = Vec::with_capacity(Self::BATCH);
        self.state.next_batch(&mut pts);
        out.clear();
        out.extend(pts.iter().map(|p| p.as_ref().map(|a| a.x.to_be_bytes())));
    }
}

/// An ECDSA signature (r, s) as 32-octet big-endian integers.
pub type Signature = ([u8; 32], [u8; 32]);

/// ECDSA P-256 signatures for (private key d, SHA-256 digest, nonce k) triples: the same
/// as [`sign_prehash_with_table`] one by one (None when k, r or s is 0), with the k_i G of
/// [`mul_g_batch`] and one scalar inversion for the batch. Variable time: for the
/// simulator's test keys only (see the module documentation).
pub fn sign_batch_with_nonces(items: &[(Scalar, [u8; 32], Scalar)]) -> Vec<Option<Signature>> {
    crate::sign::sign_batch(items)
}

/// The ECDSA signatures of one key over one digest with the nonces k, k + 1, k + 2, ...,
/// in batches of [`SignWalk::BATCH`] ([`GWalk`] for the points, one scalar inversion per
/// batch). Each candidate is what [`sign_prehash_with_table`] gives for its nonce. For the
/// simulator's faulty-signer nonce walk; variable time.
#[derive(Clone, Copy)]
pub struct SignWalk {
    state: crate::sign::SignWalkState,
}

impl core::fmt::Debug for SignWalk {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SignWalk")
    }
}

impl SignWalk {
    /// Candidates per batch.
    pub const BATCH: usize = fast::WALK_BATCH;

    /// The walk from nonce k for key d and `digest`.
    pub fn new(d: &Scalar, digest: &[u8; 32], k: &Scalar) -> SignWalk {
        SignWalk {
            state: crate::sign::SignWalkState::new(d, digest, k),
        }
    }

    /// The next [`SignWalk::BATCH`] candidates in nonce order (None when k, r or s is 0);
    /// `out` is cleared first.
    pub fn next_batch(&mut self, out: &mut Vec<Option<Signature>>) {
        self.state.next_batch(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::elliptic_curve::sec1::ToEncodedPoint;

    fn expected(k: &Scalar) -> Option<Coordinates> {
        let p = (ProjectivePoint::GENERATOR * k).to_affine();
        let enc = p.to_encoded_point(false);
        let x: [u8; 32] = (*enc.x()?).into();
        let y: [u8; 32] = (*enc.y()?).into();
        Some((x, y))
    }

    /// Edge scalars (0, 1, 2, small, n - small, powers of two, runs of ones) and
    /// pseudo-random ones.
    fn scalars() -> Vec<Scalar> {
        let mut ks = vec![Scalar::ZERO, Scalar::ONE, Scalar::from(2u64)];
        for i in [3u64, 511, 512, 513, 1023, 1024, 1025, 0xffff_ffff, u64::MAX] {
            ks.push(Scalar::from(i));
            ks.push(-Scalar::from(i));
        }
        for i in [1u64, 9, 10, 64, 127, 128, 200, 250, 255] {
            ks.push(Field::pow_vartime(&Scalar::from(2u64), [i]));
            ks.push(Field::pow_vartime(&Scalar::from(2u64), [i]) - Scalar::ONE);
        }
        ks.push(-Scalar::ONE);
        let mut x = Scalar::from(0x0123_4567_89ab_cdefu64);
        for _ in 0..150 {
            x = x.square() + Scalar::from(5u64);
            ks.push(x);
        }
        ks
    }

    #[test]
    fn single_and_batch_match_p256() {
        let ks = scalars();
        for k in &ks {
            assert_eq!(mul_g_affine(k), expected(k), "{k:?}");
        }
        // Various batch sizes, including 1 and non-multiples of the chain count.
        for size in [1usize, 2, 3, 7, 64, ks.len()] {
            for chunk in ks.chunks(size) {
                let got = mul_g_batch(chunk);
                let got_x = mul_g_batch_x(chunk);
                assert_eq!(got.len(), chunk.len());
                for ((k, p), x) in chunk.iter().zip(&got).zip(&got_x) {
                    let e = expected(k);
                    assert_eq!(*p, e, "{k:?}");
                    assert_eq!(*x, e.map(|c| c.0), "{k:?}");
                }
            }
        }
        assert!(mul_g_batch(&[]).is_empty());
        // Equal scalars and negatives in one batch (the chains meet the same points).
        let k = Scalar::from(0x1234_5678u64);
        let batch = [k, k, -k, Scalar::ZERO, k.double(), -k];
        for (k, p) in batch.iter().zip(mul_g_batch(&batch)) {
            assert_eq!(p, expected(k));
        }
    }

    #[test]
    fn batch_inversion() {
        let ks = scalars();
        let inv = invert_scalars(&ks);
        for (k, i) in ks.iter().zip(&inv) {
            if bool::from(k.is_zero()) {
                assert_eq!(*i, Scalar::ZERO);
            } else {
                assert_eq!(*i * k, Scalar::ONE, "{k:?}");
            }
        }
        assert!(invert_scalars(&[]).is_empty());
        assert_eq!(invert_scalars(&[Scalar::ZERO]), vec![Scalar::ZERO]);
    }

    #[test]
    fn signers_match_table_signer() {
        let mut d = Scalar::from(0x5eed_u64);
        let mut items = Vec::new();
        for (i, k) in scalars().into_iter().enumerate() {
            d = d.square() + Scalar::from(i as u64 + 1);
            let mut digest = [i as u8; 32];
            if i % 3 == 0 {
                digest = [0xff; 32]; // above n: reduced
            }
            items.push((d, digest, k));
        }
        let got = sign_batch_with_nonces(&items);
        assert_eq!(got.len(), items.len());
        for ((d, z, k), sig) in items.iter().zip(&got) {
            assert_eq!(*sig, sign_prehash_with_table(d, z, k), "{k:?}");
        }
        assert!(got[0].is_none(), "k = 0");
        for chunk in items.chunks(5) {
            for ((d, z, k), sig) in chunk.iter().zip(sign_batch_with_nonces(chunk)) {
                assert_eq!(sig, sign_prehash_with_table(d, z, k));
            }
        }
        assert!(sign_batch_with_nonces(&[]).is_empty());
        // s = 0: z = -r d.
        let k = Scalar::from(77u64);
        let (x, _) = mul_g_affine(&k).unwrap();
        let r = <Scalar as Reduce<U256>>::reduce_bytes(&FieldBytes::from(x));
        let z: [u8; 32] = (-(r * d)).to_bytes().into();
        assert_eq!(sign_batch_with_nonces(&[(d, z, k)]), vec![None]);
        // The walk, through k = 0.
        for k0 in [-Scalar::from(3u64), Scalar::from(0xabcdefu64).square()] {
            let mut w = SignWalk::new(&d, &[9; 32], &k0);
            let mut out = Vec::new();
            let mut k = k0;
            for _ in 0..2 {
                w.next_batch(&mut out);
                assert_eq!(out.len(), SignWalk::BATCH);
                for sig in &out {
                    assert_eq!(*sig, sign_prehash_with_table(&d, &[9; 32], &k));
                    k += Scalar::ONE;
                }
            }
        }
    }

    #[test]
    fn walk_matches_p256() {
        // Through the identity and its neighbours: k = -70 .. -70 + 192.
        let starts = [
            -Scalar::from(70u64),
            Scalar::ZERO,
            Scalar::ONE,
            Scalar::from(0xdead_beefu64).square(),
            -Scalar::from(64u64),
            // Doubling inside the batch: B = jG.
            Scalar::from(5u64),
        ];
        for k0 in starts {
            let mut w = GWalk::new(&k0);
            let mut xs = Vec::new();
            let mut k = k0;
            for _ in 0..3 {
                w.next_batch_x(&mut xs);
                assert_eq!(xs.len(), GWalk::BATCH);
                for x in &xs {
                    assert_eq!(*x, expected(&k).map(|c| c.0), "{k:?}");
                    k += Scalar::ONE;
                }
            }
        }
    }
}
