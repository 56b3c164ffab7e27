// Shared helpers for the integration tests (deterministic pseudo-random values).
#![allow(dead_code)]

use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::Field;
use p256::{FieldBytes, Scalar, U256};
use sha2::Digest;

pub fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

pub fn hex32(s: &str) -> [u8; 32] {
    hex(s).try_into().expect("32 octets")
}

/// a - b as 32-octet big-endian integers, modulo 2^256.
pub fn sub_be(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut o = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let v = a[i] as i16 - b[i] as i16 - borrow;
        o[i] = v.rem_euclid(256) as u8;
        borrow = (v < 0) as i16;
    }
    o
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

/// Minimal canonical DER reader: SEQUENCE { INTEGER, INTEGER }, short or 0x81 lengths
/// (minimal), positive minimal INTEGERs of at most 32 octets after the one pad. None for
/// anything else.
pub fn parse_canonical(sig: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    fn len(b: &[u8], i: &mut usize) -> Option<usize> {
        let l0 = *b.get(*i)?;
        *i += 1;
        match l0 {
            0..=0x7f => Some(l0 as usize),
            0x81 => {
                let l = *b.get(*i)?;
                *i += 1;
                (l >= 0x80).then_some(l as usize)
            }
            _ => None,
        }
    }
    fn int(b: &[u8], i: &mut usize) -> Option<[u8; 32]> {
        if *b.get(*i)? != 0x02 {
            return None;
        }
        *i += 1;
        let l = len(b, i)?;
        let c = b.get(*i..i.checked_add(l)?)?;
        *i += l;
        if c.is_empty() || c[0] & 0x80 != 0 {
            return None; // empty or negative
        }
        let c = if c[0] == 0 {
            if c.len() == 1 {
                c // the value 0, minimally encoded
            } else if c[1] & 0x80 == 0 {
                return None; // redundant leading zero
            } else {
                &c[1..]
            }
        } else {
            c
        };
        if c.len() > 32 {
            return None;
        }
        let mut out = [0u8; 32];
        out[32 - c.len()..].copy_from_slice(c);
        Some(out)
    }
    let mut i = 0;
    if *sig.first()? != 0x30 {
        return None;
    }
    i += 1;
    let l = len(sig, &mut i)?;
    if i + l != sig.len() {
        return None;
    }
    let r = int(sig, &mut i)?;
    let s = int(sig, &mut i)?;
    (i == sig.len()).then_some((r, s))
}
