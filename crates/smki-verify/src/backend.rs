//! The crypto-backend trait and the reference backend.

use crate::PublicKey;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::FieldBytes;

/// An ECDSA P-256 verifier. A backend may keep per-issuer precomputed state
/// ([`Backend::Key`]); the [`crate::Registry`] prepares it once per issuer key.
pub trait Backend: Send + Sync {
    /// Per-issuer precomputed state (a faster backend keeps tables here).
    type Key: Send + Sync;
    /// A short name for reports and benchmarks.
    fn name(&self) -> &'static str;
    /// Precomputes the state for one issuer key.
    fn prepare(&self, key: &PublicKey) -> Self::Key;
    /// ECDSA verify of (r, s) (32-octet big-endian each, any value: out-of-range -> false)
    /// over a SHA-256 `digest`, under `key`.
    fn verify(&self, key: &Self::Key, digest: &[u8; 32], r: &[u8; 32], s: &[u8; 32]) -> bool;

    /// Verifies a batch: `out[i]` is [`Backend::verify`] of `items[i]`. A faster backend
    /// shares work across the batch (the fast backend does one scalar inversion for all the
    /// 1/s); the default loops over [`Backend::verify`]. Items may use different keys.
    /// Collect some tens of signatures (e.g. 64) per call.
    ///
    /// # Panics
    /// When `items` and `out` differ in length.
    fn verify_batch(&self, items: &[BatchItem<'_, Self::Key>], out: &mut [bool]) {
        assert_eq!(items.len(), out.len(), "verify_batch: lengths differ");
        for (it, o) in items.iter().zip(out.iter_mut()) {
            *o = self.verify(it.key, &it.digest, &it.r, &it.s);
        }
    }

    /// Verifies one signature under a key used for it alone (a self-signed certificate's
    /// own key). The default prepares the key and verifies; a backend whose preparation
    /// only pays off over many signatures does without it.
    fn verify_once(&self, key: &PublicKey, digest: &[u8; 32], r: &[u8; 32], s: &[u8; 32]) -> bool {
        self.verify(&self.prepare(key), digest, r, s)
    }

    /// Does now what verification would otherwise do on first use for every key (the fast
    /// backend's table for G). The default has nothing to do.
    fn warm_up(&self) {}

    /// Does now what verification would otherwise do on first use under `key` (the fast
    /// backend's table for the key). The default has nothing to do.
    fn warm_up_key(&self, _key: &Self::Key) {}
}

/// One signature for [`Backend::verify_batch`]: (r, s) over a SHA-256 `digest` under `key`
/// (the issuer's prepared state, e.g. `registry.get(id).prepared`).
#[derive(Debug)]
pub struct BatchItem<'a, K> {
    pub key: &'a K,
    pub digest: [u8; 32],
    pub r: [u8; 32],
    pub s: [u8; 32],
}

// Manual impls: no `K: Clone` / `K: Copy` bound needed (the key is borrowed).
impl<K> Clone for BatchItem<'_, K> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K> Copy for BatchItem<'_, K> {}

/// The reference backend: RustCrypto `p256` 0.13 `VerifyingKey::verify_prehash`.
///
/// Accepts high s (no low-s rule, as X.509 verifiers do); rejects r or s equal to 0 or
/// not below the group order n.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlainBackend;

impl Backend for PlainBackend {
    type Key = VerifyingKey;

    fn name(&self) -> &'static str {
        "plain"
    }

    fn prepare(&self, key: &PublicKey) -> VerifyingKey {
        // `PublicKey` is validated on construction: a point on the curve, not the identity.
        VerifyingKey::from_sec1_bytes(key.as_bytes()).expect("PublicKey holds a valid P-256 point")
    }

    fn verify(&self, key: &VerifyingKey, digest: &[u8; 32], r: &[u8; 32], s: &[u8; 32]) -> bool {
        // `from_scalars` rejects 0 and values >= n.
        let Ok(sig) = Signature::from_scalars(FieldBytes::from(*r), FieldBytes::from(*s)) else {
            return false;
        };
        key.verify_prehash(digest, &sig).is_ok()
    }
}
