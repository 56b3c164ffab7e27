//! Making an examiner: [`ExaminerBuilder`], the only way to get an [`Examiner`]. It
//! registers the issuers, makes the first pass over the dump (its CA certificates
//! registered, unknown issuer keys recovered) and builds the issuers' verification state,
//! in that order, so that no command can forget a step and no verdict depends on the order
//! of the records.
use crate::Examiner;
use smki_der::Curve;
use smki_repo::{Error as RecordError, Locator, Record};
use smki_verify::{Backend, KeySource, Lookup, PublicKey};
use smki_x509::{sha256, CertView, Extensions, Fields, KeyAlgorithm, Oid};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::iter::Empty;

/// The extnIDs the first pass looks for, as `match` patterns (compared inline: a call per
/// extension to `Oid::from_der` cost the pass 3%).
const BASIC_CONSTRAINTS: &[u8] = Oid::BasicConstraints.der();
const AUTHORITY_KEY_IDENTIFIER: &[u8] = Oid::AuthorityKeyIdentifier.der();

/// No records (yet): the issuers and the dump of a new builder. Each is given once (chain
/// the records of several sources first), and a builder takes them only in this state.
pub type NoRecords = Empty<Result<Record, RecordError>>;

/// Gathers what an [`Examiner`] is made of; [`ExaminerBuilder::build`] makes it. Made by
/// [`Examiner::builder`]. The issuers and the dump are read by `build`, in that order,
/// whatever the order of the calls.
#[must_use = "a builder does nothing until it is built"]
pub struct ExaminerBuilder<B, I = NoRecords, D = NoRecords> {
    backend: B,
    recover: bool,
    issuers: I,
    dump: D,
}

/// An examiner made ready by [`ExaminerBuilder::build`], and what it was made from.
pub struct Prepared<B: Backend> {
    pub examiner: Examiner<B>,
    /// What the first pass over the dump found.
    pub found: IssuersFound,
    /// The issuer certificates that cannot serve as issuers (left out), and why.
    pub skipped: Vec<(Locator, IssuerRejected)>,
}

/// What the first pass over the dump found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct IssuersFound {
    /// CA certificates of the dump registered as anchors.
    pub anchors: usize,
    /// Issuer keys recovered from signatures (with `--recover-issuer-keys`).
    pub recovered: usize,
    /// Known issuers the records name by authorityKeyIdentifier: their verification state
    /// (the fast backend's tables) was built before the main pass.
    pub in_use: usize,
}

/// Why a certificate cannot serve as an issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IssuerRejected {
    /// It cannot be read as a certificate.
    Unreadable(smki_x509::Error),
    /// Its key is not a P-256 key.
    NotP256,
    /// Its P-256 key cannot be read.
    BadKey(smki_verify::Error),
}

impl fmt::Display for IssuerRejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IssuerRejected::Unreadable(e) => write!(f, "{e}"),
            IssuerRejected::NotP256 => write!(f, "not a P-256 key"),
            IssuerRejected::BadKey(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for IssuerRejected {}

impl<B: Backend> Examiner<B> {
    /// A builder of an examiner with this backend: see [`ExaminerBuilder`].
    pub fn builder(backend: B) -> ExaminerBuilder<B> {
        ExaminerBuilder {
            backend,
            recover: false,
            issuers: std::iter::empty(),
            dump: std::iter::empty(),
        }
    }
}

impl<B, I, D> ExaminerBuilder<B, I, D> {
    /// Recover unknown issuer keys from signatures, pinned by the authorityKeyIdentifier (in
    /// the first pass, and in examinations of records the dump did not hold).
    pub fn recover(self, recover: bool) -> Self {
        ExaminerBuilder { recover, ..self }
    }
}

impl<B, D> ExaminerBuilder<B, NoRecords, D> {
    /// CA certificates to verify against: each registered as an anchor under its SKI and
    /// subject name. A record that cannot be read makes `build` fail; a certificate that
    /// cannot serve as an issuer is left out and listed in [`Prepared::skipped`].
    pub fn issuers<J>(self, records: J) -> ExaminerBuilder<B, J::IntoIter, D>
    where
        J: IntoIterator<Item = Result<Record, RecordError>>,
    {
        ExaminerBuilder {
            backend: self.backend,
            recover: self.recover,
            issuers: records.into_iter(),
            dump: self.dump,
        }
    }
}

impl<B, I> ExaminerBuilder<B, I, NoRecords> {
    /// The records of the dump to examine, for the first pass: see
    /// [`ExaminerBuilder::build`]. Records the reader could not produce are passed over.
    pub fn dump<J>(self, records: J) -> ExaminerBuilder<B, I, J::IntoIter>
    where
        J: IntoIterator<Item = Result<Record, RecordError>>,
    {
        ExaminerBuilder {
            backend: self.backend,
            recover: self.recover,
            issuers: self.issuers,
            dump: records.into_iter(),
        }
    }
}

impl<B, I, D> ExaminerBuilder<B, I, D>
where
    B: Backend,
    I: Iterator<Item = Result<Record, RecordError>>,
    D: Iterator<Item = Result<Record, RecordError>>,
{
    /// The examiner, ready: the issuers registered; then the first pass over the dump, so
    /// that the verdicts do not depend on the order of the records: every CA certificate
    /// registered as an anchor and, when it recovers keys, the key of every
    /// authorityKeyIdentifier not yet known recovered (from the first signature that yields
    /// it); then, on up to `threads` threads, the verification state of every known issuer
    /// the dump names by AKI built, so that the main pass never waits for a table.
    ///
    /// Fails with the first issuer record that cannot be read: a run without its anchors
    /// would mislead.
    ///
    /// The first pass runs on one thread: reading the records is most of its cost (measured:
    /// 15 of 24 ms for 100k DER certificates), and sharing it out made it slower. Of each
    /// record it reads only the headers up to its extensions ([`Extensions::of_certificate`]);
    /// only CA certificates (a basicConstraints extension), and records naming an
    /// authorityKeyIdentifier not yet resolved when keys are recovered, are parsed.
    pub fn build(self, threads: usize) -> Result<Prepared<B>, RecordError> {
        let examiner = Examiner::new(self.backend, self.recover);
        let mut skipped = Vec::new();
        for rec in self.issuers {
            let rec = rec?;
            if let Err(e) = examiner.add_issuer(&rec.der, rec.locator.to_string()) {
                skipped.push((rec.locator, e));
            }
        }
        let (found, named) = examiner.first_pass(self.dump);
        let in_use = examiner.warm_up(&named, threads);
        Ok(Prepared {
            examiner,
            found: IssuersFound { in_use, ..found },
            skipped,
        })
    }
}

impl<B: Backend> Examiner<B> {
    /// Registers a CA certificate's key as an anchor, under its SKI and subject name.
    fn add_issuer(&self, der: &[u8], from: String) -> Result<(), IssuerRejected> {
        let view = CertView::split(der).map_err(IssuerRejected::Unreadable)?;
        let f = Fields::parse(&view).map_err(IssuerRejected::Unreadable)?;
        self.add_anchor(&f, from)
    }

    fn add_anchor(&self, f: &Fields, from: String) -> Result<(), IssuerRejected> {
        if f.key_algorithm != KeyAlgorithm::P256 {
            if let Some(curve) = f.key_algorithm.curve() {
                self.other_curves
                    .write()
                    .expect("other curves lock")
                    .add(f, curve);
            }
            return Err(IssuerRejected::NotP256);
        }
        let key = PublicKey::from_sec1(&f.public_key).map_err(IssuerRejected::BadKey)?;
        self.registry.write().expect("registry lock").add(
            key,
            f.subject_key_id.as_deref(),
            Some(f.subject.normalised.clone()),
            KeySource::Anchor { from },
        );
        Ok(())
    }

    /// The first pass over the dump (see [`ExaminerBuilder::build`]): what it found, and
    /// the 8-octet key identifiers the records name by authorityKeyIdentifier.
    fn first_pass(
        &self,
        records: impl Iterator<Item = Result<Record, RecordError>>,
    ) -> (IssuersFound, HashSet<[u8; 8]>) {
        let mut found = IssuersFound::default();
        // Key identifiers (8 octets: SMKI's) resolved, and named by the records.
        let mut resolved: HashSet<[u8; 8]> = HashSet::new();
        let mut named: HashSet<[u8; 8]> = HashSet::new();
        let mut last = None;
        for rec in records.flatten() {
            let (ca, aki) = ca_and_aki(&rec.der);
            if ca && self.add_ca_certificate(&rec) {
                found.anchors += 1;
            }
            let hint = aki.and_then(|k| <[u8; 8]>::try_from(k).ok());
            // Records of one issuer tend to come together: one set insert per run of them.
            if let Some(h) = hint.filter(|&h| last != Some(h)) {
                named.insert(h);
                last = Some(h);
            }
            if self.recover && aki.is_some() && !hint.is_some_and(|h| resolved.contains(&h)) {
                if let Some((known, recovered)) = self.learn_issuer_key(&rec.der) {
                    found.recovered += usize::from(recovered);
                    if let Ok(k) = <[u8; 8]>::try_from(known.as_slice()) {
                        resolved.insert(k);
                    }
                }
            }
        }
        (found, named)
    }

    /// Registers the certificate as an anchor if it is a CA certificate (basicConstraints
    /// cA) that can serve as one.
    fn add_ca_certificate(&self, rec: &Record) -> bool {
        let Ok(view) = CertView::split(&rec.der) else {
            return false;
        };
        Fields::parse(&view).is_ok_and(|f| {
            f.basic_constraints.is_some_and(|bc| bc.ca)
                && self.add_anchor(&f, rec.locator.to_string()).is_ok()
        })
    }

    /// Makes sure the key of this certificate's issuer is known, recovering it from the
    /// signature (pinned by the authorityKeyIdentifier). Returns the AKI and whether a key
    /// was recovered now; `None` when the record has no AKI, cannot be read, or no key could
    /// be recovered from it.
    fn learn_issuer_key(&self, der: &[u8]) -> Option<(Vec<u8>, bool)> {
        let view = CertView::split(der).ok()?;
        let f = Fields::parse(&view).ok()?;
        let aki = f.authority_key_id.clone()?;
        if let Lookup::KeyId(_) = self
            .registry
            .read()
            .expect("registry lock")
            .lookup(Some(&aki), None)
        {
            return Some((aki, false));
        }
        if !view.is_ecdsa_with_sha256() {
            return None;
        }
        let (r, s) = view.analyse_signature().rs()?;
        let key = smki_verify::recover_pinned(&aki, &sha256(view.tbs_bytes()), &r, &s)?;
        let from = format!("signature of certificate serial {}", f.serial_hex());
        self.registry.write().expect("registry lock").add(
            key,
            None,
            None,
            KeySource::Recovered { from },
        );
        Some((aki, true))
    }

    /// Builds now, on up to `threads` threads, the backend's state for G and for every known
    /// issuer one of these key identifiers names, rather than on the first verification
    /// under each. Returns how many issuers that was.
    fn warm_up(&self, key_ids: &HashSet<[u8; 8]>, threads: usize) -> usize {
        let registry = self.registry.read().expect("registry lock");
        let mut ids: Vec<_> = key_ids
            .iter()
            .flat_map(|k| match registry.lookup(Some(k), None) {
                Lookup::KeyId(ids) => ids,
                _ => &[],
            })
            .copied()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        registry.warm_up(&ids, threads);
        ids.len()
    }
}

/// The curves of CA keys that are not P-256, by key identifier and by subject name: a
/// signature such a CA made is analysed with its curve's order (and not verified).
#[derive(Debug, Default)]
pub(crate) struct OtherCurves {
    by_key_id: HashMap<Vec<u8>, Curve>,
    by_name: HashMap<Vec<u8>, Curve>,
}

impl OtherCurves {
    fn add(&mut self, f: &Fields, curve: Curve) {
        if let Some(ski) = &f.subject_key_id {
            self.by_key_id.insert(ski.clone(), curve);
        }
        self.by_key_id
            .insert(smki_x509::key_id(&f.public_key).to_vec(), curve);
        self.by_name.insert(f.subject.normalised.clone(), curve);
    }

    /// The curve of the CA with this key identifier (when `aki` is given) or name.
    pub(crate) fn lookup(&self, aki: Option<&[u8]>, issuer: &[u8]) -> Option<Curve> {
        match aki {
            Some(aki) => self.by_key_id.get(aki).copied(),
            None => self.by_name.get(issuer).copied(),
        }
    }
}

/// What the first pass reads of a record: whether it has a basicConstraints extension (a CA
/// certificate, perhaps), and the keyIdentifier of its authorityKeyIdentifier. Out of line,
/// so that the walk is compiled on its own (callgrind: 1% fewer instructions for the pass
/// than inlined in its loop).
#[inline(never)]
fn ca_and_aki(der: &[u8]) -> (bool, Option<&[u8]>) {
    let (mut ca, mut aki) = (false, None);
    for e in Extensions::of_certificate(der) {
        match e.oid {
            BASIC_CONSTRAINTS => ca = true,
            AUTHORITY_KEY_IDENTIFIER if aki.is_none() => aki = e.authority_key_id(),
            _ => {}
        }
    }
    (ca, aki)
}
