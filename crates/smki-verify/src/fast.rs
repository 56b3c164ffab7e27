//! The fast verification backend: fixed-base tables for G and for each issuer key Q, so
//! both scalar multiplications of u1*G + u2*Q are table look-ups and mixed additions, with
//! no doublings (DESIGN.md "Performance facts").
//!
//! * Tables: signed windows of w bits (digits in [-2^(w-1), 2^(w-1)]), for window i the
//!   affine points j * 2^(w i) P for j = 1..=2^(w-1); a negative digit negates y. Built with
//!   one field inversion per window (for the next window's base) and one batch
//!   normalisation of the whole table.
//! * Point arithmetic: incomplete Jacobian + affine formulas ([`Jacobian::add_affine`]),
//!   the special cases (identity, doubling, P + (-P)) branched on: variable time, which is
//!   fine for verification (public data only).
//! * No field inversion for the final comparison: x(R) = X / Z^2, so x(R) mod n == r iff
//!   X == r Z^2, or X == (r + n) Z^2 when r + n < p.
//! * [`Backend::verify_batch`]: the 1/s scalar inversions of a batch share one inversion
//!   (Montgomery's trick).

use crate::jacobian::{batch_to_affine, be_to_limbs, lt, Affine, Fe, Jacobian};
use crate::{Backend, BatchItem, PublicKey};
use p256::elliptic_curve::ops::{Invert, Reduce};
use p256::elliptic_curve::{Field, PrimeField};
use p256::{AffinePoint, FieldBytes, Scalar, U256};
use std::sync::OnceLock;

/// Window of the shared table for G (signed digits).
pub const G_WINDOW: u32 = 10;
/// Window of each issuer's table for Q (signed digits).
pub const Q_WINDOW: u32 = 8;
/// Signatures whose 1/s share one scalar inversion in [`Backend::verify_batch`].
const BATCH: usize = 64;

/// The group order n, little-endian limbs.
const N: [u64; 4] = [
    0xf3b9_cac2_fc63_2551,
    0xbce6_faad_a717_9e84,
    0xffff_ffff_ffff_ffff,
    0xffff_ffff_0000_0000,
];
/// p - n, little-endian limbs: r + n < p iff r < p - n.
const P_MINUS_N: [u64; 4] = [0x0c46_353d_039c_daae, 0x4319_0553_58e8_617b, 0, 0];

/// A signed-window fixed-base table for one point (about 270 KB at w = 8).
pub struct FixedBaseTable {
    window: u32,
    /// 2^(w-1): points per window.
    half: usize,
    windows: usize,
    /// `points[i * half + (j - 1)] = j * 2^(w i) P`.
    points: Vec<Affine>,
}

impl core::fmt::Debug for FixedBaseTable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "FixedBaseTable(w = {}, {} points)",
            self.window,
            self.points.len()
        )
    }
}

/// Signed digits of a scalar below 2^256, at most 65 of them (w >= 4).
type Digits = [i16; 66];

/// Number of windows for a 256-bit scalar in signed w-bit digits: the top window may
/// receive a carry only when w divides 256.
const fn windows_for(w: u32) -> usize {
    256 / w as usize + 1
}

/// Signed base-2^w digits d_i in [-2^(w-1), 2^(w-1)] with k = sum d_i 2^(w i).
fn recode(k: &[u64; 4], w: u32) -> Digits {
    let mut out = [0i16; 66];
    let mask = (1u64 << w) - 1;
    let half = 1i64 << (w - 1);
    let mut carry = 0i64;
    for (i, d) in out.iter_mut().enumerate().take(windows_for(w)) {
        let bit = i * w as usize;
        let v = if bit >= 256 {
            0
        } else {
            let (limb, off) = (bit / 64, bit % 64);
            let mut v = k[limb] >> off;
            if off + w as usize > 64 && limb + 1 < 4 {
                v |= k[limb + 1] << (64 - off);
            }
            v & mask
        };
        let mut v = v as i64 + carry;
        if v > half {
            v -= 1 << w;
            carry = 1;
        } else {
            carry = 0;
        }
        *d = v as i16;
    }
    debug_assert_eq!(carry, 0);
    out
}

impl FixedBaseTable {
    /// Builds the table for `p` with window `w` (4..=12).
    pub(crate) fn build(p: &Affine, w: u32) -> FixedBaseTable {
        assert!((4..=12).contains(&w), "window {w} out of range");
        let half = 1usize << (w - 1);
        let windows = windows_for(w);
        let mut jac = Vec::with_capacity(windows * half);
        let mut base = *p;
        for i in 0..windows {
            let b = Jacobian::from_affine(&base);
            jac.push(b);
            let mut acc = b.double();
            jac.push(acc);
            for _ in 3..=half {
                acc = acc.add_affine(&base);
                jac.push(acc);
            }
            if i + 1 < windows {
                // 2^w * base = 2 * (2^(w-1) base); never the identity (n is prime, > 2^w).
                base = acc.double().to_affine().expect("not the identity");
            }
        }
        FixedBaseTable {
            window: w,
            half,
            windows,
            points: batch_to_affine(&jac),
        }
    }

    /// The table for a `p256` point (not the identity).
    pub fn new(p: &AffinePoint, w: u32) -> FixedBaseTable {
        FixedBaseTable::build(&Affine::from_p256(p), w)
    }

    /// The window width in bits.
    pub fn window(&self) -> u32 {
        self.window
    }

    /// Size of the points in octets.
    pub fn size_bytes(&self) -> usize {
        self.points.len() * core::mem::size_of::<Affine>()
    }

    /// acc + k P for a scalar k (little-endian limbs, below 2^256).
    #[inline]
    fn add_mul(&self, mut acc: Jacobian, k: &[u64; 4]) -> Jacobian {
        let digits = recode(k, self.window);
        for (i, &d) in digits.iter().take(self.windows).enumerate() {
            if d > 0 {
                acc = acc.add_affine(&self.points[i * self.half + (d as usize - 1)]);
            } else if d < 0 {
                let p = &self.points[i * self.half + ((-d) as usize - 1)];
                acc = acc.add_affine(&p.neg());
            }
        }
        acc
    }

    /// The table point for signed digit `d` (non-zero) of window `i`.
    #[inline(always)]
    fn point(&self, i: usize, d: i16) -> Affine {
        if d > 0 {
            self.points[i * self.half + (d as usize - 1)]
        } else {
            self.points[i * self.half + ((-d) as usize - 1)].neg()
        }
    }

    /// k P as a `p256` point (for tests).
    pub fn mul(&self, k: &Scalar) -> p256::ProjectivePoint {
        let acc = self.add_mul(Jacobian::IDENTITY, &scalar_limbs(k));
        match acc.to_affine() {
            None => p256::ProjectivePoint::IDENTITY,
            Some(a) => a.to_p256().expect("on the curve").into(),
        }
    }
}

/// The process-wide signed-window table for G used by [`FastBackend`].
pub fn g_fast_table() -> &'static FixedBaseTable {
    static TABLE: OnceLock<FixedBaseTable> = OnceLock::new();
    TABLE.get_or_init(|| FixedBaseTable::new(&AffinePoint::GENERATOR, G_WINDOW))
}

fn scalar_limbs(k: &Scalar) -> [u64; 4] {
    be_to_limbs(&k.to_bytes().into())
}

/// r or s as a scalar: None unless 0 < v < n.
fn parse_scalar(v: &[u8; 32]) -> Option<Scalar> {
    let s = Option::<Scalar>::from(Scalar::from_repr(FieldBytes::from(*v)))?;
    (!bool::from(s.is_zero())).then_some(s)
}

/// Does the x coordinate of `p` (Jacobian), reduced mod n, equal `r` (0 < r < n, 32-octet
/// big-endian)? Without inverting Z: X == r Z^2, or X == (r + n) Z^2 when r + n < p.
/// False for the identity.
fn x_matches(p: &Jacobian, r: &[u8; 32]) -> bool {
    if p.is_identity() {
        return false;
    }
    let r = be_to_limbs(r);
    let z2 = p.z.square();
    if Fe::from_canonical(r) * z2 == p.x {
        return true;
    }
    if lt(&r, &P_MINUS_N) {
        let mut rn = [0u64; 4];
        let mut carry = 0u128;
        for i in 0..4 {
            let t = r[i] as u128 + N[i] as u128 + carry;
            rn[i] = t as u64;
            carry = t >> 64;
        }
        debug_assert_eq!(carry, 0);
        return Fe::from_canonical(rn) * z2 == p.x;
    }
    false
}

/// Test hook: [`x_matches`] for an affine x coordinate (big-endian, below p) seen through
/// a random-looking Z. Not part of the stable API.
#[doc(hidden)]
pub fn x_matches_affine_for_tests(x: &[u8; 32], r: &[u8; 32], z: u64) -> bool {
    let z = Fe::from_canonical([z.max(1), 0x1234, 0, 7]);
    let Some(xf) = Fe::from_be_bytes(x) else {
        return false;
    };
    let p = Jacobian {
        x: xf * z.square(),
        y: Fe::ONE,
        z,
    };
    x_matches(&p, r)
}

/// Per-issuer state of [`FastBackend`]: the fixed-base table for Q. Shared by reference
/// across threads.
#[derive(Debug)]
pub struct FastKey {
    q: FixedBaseTable,
}

impl FastKey {
    /// The issuer's table.
    pub fn table(&self) -> &FixedBaseTable {
        &self.q
    }
}

/// The fast ECDSA P-256 verifier: fixed-base tables for G (shared, built on first use) and
/// for each issuer key (in [`FastKey`], ~270 KB and a few ms per issuer), incomplete
/// variable-time formulas, no final field inversion, batched 1/s inversions.
///
/// Same results as [`crate::PlainBackend`]: high s accepted, r or s equal to 0 or >= n
/// rejected, the digest taken whole as bits2int and reduced mod n.
#[derive(Debug, Clone, Copy, Default)]
pub struct FastBackend;

impl FastBackend {
    /// Builds the shared G table now rather than on the first verification.
    pub fn warm_up(&self) {
        g_fast_table();
    }

    #[inline]
    fn check(key: &FastKey, u1: &Scalar, u2: &Scalar, r: &[u8; 32]) -> bool {
        check_with(g_fast_table(), &key.q, u1, u2, r)
    }
}

/// Tuning hook: [`FastBackend::verify`] with explicit tables for G and Q (any windows).
#[doc(hidden)]
pub fn verify_with_tables(
    gt: &FixedBaseTable,
    qt: &FixedBaseTable,
    digest: &[u8; 32],
    r: &[u8; 32],
    s: &[u8; 32],
) -> bool {
    let (Some(rs), Some(ss)) = (parse_scalar(r), parse_scalar(s)) else {
        return false;
    };
    let Some(w) = Option::<Scalar>::from(ss.invert_vartime()) else {
        return false;
    };
    check_with(gt, qt, &(digest_scalar(digest) * w), &(rs * w), r)
}

/// Independent accumulators in [`check_with`].
const LANES: usize = 2;

/// R = u1 G + u2 Q, compared with r. The non-zero table look-ups of both scalars are
/// gathered first, then summed round robin into [`LANES`] independent accumulators (the
/// CPU overlaps their latency-bound mixed additions), joined by Jacobian additions.
#[inline]
fn check_with(
    gt: &FixedBaseTable,
    qt: &FixedBaseTable,
    u1: &Scalar,
    u2: &Scalar,
    r: &[u8; 32],
) -> bool {
    let d1 = recode(&scalar_limbs(u1), gt.window);
    let d2 = recode(&scalar_limbs(u2), qt.window);
    let zero = Affine {
        x: Fe::ZERO,
        y: Fe::ZERO,
    };
    let mut pts = [zero; 132];
    let mut n = 0;
    for (i, &d) in d1.iter().enumerate().take(gt.windows) {
        if d != 0 {
            pts[n] = gt.point(i, d);
            n += 1;
        }
    }
    for (i, &d) in d2.iter().enumerate().take(qt.windows) {
        if d != 0 {
            pts[n] = qt.point(i, d);
            n += 1;
        }
    }
    let mut acc = [Jacobian::IDENTITY; LANES];
    let mut chunks = pts[..n].chunks_exact(LANES);
    for c in &mut chunks {
        for (a, p) in acc.iter_mut().zip(c) {
            *a = a.add_affine(p);
        }
    }
    for (a, p) in acc.iter_mut().zip(chunks.remainder()) {
        *a = a.add_affine(p);
    }
    let mut sum = acc[0];
    for a in &acc[1..] {
        sum = sum.add(a);
    }
    x_matches(&sum, r)
}

/// The digest as a scalar: bits2int (a 32-octet digest is taken whole) reduced mod n.
fn digest_scalar(digest: &[u8; 32]) -> Scalar {
    <Scalar as Reduce<U256>>::reduce_bytes(&FieldBytes::from(*digest))
}

impl Backend for FastBackend {
    type Key = FastKey;

    fn name(&self) -> &'static str {
        "fast"
    }

    fn prepare(&self, key: &PublicKey) -> FastKey {
        let b = key.as_bytes();
        let q = Affine::from_coordinates(&b[1..33], &b[33..65])
            .expect("PublicKey holds a valid P-256 point");
        FastKey {
            q: FixedBaseTable::build(&q, Q_WINDOW),
        }
    }

    fn verify(&self, key: &FastKey, digest: &[u8; 32], r: &[u8; 32], s: &[u8; 32]) -> bool {
        let (Some(rs), Some(ss)) = (parse_scalar(r), parse_scalar(s)) else {
            return false;
        };
        let Some(w) = Option::<Scalar>::from(ss.invert_vartime()) else {
            return false;
        };
        Self::check(key, &(digest_scalar(digest) * w), &(rs * w), r)
    }

    fn verify_batch(&self, items: &[BatchItem<'_, FastKey>], out: &mut [bool]) {
        assert_eq!(items.len(), out.len(), "verify_batch: lengths differ");
        for (items, out) in items.chunks(BATCH).zip(out.chunks_mut(BATCH)) {
            let mut r = [Scalar::ZERO; BATCH];
            let mut s = [Scalar::ONE; BATCH];
            let mut ok = [false; BATCH];
            // prefix[i] = product of the valid s_0..s_i.
            let mut prefix = [Scalar::ONE; BATCH];
            let mut acc = Scalar::ONE;
            for (i, it) in items.iter().enumerate() {
                if let (Some(ri), Some(si)) = (parse_scalar(&it.r), parse_scalar(&it.s)) {
                    r[i] = ri;
                    s[i] = si;
                    ok[i] = true;
                    acc *= si;
                }
                prefix[i] = acc;
            }
            // Non-zero: a product of non-zero scalars mod the prime n.
            let mut inv = Option::<Scalar>::from(acc.invert_vartime()).expect("non-zero");
            for i in (0..items.len()).rev() {
                if !ok[i] {
                    out[i] = false;
                    continue;
                }
                // inv = (product of the valid s_0..s_i)^-1
                let w = if i == 0 { inv } else { inv * prefix[i - 1] };
                inv *= s[i];
                let it = &items[i];
                let u1 = digest_scalar(&it.digest) * w;
                let u2 = r[i] * w;
                out[i] = Self::check(it.key, &u1, &u2, &it.r);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jacobian::P;
    use p256::ProjectivePoint;

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

    fn recombine(d: &Digits, w: u32) -> Scalar {
        let mut acc = Scalar::ZERO;
        for &di in d.iter().rev() {
            for _ in 0..w {
                acc = acc.double();
            }
            let v = Scalar::from(di.unsigned_abs() as u64);
            acc += if di < 0 { -v } else { v };
        }
        acc
    }

    #[test]
    fn recode_roundtrip() {
        let mut ks = vec![Scalar::ZERO, Scalar::ONE, -Scalar::ONE, -Scalar::from(2u64)];
        let mut x = Scalar::from(0x1234_5678_9abc_def0u64);
        for _ in 0..50 {
            x = x.square() + Scalar::from(7u64);
            ks.push(x);
        }
        for w in 4..=12 {
            for k in &ks {
                let d = recode(&scalar_limbs(k), w);
                let half = 1i16 << (w - 1);
                assert!(d.iter().all(|&v| (-half..=half).contains(&v)));
                assert!(d[windows_for(w)..].iter().all(|&v| v == 0));
                assert_eq!(recombine(&d, w), *k, "w = {w}");
            }
        }
        // All ones (above n: recoding works on any 256-bit value).
        let d = recode(&[u64::MAX; 4], 8);
        // 2^256 - 1 = 2^256 + (-1): digits -1, 0, ..., 0, 1.
        assert_eq!((d[0], d[32]), (-1, 1));
        assert!(d[1..32].iter().all(|&v| v == 0));
    }

    #[test]
    fn table_mul_matches_p256() {
        for w in [4u32, 5, 7, 8] {
            let q = (ProjectivePoint::GENERATOR * Scalar::from(12345u64)).to_affine();
            let t = FixedBaseTable::new(&q, w);
            let mut k = Scalar::from(99u64);
            for _ in 0..20 {
                k = k.square() + Scalar::ONE;
                assert_eq!(t.mul(&k), ProjectivePoint::from(q) * k, "w = {w}");
            }
            assert_eq!(t.mul(&Scalar::ZERO), ProjectivePoint::IDENTITY);
            assert_eq!(t.mul(&-Scalar::ONE), -ProjectivePoint::from(q));
        }
    }
}
