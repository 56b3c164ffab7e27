//! Multiples of the generator G for the simulator's signer (feature `sign`): k G one at a
//! time ([`mul_g_affine`]) or for a batch ([`mul_g_batch`]: the additions of all scalars in
//! affine coordinates across the batch, one field inversion per step, no final
//! normalisation), the walk k G, (k + 1) G, ... ([`GWalk`]: one affine addition per point,
//! one field inversion per 64 points), all on the signed-window table
//! [`crate::g_fast_table`]; and the window-8 [`GTable`] of the reference signer
//! [`crate::sign_prehash_with_table`].
//!
//! **Not constant time.** [`GTable::mul`] skips zero windows and indexes the table by the
//! scalar's bytes, so its timing and memory access pattern depend on the scalar; the other
//! primitives branch on the scalar's digits and on special cases of the point formulas.
//! That is fine for the simulator (test keys that protect nothing); they must NOT be used
//! with secret scalars (private keys, nonces) in production.

use crate::point::{batch_add, batch_to_affine, sum_in_chains, Affine, Jacobian, Pt, Scratch, INF};
use crate::scalar::scalar_limbs;
use crate::table::{g_fast_table, window_multiples};
use p256::{AffinePoint, ProjectivePoint, Scalar};
use std::cell::RefCell;
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
    /// Builds the table with the window loop of the verifier's tables
    /// (`table::window_multiples`: variable-time additions over our own field arithmetic,
    /// one field inversion per window). Every point is checked to be on the curve when
    /// converted to `p256::AffinePoint`.
    pub fn new() -> GTable {
        let g = Affine::from_p256(&AffinePoint::GENERATOR);
        let points = window_multiples(&g, 8, PER_WINDOW, WINDOWS)
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

/// Affine coordinates of a point as 32-octet big-endian integers: (x, y).
pub type Coordinates = ([u8; 32], [u8; 32]);

fn coordinates(a: &Affine) -> Coordinates {
    (a.x.to_be_bytes(), a.y.to_be_bytes())
}

/// k G for one scalar (None for k = 0): mixed Jacobian additions over [`g_fast_table`]
/// and one field inversion.
fn mul_g(k: &Scalar) -> Option<Affine> {
    g_fast_table()
        .add_mul(Jacobian::IDENTITY, &scalar_limbs(k))
        .to_affine()
}

/// k G in affine coordinates (None for k = 0), through the signed-window table
/// [`crate::g_fast_table`] (mixed Jacobian additions, one field inversion). Variable time:
/// see the module documentation.
pub fn mul_g_affine(k: &Scalar) -> Option<Coordinates> {
    mul_g(k).map(|a| coordinates(&a))
}

/// Independent chains per scalar in [`mul_g_batch`] (as for batch verification).
/// With 26 look-ups per scalar and batches of ~256 scalars, 2 chains balance the field
/// inversions (one per step, ~36 additions' worth each) against the extra additions that
/// join the chains (C - 1 per scalar): 14 inversions and 27 additions per scalar.
const MUL_CHAINS: usize = 2;

/// k_i G for every k_i, affine (None for k_i = 0), through [`g_fast_table`]: each scalar's
/// non-zero signed-window look-ups are split into [`MUL_CHAINS`] chains, all chains of all
/// scalars advance one affine addition per step with one field inversion per step
/// (Montgomery's trick), then the chains of each scalar are summed pairwise the same way.
/// No further normalisation: the results are affine.
pub(crate) fn mul_g_points(ks: &[Scalar]) -> Vec<Option<Affine>> {
    thread_local! {
        static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
    }
    SCRATCH.with(|sc| mul_g_points_in(&mut sc.borrow_mut(), ks))
}

fn mul_g_points_in(sc: &mut Scratch, ks: &[Scalar]) -> Vec<Option<Affine>> {
    let gt = g_fast_table();
    let m = ks.len();
    sc.pts.clear();
    let mut start = Vec::with_capacity(m);
    let mut lens = Vec::with_capacity(m);
    for k in ks {
        let s = sc.pts.len();
        gt.for_each_lookup(&scalar_limbs(k), |p| sc.pts.push(p));
        start.push(s);
        lens.push(sc.pts.len() - s);
    }
    sum_in_chains(sc, &start, &lens, m, MUL_CHAINS);
    (0..m).map(|i| sc.acc[i * MUL_CHAINS].affine()).collect()
}

/// k_i G for each k_i in affine coordinates (None for k_i = 0), the same as
/// [`mul_g_affine`] one by one: the additions of all scalars run in affine coordinates
/// across the batch with one field inversion per step (about 7 steps for any batch size),
/// so no per-point normalisation is needed. Best with batches of 32 or more. Variable time:
/// see the module documentation.
pub fn mul_g_batch(ks: &[Scalar]) -> Vec<Option<Coordinates>> {
    mul_g_points(ks)
        .iter()
        .map(|p| p.as_ref().map(coordinates))
        .collect()
}

/// The affine x coordinates of [`mul_g_batch`] (None for k_i = 0).
pub fn mul_g_batch_x(ks: &[Scalar]) -> Vec<Option<[u8; 32]>> {
    mul_g_points(ks)
        .iter()
        .map(|p| p.as_ref().map(|a| a.x.to_be_bytes()))
        .collect()
}

/// Points per [`GWalk`] batch.
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

/// The points k G, (k + 1) G, (k + 2) G, ... in batches of [`GWalk::BATCH`]: one affine
/// addition per point (B + j G for the batch's first point B and a small table of j G) and
/// one field inversion per batch. For the simulator's nonce walk; variable time.
#[derive(Clone, Copy)]
pub struct GWalk {
    /// The next batch's first point.
    base: Pt,
}

impl core::fmt::Debug for GWalk {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("GWalk")
    }
}

impl GWalk {
    /// Points per batch.
    pub const BATCH: usize = WALK_BATCH;

    /// A walk starting at k G.
    pub fn new(k: &Scalar) -> GWalk {
        GWalk {
            base: match mul_g(k) {
                Some(a) => a.into(),
                None => INF,
            },
        }
    }

    /// The affine x coordinates of the next [`GWalk::BATCH`] points, in order (None for
    /// the identity); `out` is cleared first. The walk then stands [`GWalk::BATCH`] further.
    pub fn next_batch_x(&mut self, out: &mut Vec<Option<[u8; 32]>>) {
        let mut pts = Vec::with_capacity(Self::BATCH);
        self.next_points(&mut pts);
        out.clear();
        out.extend(pts.iter().map(|p| p.as_ref().map(|a| a.x.to_be_bytes())));
    }

    /// The next [`GWalk::BATCH`] points in order (None: the identity); `out` is cleared
    /// first. Each batch is one round of independent affine additions B + j G
    /// (j = 1..=64, B the batch's first point) with one shared field inversion.
    pub(crate) fn next_points(&mut self, out: &mut Vec<Option<Affine>>) {
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
            out.push(self.base.affine());
            out.extend(sc.acc[1..].iter().map(Pt::affine));
            self.base = sc.acc[0];
        });
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    use p256::elliptic_curve::Field;

    fn expected(k: &Scalar) -> Option<Coordinates> {
        let p = (ProjectivePoint::GENERATOR * k).to_affine();
        let enc = p.to_encoded_point(false);
        let x: [u8; 32] = (*enc.x()?).into();
        let y: [u8; 32] = (*enc.y()?).into();
        Some((x, y))
    }

    /// Edge scalars (0, 1, 2, small, n - small, powers of two, runs of ones) and
    /// pseudo-random ones.
    pub(crate) fn scalars() -> Vec<Scalar> {
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
