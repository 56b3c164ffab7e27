//! Keys and signatures: seeded key generation and RFC 6979 signing through the fixed-base
//! table of `smki_verify::fixed_base` (one table multiplication each), and the faulty
//! 2018 signer's nonce walk.
//!
//! **Simulation only**: the table multiplication is variable time. These keys protect
//! nothing.
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::elliptic_curve::Field;
use p256::{AffinePoint, FieldBytes, FieldElement, Scalar, U256};
use smki_der::P256_ORDER;
use smki_verify::fixed_base::{g_table, rfc6979_k, sign_prehash_with_table};

/// A P-256 key pair.
#[derive(Clone)]
pub struct KeyPair {
    pub(crate) d: Scalar,
    /// Uncompressed SEC1 point.
    pub public: [u8; 65],
    /// SMKI key identifier (RFC 5280 method 2, 8 octets).
    pub key_id: [u8; 8],
}

impl core::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "KeyPair(key_id {})", hex::encode(self.key_id))
    }
}

impl KeyPair {
    /// The key whose private scalar is `seed` reduced mod n (a zero scalar becomes 1).
    pub fn from_seed(seed: &[u8; 32]) -> KeyPair {
        let mut d = <Scalar as Reduce<U256>>::reduce_bytes(&FieldBytes::from(*seed));
        if bool::from(d.is_zero()) {
            d = Scalar::ONE;
        }
        let point = g_table().mul(&d).to_affine();
        let enc = point.to_encoded_point(false);
        let mut public = [0u8; 65];
        public.copy_from_slice(enc.as_bytes());
        KeyPair {
            d,
            public,
            key_id: key_id(&public),
        }
    }

    /// ECDSA (RFC 6979 nonce) over a SHA-256 digest: (r, s), big-endian.
    pub fn sign(&self, digest: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
        let mut k = rfc6979_k(&self.d, digest);
        loop {
            if let Some(sig) = sign_prehash_with_table(&self.d, digest, &k) {
                return sig;
            }
            k += Scalar::ONE; // r or s was 0: probability 2^-256
        }
    }

    /// The signatures over `digest` with nonces k, k+1, k+2, ... (k from RFC 6979), in
    /// order, each as (r, s); `accept` picks the first it likes (it may return a modified
    /// (r, s), e.g. the high-s twin). R moves by one point addition per candidate and the
    /// candidates are normalised in batches of 64 (one field and one scalar inversion per
    /// batch). None if no candidate among the first `limit` is accepted.
    pub fn sign_walk<F>(
        &self,
        digest: &[u8; 32],
        limit: usize,
        mut accept: F,
    ) -> Option<([u8; 32], [u8; 32])>
    where
        F: FnMut(&[u8; 32], &[u8; 32]) -> Option<([u8; 32], [u8; 32])>,
    {
        const BATCH: usize = 64;
        let z = <Scalar as Reduce<U256>>::reduce_bytes(&FieldBytes::from(*digest));
        let mut k = rfc6979_k(&self.d, digest);
        let g = Affine::from_p256(&AffinePoint::GENERATOR);
        let mut r_point = Jacobian::from_affine(&Affine::from_p256(&g_table().mul(&k).to_affine()));
        let mut tried = 0;
        let mut points = Vec::with_capacity(BATCH);
        let mut ks = Vec::with_capacity(BATCH);
        while tried < limit {
            points.clear();
            ks.clear();
            for _ in 0..BATCH {
                points.push(r_point);
                ks.push(k);
                r_point = r_point.add_affine(&g);
                k += Scalar::ONE;
            }
            if points.iter().any(Jacobian::is_identity)
                || ks.iter().any(|k| bool::from(k.is_zero()))
            {
                // Probability 2^-250: skip the batch.
                tried += BATCH;
                continue;
            }
            let xs = batch_x(&points);
            let k_invs = batch_invert_scalars(&ks);
            for (x, k_inv) in xs.iter().zip(&k_invs) {
                let r = <Scalar as Reduce<U256>>::reduce_bytes(&x.to_bytes());
                let s = *k_inv * (z + r * self.d);
                if bool::from(r.is_zero()) || bool::from(s.is_zero()) {
                    continue;
                }
                if let Some(sig) = accept(&r.to_bytes().into(), &s.to_bytes().into()) {
                    return Some(sig);
                }
            }
            tried += BATCH;
        }
        None
    }
}

/// Does the fixed-width 32-octet encoding of `v` carry a redundant leading 0x00, i.e.
/// v < 2^247? (For 2^247 <= v < 2^248 the leading 0x00 is the pad DER requires.)
pub fn has_redundant_zero(v: &[u8; 32]) -> bool {
    v[0] == 0 && v[1] & 0x80 == 0
}

/// ECDSA signatures (RFC 6979 nonces) for many (private key, digest) pairs, identical to
/// [`KeyPair::sign`] one by one, with one scalar inversion for the batch. (The field
/// inversions of the affine conversions stay one per signature: `p256` 0.13 neither exposes
/// projective coordinates nor batch-normalises slices without its `alloc` feature.)
pub fn batch_sign(requests: &[(&KeyPair, [u8; 32])]) -> Vec<([u8; 32], [u8; 32])> {
    let ks: Vec<Scalar> = requests
        .iter()
        .map(|(key, digest)| rfc6979_k(&key.d, digest))
        .collect();
    let affine: Vec<AffinePoint> = ks.iter().map(|k| g_table().mul(k).to_affine()).collect();
    let k_invs = batch_invert_scalars(&ks);
    requests
        .iter()
        .zip(affine.iter().zip(&k_invs))
        .map(|((key, digest), (big_r, k_inv))| {
            let r = <Scalar as Reduce<U256>>::reduce_bytes(&big_r.x());
            let z = <Scalar as Reduce<U256>>::reduce_bytes(&FieldBytes::from(*digest));
            let s = *k_inv * (z + r * key.d);
            if bool::from(r.is_zero()) || bool::from(s.is_zero()) {
                key.sign(digest) // probability 2^-256: the one-by-one path walks on
            } else {
                (r.to_bytes().into(), s.to_bytes().into())
            }
        })
        .collect()
}

/// The 2018 faulty signer's acceptance rule: a candidate whose fixed-width encoding
/// carries a redundant leading zero, i.e. r < 2^247 or s < 2^247, or n - s < 2^247 (then
/// the high-s twin n - s, an equally valid signature, is used).
pub fn faulty_accept(r: &[u8; 32], s: &[u8; 32]) -> Option<([u8; 32], [u8; 32])> {
    if has_redundant_zero(r) || has_redundant_zero(s) {
        return Some((*r, *s));
    }
    let twin = negate_mod_n(s);
    if has_redundant_zero(&twin) {
        return Some((*r, twin));
    }
    None
}

/// n - v for 0 < v < n.
pub fn negate_mod_n(v: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = P256_ORDER[i] as i16 - v[i] as i16 - borrow;
        borrow = (d < 0) as i16;
        if d < 0 {
            d += 256;
        }
        out[i] = d as u8;
    }
    out
}

/// SMKI key identifier of an uncompressed point: "0100" and the low 60 bits of its SHA-1.
pub fn key_id(public: &[u8; 65]) -> [u8; 8] {
    use sha1::Digest;
    let h = sha1::Sha1::digest(public);
    let mut id = [0u8; 8];
    id.copy_from_slice(&h[12..20]);
    id[0] = 0x40 | (id[0] & 0x0f);
    id
}

fn batch_invert_scalars(v: &[Scalar]) -> Vec<Scalar> {
    let mut prefix = Vec::with_capacity(v.len());
    let mut acc = Scalar::ONE;
    for x in v {
        acc *= x;
        prefix.push(acc);
    }
    let mut inv = Option::<Scalar>::from(acc.invert()).expect("non-zero scalars");
    let mut out = vec![Scalar::ZERO; v.len()];
    for i in (0..v.len()).rev() {
        out[i] = if i == 0 { inv } else { inv * prefix[i - 1] };
        inv *= v[i];
    }
    out
}

/// Affine x coordinates of `points` (none the identity) with one field inversion.
fn batch_x(points: &[Jacobian]) -> Vec<FieldElement> {
    let mut prefix = Vec::with_capacity(points.len());
    let mut acc = FieldElement::ONE;
    for p in points {
        acc *= p.z;
        prefix.push(acc);
    }
    let mut inv = Option::<FieldElement>::from(acc.invert()).expect("non-zero product");
    let mut out = vec![FieldElement::ZERO; points.len()];
    for i in (0..points.len()).rev() {
        let zinv = if i == 0 { inv } else { inv * prefix[i - 1] };
        inv *= points[i].z;
        out[i] = points[i].x * zinv.square();
    }
    out
}

#[derive(Clone, Copy)]
struct Affine {
    x: FieldElement,
    y: FieldElement,
}

impl Affine {
    fn from_p256(p: &AffinePoint) -> Affine {
        let enc = p.to_encoded_point(false);
        let x = FieldElement::from_bytes(&p.x()).expect("x < p");
        let y = FieldElement::from_bytes(enc.y().expect("uncompressed")).expect("y < p");
        Affine { x, y }
    }
}

/// Jacobian coordinates (x = X/Z^2, y = Y/Z^3), variable time, public data only.
#[derive(Clone, Copy)]
struct Jacobian {
    x: FieldElement,
    y: FieldElement,
    z: FieldElement,
}

impl Jacobian {
    fn from_affine(p: &Affine) -> Jacobian {
        Jacobian {
            x: p.x,
            y: p.y,
            z: FieldElement::ONE,
        }
    }

    fn is_identity(&self) -> bool {
        bool::from(self.z.is_zero())
    }

    const IDENTITY: Jacobian = Jacobian {
        x: FieldElement::ONE,
        y: FieldElement::ONE,
        z: FieldElement::ZERO,
    };

    fn double(&self) -> Jacobian {
        if self.is_identity() || bool::from(self.y.is_zero()) {
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
        let y3 = alpha * (beta4 - x3) - gamma.square().double().double().double();
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    fn add_affine(&self, q: &Affine) -> Jacobian {
        if self.is_identity() {
            return Jacobian::from_affine(q);
        }
        let z1z1 = self.z.square();
        let u2 = q.x * z1z1;
        let s2 = q.y * self.z * z1z1;
        let h = u2 - self.x;
        let r = s2 - self.y;
        if bool::from(h.is_zero()) {
            return if bool::from(r.is_zero()) {
                self.double()
            } else {
                Jacobian::IDENTITY
            };
        }
        let hh = h.square();
        let hhh = hh * h;
        let v = self.x * hh;
        let x3 = r.square() - hhh - v.double();
        let y3 = r * (v - x3) - self.y * hhh;
        Jacobian {
            x: x3,
            y: y3,
            z: self.z * h,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::hazmat::PrehashVerifier;

    fn verify(key: &KeyPair, digest: &[u8; 32], r: &[u8; 32], s: &[u8; 32]) -> bool {
        let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&key.public).unwrap();
        let sig = p256::ecdsa::Signature::from_scalars(FieldBytes::from(*r), FieldBytes::from(*s))
            .unwrap();
        vk.verify_prehash(digest, &sig).is_ok()
    }

    #[test]
    fn keys_and_signatures() {
        let key = KeyPair::from_seed(&[7u8; 32]);
        let sk = p256::ecdsa::SigningKey::from_bytes(&FieldBytes::from(key.d.to_bytes())).unwrap();
        assert_eq!(
            sk.verifying_key().to_encoded_point(false).as_bytes(),
            &key.public[..]
        );
        assert_eq!(
            smki_verify::PublicKey::from_sec1(&key.public)
                .unwrap()
                .key_id(),
            key.key_id
        );
        let digest = [0x42u8; 32];
        let (r, s) = key.sign(&digest);
        assert!(verify(&key, &digest, &r, &s));
        // The walk's first candidate is the RFC 6979 signature itself.
        assert_eq!(
            key.sign_walk(&digest, 64, |r, s| Some((*r, *s))),
            Some((r, s))
        );
        let mut n = 0;
        let walked = key.sign_walk(&digest, 1 << 16, |r, s| {
            n += 1;
            faulty_accept(r, s)
        });
        let (r2, s2) = walked.unwrap();
        assert!(has_redundant_zero(&r2) || has_redundant_zero(&s2));
        assert!(
            verify(&key, &digest, &r2, &s2),
            "walked signature verifies after {n} candidates"
        );
        assert_eq!(negate_mod_n(&negate_mod_n(&s)), s);
        // The batch path gives the same signatures.
        let keys: Vec<KeyPair> = (0..5u8)
            .map(|i| KeyPair::from_seed(&[i.wrapping_mul(37).wrapping_add(1); 32]))
            .collect();
        let reqs: Vec<(&KeyPair, [u8; 32])> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k, [i as u8; 32]))
            .collect();
        for ((k, d), sig) in reqs.iter().zip(batch_sign(&reqs)) {
            assert_eq!(k.sign(d), sig);
        }
    }
}
