//! Minimal variable-time Jacobian point arithmetic on P-256 over `p256`'s exposed
//! `FieldElement` (feature `expose-field`), for building tables with one batched field
//! inversion. Public data only: the special cases are branched on.

use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use p256::{AffinePoint, EncodedPoint, FieldElement};

/// An affine point (never the identity).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Affine {
    pub x: FieldElement,
    pub y: FieldElement,
}

/// (X, Y, Z) with x = X / Z^2, y = Y / Z^3; Z = 0 is the identity.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Jacobian {
    pub x: FieldElement,
    pub y: FieldElement,
    pub z: FieldElement,
}

impl Affine {
    /// From a `p256` affine point (not the identity).
    pub fn from_p256(p: &AffinePoint) -> Affine {
        let enc = p.to_encoded_point(false);
        let x = FieldElement::from_slice(enc.x().expect("not the identity")).expect("x < p");
        let y = FieldElement::from_slice(enc.y().expect("uncompressed")).expect("y < p");
        debug_assert_eq!(p.x(), x.to_bytes());
        Affine { x, y }
    }

    /// To a `p256` affine point; the curve equation is checked (None if it fails, which
    /// would be a bug here).
    pub fn to_p256(self) -> Option<AffinePoint> {
        let enc =
            EncodedPoint::from_affine_coordinates(&self.x.to_bytes(), &self.y.to_bytes(), false);
        Option::from(AffinePoint::from_encoded_point(&enc))
    }
}

impl Jacobian {
    pub fn from_affine(p: &Affine) -> Jacobian {
        Jacobian {
            x: p.x,
            y: p.y,
            z: FieldElement::ONE,
        }
    }

    pub fn is_identity(&self) -> bool {
        bool::from(self.z.is_zero())
    }

    /// 2P, a = -3 (dbl-2001-b).
    pub fn double(&self) -> Jacobian {
        if self.is_identity() || bool::from(self.y.is_zero()) {
            return Jacobian {
                x: FieldElement::ONE,
                y: FieldElement::ONE,
                z: FieldElement::ZERO,
            };
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

    /// P + Q with Q affine; handles P = identity, P = Q and P = -Q.
    pub fn add_affine(&self, q: &Affine) -> Jacobian {
        if self.is_identity() {
            return Jacobian::from_affine(q);
        }
        let z1z1 = self.z.square();
        let u2 = q.x * z1z1;
        let s2 = q.y * self.z * z1z1;
        let h = u2 - self.x;
        let r = s2 - self.y;
        if bool::from(h.is_zero()) {
            if bool::from(r.is_zero()) {
                return self.double();
            }
            return Jacobian {
                x: FieldElement::ONE,
                y: FieldElement::ONE,
                z: FieldElement::ZERO,
            };
        }
        let hh = h.square();
        let hhh = hh * h;
        let v = self.x * hh;
        let x3 = r.square() - hhh - v.double();
        let y3 = r * (v - x3) - self.y * hhh;
        let z3 = self.z * h;
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    pub fn to_affine(self) -> Option<Affine> {
        let zinv = Option::<FieldElement>::from(self.z.invert())?;
        Some(self.to_affine_with(&zinv))
    }

    fn to_affine_with(self, zinv: &FieldElement) -> Affine {
        let zinv2 = zinv.square();
        Affine {
            x: self.x * zinv2,
            y: self.y * zinv2 * zinv,
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
    let mut acc = FieldElement::ONE;
    for p in points {
        assert!(!p.is_identity(), "batch_to_affine: identity");
        acc *= p.z;
        prefix.push(acc);
    }
    let mut inv = Option::<FieldElement>::from(acc.invert()).expect("non-zero product");
    let mut out = vec![
        Affine {
            x: FieldElement::ZERO,
            y: FieldElement::ZERO
        };
        points.len()
    ];
    for i in (0..points.len()).rev() {
        // inv = (z_0 ... z_i)^-1
        let zinv = if i == 0 { inv } else { inv * prefix[i - 1] };
        inv *= points[i].z;
        out[i] = points[i].to_affine_with(&zinv);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::{ProjectivePoint, Scalar};

    fn affine(k: u64) -> Affine {
        Affine::from_p256(&(ProjectivePoint::GENERATOR * Scalar::from(k)).to_affine())
    }

    #[test]
    fn special_cases_and_batch() {
        let g = affine(1);
        let jg = Jacobian::from_affine(&g);
        let two = jg.add_affine(&g); // P + P takes the doubling path
        let two_d = jg.double();
        let a = batch_to_affine(&[two, two_d, two.add_affine(&g), jg.double().double()]);
        assert_eq!(a[0].x, affine(2).x);
        assert_eq!(a[1].y, affine(2).y);
        assert_eq!(a[2].x, affine(3).x);
        assert_eq!(a[2].y, affine(3).y);
        assert_eq!(a[3].x, affine(4).x);
        let neg = Affine { x: g.x, y: -g.y };
        assert!(jg.add_affine(&neg).is_identity());
        let id = jg.add_affine(&neg);
        assert!(id.double().is_identity());
        let back = id.add_affine(&g).to_affine().unwrap();
        assert_eq!((back.x, back.y), (g.x, g.y));
        assert!(a.iter().all(|p| p.to_p256().is_some()));
    }
}
