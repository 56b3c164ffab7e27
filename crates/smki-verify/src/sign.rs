//! The scalar side of the simulator's fast ECDSA signer: s = k^-1 (z + r d) mod n for a
//! batch of nonces whose points k G are already computed, in our own Montgomery arithmetic
//! modulo the group order n (a generic 4-limb Montgomery product is about twice as fast as
//! `p256`'s Barrett-reduced `Scalar` multiplication), with one scalar inversion per batch
//! (Montgomery's trick, variable-time binary inversion).
//!
//! **Not constant time**, like the rest of `fixed_base`'s fast path: for the simulator's
//! test keys only.

use crate::fast::{inv_mod_n, mul_g_batch, scalar_limbs, GWalkState, N};
use crate::jacobian::{limbs_to_be, lt, Affine};
use p256::elliptic_curve::ops::Reduce;
use p256::{FieldBytes, Scalar, U256};

/// -n^-1 mod 2^64.
const N0: u64 = 0xccd1_c8aa_ee00_bc4f;
/// R^2 mod n (R = 2^256).
const R2: [u64; 4] = [
    0x8324_4c95_be79_eea2,
    0x4699_799c_49bd_6fa6,
    0x2845_b239_2b6b_ec59,
    0x66e1_2d94_f3d9_5620,
];
/// R^3 mod n.
const R3: [u64; 4] = [
    0xac8e_bec9_0b65_a624,
    0x111f_28ae_0c05_55c9,
    0x2543_b924_6ba5_e93f,
    0x503a_54e7_6407_be65,
];
/// R mod n: 1 in Montgomery form.
const ONE_M: [u64; 4] = [
    0x0c46_353d_039c_daaf,
    0x4319_0552_58e8_617b,
    0,
    0x0000_0000_ffff_ffff,
];

use crate::jacobian::{adc, mac};

/// (t, hi) - n if (hi, t) >= n, for (hi, t) < 2n.
#[inline(always)]
fn sub_n_if_ge(t: [u64; 4], hi: u64) -> [u64; 4] {
    let mut d = [0u64; 4];
    let mut borrow = false;
    for i in 0..4 {
        let (x, b1) = t[i].overflowing_sub(N[i]);
        let (x, b2) = x.overflowing_sub(borrow as u64);
        d[i] = x;
        borrow = b1 | b2;
    }
    if hi == 0 && borrow {
        t
    } else {
        d
    }
}

/// a b / R mod n (a, b < n), CIOS.
#[inline]
pub(crate) fn mont_mul(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
    let mut t = [0u64; 6];
    for &bi in b {
        let mut c = 0;
        for j in 0..4 {
            (t[j], c) = mac(t[j], a[j], bi, c);
        }
        let (t4, c4) = adc(t[4], c, 0);
        t[4] = t4;
        t[5] = c4;
        let m = t[0].wrapping_mul(N0);
        let (_, mut c) = mac(t[0], m, N[0], 0);
        for j in 1..4 {
            (t[j - 1], c) = mac(t[j], m, N[j], c);
        }
        let (t3, c3) = adc(t[4], c, 0);
        t[3] = t3;
        t[4] = t[5] + c3;
    }
    sub_n_if_ge([t[0], t[1], t[2], t[3]], t[4])
}

/// a + b mod n (a, b < n).
#[inline]
pub(crate) fn add_mod_n(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
    let mut t = [0u64; 4];
    let mut c = 0;
    for i in 0..4 {
        (t[i], c) = adc(a[i], b[i], c);
    }
    sub_n_if_ge(t, c)
}

/// a R mod n (a < n).
#[inline]
pub(crate) fn to_mont(a: &[u64; 4]) -> [u64; 4] {
    mont_mul(a, &R2)
}

fn is_zero(a: &[u64; 4]) -> bool {
    (a[0] | a[1] | a[2] | a[3]) == 0
}

/// x mod n for a field element's canonical value x < p (< 2n).
#[inline]
fn reduce_x(x: &[u64; 4]) -> [u64; 4] {
    if lt(x, &N) {
        *x
    } else {
        sub_n_if_ge(*x, 0)
    }
}

/// One ECDSA signature's inputs in Montgomery form: d R, the digest scalar z (canonical)
/// and k R.
#[derive(Clone, Copy)]
struct Input {
    d_m: [u64; 4],
    z: [u64; 4],
    k_m: [u64; 4],
}

/// (r, s) for each input and its nonce point x(k G) (None: the identity, i.e. k = 0):
/// r = x mod n, s = k^-1 (z + r d), None when k, r or s is 0. One scalar inversion.
fn finish(
    inputs: &[Input],
    points: &[Option<Affine>],
    out: &mut Vec<Option<([u8; 32], [u8; 32])>>,
) {
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
    // acc = P R (P != 0): (P R)^-1 R^3 / R = P^-1 R.
    let mut inv = mont_mul(&inv_mod_n(&acc), &R3);
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

fn digest_limbs(digest: &[u8; 32]) -> [u64; 4] {
    scalar_limbs(&<Scalar as Reduce<U256>>::reduce_bytes(&FieldBytes::from(
        *digest,
    )))
}

/// ECDSA signatures (d_i, digest_i, k_i) -> (r, s), None when k, r or s is 0: the k_i G
/// by [`mul_g_batch`], then [`finish`].
pub(crate) fn sign_batch(
    items: &[(Scalar, [u8; 32], Scalar)],
) -> Vec<Option<([u8; 32], [u8; 32])>> {
    let ks: Vec<Scalar> = items.iter().map(|i| i.2).collect();
    let points = mul_g_batch(&ks);
    let inputs: Vec<Input> = items
        .iter()
        .map(|(d, digest, k)| Input {
            d_m: to_mont(&scalar_limbs(d)),
            z: digest_limbs(digest),
            k_m: to_mont(&scalar_limbs(k)),
        })
        .collect();
    let mut out = Vec::with_capacity(items.len());
    finish(&inputs, &points, &mut out);
    out
}

/// The signatures with nonces k, k + 1, k + 2, ... for one key and digest, in batches of
/// [`crate::fast::WALK_BATCH`].
#[derive(Clone, Copy)]
pub(crate) struct SignWalkState {
    walk: GWalkState,
    input: Input,
}

impl SignWalkState {
    pub(crate) fn new(d: &Scalar, digest: &[u8; 32], k: &Scalar) -> SignWalkState {
        SignWalkState {
            walk: GWalkState::new(k),
            input: Input {
                d_m: to_mont(&scalar_limbs(d)),
                z: digest_limbs(digest),
                k_m: to_mont(&scalar_limbs(k)),
            },
        }
    }

    /// The next batch of candidates, in nonce order (None: k, r or s is 0).
    pub(crate) fn next_batch(&mut self, out: &mut Vec<Option<([u8; 32], [u8; 32])>>) {
        let mut points = Vec::with_capacity(crate::fast::WALK_BATCH);
        self.walk.next_batch(&mut points);
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
    use p256::elliptic_curve::PrimeField;

    fn sc(l: &[u64; 4]) -> Scalar {
        Option::from(Scalar::from_repr(FieldBytes::from(limbs_to_be(l)))).unwrap()
    }

    #[test]
    fn montgomery_matches_p256() {
        let mut ks = vec![Scalar::ZERO, Scalar::ONE, -Scalar::ONE, -Scalar::from(2u64)];
        let mut x = Scalar::from(0x0fed_cba9_8765_4321u64);
        for _ in 0..300 {
            x = x.square() + Scalar::from(11u64);
            ks.push(x);
        }
        let from_mont = |a: &[u64; 4]| mont_mul(a, &[1, 0, 0, 0]);
        assert_eq!(to_mont(&[1, 0, 0, 0]), ONE_M);
        assert_eq!(mont_mul(&ONE_M, &R2), R2);
        assert_eq!(to_mont(&R2), R3);
        for w in ks.windows(2) {
            let (a, b) = (scalar_limbs(&w[0]), scalar_limbs(&w[1]));
            assert_eq!(
                sc(&from_mont(&mont_mul(&to_mont(&a), &to_mont(&b)))),
                w[0] * w[1]
            );
            assert_eq!(sc(&mont_mul(&a, &to_mont(&b))), w[0] * w[1]);
            assert_eq!(sc(&add_mod_n(&a, &b)), w[0] + w[1]);
            assert_eq!(from_mont(&to_mont(&a)), a);
        }
        // reduce_x: x in [n, p) wraps.
        let mut x = N;
        x[0] += 3;
        assert_eq!(reduce_x(&x), [3, 0, 0, 0]);
        assert_eq!(reduce_x(&[3, 0, 0, 0]), [3, 0, 0, 0]);
    }
}
