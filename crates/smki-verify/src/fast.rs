//! The fast verification backend: fixed-base tables for G and for each issuer key Q, so
//! both scalar multiplications of u1*G + u2*Q are table look-ups and additions, with no
//! doublings (DESIGN.md "Performance facts").
//!
//! * Tables ([`FixedBaseTable`]): signed windows of w bits (digits in [-2^(w-1), 2^(w-1)]),
//!   for window i the affine points j * 2^(w i) P for j = 1..=2^(w-1); a negative digit
//!   negates y. Built with one field inversion per window (for the next window's base) and
//!   one batch normalisation of the whole table. G: w = 10 (shared), Q: w = 9 (per issuer).
//! * Field and point arithmetic: our own Montgomery field type (`jacobian::Fe`, faster
//!   addition and squaring than `p256`'s `FieldElement`), incomplete formulas with the
//!   special cases (identity, doubling, P + (-P)) branched on: variable time, which is fine
//!   for verification (public data only).
//! * [`Backend::verify`]: all look-ups of a signature are gathered first (their cache misses
//!   overlap), then summed in two independent Jacobian accumulators (mixed additions,
//!   7M + 4S; the CPU overlaps the two chains), joined by one Jacobian addition. No field
//!   inversion for the final comparison: x(R) = X / Z^2, so x(R) mod n == r iff X == r Z^2,
//!   or X == (r + n) Z^2 when r + n < p. 1/s by a variable-time binary inversion (about
//!   half the time of `p256`'s `invert_vartime`).
//! * [`Backend::verify_batch`]: one scalar inversion for all the 1/s of up to 64 signatures
//!   (Montgomery's trick); with at least [`AFFINE_MIN`] of them, the additions run in
//!   affine coordinates across the whole batch: each signature's look-ups split into
//!   [`CHAINS`] chains, every chain of every signature advances one addition per step, and
//!   one field inversion per step serves them all (about 5M + 1S per addition plus a share
//!   of the inversion). Measured here ~1.8x the throughput of [`Backend::verify`].

use crate::jacobian::{batch_to_affine, be_to_limbs, limbs_to_be, lt, Affine, Fe, Jacobian};
use crate::{Backend, BatchItem, PlainBackend, PublicKey};
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::{Field, PrimeField};
use p256::{AffinePoint, FieldBytes, Scalar, U256};
use std::cell::RefCell;
use std::sync::OnceLock;

/// Window of the shared table for G (signed digits): 26 windows of 512 points, 832 KB,
/// built once per process (~10 ms).
///
/// Measured here (benches/tune.rs, single `verify`, best 64-signature slices, 4 issuers):
/// G/Q windows 7/7 41k verifies/s, 8/8 44k, 10/8 47k, 10/9 50k, 10/10 51k, 11/9 50k. Larger windows pay
/// more than DESIGN.md's L2 rule suggests because all look-ups of a verification are
/// gathered before the additions start, so their cache misses overlap.
pub const G_WINDOW: u32 = 10;
/// Window of each issuer's table for Q (signed digits): 29 windows of 256 points, 464 KB
/// and 2.4 ms to build per issuer (benches/tune.rs; w = 10 gains ~3% more for 832 KB and
/// about twice the build).
pub const Q_WINDOW: u32 = 9;
/// Signatures whose 1/s share one scalar inversion in [`Backend::verify_batch`].
const BATCH: usize = 64;

/// The group order n, little-endian limbs.
pub(crate) const N: [u64; 4] = [
    0xf3b9_cac2_fc63_2551,
    0xbce6_faad_a717_9e84,
    0xffff_ffff_ffff_ffff,
    0xffff_ffff_0000_0000,
];
/// p - n, little-endian limbs: r + n < p iff r < p - n.
const P_MINUS_N: [u64; 4] = [0x0c46_353d_039c_daae, 0x4319_0553_58e8_617b, 0, 0];

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
        let mut points = Vec::with_capacity(windows * half);
        // One window at a time, normalised with the next window's base in one inversion: the
        // Jacobian points stay small and in cache (the whole table of them would be 1.5 times
        // the table, fresh memory the allocator gets from the OS on every build).
        let mut jac = Vec::with_capacity(half + 1);
        let mut base = *p;
        for i in 0..windows {
            jac.clear();
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
                jac.push(acc.double());
            }
            let affine = batch_to_affine(&jac);
            points.extend_from_slice(&affine[..half]);
            if let Some(next) = affine.get(half) {
                base = *next;
            }
        }
        FixedBaseTable {
            window: w,
            half,
            windows,
            points,
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

pub(crate) fn scalar_limbs(k: &Scalar) -> [u64; 4] {
    be_to_limbs(&k.to_bytes().into())
}

/// 1 / a mod n for a scalar a != 0: binary extended Euclid on 64-bit limbs, variable time
/// (public data only). Exposed for the tuning bench.
#[doc(hidden)]
pub fn invert_scalar(a: &Scalar) -> Scalar {
    debug_assert!(!bool::from(a.is_zero()));
    let a = scalar_limbs(a);
    let inv = inv_mod_n(&a);
    Option::from(Scalar::from_repr(FieldBytes::from(limbs_to_be(&inv)))).expect("below n")
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

/// 1 / a mod n for 0 < a < n (n prime, so gcd(a, n) = 1).
pub(crate) fn inv_mod_n(a: &[u64; 4]) -> [u64; 4] {
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
    if is_one(&u) {
        x1
    } else {
        x2
    }
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
    if let Some(rn) = r_plus_n(&r) {
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

/// Per-issuer state of [`FastBackend`]: the fixed-base table for Q, built on the first
/// verification under this key (by the thread that needs it first: issuers registered but
/// never used cost nothing, and the tables of several issuers get built in parallel). Shared
/// by reference across threads.
#[derive(Debug)]
pub struct FastKey {
    point: Affine,
    q: std::sync::OnceLock<FixedBaseTable>,
}

impl FastKey {
    /// Has the table been built yet?
    pub fn has_table(&self) -> bool {
        self.q.get().is_some()
    }

    /// The issuer's table (built now if it was not yet).
    pub fn table(&self) -> &FixedBaseTable {
        self.q
            .get_or_init(|| FixedBaseTable::build(&self.point, Q_WINDOW))
    }
}

/// The fast ECDSA P-256 verifier: fixed-base tables for G (shared, built on first use) and
/// for each issuer key (in [`FastKey`], 464 KB and 2.4 ms per issuer), incomplete
/// variable-time formulas, no final field inversion; [`Backend::verify_batch`] shares the
/// 1/s inversion and, for batches of [`AFFINE_MIN`] or more, the additions' field
/// inversions. Prefer `verify_batch` with batches of ~64 signatures.
///
/// Same results as [`crate::PlainBackend`]: high s accepted, r or s equal to 0 or >= n
/// rejected, the digest taken whole as bits2int and reduced mod n.
#[derive(Debug, Clone, Copy, Default)]
pub struct FastBackend;

impl FastBackend {
    #[inline]
    fn check(key: &FastKey, u1: &Scalar, u2: &Scalar, r: &[u8; 32]) -> bool {
        check_with(g_fast_table(), key.table(), u1, u2, r)
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
    let w = invert_scalar(&ss);
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
            point: q,
            q: std::sync::OnceLock::new(),
        }
    }

    fn verify(&self, key: &FastKey, digest: &[u8; 32], r: &[u8; 32], s: &[u8; 32]) -> bool {
        let (Some(rs), Some(ss)) = (parse_scalar(r), parse_scalar(s)) else {
            return false;
        };
        let w = invert_scalar(&ss);
        Self::check(key, &(digest_scalar(digest) * w), &(rs * w), r)
    }

    /// Through the reference backend: building this key's table (2.4 ms) for one
    /// signature would cost some 10 reference verifications.
    fn verify_once(&self, key: &PublicKey, digest: &[u8; 32], r: &[u8; 32], s: &[u8; 32]) -> bool {
        PlainBackend.verify_once(key, digest, r, s)
    }

    /// Builds the shared table for G.
    fn warm_up(&self) {
        g_fast_table();
    }

    /// Builds the key's table.
    fn warm_up_key(&self, key: &FastKey) {
        key.table();
    }

    fn verify_batch(&self, items: &[BatchItem<'_, FastKey>], out: &mut [bool]) {
        assert_eq!(items.len(), out.len(), "verify_batch: lengths differ");
        // Chunks of equal size, at most BATCH: 66 items go as 33 + 33 (both batch-affine),
        // not as 64 + 2 (the 2 would take the slower path).
        let chunks = items.len().div_ceil(BATCH).max(1);
        let size = items.len().div_ceil(chunks).max(1);
        for (items, out) in items.chunks(size).zip(out.chunks_mut(size)) {
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
            let mut inv = invert_scalar(&acc);
            let mut u = [(Scalar::ZERO, Scalar::ZERO); BATCH];
            for i in (0..items.len()).rev() {
                if !ok[i] {
                    continue;
                }
                // inv = (product of the valid s_0..s_i)^-1
                let w = if i == 0 { inv } else { inv * prefix[i - 1] };
                inv *= s[i];
                u[i] = (digest_scalar(&items[i].digest) * w, r[i] * w);
            }
            let valid = ok.iter().filter(|&&o| o).count();
            if valid >= AFFINE_MIN {
                batch_affine(items, &ok, &u, out);
            } else {
                for (i, it) in items.iter().enumerate() {
                    out[i] = ok[i] && Self::check(it.key, &u[i].0, &u[i].1, &it.r);
                }
            }
        }
    }
}

/// Batches (of at most 64) with at least this many valid signatures take
/// [`batch_affine`]; below, its per-step field inversions cost more than they save
/// (measured: break-even near 16).
#[doc(hidden)]
pub const AFFINE_MIN: usize = 20;
/// Independent chains per signature in [`batch_affine`]: more chains, fewer steps (and
/// field inversions) per batch. Measured: 2 chains 82k verifies/s, 4 90k, 8 92k.
const CHAINS: usize = 8;

/// An affine point or the identity, for the batch-affine additions.
#[derive(Clone, Copy)]
struct Pt {
    x: Fe,
    y: Fe,
    inf: bool,
}

const INF: Pt = Pt {
    x: Fe::ZERO,
    y: Fe::ZERO,
    inf: true,
};

impl From<Affine> for Pt {
    #[inline(always)]
    fn from(a: Affine) -> Pt {
        Pt {
            x: a.x,
            y: a.y,
            inf: false,
        }
    }
}

/// What [`batch_add`] does to one pair.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    /// Nothing left to do (an operand was the identity, or P + (-P)).
    Done,
    /// lambda = num / den, then the chord-and-tangent formulas.
    Slope,
}

/// acc[i] += add[i] for every i in affine coordinates, all the slope denominators inverted
/// with one field inversion (Montgomery's trick). Handles the identity on either side,
/// doubling (acc = add: tangent slope (3x^2 - 3) / 2y) and P + (-P) (identity). Variable
/// time. `den`, `num`, `ops` are scratch space.
fn batch_add(acc: &mut [Pt], add: &[Pt], den: &mut Vec<Fe>, num: &mut Vec<Fe>, ops: &mut Vec<Op>) {
    den.clear();
    num.clear();
    ops.clear();
    // den holds prefix products of the denominators.
    let mut prod = Fe::ONE;
    for (a, b) in acc.iter_mut().zip(add) {
        let (op, d, n) = if b.inf {
            (Op::Done, Fe::ONE, Fe::ZERO)
        } else if a.inf {
            *a = *b;
            (Op::Done, Fe::ONE, Fe::ZERO)
        } else {
            let dx = b.x - a.x;
            if !dx.is_zero() {
                (Op::Slope, dx, b.y - a.y)
            } else if b.y == a.y {
                // a = b (y != 0: P-256 has no point of order 2): tangent.
                let x2 = a.x.square() - Fe::ONE;
                (Op::Slope, a.y.double(), x2.double() + x2)
            } else {
                *a = INF;
                (Op::Done, Fe::ONE, Fe::ZERO)
            }
        };
        prod = prod * d;
        den.push(prod);
        num.push(n);
        ops.push(op);
    }
    if !ops.contains(&Op::Slope) {
        return;
    }
    // Non-zero: a product of non-zero field elements.
    let mut inv = prod.invert().expect("non-zero denominators");
    for i in (0..acc.len()).rev() {
        if ops[i] == Op::Done {
            // d_i = 1: inv, the inverse of d_0 ... d_i, is that of d_0 ... d_(i-1) too.
            continue;
        }
        // inv = (d_0 ... d_i)^-1, so 1 / d_i = inv * (d_0 ... d_(i-1)).
        let di_inv = if i == 0 { inv } else { inv * den[i - 1] };
        let (a, b) = (acc[i], add[i]);
        let tangent = b.x == a.x;
        let lambda = num[i] * di_inv;
        let x3 = lambda.square() - a.x - b.x;
        let y3 = lambda * (a.x - x3) - a.y;
        // (d_0 ... d_(i-1))^-1 = inv * d_i.
        inv = inv * if tangent { a.y.double() } else { b.x - a.x };
        acc[i] = Pt {
            x: x3,
            y: y3,
            inf: false,
        };
    }
}

/// The batch-affine path of [`Backend::verify_batch`]: each signature's non-zero table
/// look-ups (u1 on G, u2 on Q) are split into [`CHAINS`] chains; all chains of all
/// signatures advance one affine addition per step with one shared field inversion (about
/// 5M + 1S per addition instead of 7M + 4S for a mixed Jacobian addition), then the chains
/// of each signature are summed pairwise the same way and x(R) is compared with r.
fn batch_affine(
    items: &[BatchItem<'_, FastKey>],
    ok: &[bool; BATCH],
    u: &[(Scalar, Scalar); BATCH],
    out: &mut [bool],
) {
    thread_local! {
        static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
    }
    SCRATCH.with(|sc| batch_affine_in(&mut sc.borrow_mut(), items, ok, u, out));
}

/// Buffers of [`batch_affine`], kept per thread: a batch gathers ~225 KB of points, and a
/// fresh allocation of that size is a fresh mapping (page faults) on every call.
#[derive(Default)]
struct Scratch {
    pts: Vec<Affine>,
    acc: Vec<Pt>,
    add: Vec<Pt>,
    half_a: Vec<Pt>,
    half_b: Vec<Pt>,
    den: Vec<Fe>,
    num: Vec<Fe>,
    ops: Vec<Op>,
}

fn batch_affine_in(
    sc: &mut Scratch,
    items: &[BatchItem<'_, FastKey>],
    ok: &[bool; BATCH],
    u: &[(Scalar, Scalar); BATCH],
    out: &mut [bool],
) {
    let gt = g_fast_table();
    let m = items.len();
    // Gather: the points of signature i are pts[start[i] .. start[i] + lens[i]].
    sc.pts.clear();
    let mut start = [0usize; BATCH];
    let mut lens = [0usize; BATCH];
    for i in 0..m {
        start[i] = sc.pts.len();
        if !ok[i] {
            continue;
        }
        let qt = items[i].key.table();
        let d1 = recode(&scalar_limbs(&u[i].0), gt.window);
        let d2 = recode(&scalar_limbs(&u[i].1), qt.window);
        for (w, &d) in d1.iter().enumerate().take(gt.windows) {
            if d != 0 {
                sc.pts.push(gt.point(w, d));
            }
        }
        for (w, &d) in d2.iter().enumerate().take(qt.windows) {
            if d != 0 {
                sc.pts.push(qt.point(w, d));
            }
        }
        lens[i] = sc.pts.len() - start[i];
    }
    sum_in_chains(sc, &start, &lens, m, CHAINS);
    for i in 0..m {
        let p = sc.acc[i * CHAINS];
        out[i] = ok[i] && !p.inf && x_affine_matches(&p.x, &items[i].r);
    }
}

/// For each of `m` items, sums the points `sc.pts[start[i]..start[i] + lens[i]]` in affine
/// coordinates across the whole batch: `chains` independent chains per item (chain c takes
/// points c, c + chains, ...) advance one addition per step, all lanes sharing one field
/// inversion per step (`batch_add`); then the chains of each item are folded pairwise. Item
/// i's sum is left in `sc.acc[i * chains]`. `chains` is a power of two.
fn sum_in_chains(sc: &mut Scratch, start: &[usize], lens: &[usize], m: usize, chains: usize) {
    let lanes = m * chains;
    sc.acc.clear();
    sc.acc.resize(lanes, INF);
    sc.add.clear();
    sc.add.resize(lanes, INF);
    let steps = lens.iter().map(|&l| l.div_ceil(chains)).max().unwrap_or(0);
    for t in 0..steps {
        for i in 0..m {
            for c in 0..chains {
                let k = t * chains + c;
                sc.add[i * chains + c] = if k < lens[i] {
                    sc.pts[start[i] + k].into()
                } else {
                    INF
                };
            }
        }
        batch_add(&mut sc.acc, &sc.add, &mut sc.den, &mut sc.num, &mut sc.ops);
    }
    let mut half = chains / 2;
    while half >= 1 {
        sc.half_a.clear();
        sc.half_b.clear();
        for i in 0..m {
            for c in 0..half {
                sc.half_a.push(sc.acc[i * chains + c]);
                sc.half_b.push(sc.acc[i * chains + c + half]);
            }
        }
        batch_add(
            &mut sc.half_a,
            &sc.half_b,
            &mut sc.den,
            &mut sc.num,
            &mut sc.ops,
        );
        for i in 0..m {
            for c in 0..half {
                sc.acc[i * chains + c] = sc.half_a[i * half + c];
            }
        }
        half /= 2;
    }
}

/// r + n, when it is below p (then x(R) = r + n also reduces to r mod n).
fn r_plus_n(r: &[u64; 4]) -> Option<[u64; 4]> {
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

/// Does the affine x coordinate, reduced mod n, equal r (0 < r < n)?
fn x_affine_matches(x: &Fe, r: &[u8; 32]) -> bool {
    let x = x.to_canonical();
    let r = be_to_limbs(r);
    if x == r {
        return true;
    }
    if let Some(rn) = r_plus_n(&r) {
        return x == rn;
    }
    false
}

// ---------------------------------------------------------------------------------------
// Batched multiples of G for the simulator's signer (re-exported by `crate::fixed_base`).
// Variable time, like everything in this module: for test keys and public data only.

/// Independent chains per scalar in [`mul_g_batch`] (as [`CHAINS`] for verification).
/// With 26 look-ups per scalar and batches of ~256 scalars, 2 chains balance the field
/// inversions (one per step, ~36 additions' worth each) against the extra additions that
/// join the chains (C - 1 per scalar): 14 inversions and 27 additions per scalar.
const MUL_CHAINS: usize = 2;

/// k_i G for every k_i, affine (None for k_i = 0), through [`g_fast_table`]: each scalar's
/// non-zero signed-window look-ups are split into [`MUL_CHAINS`] chains, all chains of all
/// scalars advance one affine addition per step with one field inversion per step
/// (Montgomery's trick), then the chains of each scalar are summed pairwise the same way.
/// No further normalisation: the results are affine.
pub(crate) fn mul_g_batch(ks: &[Scalar]) -> Vec<Option<Affine>> {
    thread_local! {
        static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
    }
    SCRATCH.with(|sc| mul_g_batch_in(&mut sc.borrow_mut(), ks))
}

fn mul_g_batch_in(sc: &mut Scratch, ks: &[Scalar]) -> Vec<Option<Affine>> {
    let gt = g_fast_table();
    let m = ks.len();
    sc.pts.clear();
    let mut start = Vec::with_capacity(m);
    let mut lens = Vec::with_capacity(m);
    for k in ks {
        let s = sc.pts.len();
        let d = recode(&scalar_limbs(k), gt.window);
        for (w, &d) in d.iter().enumerate().take(gt.windows) {
            if d != 0 {
                sc.pts.push(gt.point(w, d));
            }
        }
        start.push(s);
        lens.push(sc.pts.len() - s);
    }
    sum_in_chains(sc, &start, &lens, m, MUL_CHAINS);
    (0..m)
        .map(|i| {
            let p = sc.acc[i * MUL_CHAINS];
            (!p.inf).then_some(Affine { x: p.x, y: p.y })
        })
        .collect()
}

/// k G for one scalar (None for k = 0): mixed Jacobian additions over [`g_fast_table`]
/// and one field inversion.
pub(crate) fn mul_g(k: &Scalar) -> Option<Affine> {
    g_fast_table()
        .add_mul(Jacobian::IDENTITY, &scalar_limbs(k))
        .to_affine()
}

/// Candidates per [`GWalk::next_batch`].
pub(crate) const WALK_BATCH: usize = 64;

/// j G for j = 1..=[`WALK_BATCH`], affine.
fn g_small_multiples() -> &'static [Affine] {
    static TABLE: OnceLock<Vec<Affine>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let g = Affine::from_p256(&AffinePoint::GENERATOR);
        let mut jac = Vec::with_capacity(WALK_BATCH);
        let mut acc = Jacobian::from_affine(&g);
        jac.push(acc);
        for _ in 1..WALK_BATCH {
            acc = acc.add_affine(&g);
            jac.push(acc);
        }
        batch_to_affine(&jac)
    })
}

/// The points k G, (k + 1) G, (k + 2) G, ... in batches of [`WALK_BATCH`]: each batch is
/// one round of independent affine additions B + j G (j = 1..=64, B the batch's first
/// point) with one shared field inversion.
#[derive(Clone, Copy)]
pub(crate) struct GWalkState {
    base: Pt,
}

impl GWalkState {
    pub(crate) fn new(k: &Scalar) -> GWalkState {
        GWalkState {
            base: match mul_g(k) {
                Some(a) => a.into(),
                None => INF,
            },
        }
    }

    /// The next [`WALK_BATCH`] points in order (None: the identity); the walk then stands
    /// [`WALK_BATCH`] further on.
    pub(crate) fn next_batch(&mut self, out: &mut Vec<Option<Affine>>) {
        thread_local! {
            static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
        }
        let small = g_small_multiples();
        SCRATCH.with(|sc| {
            let sc = &mut *sc.borrow_mut();
            // Lane 0: B + 64 G (the next base); lane j: B + j G.
            sc.acc.clear();
            sc.acc.resize(WALK_BATCH, self.base);
            sc.add.clear();
            sc.add.push(small[WALK_BATCH - 1].into());
            sc.add
                .extend(small[..WALK_BATCH - 1].iter().map(|&a| Pt::from(a)));
            batch_add(&mut sc.acc, &sc.add, &mut sc.den, &mut sc.num, &mut sc.ops);
            out.clear();
            let pt = |p: &Pt| (!p.inf).then_some(Affine { x: p.x, y: p.y });
            out.push(pt(&self.base));
            out.extend(sc.acc[1..].iter().map(pt));
            self.base = sc.acc[0];
        });
    }
}

/// 1 / k_i mod n for every k_i (0 for k_i = 0): Montgomery's trick, one [`invert_scalar`].
pub(crate) fn invert_scalars(ks: &[Scalar]) -> Vec<Scalar> {
    let mut prefix = Vec::with_capacity(ks.len());
    let mut acc = Scalar::ONE;
    for k in ks {
        if !bool::from(k.is_zero()) {
            acc *= k;
        }
        prefix.push(acc);
    }
    let mut out = vec![Scalar::ZERO; ks.len()];
    // Non-zero: a product of non-zero scalars mod the prime n.
    let mut inv = invert_scalar(&acc);
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
    fn affine_comparison() {
        let r_small = limbs_to_be(&[5, 0, 0, 0]);
        let mut rn = N;
        rn[0] += 5;
        let x = |l: [u64; 4]| Fe::from_canonical(l);
        assert!(x_affine_matches(&x([5, 0, 0, 0]), &r_small));
        assert!(x_affine_matches(&x(rn), &r_small), "x = r + n");
        assert!(!x_affine_matches(&x([6, 0, 0, 0]), &r_small));
        // r = p - n + 5, x = 5: r + n = p + 5 is no x coordinate.
        let mut r_big = P_MINUS_N;
        r_big[0] += 5;
        assert!(!x_affine_matches(&x([5, 0, 0, 0]), &limbs_to_be(&r_big)));
        assert!(x_affine_matches(&x(r_big), &limbs_to_be(&r_big)));
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
            assert_eq!(invert_scalar(&k) * k, Scalar::ONE, "{k:?}");
        }
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
