//! Batch verification ([`crate::Backend::verify_batch`] of the fast backend): one scalar
//! inversion for all the 1/s of up to [`BATCH`] signatures (Montgomery's trick); with at
//! least [`AFFINE_MIN`] of them, the additions run in affine coordinates across the whole
//! batch: each signature's look-ups split into [`CHAINS`] chains, every chain of every
//! signature advances one addition per step, and one field inversion per step serves them
//! all (about 5M + 1S per addition plus a share of the inversion).

use crate::fast::{check, FastKey};
use crate::field::{be_to_limbs, Fe};
use crate::point::{sum_in_chains, Scratch};
use crate::scalar::{digest_scalar, invert_scalar, one, parse_scalar, r_plus_n, scalar_limbs};
use crate::table::g_fast_table;
use crate::BatchItem;
use p256::Scalar;
use std::cell::RefCell;

/// Signatures whose 1/s share one scalar inversion.
const BATCH: usize = 64;

/// Batches (of at most 64) with at least this many valid signatures take the batch-affine
/// path (`batch_affine`); below, its per-step field inversions cost more than they save
/// (measured: break-even near 16). Public with the feature `test-hooks`, for tests that
/// want either path.
pub const AFFINE_MIN: usize = 20;
/// Independent chains per signature in [`batch_affine`]: more chains, fewer steps (and
/// field inversions) per batch. Measured: 2 chains 82k verifies/s, 4 90k, 8 92k.
const CHAINS: usize = 8;

/// `out[i]` is the verification of `items[i]`, in chunks of at most [`BATCH`].
///
/// # Panics
/// When `items` and `out` differ in length.
pub(crate) fn verify_batch(items: &[BatchItem<'_, FastKey>], out: &mut [bool]) {
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
        // A product of non-zero scalars mod the prime n: not zero.
        let mut acc = one();
        for (i, it) in items.iter().enumerate() {
            if let (Some(ri), Some(si)) = (parse_scalar(&it.r), parse_scalar(&it.s)) {
                r[i] = *ri;
                s[i] = *si;
                ok[i] = true;
                acc = acc * si;
            }
            prefix[i] = *acc;
        }
        let mut inv = *invert_scalar(&acc);
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
                out[i] = ok[i] && check(it.key, &u[i].0, &u[i].1, &it.r);
            }
        }
    }
}

/// The batch-affine path of [`verify_batch`]: each signature's non-zero table
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
        gt.for_each_lookup(&scalar_limbs(&u[i].0), |p| sc.pts.push(p));
        qt.for_each_lookup(&scalar_limbs(&u[i].1), |p| sc.pts.push(p));
        lens[i] = sc.pts.len() - start[i];
    }
    sum_in_chains(sc, &start, &lens, m, CHAINS);
    for i in 0..m {
        let p = sc.acc[i * CHAINS];
        out[i] = ok[i] && !p.inf && x_affine_matches(&p.x, &items[i].r);
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::limbs_to_be;
    use crate::scalar::{N, P_MINUS_N};

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
}
