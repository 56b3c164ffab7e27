//! The repository store: each certificate's bytes with its indexed metadata (docs/service.md).
//!
//! The API ([`Store`], [`Query`], [`NewCert`], [`CertMeta`]) says nothing of the backend: a
//! backend implements [`Backend`], sharing the SQL the dialects agree on (`sql.rs`). Two
//! backends: SQLite, embedded (a single file, WAL), and PostgreSQL (a server, `postgres://`).
//! Metadata comes from the stages that already read certificates: the examiner's
//! [`Finding`] (profile fields, verdict, defect codes) and the extract's columns
//! ([`smki_repo::Metadata`]); nothing here parses a certificate.
#![forbid(unsafe_code)]

mod error;
mod postgres;
mod sql;
mod sqlite;
mod syntax;
#[doc(hidden)]
pub mod testing;

pub use error::StoreError;
pub use syntax::{normalise_serial, Day, Eui64, SyntaxError};

use serde::Serialize;
use smki_scan::Finding;
use smki_x509::Profile;
use std::path::Path;
use std::sync::Arc;

/// Where a store is, as `--db` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location<'a> {
    /// A SQLite file (`PATH` or `sqlite:PATH`).
    File(&'a Path),
    /// A PostgreSQL database (`postgres://...` or `postgresql://...`, libpq's URL form).
    Postgres(&'a str),
}

impl<'a> Location<'a> {
    pub fn of(spec: &'a str) -> Location<'a> {
        if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
            Location::Postgres(spec)
        } else {
            Location::File(Path::new(spec.strip_prefix("sqlite:").unwrap_or(spec)))
        }
    }
}

/// `spec` as it may be shown (printed, logged): a URL's password replaced by `***`.
pub fn shown(spec: &str) -> String {
    match Location::of(spec) {
        Location::Postgres(url) => postgres::without_password(url),
        Location::File(_) => spec.to_string(),
    }
}

/// What kind of certificate: the profile, coarsely (the DCC service tells devices from
/// organisations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Kind {
    Device,
    Organisation,
    /// Root, issuing CA or device CA.
    Ca,
    /// None of the SMKI profiles.
    Unknown,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Device, Kind::Organisation, Kind::Ca, Kind::Unknown];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Device => "device",
            Kind::Organisation => "organisation",
            Kind::Ca => "ca",
            Kind::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    fn of(profile: Profile) -> Kind {
        match profile {
            Profile::Device => Kind::Device,
            Profile::Organisation => Kind::Organisation,
            Profile::Root | Profile::IssuingCa | Profile::DeviceCa => Kind::Ca,
            _ => Kind::Unknown,
        }
    }
}

/// A certificate's metadata, as stored and as the services show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertMeta {
    /// The store's id (0 before it is stored).
    pub id: i64,
    /// SHA-256 of the certificate's bytes, hex: its identity in the store.
    pub sha256: String,
    /// The serial, lower-case hex without leading zeros (how the DCC service matches).
    pub serial: String,
    /// The serialNumber content octets exactly as encoded, hex.
    pub serial_raw: String,
    pub kind: Kind,
    /// The SMKI profile (root, issuing_ca, device_ca, organisation, device, unknown).
    pub profile: String,
    /// A device's EUI-64 (hardwareModuleName), `88-73-84-57-00-2F-96-6C`.
    pub eui64: Option<String>,
    /// A party's entity id (x500UniqueIdentifier), in the same form.
    pub entity_id: Option<String>,
    /// The remote-party role (OU, two hex digits) or, without one, the extract's role.
    pub role: Option<String>,
    /// DS or KA.
    pub usage: Option<String>,
    /// P pending, I in use, N not in use, E expired, R revoked (from an extract).
    pub status: Option<String>,
    pub subject: Option<String>,
    pub issuer: Option<String>,
    /// The authorityKeyIdentifier, hex.
    pub issuer_key_id: Option<String>,
    /// Validity, seconds since the epoch.
    pub not_before: Option<i64>,
    pub not_after: Option<i64>,
    /// The issuance date from the extract (YYYY-MM-DD).
    pub issued: Option<String>,
    pub lifecycle: Option<String>,
    pub manufacturing: Option<bool>,
    /// The examiner's verdict (clean, remediable, ...).
    pub verdict: String,
    /// The defect codes, comma-separated (empty when none).
    pub codes: String,
    /// Where it was loaded from (`file#record (byte N)`).
    pub source: String,
}

impl CertMeta {
    /// The extract's columns for this certificate (its row: [`smki_repo::extract_row`]):
    /// the serial as encoded, the subject, the EUI-64 (a device's or a party's entity id),
    /// and the repository's metadata.
    pub fn extract_metadata(&self) -> smki_repo::Metadata {
        // An empty field reads back as none: say none.
        let text = |v: &Option<String>| v.clone().filter(|t| !t.trim().is_empty());
        smki_repo::Metadata {
            status: text(&self.status),
            role: text(&self.role),
            usage: text(&self.usage),
            manufacturing: self.manufacturing,
            lifecycle: text(&self.lifecycle),
            serial: Some(self.serial_raw.clone()),
            subject: text(&self.subject),
            eui64: text(&self.eui64).or_else(|| text(&self.entity_id)),
            issued: text(&self.issued),
        }
    }
}

/// A certificate to store: its bytes and metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCert {
    pub meta: CertMeta,
    pub der: Vec<u8>,
}

impl NewCert {
    /// The certificate `der` as the examiner found it (`finding` of `der`, with the
    /// extract's metadata the record carried). `None` when the examiner could not read the
    /// certificate's fields: such a record is not a certificate the services can hand out.
    pub fn from_finding(finding: &Finding, der: &[u8]) -> Option<NewCert> {
        let profile = finding.profile?;
        let serial = finding.serial.as_deref()?;
        let kind = Kind::of(profile);
        let meta = finding.meta.as_ref();
        let (eui64, entity_id) = match kind {
            Kind::Device => (finding.eui64.clone(), None),
            _ => (None, finding.eui64.clone()),
        };
        let sha = finding.sha256.unwrap_or_else(|| smki_x509::sha256(der));
        Some(NewCert {
            meta: CertMeta {
                id: 0,
                sha256: hex::encode(sha),
                serial: normalise_serial(&hex::encode(serial)).unwrap_or_default(),
                serial_raw: hex::encode(serial),
                kind,
                profile: profile.as_str().to_string(),
                eui64,
                entity_id,
                role: finding
                    .role
                    .clone()
                    .or_else(|| meta.and_then(|m| m.role.clone()))
                    .map(|r| r.to_ascii_uppercase()),
                usage: finding
                    .usage
                    .map(|u| format!("{u:?}"))
                    .or_else(|| meta.and_then(|m| m.usage.clone())),
                status: meta.and_then(|m| m.status.clone()),
                subject: finding.subject.clone(),
                issuer: finding.issuer.clone(),
                issuer_key_id: finding.issuer_key_id.as_deref().map(hex::encode),
                not_before: finding.not_before,
                not_after: finding.not_after,
                issued: meta.and_then(|m| m.issued.clone()),
                lifecycle: meta.and_then(|m| m.lifecycle.clone()),
                manufacturing: meta.and_then(|m| m.manufacturing),
                verdict: finding.verdict.as_str().to_string(),
                codes: finding.codes_text(","),
                source: finding.locator.to_string(),
            },
            der: der.to_vec(),
        })
    }
}

/// A search. Every filter given must hold; `after` and `limit` page by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// A device's EUI-64.
    pub eui64: Option<Eui64>,
    /// A party's entity id (certificates other than devices).
    pub entity_id: Option<Eui64>,
    /// A serial, normalised ([`normalise_serial`]).
    pub serial: Option<String>,
    /// An authorityKeyIdentifier, lower-case hex.
    pub issuer_key_id: Option<String>,
    pub usage: Option<String>,
    /// Upper-case.
    pub role: Option<String>,
    pub status: Option<String>,
    /// The issuer's name as the store shows it.
    pub issuer: Option<String>,
    pub verdict: Option<String>,
    pub kind: Option<Kind>,
    /// Only ids above this one.
    pub after: Option<i64>,
    /// At most this many (at most [`MAX_PAGE`]).
    pub limit: usize,
}

/// The most certificates one search returns.
pub const MAX_PAGE: usize = 1000;

/// A page of results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page {
    pub certificates: Vec<CertMeta>,
    /// The `after` of the next page, when there is one.
    pub next: Option<i64>,
}

/// What a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stored {
    /// Certificates new to the store.
    pub inserted: u64,
    /// Already there (same SHA-256), metadata updated where the new record had some.
    pub updated: u64,
    /// Already there, nothing new.
    pub unchanged: u64,
}

impl std::ops::AddAssign for Stored {
    fn add_assign(&mut self, o: Stored) {
        self.inserted += o.inserted;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
    }
}

/// The size of the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub certificates: u64,
    /// The certificates' bytes, added up.
    pub der_bytes: u64,
    /// The store's size on disk (database and its log), where the backend can tell.
    pub disk_bytes: Option<u64>,
}

/// Which extract ([`Store::extract`]), in the format `smki simulate --format extract`
/// writes and `smki scan` reads.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Extract {
    /// Every certificate stored by the end of `as_of` (default: now), with its metadata as
    /// of then; in id (load) order.
    Full { as_of: Option<Day> },
    /// Every certificate stored or changed on `day`, with its metadata at the end of that
    /// day; in the order of their last change that day.
    Delta { day: Day },
}

/// One row of an extract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractRow {
    /// Where the next page starts (`after`): an id (full) or a change number (delta).
    pub cursor: i64,
    /// The metadata as of the extract's day.
    pub meta: CertMeta,
    pub der: Vec<u8>,
}

/// A storage backend. Every method takes `&self`: a backend keeps its own connections and
/// may be called from many threads.
pub trait Backend: Send + Sync {
    /// Stores a batch in one transaction. A certificate already stored (same SHA-256) is
    /// not stored again; its metadata is updated with what the new record has (an extract
    /// delta's new status), and kept where the new record has none. Each certificate
    /// inserted or updated is recorded as changed on `day`, with its extract metadata
    /// after the change (status, role, usage, lifecycle, manufacturing, issued): what
    /// [`Backend::extract_page`] reads back.
    fn insert(&self, batch: &[NewCert], day: &Day) -> Result<Stored, StoreError>;
    /// Up to `limit` rows of `extract` whose cursor is above `after`, in cursor order.
    fn extract_page(
        &self,
        extract: &Extract,
        after: i64,
        limit: usize,
    ) -> Result<Vec<ExtractRow>, StoreError>;
    /// The latest day a change was recorded on (None: an empty store).
    fn last_day(&self) -> Result<Option<Day>, StoreError>;
    /// A page of certificates that match, by id.
    fn search(&self, query: &Query) -> Result<Page, StoreError>;
    /// A certificate's bytes by id.
    fn der(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError>;
    /// A certificate's metadata by SHA-256 (hex, lower-case).
    fn by_sha256(&self, sha256: &str) -> Result<Option<CertMeta>, StoreError>;
    fn stats(&self) -> Result<Stats, StoreError>;
}

/// The store: a backend, shared.
#[derive(Clone)]
pub struct Store(Arc<dyn Backend>);

impl Store {
    /// Opens (creating its schema when absent) the store `spec` names ([`Location`]): a
    /// file path or `sqlite:PATH` (SQLite), or a `postgres://` URL (the database must exist).
    pub fn open(spec: &str) -> Result<Store, StoreError> {
        Ok(match Location::of(spec) {
            Location::File(path) => Store(Arc::new(sqlite::Sqlite::open(path)?)),
            Location::Postgres(url) => Store(Arc::new(postgres::Postgres::open(url)?)),
        })
    }

    /// Stores `batch`, recording its changes as made on `day` ([`Backend::insert`]).
    pub fn insert(&self, batch: &[NewCert], day: &Day) -> Result<Stored, StoreError> {
        self.0.insert(batch, day)
    }

    /// `extract` as text, streamed: the header line, then one chunk of rows
    /// ([`smki_repo::extract_row`]) per page of [`EXTRACT_PAGE`] certificates, so memory
    /// stays flat in the size of the store.
    pub fn extract(&self, extract: Extract) -> ExtractText {
        ExtractText {
            store: self.clone(),
            extract,
            after: Some(i64::MIN),
            header: true,
        }
    }

    /// The latest day a change was recorded on (None: an empty store).
    pub fn last_day(&self) -> Result<Option<Day>, StoreError> {
        self.0.last_day()
    }

    /// A page of matches; `query.limit` above [`MAX_PAGE`] is an error, 0 means `MAX_PAGE`.
    pub fn search(&self, query: &Query) -> Result<Page, StoreError> {
        if query.limit > MAX_PAGE {
            return Err(StoreError::PageTooLarge {
                asked: query.limit,
                max: MAX_PAGE,
            });
        }
        let mut q = query.clone();
        if q.limit == 0 {
            q.limit = MAX_PAGE;
        }
        self.0.search(&q)
    }

    /// Every certificate (at most [`MAX_PAGE`]) matching, without paging.
    pub fn all(&self, query: Query) -> Result<Vec<CertMeta>, StoreError> {
        Ok(self
            .search(&Query {
                limit: MAX_PAGE,
                ..query
            })?
            .certificates)
    }

    pub fn der(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.der(id)
    }

    pub fn by_sha256(&self, sha256: &str) -> Result<Option<CertMeta>, StoreError> {
        self.0.by_sha256(&sha256.to_ascii_lowercase())
    }

    pub fn stats(&self) -> Result<Stats, StoreError> {
        self.0.stats()
    }
}

/// Certificates per chunk of a streamed extract.
pub const EXTRACT_PAGE: usize = 500;

/// An extract's text in chunks ([`Store::extract`]).
pub struct ExtractText {
    store: Store,
    extract: Extract,
    /// The cursor of the next page; None when done.
    after: Option<i64>,
    header: bool,
}

impl Iterator for ExtractText {
    type Item = Result<String, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if std::mem::take(&mut self.header) {
            return Some(Ok(format!("{}\n", smki_repo::EXTRACT_HEADER)));
        }
        let after = self.after?;
        let rows = match self
            .store
            .0
            .extract_page(&self.extract, after, EXTRACT_PAGE)
        {
            Ok(rows) => rows,
            Err(e) => {
                self.after = None;
                return Some(Err(e));
            }
        };
        if rows.len() < EXTRACT_PAGE {
            self.after = None;
        } else {
            self.after = rows.last().map(|r| r.cursor);
        }
        if rows.is_empty() {
            return None;
        }
        let mut text = String::with_capacity(rows.len() * 800);
        for r in &rows {
            text.push_str(&smki_repo::extract_row(
                &r.der,
                Some(&r.meta.extract_metadata()),
            ));
        }
        Some(Ok(text))
    }
}

#[cfg(test)]
mod tests;
