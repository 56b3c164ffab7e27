//! Arithmetic modulo n, the order of the P-256 group, in one place: scalars from their
//! encodings (r, s, the digest), the variable-time binary inversion ([`invert_scalar`]:
//! zero has no inverse and cannot be passed), x(R) against r (`r_plus_n`), and for the
//! signer (feature `sign`) the batch inversion and a 4-limb Montgomery arithmetic mod n.
//! Variable time: public data only (and the simulator's test keys).

use crate::field::{be_to_limbs, limbs_to_be, lt};
use p256::elliptic_curve::ops::Reduce;
use p256::{FieldBytes, NonZeroScalar, Scalar, U256};

/// The group order n, little-endian limbs.
pub(crate) const N: [u64; 4] = [
    0xf3b9_cac2_fc63_2551,
    0xbce6_faad_a717_9e84,
    0xffff_ffff_ffff_ffff,
    0xffff_ffff_0000_0000,
];
/// p - n, little-endian limbs: r + n < p iff r < p - n.
pub(crate) const P_MINUS_N: [u64; 4] = [0x0c46_353d_039c_daae, 0x4319_0553_58e8_617b, 0, 0];

/// A scalar's little-endian limbs.
#[inline]
pub(crate) fn scalar_limbs(k: &Scalar) -> [u64; 4] {
    be_to_limbs(&k.to_bytes().into())
}

/// r or s as a scalar: None unless 0 < v < n.
#[inline]
pub(crate) fn parse_scalar(v: &[u8; 32]) -> Option<NonZeroScalar> {
    Option::from(NonZeroScalar::from_repr(FieldBytes::from(*v)))
}

/// The digest as a scalar: bits2int (a 32-octet digest is taken whole) reduced mod n.
#[inline]
pub(crate) fn digest_scalar(digest: &[u8; 32]) -> Scalar {
    <Scalar as Reduce<U256>>::reduce_bytes(&FieldBytes::from(*digest))
}

/// 1 as a [`NonZeroScalar`] (the start of a product).
#[inline]
pub(crate) fn one() -> NonZeroScalar {
    NonZeroScalar::new(Scalar::ONE).unwrap()
}

/// 1 / a mod n: binary extended Euclid on 64-bit limbs, variable time (public data only).
/// Zero has no inverse: the type keeps it out.
pub fn invert_scalar(a: &NonZeroScalar) -> NonZeroScalar {
    let inv = inv_mod_n(&scalar_limbs(a)).expect("a non-zero scalar below n is invertible");
    Option::from(NonZeroScalar::from_repr(FieldBytes::from(limbs_to_be(
        &inv,
    ))))
    .expect("an inverse is below n and not zero")
}

/// Are all limbs zero?
#[inline]
pub(crate) fn is_zero(x: &[u64; 4]) -> bool {
    (x[0] | x[1] | x[2] | x[3]) == 0
}

fn is_one(x: &[u64; 4]) -> bool {
    x[0] == 1 && (x[1] | x[2] | x[3]) == 0
}

/// x >>= k for 0 < k < 64.
#[inline(always)]
fn shr(x: &mut [u64; 4], k: u32) {
    x[0] = (x[0] >> k) | (x[1] << (64 - k));
    x[1] = (x[1] >> k) | (x[2] << (64 - k));
    x[2] = (x[2] >> k) | (x[3] << (64 - k));
    x[3] >>= k;
}

/// x = x / 2 mod n (x < n).
#[inline(always)]
fn half_mod_n(x: &mut [u64; 4]) {
    if x[0] & 1 == 0 {
        shr(x, 1);
        return;
    }
    let mut c = 0u128;
    for i in 0..4 {
        let t = x[i] as u128 + N[i] as u128 + c;
        x[i] = t as u64;
        c = t >> 64;
    }
    shr(x, 1);
    x[3] |= (c as u64) << 63;
}

/// x -= y as integers; returns the borrow.
#[inline(always)]
fn sub_in_place(x: &mut [u64; 4], y: &[u64; 4]) -> bool {
    let mut borrow = false;
    for i in 0..4 {
        let (d, b1) = x[i].overflowing_sub(y[i]);
        let (d, b2) = d.overflowing_sub(borrow as u64);
        x[i] = d;
        borrow = b1 | b2;
    }
    borrow
}

/// x = x - y mod n (x, y < n).
#[inline(always)]
fn sub_mod_n(x: &mut [u64; 4], y: &[u64; 4]) {
    if sub_in_place(x, y) {
        let mut c = 0u128;
        for i in 0..4 {
            let t = x[i] as u128 + N[i] as u128 + c;
            x[i] = t as u64;
            c = t >> 64;
        }
    }
}

/// 1 / a mod n for any a below 2^256 that is not a multiple of n (n prime, so
/// gcd(a, n) = 1); None for a = 0 and a = n, which have no inverse (the loop below would
/// never end for them).
pub(crate) fn inv_mod_n(a: &[u64; 4]) -> Option<[u64; 4]> {
    if is_zero(a) || *a == N {
        return None;
    }
    let (mut u, mut v) = (*a, N);
    // Invariants: x1 a = u, x2 a = v (mod n).
    let (mut x1, mut x2) = ([1u64, 0, 0, 0], [0u64; 4]);
    while !is_one(&u) && !is_one(&v) {
        while u[0] & 1 == 0 {
            let k = u[0].trailing_zeros().min(63);
            if k == 0 {
                break;
            }
            shr(&mut u, k);
            for _ in 0..k {
                half_mod_n(&mut x1);
            }
        }
        while v[0] & 1 == 0 {
            let k = v[0].trailing_zeros().min(63);
            if k == 0 {
                break;
            }
            shr(&mut v, k);
            for _ in 0..k {
                half_mod_n(&mut x2);
            }
        }
        if lt(&u, &v) {
            sub_in_place(&mut v, &u);
            sub_mod_n(&mut x2, &x1);
        } else {
            sub_in_place(&mut u, &v);
            sub_mod_n(&mut x1, &x2);
        }
    }
    Some(if is_one(&u) { x1 } else { x2 })
}

/// r + n, when it is below p (then x(R) = r + n also reduces to r mod n).
#[inline]
pub(crate) fn r_plus_n(r: &[u64; 4]) -> Option<[u64; 4]> {
    if !lt(r, &P_MINUS_N) {
        return None;
    }
    let mut rn = [0u64; 4];
    let mut carry = 0u128;
    for i in 0..4 {
        let t = r[i] as u128 + N[i] as u128 + carry;
        rn[i] = t as u64;
        carry = t >> 64;
    }
    debug_assert_eq!(carry, 0);
    Some(rn)
}

/// 1 / k_i mod n for every k_i (0 for k_i = 0): Montgomery's trick, one [`invert_scalar`].
#[cfg(feature = "sign")]
pub fn invert_scalars(ks: &[Scalar]) -> Vec<Scalar> {
    use p256::elliptic_curve::Field;
    let mut prefix = Vec::with_capacity(ks.len());
    let mut acc = one();
    for k in ks {
        if let Some(k) = Option::<NonZeroScalar>::from(NonZeroScalar::new(*k)) {
            acc = acc * k;
        }
        prefix.push(*acc);
    }
    let mut out = vec![Scalar::ZERO; ks.len()];
    let mut inv = *invert_scalar(&acc);
    for i in (0..ks.len()).rev() {
        if bool::from(ks[i].is_zero()) {
            continue;
        }
        // inv = (product of the non-zero k_0..k_i)^-1
        out[i] = if i == 0 { inv } else { inv * prefix[i - 1] };
        inv *= ks[i];
    }
    out
}

/// The signer's arithmetic mod n in Montgomery form (R = 2^256): a generic 4-limb
/// Montgomery product is about twice as fast as `p256`'s Barrett-reduced `Scalar`
/// multiplication.
#[cfg(feature = "sign")]
pub(crate) mod mont {
    use super::N;
    use crate::field::{adc, lt, mac};

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
    pub(crate) const R3: [u64; 4] = [
        0xac8e_bec9_0b65_a624,
        0x111f_28ae_0c05_55c9,
        0x2543_b924_6ba5_e93f,
        0x503a_54e7_6407_be65,
    ];
    /// R mod n: 1 in Montgomery form.
    pub(crate) const ONE_M: [u64; 4] = [
        0x0c46_353d_039c_daaf,
        0x4319_0552_58e8_617b,
        0,
        0x0000_0000_ffff_ffff,
    ];

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

    /// x mod n for a field element's canonical value x < p (< 2n).
    #[inline]
    pub(crate) fn reduce_x(x: &[u64; 4]) -> [u64; 4] {
        if lt(x, &N) {
            *x
        } else {
            sub_n_if_ge(*x, 0)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::super::scalar_limbs;
        use super::*;
        use crate::field::limbs_to_be;
        use p256::elliptic_curve::PrimeField;
        use p256::{FieldBytes, Scalar};

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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::P;
    use p256::elliptic_curve::Field;

    #[test]
    fn constants() {
        // n + (p - n) = p, and n is the order p256 uses.
        let mut sum = [0u64; 4];
        let mut c = 0u128;
        for i in 0..4 {
            let t = N[i] as u128 + P_MINUS_N[i] as u128 + c;
            sum[i] = t as u64;
            c = t >> 64;
        }
        assert_eq!((sum, c), (P, 0));
        assert_eq!(scalar_limbs(&-Scalar::ONE), [N[0] - 1, N[1], N[2], N[3]]);
    }

    #[test]
    fn scalar_inversion() {
        let mut ks = vec![
            Scalar::ONE,
            -Scalar::ONE,
            Scalar::from(2u64),
            -Scalar::from(2u64),
        ];
        let mut x = Scalar::from(0x0123_4567_89ab_cdefu64);
        for _ in 0..300 {
            x = x.square() + Scalar::from(3u64);
            ks.push(x);
        }
        for i in 0..256 {
            // 2^i: long runs of zero bits.
            ks.push(Field::pow_vartime(&Scalar::from(2u64), [i as u64]));
        }
        for k in ks {
            let nz = NonZeroScalar::new(k).unwrap();
            assert_eq!(*invert_scalar(&nz) * k, Scalar::ONE, "{k:?}");
            assert_eq!(
                inv_mod_n(&scalar_limbs(&k)),
                Some(scalar_limbs(&invert_scalar(&nz)))
            );
        }
    }

    /// Zero and n have no inverse: the inversion says so and ends (it used to loop forever
    /// in release builds, where only a debug assertion guarded it); zero is no
    /// `NonZeroScalar` and no encoding of r or s.
    #[test]
    fn inverting_zero_ends() {
        assert_eq!(inv_mod_n(&[0; 4]), None);
        assert_eq!(inv_mod_n(&N), None);
        // Above n (n + 1 = 1 mod n): still invertible.
        let mut n1 = N;
        n1[0] += 1;
        assert_eq!(inv_mod_n(&n1), Some([1, 0, 0, 0]));
        assert!(bool::from(NonZeroScalar::new(Scalar::ZERO).is_none()));
        assert!(parse_scalar(&[0; 32]).is_none());
        assert!(parse_scalar(&limbs_to_be(&N)).is_none());
        assert_eq!(
            *parse_scalar(&limbs_to_be(&[1, 0, 0, 0])).unwrap(),
            Scalar::ONE
        );
    }

    #[cfg(feature = "sign")]
    #[test]
    fn batch_inversion_skips_zero() {
        let ks = [Scalar::from(3u64), Scalar::ZERO, -Scalar::ONE, Scalar::ZERO];
        let inv = invert_scalars(&ks);
        assert_eq!(inv[0] * ks[0], Scalar::ONE);
        assert_eq!(inv[2] * ks[2], Scalar::ONE);
        assert_eq!((inv[1], inv[3]), (Scalar::ZERO, Scalar::ZERO));
        assert_eq!(invert_scalars(&[Scalar::ZERO; 3]), vec![Scalar::ZERO; 3]);
    }
}
