//! Fixed-base tables ([`FixedBaseTable`]): signed windows of w bits (digits in
//! [-2^(w-1), 2^(w-1)]), for window i the affine points j * 2^(w i) P for j = 1..=2^(w-1); a
//! negative digit negates y. Built by [`window_multiples`] (one field inversion per window,
//! for its multiples and the next window's base), which the signer's unsigned table for G
//! shares. G: w = 10 (shared by the process, [`g_fast_table`]), Q: w = 9 (per issuer).

use crate::point::{batch_to_affine, Affine, Jacobian};
use p256::AffinePoint;
use std::sync::OnceLock;

/// Window of the shared table for G (signed digits): 26 windows of 512 points, 832 KB,
/// built once per process (~10 ms).
///
/// Measured here (benches/tune.rs, single `verify`, best 64-signature slices, 4 issuers):
/// G/Q windows 7/7 41k verifies/s, 8/8 44k, 10/8 47k, 10/9 50k, 10/10 51k, 11/9 50k. Larger
/// windows pay more than the L2 rule of docs/verification.md suggests because all look-ups
/// of a verification are gathered before the additions start, so their cache misses overlap.
pub const G_WINDOW: u32 = 10;
/// Window of each issuer's table for Q (signed digits): 29 windows of 256 points, 464 KB
/// and 2.4 ms to build per issuer (benches/tune.rs; w = 10 gains ~3% more for 832 KB and
/// about twice the build).
pub const Q_WINDOW: u32 = 9;

/// A signed-window fixed-base table for one point: (256 / w + 1) 2^(w-1) affine points of
/// 64 octets (264 KB at w = 8, 464 KB at w = 9, 832 KB at w = 10).
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

/// Number of windows for a 256-bit scalar in signed w-bit digits: ceil(256 / w), plus one
/// for the final carry when w divides 256; both are 256 / w + 1.
const fn windows_for(w: u32) -> usize {
    256 / w as usize + 1
}

/// Signed base-2^w digits d_i in [-2^(w-1), 2^(w-1)] with k = sum d_i 2^(w i).
#[inline]
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

/// The multiples j B_i for j = 1..=`per_window` of the window bases B_i = 2^(`shift` i) P,
/// i < `windows`, window after window: `out[i * per_window + (j - 1)] = j 2^(shift i) P`.
/// `per_window` is 2^(shift - 1) (signed digits) or 2^shift - 1 (unsigned digits).
///
/// One window at a time, normalised with the next window's base in one inversion: the
/// Jacobian points stay small and in cache (the whole table of them would be 1.5 times
/// the table, fresh memory the allocator gets from the OS on every build).
pub(crate) fn window_multiples(
    p: &Affine,
    shift: u32,
    per_window: usize,
    windows: usize,
) -> Vec<Affine> {
    // The next base 2^shift B = per_window B + rest B.
    let rest = (1usize << shift) - per_window;
    assert!(
        per_window >= 2 && (1..=per_window).contains(&rest),
        "window_multiples: {per_window} multiples for a shift of {shift}"
    );
    let mut points = Vec::with_capacity(windows * per_window);
    let mut jac = Vec::with_capacity(per_window + 1);
    let mut base = *p;
    for i in 0..windows {
        jac.clear();
        let b = Jacobian::from_affine(&base);
        jac.push(b);
        let mut acc = b.double();
        jac.push(acc);
        for _ in 3..=per_window {
            acc = acc.add_affine(&base);
            jac.push(acc);
        }
        if i + 1 < windows {
            // Never the identity (n is prime, > 2^shift). Signed digits (rest = per_window):
            // a doubling; unsigned ones: one more addition.
            jac.push(if rest == per_window {
                acc.double()
            } else {
                acc.add(&jac[rest - 1])
            });
        }
        let affine = batch_to_affine(&jac);
        points.extend_from_slice(&affine[..per_window]);
        if let Some(next) = affine.get(per_window) {
            base = *next;
        }
    }
    points
}

impl FixedBaseTable {
    /// Builds the table for `p` with window `w` (4..=12).
    pub(crate) fn build(p: &Affine, w: u32) -> FixedBaseTable {
        assert!((4..=12).contains(&w), "window {w} out of range");
        let half = 1usize << (w - 1);
        let windows = windows_for(w);
        FixedBaseTable {
            window: w,
            half,
            windows,
            points: window_multiples(p, w, half, windows),
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

    /// The table point for signed digit `d` (non-zero) of window `i`.
    #[inline(always)]
    fn point(&self, i: usize, d: i16) -> Affine {
        if d > 0 {
            self.points[i * self.half + (d as usize - 1)]
        } else {
            self.points[i * self.half + ((-d) as usize - 1)].neg()
        }
    }

    /// The look-ups of k P for a scalar k (little-endian limbs, below 2^256): `f` gets the
    /// table point of each non-zero signed digit of k, window by window (k P is their sum).
    #[inline(always)]
    pub(crate) fn for_each_lookup(&self, k: &[u64; 4], mut f: impl FnMut(Affine)) {
        let digits = recode(k, self.window);
        for (i, &d) in digits.iter().enumerate().take(self.windows) {
            if d != 0 {
                f(self.point(i, d));
            }
        }
    }

    /// acc + k P for a scalar k (little-endian limbs, below 2^256): mixed Jacobian additions.
    #[cfg(any(test, feature = "sign"))]
    #[inline]
    pub(crate) fn add_mul(&self, mut acc: Jacobian, k: &[u64; 4]) -> Jacobian {
        self.for_each_lookup(k, |p| acc = acc.add_affine(&p));
        acc
    }
}

/// The process-wide signed-window table for G used by [`crate::FastBackend`].
pub fn g_fast_table() -> &'static FixedBaseTable {
    static TABLE: OnceLock<FixedBaseTable> = OnceLock::new();
    TABLE.get_or_init(|| FixedBaseTable::new(&AffinePoint::GENERATOR, G_WINDOW))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::scalar_limbs;
    use p256::{ProjectivePoint, Scalar};

    /// k P by the table, as a `p256` point.
    fn mul(t: &FixedBaseTable, k: &Scalar) -> ProjectivePoint {
        match t.add_mul(Jacobian::IDENTITY, &scalar_limbs(k)).to_affine() {
            None => ProjectivePoint::IDENTITY,
            Some(a) => a.to_p256().expect("on the curve").into(),
        }
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
                assert_eq!(mul(&t, &k), ProjectivePoint::from(q) * k, "w = {w}");
            }
            assert_eq!(mul(&t, &Scalar::ZERO), ProjectivePoint::IDENTITY);
            assert_eq!(mul(&t, &-Scalar::ONE), -ProjectivePoint::from(q));
        }
    }
}
