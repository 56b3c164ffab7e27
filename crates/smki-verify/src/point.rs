//! Points of P-256 over [`Fe`]: affine and Jacobian, one addition at a time (incomplete
//! formulas, a = -3), and affine additions across a batch sharing one field inversion
//! ([`batch_add`], [`sum_in_chains`]). Variable time: the special cases (identity, doubling,
//! P + (-P)) are branched on, which is fine for public data only.

use crate::field::Fe;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::AffinePoint;

/// An affine point (never the identity).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Affine {
    pub x: Fe,
    pub y: Fe,
}

/// (X, Y, Z) with x = X / Z^2, y = Y / Z^3; Z = 0 is the identity.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Jacobian {
    pub x: Fe,
    pub y: Fe,
    pub z: Fe,
}

impl Affine {
    /// From a `p256` affine point (not the identity).
    pub fn from_p256(p: &AffinePoint) -> Affine {
        let enc = p.to_encoded_point(false);
        Affine::from_coordinates(
            enc.x().expect("not the identity").as_ref(),
            enc.y().expect("uncompressed").as_ref(),
        )
        .expect("coordinates below p")
    }

    /// From big-endian affine coordinates (not checked to be on the curve); None unless
    /// both are 32 octets below p.
    pub fn from_coordinates(x: &[u8], y: &[u8]) -> Option<Affine> {
        Some(Affine {
            x: Fe::from_be_bytes(x.try_into().ok()?)?,
            y: Fe::from_be_bytes(y.try_into().ok()?)?,
        })
    }

    /// To a `p256` affine point; the curve equation is checked (None if it fails, which
    /// would be a bug here).
    #[cfg(any(test, feature = "sign"))]
    pub fn to_p256(self) -> Option<AffinePoint> {
        use p256::elliptic_curve::sec1::FromEncodedPoint;
        use p256::EncodedPoint;
        let enc = EncodedPoint::from_affine_coordinates(
            &self.x.to_be_bytes().into(),
            &self.y.to_be_bytes().into(),
            false,
        );
        Option::from(AffinePoint::from_encoded_point(&enc))
    }

    /// -P.
    #[inline]
    pub fn neg(&self) -> Affine {
        Affine {
            x: self.x,
            y: -self.y,
        }
    }
}

impl Jacobian {
    pub const IDENTITY: Jacobian = Jacobian {
        x: Fe::ONE,
        y: Fe::ONE,
        z: Fe::ZERO,
    };

    #[inline]
    pub fn from_affine(p: &Affine) -> Jacobian {
        Jacobian {
            x: p.x,
            y: p.y,
            z: Fe::ONE,
        }
    }

    #[inline]
    pub fn is_identity(&self) -> bool {
        self.z.is_zero()
    }

    /// 2P, a = -3 (dbl-2001-b, 3M + 5S).
    pub fn double(&self) -> Jacobian {
        if self.is_identity() || self.y.is_zero() {
            return Jacobian::IDENTITY;
        }
        let delta = self.z.square();
        let gamma = self.y.square();
        let beta = self.x * gamma;
        let t = (self.x - delta) * (self.x + delta);
        let alpha = t.double() + t;
        let beta4 = beta.double().double();
        let x3 = alpha.square() - beta4.double();
        let z3 = (self.y + self.z).square() - gamma - delta;
        let gamma2_8 = gamma.square().double().double().double();
        let y3 = alpha * (beta4 - x3) - gamma2_8;
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// P + Q with Q affine (madd-2007-bl: 7M + 4S); handles P = identity, P = Q (doubles)
    /// and P = -Q (identity) by branching: variable time.
    #[inline]
    pub fn add_affine(&self, q: &Affine) -> Jacobian {
        if self.is_identity() {
            return Jacobian::from_affine(q);
        }
        let z1z1 = self.z.square();
        let u2 = q.x * z1z1;
        let s2 = q.y * self.z * z1z1;
        let h = u2 - self.x;
        let rr = s2 - self.y;
        if h.is_zero() {
            if rr.is_zero() {
                return self.double();
            }
            return Jacobian::IDENTITY;
        }
        let hh = h.square();
        let i = hh.double().double();
        let j = h * i;
        let r = rr.double();
        let v = self.x * i;
        let x3 = r.square() - j - v.double();
        let y3 = r * (v - x3) - (self.y * j).double();
        let z3 = (self.z + h).square() - z1z1 - hh;
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// P + Q, both Jacobian (add-2007-bl: 11M + 5S); handles either being the identity,
    /// P = Q (doubles) and P = -Q (identity) by branching: variable time.
    pub fn add(&self, q: &Jacobian) -> Jacobian {
        if self.is_identity() {
            return *q;
        }
        if q.is_identity() {
            return *self;
        }
        let z1z1 = self.z.square();
        let z2z2 = q.z.square();
        let u1 = self.x * z2z2;
        let u2 = q.x * z1z1;
        let s1 = self.y * q.z * z2z2;
        let s2 = q.y * self.z * z1z1;
        let h = u2 - u1;
        let rr = s2 - s1;
        if h.is_zero() {
            if rr.is_zero() {
                return self.double();
            }
            return Jacobian::IDENTITY;
        }
        let i = h.double().square();
        let j = h * i;
        let r = rr.double();
        let v = u1 * i;
        let x3 = r.square() - j - v.double();
        let y3 = r * (v - x3) - (s1 * j).double();
        let z3 = ((self.z + q.z).square() - z1z1 - z2z2) * h;
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    #[cfg(any(test, feature = "sign"))]
    pub fn to_affine(self) -> Option<Affine> {
        let zinv = self.z.invert()?;
        Some(self.to_affine_with(&zinv))
    }

    fn to_affine_with(self, zinv: &Fe) -> Affine {
        let zinv2 = zinv.square();
        Affine {
            x: self.x * zinv2,
            y: self.y * zinv2 * *zinv,
        }
    }
}

/// Normalises `points` (none the identity) with one field inversion (Montgomery's trick).
pub(crate) fn batch_to_affine(points: &[Jacobian]) -> Vec<Affine> {
    if points.is_empty() {
        return Vec::new();
    }
    // prefix[i] = z_0 * ... * z_i
    let mut prefix = Vec::with_capacity(points.len());
    let mut acc = Fe::ONE;
    for p in points {
        assert!(!p.is_identity(), "batch_to_affine: identity");
        acc = acc * p.z;
        prefix.push(acc);
    }
    let mut inv = acc.invert().expect("non-zero product");
    let mut out = vec![
        Affine {
            x: Fe::ZERO,
            y: Fe::ZERO
        };
        points.len()
    ];
    for i in (0..points.len()).rev() {
        // inv = (z_0 ... z_i)^-1
        let zinv = if i == 0 { inv } else { inv * prefix[i - 1] };
        inv = inv * points[i].z;
        out[i] = points[i].to_affine_with(&zinv);
    }
    out
}

/// An affine point or the identity, for the batch-affine additions.
#[derive(Clone, Copy)]
pub(crate) struct Pt {
    pub x: Fe,
    pub y: Fe,
    pub inf: bool,
}

/// The identity as a [`Pt`].
pub(crate) const INF: Pt = Pt {
    x: Fe::ZERO,
    y: Fe::ZERO,
    inf: true,
};

impl Pt {
    /// The affine point; None for the identity.
    #[cfg(any(test, feature = "sign"))]
    #[inline]
    pub(crate) fn affine(&self) -> Option<Affine> {
        (!self.inf).then_some(Affine {
            x: self.x,
            y: self.y,
        })
    }
}

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
pub(crate) enum Op {
    /// Nothing left to do (an operand was the identity, or P + (-P)).
    Done,
    /// lambda = num / den, then the chord-and-tangent formulas.
    Slope,
}

/// acc[i] += add[i] for every i in affine coordinates, all the slope denominators inverted
/// with one field inversion (Montgomery's trick). Handles the identity on either side,
/// doubling (acc = add: tangent slope (3x^2 - 3) / 2y) and P + (-P) (identity). Variable
/// time. `den`, `num`, `ops` are scratch space.
pub(crate) fn batch_add(
    acc: &mut [Pt],
    add: &[Pt],
    den: &mut Vec<Fe>,
    num: &mut Vec<Fe>,
    ops: &mut Vec<Op>,
) {
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

/// Buffers of the batch-affine sums, kept per thread by their users: a verification batch
/// gathers ~225 KB of points, and a fresh allocation of that size is a fresh mapping (page
/// faults) on every call.
#[derive(Default)]
pub(crate) struct Scratch {
    pub pts: Vec<Affine>,
    pub acc: Vec<Pt>,
    pub add: Vec<Pt>,
    pub half_a: Vec<Pt>,
    pub half_b: Vec<Pt>,
    pub den: Vec<Fe>,
    pub num: Vec<Fe>,
    pub ops: Vec<Op>,
}

/// For each of `m` items, sums the points `sc.pts[start[i]..start[i] + lens[i]]` in affine
/// coordinates across the whole batch: `chains` independent chains per item (chain c takes
/// points c, c + chains, ...) advance one addition per step, all lanes sharing one field
/// inversion per step (`batch_add`); then the chains of each item are folded pairwise. Item
/// i's sum is left in `sc.acc[i * chains]`. `chains` is a power of two.
pub(crate) fn sum_in_chains(
    sc: &mut Scratch,
    start: &[usize],
    lens: &[usize],
    m: usize,
    chains: usize,
) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use p256::{ProjectivePoint, Scalar};

    fn affine(k: u64) -> Affine {
        Affine::from_p256(&(ProjectivePoint::GENERATOR * Scalar::from(k)).to_affine())
    }

    /// xorshift bytes, top bit sometimes set.
    #[test]
    fn special_cases_and_batch() {
        let g = affine(1);
        let jg = Jacobian::from_affine(&g);
        let two = jg.add_affine(&g); // P + P takes the doubling path
        let two_d = jg.double();
        let a = batch_to_affine(&[two, two_d, two.add_affine(&g), jg.double().double()]);
        assert_eq!(a[0], affine(2));
        assert_eq!(a[1], affine(2));
        assert_eq!(a[2], affine(3));
        assert_eq!(a[3], affine(4));
        let neg = g.neg();
        assert!(jg.add_affine(&neg).is_identity());
        let id = jg.add_affine(&neg);
        assert!(id.double().is_identity());
        let back = id.add_affine(&g).to_affine().unwrap();
        assert_eq!(back, g);
        assert!(a.iter().all(|p| p.to_p256().is_some()));
        // Jacobian + Jacobian: generic, identity, doubling and cancelling cases.
        let j3 = jg.double().add_affine(&g); // 3G, Z != 1
        let j5 = j3.add_affine(&g).add_affine(&g); // 5G
        assert_eq!(j3.add(&j5).to_affine().unwrap(), affine(8));
        assert_eq!(j3.add(&j3).to_affine().unwrap(), affine(6));
        assert_eq!(j5.add(&Jacobian::IDENTITY).to_affine().unwrap(), affine(5));
        assert_eq!(Jacobian::IDENTITY.add(&j5).to_affine().unwrap(), affine(5));
        let m3 = Jacobian { y: -j3.y, ..j3 };
        assert!(j3.add(&m3).is_identity());
        // A longer chain against p256.
        let mut acc = Jacobian::IDENTITY;
        for k in 1..40u64 {
            acc = acc.add_affine(&g);
            assert_eq!(acc.to_affine().unwrap(), affine(k));
        }
    }
}
