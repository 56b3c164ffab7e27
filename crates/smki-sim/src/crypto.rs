//! Keys and signatures: seeded key generation and RFC 6979 signing through the fast
//! fixed-base primitives of `smki_verify`'s signer (feature `sign`: signed-window table for
//! G, affine additions batched across many scalars with one field inversion per step,
//! batched scalar inversions), and the faulty 2018 signer's nonce walk (one affine addition
//! per candidate, one field inversion per 64 candidates).
//!
//! **Simulation only**: this signing path is NOT constant time (table look-ups, branches
//! and inversions all depend on the private key and the nonce). These keys protect nothing;
//! never use it with real keys.
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::Field;
use p256::{FieldBytes, Scalar, U256};
use smki_der::P256_ORDER;
use smki_verify::{
    mul_g_affine, mul_g_batch, rfc6979_k, sign_batch_with_nonces, Coordinates, SignWalk,
};
use smki_x509::key_id;

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

/// The private scalar of a seed: reduced mod n, a zero scalar becomes 1.
fn seed_scalar(seed: &[u8; 32]) -> Scalar {
    let d = <Scalar as Reduce<U256>>::reduce_bytes(&FieldBytes::from(*seed));
    if bool::from(d.is_zero()) {
        Scalar::ONE
    } else {
        d
    }
}

impl KeyPair {
    /// The key whose private scalar is `seed` reduced mod n (a zero scalar becomes 1).
    pub fn from_seed(seed: &[u8; 32]) -> KeyPair {
        let d = seed_scalar(seed);
        KeyPair::from_parts(d, &mul_g_affine(&d).expect("d != 0"))
    }

    /// [`KeyPair::from_seed`] for many seeds, with the public keys computed together
    /// (one batch of affine additions, no per-key field inversion).
    pub fn batch_from_seeds(seeds: &[[u8; 32]]) -> Vec<KeyPair> {
        let ds: Vec<Scalar> = seeds.iter().map(seed_scalar).collect();
        ds.iter()
            .zip(mul_g_batch(&ds))
            .map(|(&d, q)| KeyPair::from_parts(d, &q.expect("d != 0")))
            .collect()
    }

    fn from_parts(d: Scalar, (x, y): &Coordinates) -> KeyPair {
        let mut public = [0u8; 65];
        public[0] = 0x04;
        public[1..33].copy_from_slice(x);
        public[33..].copy_from_slice(y);
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
            if let Some(sig) = sign_batch_with_nonces(&[(self.d, *digest, k)])[0] {
                return sig;
            }
            k += Scalar::ONE; // k, r or s was 0: probability 2^-256
        }
    }

    /// The signatures over `digest` with nonces k, k+1, k+2, ... (k from RFC 6979), in
    /// order, each as (r, s); `accept` picks the first it likes (it may return a modified
    /// (r, s), e.g. the high-s twin). R moves by one affine addition per candidate and the
    /// candidates come in batches of 64 with one field and one scalar inversion per batch
    /// ([`SignWalk`]). A nonce giving r = 0 or s = 0 (or k = 0) is skipped (probability
    /// 2^-256 each). None if no candidate among the first `limit` is accepted.
    pub fn sign_walk<F>(
        &self,
        digest: &[u8; 32],
        limit: usize,
        mut accept: F,
    ) -> Option<([u8; 32], [u8; 32])>
    where
        F: FnMut(&[u8; 32], &[u8; 32]) -> Option<([u8; 32], [u8; 32])>,
    {
        let k = rfc6979_k(&self.d, digest);
        let mut walk = SignWalk::new(&self.d, digest, &k);
        let mut tried = 0;
        let mut batch = Vec::with_capacity(SignWalk::BATCH);
        while tried < limit {
            walk.next_batch(&mut batch);
            for (r, s) in batch.iter().flatten() {
                if let Some(sig) = accept(r, s) {
                    return Some(sig);
                }
            }
            tried += SignWalk::BATCH;
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
/// [`KeyPair::sign`] one by one: the k_i G together (affine additions across the batch, one
/// field inversion per step) and one scalar inversion for all k_i
/// ([`sign_batch_with_nonces`]).
pub fn batch_sign(requests: &[(&KeyPair, [u8; 32])]) -> Vec<([u8; 32], [u8; 32])> {
    let items: Vec<(Scalar, [u8; 32], Scalar)> = requests
        .iter()
        .map(|(key, digest)| (key.d, *digest, rfc6979_k(&key.d, digest)))
        .collect();
    requests
        .iter()
        .zip(sign_batch_with_nonces(&items))
        // Probability 2^-256: the one-by-one path walks on.
        .map(|((key, digest), sig)| sig.unwrap_or_else(|| key.sign(digest)))
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
            // And the same as p256's own signer (RFC 6979 nonce, digest below n).
            let sk =
                p256::ecdsa::SigningKey::from_bytes(&FieldBytes::from(k.d.to_bytes())).unwrap();
            let (sig2, _) = sk.sign_prehash_recoverable(d).unwrap();
            assert_eq!(&sig2.r().to_bytes()[..], &sig.0[..]);
            assert_eq!(&sig2.s().to_bytes()[..], &sig.1[..]);
        }
        // Batched key generation gives the same keys as one by one (zero seed included).
        let seeds: Vec<[u8; 32]> = (0..70u8)
            .map(|i| [i.wrapping_mul(101).wrapping_add(3); 32])
            .chain([[0u8; 32], P256_ORDER])
            .collect();
        for (seed, k) in seeds.iter().zip(KeyPair::batch_from_seeds(&seeds)) {
            let one = KeyPair::from_seed(seed);
            assert_eq!((one.d, one.public, one.key_id), (k.d, k.public, k.key_id));
            let sk =
                p256::ecdsa::SigningKey::from_bytes(&FieldBytes::from(k.d.to_bytes())).unwrap();
            assert_eq!(
                sk.verifying_key().to_encoded_point(false).as_bytes(),
                &k.public[..]
            );
        }
    }
}
