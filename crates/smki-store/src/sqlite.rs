//! The SQLite backend: one file, WAL, a writer connection and a pool of readers.
use crate::error::doing;
use crate::sql::{self, INSERT_COLUMNS, ON_CONFLICT, SCHEMA_VERSION};
use crate::{
    Backend, CertMeta, Day, Extract, ExtractRow, NewCert, Page, Query, Stats, StoreError, Stored,
};
use rusqlite::types::Value;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The tables in SQLite's types (indexes and counters: [`sql::SHARED_SCHEMA`]); the schema
/// version is `PRAGMA user_version`.
const TABLE: &str = "
CREATE TABLE IF NOT EXISTS certificates (
    id            INTEGER PRIMARY KEY,
    sha256        TEXT NOT NULL UNIQUE,
    serial        TEXT NOT NULL,
    serial_raw    TEXT NOT NULL,
    kind          TEXT NOT NULL,
    profile       TEXT NOT NULL,
    eui64         TEXT,
    entity_id     TEXT,
    role          TEXT,
    usage         TEXT,
    status        TEXT,
    subject       TEXT,
    issuer        TEXT,
    issuer_key_id TEXT,
    not_before    INTEGER,
    not_after     INTEGER,
    issued        TEXT,
    lifecycle     TEXT,
    manufacturing INTEGER,
    verdict       TEXT NOT NULL,
    codes         TEXT NOT NULL,
    source        TEXT NOT NULL,
    der           BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (
    seq           INTEGER PRIMARY KEY,
    day           TEXT NOT NULL,
    cert_id       INTEGER NOT NULL REFERENCES certificates (id),
    role          TEXT,
    usage         TEXT,
    status        TEXT,
    issued        TEXT,
    lifecycle     TEXT,
    manufacturing INTEGER
);
";

/// A change: the certificate's extract metadata after it, on a day (portable SQL).
const RECORD_CHANGE: &str = "
INSERT INTO changes (day, cert_id, role, usage, status, issued, lifecycle, manufacturing)
SELECT ?1, id, role, usage, status, issued, lifecycle, manufacturing
FROM certificates WHERE sha256 = ?2
";

/// One certificate, upserted (`changes()` tells an update from nothing new).
fn upsert() -> String {
    let values: Vec<String> = (1..=22).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO certificates ({INSERT_COLUMNS}) VALUES ({}) {ON_CONFLICT}",
        values.join(", ")
    )
}

/// The writer's page cache, KiB: the unique and serial/EUI-64 indexes of a million
/// certificates are written in random order, and stay in memory with this (the cache
/// grows only as pages are used; SQLite's default is 2 MiB).
const WRITER_CACHE_KIB: i64 = 512 * 1024;

/// How much of the file the readers map (shared by all, through the OS page cache):
/// lookups read pages in place instead of copying them into each reader's cache.
const READER_MMAP_BYTES: i64 = 1 << 32;

/// Readers kept open for reuse.
const MAX_IDLE_READERS: usize = 16;

pub(crate) struct Sqlite {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

fn configure(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

impl Sqlite {
    pub(crate) fn open(path: &Path) -> Result<Sqlite, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        configure(&conn).map_err(open_err)?;
        conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)
            .map_err(open_err)?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(open_err)?;
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'certificates'",
                [],
                |r| r.get(0),
            )
            .map_err(open_err)?;
        if tables > 0 && version != SCHEMA_VERSION {
            return Err(StoreError::Schema {
                found: version,
                expected: SCHEMA_VERSION,
            });
        }
        conn.execute_batch(TABLE).map_err(open_err)?;
        conn.execute_batch(sql::SHARED_SCHEMA).map_err(open_err)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(open_err)?;
        Ok(Sqlite {
            path: path.to_path_buf(),
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
        })
    }

    /// Runs `f` on a reader connection (from the pool, or a new one).
    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, rusqlite::Error>,
        what: &'static str,
    ) -> Result<T, StoreError> {
        let pooled = self.readers.lock().expect("reader pool").pop();
        let conn = match pooled {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(doing("opening a reader"))?;
                configure(&c).map_err(doing("opening a reader"))?;
                c.pragma_update(None, "mmap_size", READER_MMAP_BYTES)
                    .map_err(doing("opening a reader"))?;
                c
            }
        };
        let out = f(&conn).map_err(doing(what));
        let mut pool = self.readers.lock().expect("reader pool");
        if pool.len() < MAX_IDLE_READERS {
            pool.push(conn);
        }
        out
    }
}

sql::columns_for!(Row<'_>, rusqlite::Error, get);

fn meta_of(row: &Row<'_>) -> Result<CertMeta, rusqlite::Error> {
    sql::meta_at(row, 0)
}

impl Backend for Sqlite {
    fn insert(&self, batch: &[NewCert], day: &Day) -> Result<Stored, StoreError> {
        let mut conn = self.writer.lock().expect("writer");
        let tx = conn.transaction().map_err(doing("starting a batch"))?;
        let mut stored = Stored::default();
        let mut der_bytes = 0u64;
        {
            let mut exists = tx
                .prepare_cached("SELECT 1 FROM certificates WHERE sha256 = ?1")
                .map_err(doing("preparing the insert"))?;
            let mut stmt = tx
                .prepare_cached(&upsert())
                .map_err(doing("preparing the insert"))?;
            let mut record = tx
                .prepare_cached(RECORD_CHANGE)
                .map_err(doing("preparing the insert"))?;
            for c in batch {
                let m = &c.meta;
                let known = exists
                    .exists([&m.sha256])
                    .map_err(doing("looking up a certificate"))?;
                let changed = stmt
                    .execute(params![
                        m.sha256,
                        m.serial,
                        m.serial_raw,
                        m.kind.as_str(),
                        m.profile,
                        m.eui64,
                        m.entity_id,
                        m.role,
                        m.usage,
                        m.status,
                        m.subject,
                        m.issuer,
                        m.issuer_key_id,
                        m.not_before,
                        m.not_after,
                        m.issued,
                        m.lifecycle,
                        m.manufacturing,
                        m.verdict,
                        m.codes,
                        m.source,
                        c.der,
                    ])
                    .map_err(doing("inserting a certificate"))?;
                if changed > 0 {
                    record
                        .execute(params![day.as_str(), m.sha256])
                        .map_err(doing("recording a change"))?;
                }
                if !known {
                    stored.inserted += 1;
                    der_bytes += c.der.len() as u64;
                } else if changed == 0 {
                    stored.unchanged += 1;
                } else {
                    stored.updated += 1;
                }
            }
        }
        tx.execute(
            sql::COUNT,
            params![stored.inserted as i64, der_bytes as i64],
        )
        .map_err(doing("counting"))?;
        tx.commit().map_err(doing("committing a batch"))?;
        Ok(stored)
    }

    fn search(&self, q: &Query) -> Result<Page, StoreError> {
        let (sql, params) = sql::search(q);
        let values: Vec<Value> = params
            .into_iter()
            .map(|p| match p {
                sql::Param::Text(t) => Value::Text(t),
                sql::Param::Int(i) => Value::Integer(i),
            })
            .collect();
        let certificates = self.read(
            |conn| {
                let mut stmt = conn.prepare_cached(&sql)?;
                let rows = stmt.query_map(rusqlite::params_from_iter(values.iter()), meta_of)?;
                rows.collect::<Result<Vec<_>, _>>()
            },
            "searching",
        )?;
        Ok(sql::page(certificates, q.limit))
    }

    fn der(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(
            |conn| {
                conn.prepare_cached(sql::DER_BY_ID)?
                    .query_row([id], |r| r.get(0))
                    .optional()
            },
            "reading a certificate",
        )
    }

    fn by_sha256(&self, sha256: &str) -> Result<Option<CertMeta>, StoreError> {
        self.read(
            |conn| {
                conn.prepare_cached(&sql::by_sha256())?
                    .query_row([sha256], meta_of)
                    .optional()
            },
            "looking up a certificate",
        )
    }

    fn extract_page(
        &self,
        extract: &Extract,
        after: i64,
        limit: usize,
    ) -> Result<Vec<ExtractRow>, StoreError> {
        let (text, day) = sql::extract(extract);
        self.read(
            |conn| {
                let mut stmt = conn.prepare_cached(&text)?;
                let rows =
                    stmt.query_map(params![day, after, limit as i64], |r| sql::extract_row(r))?;
                rows.collect()
            },
            "reading an extract",
        )
    }

    fn last_day(&self) -> Result<Option<Day>, StoreError> {
        let day: Option<String> = self.read(
            |conn| conn.query_row(sql::LAST_DAY, [], |r| r.get(0)),
            "reading the last day",
        )?;
        sql::day_of(day)
    }

    fn stats(&self) -> Result<Stats, StoreError> {
        let (certificates, der_bytes): (i64, i64) = self.read(
            |conn| conn.query_row(sql::COUNTERS, [], |r| Ok((r.get(0)?, r.get(1)?))),
            "counting",
        )?;
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        Ok(Stats {
            certificates: certificates as u64,
            der_bytes: der_bytes as u64,
            disk_bytes: Some(size(&self.path) + size(Path::new(&wal))),
        })
    }
}
