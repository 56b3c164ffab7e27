//! The fast verification backend: fixed-base tables for G and for each issuer key Q
//! (`table`), so both scalar multiplications of u1*G + u2*Q are table look-ups and
//! additions, with no doublings (docs/verification.md).
//!
//! * Field and point arithmetic (`field`, `point`): our own Montgomery field type, faster
//!   addition and squaring than `p256`'s `FieldElement`, incomplete formulas with the
//!   special cases (identity, doubling, P + (-P)) branched on: variable time, which is fine
//!   for verification (public data only).
//! * [`Backend::verify`]: all look-ups of a signature are gathered first (their cache misses
//!   overlap), then summed in two independent Jacobian accumulators (mixed additions,
//!   7M + 4S; the CPU overlaps the two chains), joined by one Jacobian addition. No field
//!   inversion for the final comparison: x(R) = X / Z^2, so x(R) mod n == r iff X == r Z^2,
//!   or X == (r + n) Z^2 when r + n < p. 1/s by a variable-time binary inversion (about
//!   half the time of `p256`'s `invert_vartime`; `scalar`).
//! * [`Backend::verify_batch`]: one scalar inversion for all the 1/s of up to 64 signatures
//!   and the additions in affine coordinates across the batch (`batch`). Measured here
//!   ~1.8x the throughput of [`Backend::verify`].

use crate::field::{be_to_limbs, Fe};
use crate::point::{Affine, Jacobian};
use crate::scalar::{digest_scalar, invert_scalar, parse_scalar, r_plus_n, scalar_limbs};
use crate::table::{g_fast_table, FixedBaseTable, Q_WINDOW};
use crate::{Backend, BatchItem, PlainBackend, PublicKey};
use p256::Scalar;

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
/// 1/s inversion and, for batches of 20 or more, the additions' field inversions. Prefer
/// `verify_batch` with batches of ~64 signatures.
///
/// Same results as [`crate::PlainBackend`]: high s accepted, r or s equal to 0 or >= n
/// rejected, the digest taken whole as bits2int and reduced mod n.
#[derive(Debug, Clone, Copy, Default)]
pub struct FastBackend;

/// u1 G + u2 Q under `key` compared with r (`check_with` on the key's tables).
#[inline]
pub(crate) fn check(key: &FastKey, u1: &Scalar, u2: &Scalar, r: &[u8; 32]) -> bool {
    check_with(g_fast_table(), key.table(), u1, u2, r)
}

/// Tuning hook (feature `test-hooks`): [`FastBackend`]'s `verify` with explicit tables for
/// G and Q (any windows).
#[cfg(feature = "test-hooks")]
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
    let w = *invert_scalar(&ss);
    check_with(gt, qt, &(digest_scalar(digest) * w), &(*rs * w), r)
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
    let zero = Affine {
        x: Fe::ZERO,
        y: Fe::ZERO,
    };
    let mut pts = [zero; 132];
    let mut n = 0;
    let mut gather = |p| {
        pts[n] = p;
        n += 1;
    };
    gt.for_each_lookup(&scalar_limbs(u1), &mut gather);
    qt.for_each_lookup(&scalar_limbs(u2), &mut gather);
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

/// Test hook (feature `test-hooks`): the comparison of x(R) with r for an affine x
/// coordinate (big-endian, below p) seen through a random-looking Z.
#[cfg(feature = "test-hooks")]
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
        let w = *invert_scalar(&ss);
        check(key, &(digest_scalar(digest) * w), &(*rs * w), r)
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
        crate::batch::verify_batch(items, out);
    }
}
