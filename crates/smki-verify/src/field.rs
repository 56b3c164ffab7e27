//! Arithmetic modulo p, the P-256 base field: a small Montgomery-form field type of our own
//! ([`Fe`]), and the 256-bit limb helpers that the arithmetic modulo n (`scalar`) shares.
//! Variable time where it branches (inversion of zero, the limb comparisons): public data
//! only.
//!
//! Why not `p256`'s `FieldElement` (feature `expose-field`): measured here, its addition and
//! subtraction cost ~15-20 ns (a 5-limb conditional subtraction), ours ~3-6 ns; its squaring
//! is a multiplication, ours a dedicated squaring (~15% faster); multiplication is on par.
//! Point formulas do about as many additions as multiplications, so this pays.

/// An element of the P-256 base field in Montgomery form (R = 2^256): 4 x 64-bit limbs,
/// little-endian, always fully reduced (< p), so equality is limb equality.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fe(pub(crate) [u64; 4]);

/// p, little-endian limbs.
pub(crate) const P: [u64; 4] = [
    0xffff_ffff_ffff_ffff,
    0x0000_0000_ffff_ffff,
    0,
    0xffff_ffff_0000_0001,
];
/// R^2 mod p.
const R2: [u64; 4] = [
    0x0000_0000_0000_0003,
    0xffff_fffb_ffff_ffff,
    0xffff_ffff_ffff_fffe,
    0x0000_0004_ffff_fffd,
];

/// a + b*c + carry: (low word, carry out). Shared with the arithmetic mod n in `sign.rs`.
#[inline(always)]
pub(crate) fn mac(a: u64, b: u64, c: u64, carry: u64) -> (u64, u64) {
    let t = (a as u128) + (b as u128) * (c as u128) + (carry as u128);
    (t as u64, (t >> 64) as u64)
}
/// a + b + carry: (sum, carry out).
#[inline(always)]
pub(crate) fn adc(a: u64, b: u64, carry: u64) -> (u64, u64) {
    let t = (a as u128) + (b as u128) + (carry as u128);
    (t as u64, (t >> 64) as u64)
}
/// a - b - borrow (borrow 0 or 1): (difference, borrow out 0 or 1).
#[inline(always)]
fn sbb(a: u64, b: u64, borrow: u64) -> (u64, u64) {
    let (d, b1) = a.overflowing_sub(b);
    let (d, b2) = d.overflowing_sub(borrow);
    (d, (b1 | b2) as u64)
}

/// [t0..t3] + carry*2^256 minus p if that is >= p (input < 2p).
#[inline(always)]
fn reduce_once(t: [u64; 4], carry: u64) -> [u64; 4] {
    let (s0, b) = sbb(t[0], P[0], 0);
    let (s1, b) = sbb(t[1], P[1], b);
    let (s2, b) = sbb(t[2], P[2], b);
    let (s3, b) = sbb(t[3], P[3], b);
    // Keep t when (carry, t) < p, i.e. when the subtraction borrows past the carry word.
    let (_, b) = sbb(carry, 0, b);
    let mask = 0u64.wrapping_sub(b); // all ones: keep t
    [
        (t[0] & mask) | (s0 & !mask),
        (t[1] & mask) | (s1 & !mask),
        (t[2] & mask) | (s2 & !mask),
        (t[3] & mask) | (s3 & !mask),
    ]
}

impl Fe {
    pub const ZERO: Fe = Fe([0; 4]);
    /// 1 in Montgomery form: R mod p.
    pub const ONE: Fe = Fe([
        0x0000_0000_0000_0001,
        0xffff_ffff_0000_0000,
        0xffff_ffff_ffff_ffff,
        0x0000_0000_ffff_fffe,
    ]);

    /// Montgomery product a * b / R.
    #[inline(always)]
    pub fn mul_mont(&self, b: &Fe) -> Fe {
        let a = &self.0;
        let b = &b.0;
        // Schoolbook 4x4 -> 8 limbs.
        let (t0, c) = mac(0, a[0], b[0], 0);
        let (t1, c) = mac(0, a[0], b[1], c);
        let (t2, c) = mac(0, a[0], b[2], c);
        let (t3, t4) = mac(0, a[0], b[3], c);

        let (t1, c) = mac(t1, a[1], b[0], 0);
        let (t2, c) = mac(t2, a[1], b[1], c);
        let (t3, c) = mac(t3, a[1], b[2], c);
        let (t4, t5) = mac(t4, a[1], b[3], c);

        let (t2, c) = mac(t2, a[2], b[0], 0);
        let (t3, c) = mac(t3, a[2], b[1], c);
        let (t4, c) = mac(t4, a[2], b[2], c);
        let (t5, t6) = mac(t5, a[2], b[3], c);

        let (t3, c) = mac(t3, a[3], b[0], 0);
        let (t4, c) = mac(t4, a[3], b[1], c);
        let (t5, c) = mac(t5, a[3], b[2], c);
        let (t6, t7) = mac(t6, a[3], b[3], c);
        Fe(redc([t0, t1, t2, t3, t4, t5, t6, t7]))
    }

    /// Montgomery square.
    #[inline(always)]
    pub fn square(&self) -> Fe {
        let a = &self.0;
        // Off-diagonal products once, doubled, plus the diagonal.
        let (t1, c) = mac(0, a[0], a[1], 0);
        let (t2, c) = mac(0, a[0], a[2], c);
        let (t3, t4) = mac(0, a[0], a[3], c);

        let (t3, c) = mac(t3, a[1], a[2], 0);
        let (t4, t5) = mac(t4, a[1], a[3], c);

        let (t5, t6) = mac(t5, a[2], a[3], 0);

        let t7 = t6 >> 63;
        let t6 = (t6 << 1) | (t5 >> 63);
        let t5 = (t5 << 1) | (t4 >> 63);
        let t4 = (t4 << 1) | (t3 >> 63);
        let t3 = (t3 << 1) | (t2 >> 63);
        let t2 = (t2 << 1) | (t1 >> 63);
        let t1 = t1 << 1;

        let (t0, c) = mac(0, a[0], a[0], 0);
        let (t1, c) = adc(t1, 0, c);
        let (t2, c) = mac(t2, a[1], a[1], c);
        let (t3, c) = adc(t3, 0, c);
        let (t4, c) = mac(t4, a[2], a[2], c);
        let (t5, c) = adc(t5, 0, c);
        let (t6, c) = mac(t6, a[3], a[3], c);
        let (t7, _) = adc(t7, 0, c);
        Fe(redc([t0, t1, t2, t3, t4, t5, t6, t7]))
    }

    #[inline]
    pub fn add_mod(&self, b: &Fe) -> Fe {
        let (t0, c) = adc(self.0[0], b.0[0], 0);
        let (t1, c) = adc(self.0[1], b.0[1], c);
        let (t2, c) = adc(self.0[2], b.0[2], c);
        let (t3, c) = adc(self.0[3], b.0[3], c);
        Fe(reduce_once([t0, t1, t2, t3], c))
    }

    #[inline]
    pub fn sub_mod(&self, b: &Fe) -> Fe {
        let (t0, w) = sbb(self.0[0], b.0[0], 0);
        let (t1, w) = sbb(self.0[1], b.0[1], w);
        let (t2, w) = sbb(self.0[2], b.0[2], w);
        let (t3, w) = sbb(self.0[3], b.0[3], w);
        // On borrow add p back.
        let m = 0u64.wrapping_sub(w);
        let (t0, c) = adc(t0, P[0] & m, 0);
        let (t1, c) = adc(t1, P[1] & m, c);
        let (t2, c) = adc(t2, P[2] & m, c);
        let (t3, _) = adc(t3, P[3] & m, c);
        Fe([t0, t1, t2, t3])
    }

    #[inline]
    pub fn double(&self) -> Fe {
        self.add_mod(self)
    }

    #[inline]
    pub fn negate(&self) -> Fe {
        Fe::ZERO.sub_mod(self)
    }

    #[inline]
    pub fn is_zero(&self) -> bool {
        (self.0[0] | self.0[1] | self.0[2] | self.0[3]) == 0
    }

    /// self^(2^n).
    fn sqn(&self, n: usize) -> Fe {
        let mut x = *self;
        for _ in 0..n {
            x = x.square();
        }
        x
    }

    /// 1 / self (Fermat, the addition chain of `p256` 0.13); None for zero.
    pub fn invert(&self) -> Option<Fe> {
        if self.is_zero() {
            return None;
        }
        let x = self;
        let t111 = x.mul_mont(&x.mul_mont(&x.square()).square());
        let t111111 = t111.mul_mont(&t111.sqn(3));
        let x15 = t111111.sqn(6).mul_mont(&t111111).sqn(3).mul_mont(&t111);
        let x16 = x15.square().mul_mont(x);
        let i53 = x16.sqn(16).mul_mont(&x16).sqn(15);
        let x47 = x15.mul_mont(&i53);
        let inner = i53.sqn(17).mul_mont(x).sqn(143).mul_mont(&x47).sqn(47);
        Some(x47.mul_mont(&inner).sqn(2).mul_mont(x))
    }

    /// From a canonical integer (little-endian limbs, < p) to Montgomery form.
    pub fn from_canonical(w: [u64; 4]) -> Fe {
        Fe(w).mul_mont(&Fe(R2))
    }

    /// Back to the canonical integer (little-endian limbs).
    pub fn to_canonical(self) -> [u64; 4] {
        redc([self.0[0], self.0[1], self.0[2], self.0[3], 0, 0, 0, 0])
    }

    /// From 32 big-endian octets; None if not below p.
    pub fn from_be_bytes(b: &[u8; 32]) -> Option<Fe> {
        let w = be_to_limbs(b);
        if !lt(&w, &P) {
            return None;
        }
        Some(Fe::from_canonical(w))
    }

    #[cfg(any(test, feature = "sign"))]
    pub fn to_be_bytes(self) -> [u8; 32] {
        limbs_to_be(&self.to_canonical())
    }
}

impl core::ops::Mul for Fe {
    type Output = Fe;
    #[inline(always)]
    fn mul(self, b: Fe) -> Fe {
        self.mul_mont(&b)
    }
}
impl core::ops::Add for Fe {
    type Output = Fe;
    #[inline(always)]
    fn add(self, b: Fe) -> Fe {
        self.add_mod(&b)
    }
}
impl core::ops::Sub for Fe {
    type Output = Fe;
    #[inline(always)]
    fn sub(self, b: Fe) -> Fe {
        self.sub_mod(&b)
    }
}
impl core::ops::Neg for Fe {
    type Output = Fe;
    #[inline(always)]
    fn neg(self) -> Fe {
        self.negate()
    }
}

pub(crate) fn be_to_limbs(b: &[u8; 32]) -> [u64; 4] {
    let mut w = [0u64; 4];
    for (i, l) in w.iter_mut().enumerate() {
        let off = 32 - 8 * (i + 1);
        *l = u64::from_be_bytes(b[off..off + 8].try_into().expect("8 octets"));
    }
    w
}
pub(crate) fn limbs_to_be(w: &[u64; 4]) -> [u8; 32] {
    let mut b = [0u8; 32];
    for (i, l) in w.iter().enumerate() {
        let off = 32 - 8 * (i + 1);
        b[off..off + 8].copy_from_slice(&l.to_be_bytes());
    }
    b
}
/// a < b as 256-bit integers.
pub(crate) fn lt(a: &[u64; 4], b: &[u64; 4]) -> bool {
    for i in (0..4).rev() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
    }
    false
}

/// Montgomery reduction of an 8-limb value < p * 2^256: t / 2^256 mod p, fully reduced.
/// -p^-1 mod 2^64 = 1, so each round's multiplier is the low limb itself.
#[inline(always)]
fn redc(t: [u64; 8]) -> [u64; 4] {
    let [t0, t1, t2, t3, t4, t5, t6, t7] = t;
    // Round 0: m = t0; t += m * p; t0 becomes 0 with carry m (t0 + m*(2^64-1) = m*2^64).
    let (t1, c) = mac(t1, t0, P[1], t0);
    let (t2, c) = adc(t2, 0, c);
    let (t3, c) = mac(t3, t0, P[3], c);
    let (t4, c4) = adc(t4, 0, c);

    let (t2, c) = mac(t2, t1, P[1], t1);
    let (t3, c) = adc(t3, 0, c);
    let (t4, c) = mac(t4, t1, P[3], c);
    let (t5, c5) = adc(t5, c4, c);

    let (t3, c) = mac(t3, t2, P[1], t2);
    let (t4, c) = adc(t4, 0, c);
    let (t5, c) = mac(t5, t2, P[3], c);
    let (t6, c6) = adc(t6, c5, c);

    let (t4, c) = mac(t4, t3, P[1], t3);
    let (t5, c) = adc(t5, 0, c);
    let (t6, c) = mac(t6, t3, P[3], c);
    let (t7, c7) = adc(t7, c6, c);
    reduce_once([t4, t5, t6, t7], c7)
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::FieldElement;

    /// xorshift bytes, top bit sometimes set.
    fn rnd(state: &mut u64) -> [u8; 32] {
        let mut b = [0u8; 32];
        for x in b.iter_mut() {
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            *x = *state as u8;
        }
        b
    }

    #[test]
    fn field_matches_p256() {
        let p = limbs_to_be(&P);
        let mut pm1 = P;
        pm1[0] -= 1;
        let mut edge = vec![[0u8; 32], limbs_to_be(&[1, 0, 0, 0]), limbs_to_be(&pm1)];
        let mut st = 0x1234_5678_9abc_def1u64;
        for _ in 0..5000 {
            edge.push(rnd(&mut st));
        }
        let fe = |b: &[u8; 32]| FieldElement::from_slice(b).ok();
        assert!(Fe::from_be_bytes(&p).is_none());
        let vals: Vec<_> = edge
            .iter()
            .filter_map(|b| Some((Fe::from_be_bytes(b)?, fe(b)?)))
            .collect();
        assert!(vals.len() > 4000);
        let bytes = |f: FieldElement| -> [u8; 32] { f.to_bytes().into() };
        for w in vals.windows(2) {
            let ((a, fa), (b, fb)) = (w[0], w[1]);
            assert_eq!(a.to_be_bytes(), bytes(fa));
            assert_eq!((a * b).to_be_bytes(), bytes(fa * fb));
            assert_eq!(a.square().to_be_bytes(), bytes(fa.square()));
            assert_eq!((a + b).to_be_bytes(), bytes(fa + fb));
            assert_eq!((a - b).to_be_bytes(), bytes(fa - fb));
            assert_eq!((-a).to_be_bytes(), bytes(-fa));
            assert_eq!(a.double().to_be_bytes(), bytes(fa.double()));
            if !a.is_zero() {
                assert_eq!(a.invert().unwrap() * a, Fe::ONE);
            }
        }
        assert!(Fe::ZERO.invert().is_none());
        assert_eq!(Fe::from_canonical([1, 0, 0, 0]), Fe::ONE);
    }
}
