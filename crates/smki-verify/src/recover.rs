//! Public-key recovery from an ECDSA signature (SEC 1 section 4.1.6).

use crate::{Backend, PlainBackend, PublicKey};
use ecdsa::RecoveryId;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::FieldBytes;

/// Every public key Q under which (r, s) verifies over `digest`.
///
/// The candidates come from R = (x, y) with x = r, and x = r + n when r + n < p, each with
/// both parities of y: Q = r^-1 (sR - zG). At most four (in practice almost always two,
/// since r + n < p holds with probability about 2^-128). Each candidate is checked with
/// [`PlainBackend`] before it is returned. Empty when r or s is out of range or no R exists.
pub fn recover_keys(digest: &[u8; 32], r: &[u8; 32], s: &[u8; 32]) -> Vec<PublicKey> {
    let Ok(sig) = Signature::from_scalars(FieldBytes::from(*r), FieldBytes::from(*s)) else {
        return Vec::new();
    };
    let mut out: Vec<PublicKey> = Vec::with_capacity(2);
    for id in 0u8..4 {
        let Some(recid) = RecoveryId::from_byte(id) else {
            continue;
        };
        // `recover_from_prehash` handles x = r + n (failing when it is not below p, since
        // decompression rejects x >= p) and rejects the identity.
        let Ok(vk) = VerifyingKey::recover_from_prehash(digest, &sig, recid) else {
            continue;
        };
        let point = vk.to_encoded_point(false);
        let Ok(key) = PublicKey::from_sec1(point.as_bytes()) else {
            continue;
        };
        if out.contains(&key) {
            continue;
        }
        if PlainBackend.verify(&vk, digest, r, s) {
            out.push(key);
        }
    }
    out
}

/// Issuer-key recovery pinned by the authority key identifier: the one candidate from
/// [`recover_keys`] whose SMKI key identifier ([`PublicKey::key_id`], 8 octets) equals
/// `aki`. `None` when `aki` is not 8 octets or no candidate matches. A wrong key matching
/// by chance has probability about 2^-60.
///
/// Does not touch any registry, so a parallel scan can call it outside a lock and add the
/// key afterwards.
pub fn recover_pinned(
    aki: &[u8],
    digest: &[u8; 32],
    r: &[u8; 32],
    s: &[u8; 32],
) -> Option<PublicKey> {
    if aki.len() != 8 {
        return None;
    }
    recover_keys(digest, r, s)
        .into_iter()
        .find(|k| k.key_id()[..] == *aki)
}
