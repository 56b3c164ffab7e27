//! The SQLite backend: one file, WAL, a writer connection and a pool of readers.
use crate::error::doing;
use crate::{
    Backend, CertMeta, Day, Extract, ExtractRow, Kind, NewCert, Page, Query, Stats, StoreError,
    Stored,
};
use rusqlite::types::Value;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The schema this code reads and writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
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
CREATE INDEX IF NOT EXISTS certificates_serial ON certificates (serial);
CREATE INDEX IF NOT EXISTS certificates_eui64 ON certificates (eui64) WHERE eui64 IS NOT NULL;
CREATE INDEX IF NOT EXISTS certificates_entity_id ON certificates (entity_id) WHERE entity_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS certificates_issuer_key_id ON certificates (issuer_key_id);
CREATE TABLE IF NOT EXISTS counters (
    one          INTEGER PRIMARY KEY CHECK (one = 1),
    certificates INTEGER NOT NULL,
    der_bytes    INTEGER NOT NULL
);
INSERT OR IGNORE INTO counters VALUES (1, 0, 0);
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
CREATE INDEX IF NOT EXISTS changes_cert ON changes (cert_id, seq);
CREATE INDEX IF NOT EXISTS changes_day ON changes (day, seq);
";

/// A change: the certificate's extract metadata after it, on a day (portable SQL).
const RECORD_CHANGE: &str = "
INSERT INTO changes (day, cert_id, role, usage, status, issued, lifecycle, manufacturing)
SELECT ?1, id, role, usage, status, issued, lifecycle, manufacturing
FROM certificates WHERE sha256 = ?2
";

/// The metadata columns with the extract metadata of a change `ch` (in [`CertMeta`] order),
/// then the bytes.
const AS_OF_COLUMNS: &str = "c.id, c.sha256, c.serial, c.serial_raw, c.kind, c.profile, \
    c.eui64, c.entity_id, ch.role, ch.usage, ch.status, c.subject, c.issuer, c.issuer_key_id, \
    c.not_before, c.not_after, ch.issued, ch.lifecycle, ch.manufacturing, c.verdict, c.codes, \
    c.source, c.der";

/// A full extract as of a day (?1): each certificate with its last change up to then, by id.
const FULL_AS_OF: &str = "
SELECT c.id, {AS_OF} FROM certificates c
JOIN changes ch ON ch.seq = (
    SELECT max(seq) FROM changes WHERE cert_id = c.id AND day <= ?1)
WHERE c.id > ?2 ORDER BY c.id LIMIT ?3
";

/// A delta of a day (?1): each certificate changed that day with its last change of the
/// day, by that change's number.
const DELTA: &str = "
SELECT ch.seq, {AS_OF} FROM changes ch
JOIN certificates c ON c.id = ch.cert_id
WHERE ch.day = ?1 AND ch.seq > ?2 AND ch.seq = (
    SELECT max(seq) FROM changes WHERE cert_id = ch.cert_id AND day = ?1)
ORDER BY ch.seq LIMIT ?3
";

/// The metadata columns, in [`CertMeta`] order (`der` apart).
const COLUMNS: &str = "id, sha256, serial, serial_raw, kind, profile, eui64, entity_id, role, \
    usage, status, subject, issuer, issuer_key_id, not_before, not_after, issued, lifecycle, \
    manufacturing, verdict, codes, source";

/// A certificate already stored keeps its bytes; the new record's metadata replaces what it
/// has (an extract delta's new status), the rest is kept. The row is written only when
/// something changes, so that `changes()` tells an update from nothing new.
const UPSERT: &str = "
INSERT INTO certificates (sha256, serial, serial_raw, kind, profile, eui64, entity_id, role,
    usage, status, subject, issuer, issuer_key_id, not_before, not_after, issued, lifecycle,
    manufacturing, verdict, codes, source, der)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
    ?20, ?21, ?22)
ON CONFLICT (sha256) DO UPDATE SET
    role = coalesce(excluded.role, role),
    usage = coalesce(excluded.usage, usage),
    status = coalesce(excluded.status, status),
    issued = coalesce(excluded.issued, issued),
    lifecycle = coalesce(excluded.lifecycle, lifecycle),
    manufacturing = coalesce(excluded.manufacturing, manufacturing),
    verdict = excluded.verdict,
    codes = excluded.codes
WHERE coalesce(excluded.role, role) IS NOT role
    OR coalesce(excluded.usage, usage) IS NOT usage
    OR coalesce(excluded.status, status) IS NOT status
    OR coalesce(excluded.issued, issued) IS NOT issued
    OR coalesce(excluded.lifecycle, lifecycle) IS NOT lifecycle
    OR coalesce(excluded.manufacturing, manufacturing) IS NOT manufacturing
    OR excluded.verdict IS NOT verdict
    OR excluded.codes IS NOT codes
";

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
        conn.execute_batch(SCHEMA).map_err(open_err)?;
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

fn meta_of(row: &Row<'_>) -> Result<CertMeta, rusqlite::Error> {
    meta_at(row, 0)
}

/// The metadata in [`COLUMNS`] order from column `at` on.
fn meta_at(row: &Row<'_>, at: usize) -> Result<CertMeta, rusqlite::Error> {
    let kind: String = row.get(at + 4)?;
    Ok(CertMeta {
        id: row.get(at)?,
        sha256: row.get(at + 1)?,
        serial: row.get(at + 2)?,
        serial_raw: row.get(at + 3)?,
        kind: Kind::parse(&kind).unwrap_or(Kind::Unknown),
        profile: row.get(at + 5)?,
        eui64: row.get(at + 6)?,
        entity_id: row.get(at + 7)?,
        role: row.get(at + 8)?,
        usage: row.get(at + 9)?,
        status: row.get(at + 10)?,
        subject: row.get(at + 11)?,
        issuer: row.get(at + 12)?,
        issuer_key_id: row.get(at + 13)?,
        not_before: row.get(at + 14)?,
        not_after: row.get(at + 15)?,
        issued: row.get(at + 16)?,
        lifecycle: row.get(at + 17)?,
        manufacturing: row.get(at + 18)?,
        verdict: row.get(at + 19)?,
        codes: row.get(at + 20)?,
        source: row.get(at + 21)?,
    })
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
                .prepare_cached(UPSERT)
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
            "UPDATE counters SET certificates = certificates + ?1, der_bytes = der_bytes + ?2",
            params![stored.inserted as i64, der_bytes as i64],
        )
        .map_err(doing("counting"))?;
        tx.commit().map_err(doing("committing a batch"))?;
        Ok(stored)
    }

    fn search(&self, q: &Query) -> Result<Page, StoreError> {
        let mut clauses: Vec<&str> = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        let mut add = |clause: &'static str, v: Option<String>| {
            if let Some(v) = v {
                clauses.push(clause);
                values.push(Value::Text(v));
            }
        };
        add(
            "eui64 = ?",
            q.eui64.as_ref().map(|e| e.as_str().to_string()),
        );
        add(
            "entity_id = ?",
            q.entity_id.as_ref().map(|e| e.as_str().to_string()),
        );
        add("serial = ?", q.serial.clone());
        add("issuer_key_id = ?", q.issuer_key_id.clone());
        add("usage = ?", q.usage.clone());
        add("role = ?", q.role.clone());
        add("status = ?", q.status.clone());
        add("issuer = ?", q.issuer.clone());
        add("verdict = ?", q.verdict.clone());
        add("kind = ?", q.kind.map(|k| k.as_str().to_string()));
        if let Some(after) = q.after {
            clauses.push("id > ?");
            values.push(Value::Integer(after));
        }
        let mut sql = format!("SELECT {COLUMNS} FROM certificates");
        if !clauses.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&clauses.join(" AND "));
        }
        sql.push_str(" ORDER BY id LIMIT ?");
        values.push(Value::Integer(q.limit as i64 + 1));
        let mut certificates = self.read(
            |conn| {
                let mut stmt = conn.prepare_cached(&sql)?;
                let rows = stmt.query_map(rusqlite::params_from_iter(values.iter()), meta_of)?;
                rows.collect::<Result<Vec<_>, _>>()
            },
            "searching",
        )?;
        let next = if certificates.len() > q.limit {
            certificates.truncate(q.limit);
            certificates.last().map(|c| c.id)
        } else {
            None
        };
        Ok(Page { certificates, next })
    }

    fn der(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(
            |conn| {
                conn.prepare_cached("SELECT der FROM certificates WHERE id = ?1")?
                    .query_row([id], |r| r.get(0))
                    .optional()
            },
            "reading a certificate",
        )
    }

    fn by_sha256(&self, sha256: &str) -> Result<Option<CertMeta>, StoreError> {
        self.read(
            |conn| {
                conn.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM certificates WHERE sha256 = ?1"
                ))?
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
        // A full extract as of now is as of the last day there can be.
        let (sql, day) = match extract {
            Extract::Full { as_of } => {
                (FULL_AS_OF, as_of.as_ref().map_or("9999-12-31", Day::as_str))
            }
            Extract::Delta { day } => (DELTA, day.as_str()),
        };
        let sql = sql.replace("{AS_OF}", AS_OF_COLUMNS);
        self.read(
            |conn| {
                let mut stmt = conn.prepare_cached(&sql)?;
                let rows = stmt.query_map(params![day, after, limit as i64], |row| {
                    // Column 0 is the cursor, then the metadata, then the bytes.
                    Ok(ExtractRow {
                        cursor: row.get(0)?,
                        meta: meta_at(row, 1)?,
                        der: row.get(23)?,
                    })
                })?;
                rows.collect()
            },
            "reading an extract",
        )
    }

    fn last_day(&self) -> Result<Option<Day>, StoreError> {
        let day: Option<String> = self.read(
            |conn| conn.query_row("SELECT max(day) FROM changes", [], |r| r.get(0)),
            "reading the last day",
        )?;
        // Only valid days are written; a store edited by hand is reported, not trusted.
        day.map(|d| {
            Day::parse(&d).map_err(|e| StoreError::Corrupt {
                what: format!("changes.day: {e}"),
            })
        })
        .transpose()
    }

    fn stats(&self) -> Result<Stats, StoreError> {
        let (certificates, der_bytes): (i64, i64) = self.read(
            |conn| {
                conn.query_row("SELECT certificates, der_bytes FROM counters", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
            },
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
