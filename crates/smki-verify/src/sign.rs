//! The simulator's ECDSA P-256 signers (feature `sign`): [`sign_prehash_with_table`] (one
//! signature, the reference), [`sign_batch_with_nonces`] (many signatures with given
//! nonces: the k_i G of `mul_g` and one scalar inversion per batch) and [`SignWalk`] (the
//! signatures with nonces k, k + 1, ...), whose scalar side s = k^-1 (z + r d) runs in the
//! Montgomery arithmetic modulo n of `scalar::mont`; and the RFC 6979 nonce
//! ([`rfc6979_k`]).
//!
//! **Not constant time**, like `mul_g`: for the simulator's test keys only, never for real
//! keys.

use crate::field::limbs_to_be;
use crate::mul_g::{g_table, mul_g_points, GWalk, WALK_BATCH};
use crate::point::Affine;
use crate::scalar::mont::{add_mod_n, mont_mul, reduce_x, to_mont, ONE_M, R3};
use crate::scalar::{digest_scalar, inv_mod_n, is_zero, scalar_limbs};
use p256::elliptic_curve::bigint::ArrayEncoding;
use p256::elliptic_curve::ops::{Invert, Reduce};
use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::{Curve, Field, PrimeField};
use p256::{NistP256, Scalar, U256};

/// ECDSA P-256 signature of a SHA-256 `digest` with private key `d` and nonce `k`, using
/// [`g_table`] for k * G: r = x(kG) mod n, s = k^-1 (z + r d), as 32-octet big-endian
/// values. s is not normalised to low s (neither is `p256` 0.13's signer). `None` when k is
/// 0 or r or s comes out 0. Variable time: for the simulator, not for production keys.
pub fn sign_prehash_with_table(d: &Scalar, digest: &[u8; 32], k: &Scalar) -> Option<Signature> {
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

/// An ECDSA signature (r, s) as 32-octet big-endian integers.
pub type Signature = ([u8; 32], [u8; 32]);

/// One ECDSA signature's inputs in Montgomery form: d R, the digest scalar z (canonical)
/// and k R.
#[derive(Clone, Copy)]
struct Input {
    d_m: [u64; 4],
    z: [u64; 4],
    k_m: [u64; 4],
}

impl Input {
    fn new(d: &Scalar, digest: &[u8; 32], k: &Scalar) -> Input {
        Input {
            d_m: to_mont(&scalar_limbs(d)),
            z: scalar_limbs(&digest_scalar(digest)),
            k_m: to_mont(&scalar_limbs(k)),
        }
    }
}

/// (r, s) for each input and its nonce point x(k G) (None: the identity, i.e. k = 0):
/// r = x mod n, s = k^-1 (z + r d), None when k, r or s is 0. One scalar inversion.
fn finish(inputs: &[Input], points: &[Option<Affine>], out: &mut Vec<Option<Signature>>) {
    debug_assert_eq!(inputs.len(), points.len());
    let m = inputs.len();
    // prefix[i] = (product of the usable k_0 .. k_i) R.
    let mut prefix = Vec::with_capacity(m);
    let mut usable = Vec::with_capacity(m);
    let mut acc = ONE_M;
    for (inp, p) in inputs.iter().zip(points) {
        let ok = p.is_some() && !is_zero(&inp.k_m);
        if ok {
            acc = mont_mul(&acc, &inp.k_m);
        }
        prefix.push(acc);
        usable.push(ok);
    }
    // acc = P R, not zero (a product of non-zero values mod the prime n):
    // (P R)^-1 R^3 / R = P^-1 R.
    let acc_inv = inv_mod_n(&acc).expect("a product of non-zero scalars is invertible");
    let mut inv = mont_mul(&acc_inv, &R3);
    out.clear();
    out.resize(m, None);
    for i in (0..m).rev() {
        if !usable[i] {
            continue;
        }
        // inv = (k_0 ... k_i)^-1 R over the usable ones.
        let k_inv_m = if i == 0 {
            inv
        } else {
            mont_mul(&inv, &prefix[i - 1])
        };
        inv = mont_mul(&inv, &inputs[i].k_m);
        let x = points[i].as_ref().expect("usable").x.to_canonical();
        let r = reduce_x(&x);
        // r (d R) / R = r d; t k^-1 R / R = t / k.
        let t = add_mod_n(&inputs[i].z, &mont_mul(&r, &inputs[i].d_m));
        let s = mont_mul(&t, &k_inv_m);
        if is_zero(&r) || is_zero(&s) {
            continue;
        }
        out[i] = Some((limbs_to_be(&r), limbs_to_be(&s)));
    }
}

/// ECDSA P-256 signatures for (private key d, SHA-256 digest, nonce k) triples: the same
/// as [`sign_prehash_with_table`] one by one (None when k, r or s is 0), with the k_i G of
/// [`crate::mul_g_batch`] and one scalar inversion for the batch. Variable time: for the
/// simulator's test keys only (see the module documentation).
pub fn sign_batch_with_nonces(items: &[(Scalar, [u8; 32], Scalar)]) -> Vec<Option<Signature>> {
    let ks: Vec<Scalar> = items.iter().map(|i| i.2).collect();
    let points = mul_g_points(&ks);
    let inputs: Vec<Input> = items
        .iter()
        .map(|(d, digest, k)| Input::new(d, digest, k))
        .collect();
    let mut out = Vec::with_capacity(items.len());
    finish(&inputs, &points, &mut out);
    out
}

/// The ECDSA signatures of one key over one digest with the nonces k, k + 1, k + 2, ...,
/// in batches of [`SignWalk::BATCH`] ([`GWalk`] for the points, one scalar inversion per
/// batch). Each candidate is what [`sign_prehash_with_table`] gives for its nonce. For the
/// simulator's faulty-signer nonce walk; variable time.
#[derive(Clone, Copy)]
pub struct SignWalk {
    walk: GWalk,
    /// The next candidate's inputs.
    input: Input,
}

impl core::fmt::Debug for SignWalk {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SignWalk")
    }
}

impl SignWalk {
    /// Candidates per batch.
    pub const BATCH: usize = WALK_BATCH;

    /// The walk from nonce k for key d and `digest`.
    pub fn new(d: &Scalar, digest: &[u8; 32], k: &Scalar) -> SignWalk {
        SignWalk {
            walk: GWalk::new(k),
            input: Input::new(d, digest, k),
        }
    }

    /// The next [`SignWalk::BATCH`] candidates in nonce order (None when k, r or s is 0);
    /// `out` is cleared first.
    pub fn next_batch(&mut self, out: &mut Vec<Option<Signature>>) {
        let mut points = Vec::with_capacity(WALK_BATCH);
        self.walk.next_points(&mut points);
        let mut inputs = Vec::with_capacity(points.len());
        for _ in 0..points.len() {
            inputs.push(self.input);
            self.input.k_m = add_mod_n(&self.input.k_m, &ONE_M);
        }
        finish(&inputs, &points, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mul_g::mul_g_affine;
    use crate::mul_g::tests::scalars;
    use crate::scalar::invert_scalars;
    use p256::FieldBytes;

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
}
