//! Issuer keys: anchors from CA certificates and keys recovered from signatures.

use crate::recover::recover_pinned;
use crate::{Backend, PublicKey};
use std::collections::HashMap;

/// Index of an issuer in a [`Registry`].
pub type IssuerId = usize;

/// Where an issuer key came from. Recovered keys are reported as such, never silently
/// trusted as anchors.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum KeySource {
    /// From a CA certificate; `from` locates it (file / record).
    Anchor { from: String },
    /// Recovered from a signature, pinned by the authorityKeyIdentifier; `from` locates the
    /// certificate whose signature gave the key.
    Recovered { from: String },
}

impl KeySource {
    /// True for [`KeySource::Recovered`].
    pub fn is_recovered(&self) -> bool {
        matches!(self, KeySource::Recovered { .. })
    }
    /// The locator text.
    pub fn from(&self) -> &str {
        match self {
            KeySource::Anchor { from } | KeySource::Recovered { from } => from,
        }
    }
}

/// One issuer key with its backend state.
#[derive(Debug, Clone)]
pub struct Issuer<K> {
    pub key: PublicKey,
    /// The backend's precomputed state for `key`.
    pub prepared: K,
    /// The key identifier as the CA certificate declares it (its SKI), else `key.key_id()`.
    pub key_id: Vec<u8>,
    /// Normalised subject name bytes (opaque to this crate), when known.
    pub name: Option<Vec<u8>>,
    pub source: KeySource,
}

/// How [`Registry::lookup`] found issuers: every issuer registered under the key
/// identifier (or, failing that, the name), in the order they were added. Several CAs may
/// share a key identifier or a name (a CA key rollover keeps the name; two CAs may declare
/// the same subjectKeyIdentifier): each is a candidate, and a signature is valid when any
/// candidate's key verifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// By the authorityKeyIdentifier.
    KeyId(&'a [IssuerId]),
    /// By the normalised issuer name (no AKI, or no issuer with that key identifier).
    Name(&'a [IssuerId]),
    NotFound,
}

impl<'a> Lookup<'a> {
    /// The candidates found (empty for [`Lookup::NotFound`]).
    pub fn candidates(self) -> &'a [IssuerId] {
        match self {
            Lookup::KeyId(ids) | Lookup::Name(ids) => ids,
            Lookup::NotFound => &[],
        }
    }
}

/// Issuer keys by key identifier, then by normalised name.
pub struct Registry<B: Backend> {
    backend: B,
    issuers: Vec<Issuer<B::Key>>,
    by_key: HashMap<[u8; 65], IssuerId>,
    /// Key identifiers: the declared SKI and the method-2 identifier of each key, each with
    /// every issuer that claims it, in the order added.
    by_key_id: HashMap<Vec<u8>, Vec<IssuerId>>,
    /// Normalised names, each with every issuer of that name, in the order added.
    by_name: HashMap<Vec<u8>, Vec<IssuerId>>,
}

impl<B: Backend> Registry<B> {
    pub fn new(backend: B) -> Self {
        Registry {
            backend,
            issuers: Vec::new(),
            by_key: HashMap::new(),
            by_key_id: HashMap::new(),
            by_name: HashMap::new(),
        }
    }

    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// Adds an issuer key; `key_id` is the SKI its CA certificate declares (None: use
    /// [`PublicKey::key_id`]). Idempotent for the same key: returns the existing id. An
    /// [`KeySource::Anchor`] upgrades a [`KeySource::Recovered`] entry (its source, declared
    /// key identifier and name replace the recovered ones); otherwise the first entry's
    /// fields stay, and any new key identifier or name becomes an extra alias for lookup. A
    /// different key under a key identifier or name already known is added beside it: both
    /// are candidates of a [`Registry::lookup`].
    pub fn add(
        &mut self,
        key: PublicKey,
        key_id: Option<&[u8]>,
        name: Option<Vec<u8>>,
        source: KeySource,
    ) -> IssuerId {
        let computed = key.key_id();
        if let Some(&id) = self.by_key.get(key.as_bytes()) {
            self.index(id, key_id, &computed, name.as_deref());
            let issuer = &mut self.issuers[id];
            if issuer.source.is_recovered() && !source.is_recovered() {
                issuer.source = source;
                if let Some(k) = key_id {
                    issuer.key_id = k.to_vec();
                }
                if name.is_some() {
                    issuer.name = name;
                }
            } else if issuer.name.is_none() && name.is_some() {
                issuer.name = name;
            }
            return id;
        }
        let id = self.issuers.len();
        let prepared = self.backend.prepare(&key);
        self.issuers.push(Issuer {
            key,
            prepared,
            key_id: key_id.map_or_else(|| computed.to_vec(), <[u8]>::to_vec),
            name: name.clone(),
            source,
        });
        self.by_key.insert(*key.as_bytes(), id);
        self.index(id, key_id, &computed, name.as_deref());
        id
    }

    fn index(
        &mut self,
        id: IssuerId,
        declared: Option<&[u8]>,
        computed: &[u8; 8],
        name: Option<&[u8]>,
    ) {
        fn claim(map: &mut HashMap<Vec<u8>, Vec<IssuerId>>, key: &[u8], id: IssuerId) {
            let ids = map.entry(key.to_vec()).or_default();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        if let Some(k) = declared {
            claim(&mut self.by_key_id, k, id);
        }
        claim(&mut self.by_key_id, computed, id);
        if let Some(n) = name {
            claim(&mut self.by_name, n, id);
        }
    }

    /// Panics when `id` did not come from this registry.
    pub fn get(&self, id: IssuerId) -> &Issuer<B::Key> {
        &self.issuers[id]
    }

    pub fn len(&self) -> usize {
        self.issuers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.issuers.is_empty()
    }

    /// The issuers in the order they were added, with their ids.
    pub fn iter(&self) -> impl Iterator<Item = (IssuerId, &Issuer<B::Key>)> + '_ {
        self.issuers.iter().enumerate()
    }

    /// The id of the issuer holding exactly this key, if any.
    pub fn find_key(&self, key: &PublicKey) -> Option<IssuerId> {
        self.by_key.get(key.as_bytes()).copied()
    }

    /// By authorityKeyIdentifier first (every issuer with that key identifier), then by
    /// normalised issuer name (every issuer of that name). A name match is reported as
    /// [`Lookup::Name`] so the caller can tell it from a key identifier match.
    pub fn lookup(&self, aki: Option<&[u8]>, issuer_name: Option<&[u8]>) -> Lookup<'_> {
        if let Some(ids) = aki.and_then(|a| self.by_key_id.get(a)) {
            return Lookup::KeyId(ids);
        }
        if let Some(ids) = issuer_name.and_then(|n| self.by_name.get(n)) {
            return Lookup::Name(ids);
        }
        Lookup::NotFound
    }

    /// Does now, on up to `threads` threads, what the backend would otherwise do on the first
    /// verification under each of these issuers, and for all keys (the fast backend builds
    /// its tables, 2-5 ms each): on first use, a thread needing a table that another thread
    /// is building waits for it. Nothing at all for no issuers (the shared state waits for
    /// a first verification then).
    pub fn warm_up(&self, ids: &[IssuerId], threads: usize) {
        if ids.is_empty() {
            return;
        }
        let next = std::sync::atomic::AtomicUsize::new(0);
        // Job 0 is the shared state (the largest table), then one job per issuer.
        let work = || loop {
            match next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) {
                0 => self.backend.warm_up(),
                j if j <= ids.len() => self.backend.warm_up_key(&self.get(ids[j - 1]).prepared),
                _ => return,
            }
        };
        std::thread::scope(|scope| {
            for _ in 1..threads.clamp(1, ids.len() + 1) {
                scope.spawn(work);
            }
            work();
        });
    }

    /// Verifies (r, s) over `digest` under issuer `id` with the registry's backend.
    pub fn verify(&self, id: IssuerId, digest: &[u8; 32], r: &[u8; 32], s: &[u8; 32]) -> bool {
        self.backend
            .verify(&self.issuers[id].prepared, digest, r, s)
    }

    /// Issuer-key recovery pinned by the AKI (docs/issuer-keys.md): recovers the
    /// candidates, keeps the one whose `key_id()` equals `aki` (8 octets), adds it as
    /// [`KeySource::Recovered`] `{ from }` and returns its id (the existing id when the key
    /// is already known, whatever its source). `None` when no candidate matches (or `aki`
    /// is not 8 octets). See [`recover_pinned`] to recover without holding the registry.
    pub fn recover(
        &mut self,
        aki: &[u8],
        digest: &[u8; 32],
        r: &[u8; 32],
        s: &[u8; 32],
        from: String,
    ) -> Option<IssuerId> {
        let key = recover_pinned(aki, digest, r, s)?;
        Some(self.add(key, None, None, KeySource::Recovered { from }))
    }
}

impl<B: Backend + core::fmt::Debug> core::fmt::Debug for Registry<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Registry")
            .field("backend", &self.backend)
            .field("issuers", &self.issuers.len())
            .finish()
    }
}
