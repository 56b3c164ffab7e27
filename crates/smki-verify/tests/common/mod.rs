// Shared helpers for the integration tests (deterministic pseudo-random values).
#![allow(dead_code)]

use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::Field;
use p256::{FieldBytes, Scalar, U256};
use sha2::Digest;

pub fn hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

pub fn hex32(s: &str) -> [u8; 32] {
    hex(s).try_into().expect("32 octets")
}

/// Deterministic 32 octets from a label and a counter.
pub fn bytes(label: &str, i: u64) -> [u8; 32] {
    let mut h = sha2::Sha256::new();
    h.update(label.as_bytes());
    h.update(i.to_be_bytes());
    h.finalize().into()
}

/// A deterministic non-zero scalar.
pub fn scalar(label: &str, i: u64) -> Scalar {
    let s = <Scalar as Reduce<U256>>::reduce_bytes(&FieldBytes::from(bytes(label, i)));
    assert!(!bool::from(s.is_zero()));
    s
}

/// (public key, r, s) of p256's own signature with private scalar d over digest.
pub fn sign(d: &Scalar, digest: &[u8; 32]) -> (smki_verify::PublicKey, [u8; 32], [u8; 32]) {
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    let sk = p256::ecdsa::SigningKey::from_bytes(&d.to_bytes()).expect("non-zero");
    let sig: p256::ecdsa::Signature = sk.sign_prehash(digest).expect("sign");
    let pk =
        smki_verify::PublicKey::from_sec1(sk.verifying_key().to_encoded_point(false).as_bytes())
            .expect("valid key");
    let (r, s) = sig.split_bytes();
    (pk, r.into(), s.into())
}
