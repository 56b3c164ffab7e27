//! The SQL the backends share, where SQLite's and PostgreSQL's dialects agree: column lists,
//! indexes, the counters, the upsert's conflict rule and the search. Each backend keeps only
//! what differs (the certificates table's types, how a batch is sent, the schema version's
//! home). Placeholders are written `?N` and each backend turns them into its own
//! ([`placeholders`]).
use crate::Query;

/// The schema this code reads and writes; another is refused.
pub(crate) const SCHEMA_VERSION: i64 = 2;

/// The metadata columns, in [`crate::CertMeta`] order (`der` apart).
pub(crate) const COLUMNS: &str = "id, sha256, serial, serial_raw, kind, profile, eui64, \
    entity_id, role, usage, status, subject, issuer, issuer_key_id, not_before, not_after, \
    issued, lifecycle, manufacturing, verdict, codes, source";

/// The columns an insert writes, in [`crate::CertMeta`] order (no id), `der` last.
pub(crate) const INSERT_COLUMNS: &str = "sha256, serial, serial_raw, kind, profile, eui64, \
    entity_id, role, usage, status, subject, issuer, issuer_key_id, not_before, not_after, \
    issued, lifecycle, manufacturing, verdict, codes, source, der";

/// Indexes and the counters, after the certificates table (each dialect's own types).
pub(crate) const SHARED_SCHEMA: &str = "
CREATE INDEX IF NOT EXISTS certificates_serial ON certificates (serial);
CREATE INDEX IF NOT EXISTS certificates_eui64 ON certificates (eui64) WHERE eui64 IS NOT NULL;
CREATE INDEX IF NOT EXISTS certificates_entity_id ON certificates (entity_id) WHERE entity_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS certificates_issuer_key_id ON certificates (issuer_key_id);
CREATE TABLE IF NOT EXISTS counters (
    one          INTEGER PRIMARY KEY CHECK (one = 1),
    certificates BIGINT NOT NULL,
    der_bytes    BIGINT NOT NULL
);
INSERT INTO counters VALUES (1, 0, 0) ON CONFLICT DO NOTHING;
CREATE INDEX IF NOT EXISTS changes_cert ON changes (cert_id, seq);
CREATE INDEX IF NOT EXISTS changes_day ON changes (day, seq);
";

/// The store's tables (their sizes make the store's size on disk).
pub(crate) const TABLES: [&str; 3] = ["certificates", "counters", "changes"];

/// A certificate already stored keeps its bytes; the new record's metadata replaces what it
/// has (an extract delta's new status), the rest is kept. The row is written only when
/// something changes, so that the backend can tell an update from nothing new.
pub(crate) const ON_CONFLICT: &str = "
ON CONFLICT (sha256) DO UPDATE SET
    role = coalesce(excluded.role, certificates.role),
    usage = coalesce(excluded.usage, certificates.usage),
    status = coalesce(excluded.status, certificates.status),
    issued = coalesce(excluded.issued, certificates.issued),
    lifecycle = coalesce(excluded.lifecycle, certificates.lifecycle),
    manufacturing = coalesce(excluded.manufacturing, certificates.manufacturing),
    verdict = excluded.verdict,
    codes = excluded.codes
WHERE coalesce(excluded.role, certificates.role) IS DISTINCT FROM certificates.role
    OR coalesce(excluded.usage, certificates.usage) IS DISTINCT FROM certificates.usage
    OR coalesce(excluded.status, certificates.status) IS DISTINCT FROM certificates.status
    OR coalesce(excluded.issued, certificates.issued) IS DISTINCT FROM certificates.issued
    OR coalesce(excluded.lifecycle, certificates.lifecycle) IS DISTINCT FROM certificates.lifecycle
    OR coalesce(excluded.manufacturing, certificates.manufacturing)
        IS DISTINCT FROM certificates.manufacturing
    OR excluded.verdict IS DISTINCT FROM certificates.verdict
    OR excluded.codes IS DISTINCT FROM certificates.codes
";

/// Adds a batch's new certificates to the counters.
pub(crate) const COUNT: &str =
    "UPDATE counters SET certificates = certificates + ?1, der_bytes = der_bytes + ?2";

pub(crate) const COUNTERS: &str = "SELECT certificates, der_bytes FROM counters";

pub(crate) const DER_BY_ID: &str = "SELECT der FROM certificates WHERE id = ?1";

pub(crate) fn by_sha256() -> String {
    format!("SELECT {COLUMNS} FROM certificates WHERE sha256 = ?1")
}

/// The metadata columns with the extract metadata of a change `ch` (in [`crate::CertMeta`]
/// order), then the bytes.
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

/// The SQL of a page of `extract` (`?1` the day, `?2` after, `?3` the limit) and its day.
pub(crate) fn extract(extract: &crate::Extract) -> (String, &str) {
    // A full extract as of now is as of the last day there can be.
    let (sql, day) = match extract {
        crate::Extract::Full { as_of } => (
            FULL_AS_OF,
            as_of.as_ref().map_or("9999-12-31", crate::Day::as_str),
        ),
        crate::Extract::Delta { day } => (DELTA, day.as_str()),
    };
    (sql.replace("{AS_OF}", AS_OF_COLUMNS), day)
}

/// A row of [`extract`]: the cursor, then the metadata, then the bytes.
pub(crate) fn extract_row<R: Columns>(row: &R) -> Result<crate::ExtractRow, R::Error> {
    Ok(crate::ExtractRow {
        cursor: row.int(0)?,
        meta: meta_at(row, 1)?,
        der: row.bytes(23)?,
    })
}

pub(crate) const LAST_DAY: &str = "SELECT max(day) FROM changes";

/// The last day as stored: only valid days are written; a store edited by hand is
/// reported, not trusted.
pub(crate) fn day_of(day: Option<String>) -> Result<Option<crate::Day>, crate::StoreError> {
    day.map(|d| {
        crate::Day::parse(&d).map_err(|e| crate::StoreError::Corrupt {
            what: format!("changes.day: {e}"),
        })
    })
    .transpose()
}

/// A search parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Param {
    Text(String),
    Int(i64),
}

/// The SQL of a search (`?N` placeholders) and its parameters: every filter given, `after`,
/// then a limit one above the page (to tell whether there is a next page).
pub(crate) fn search(q: &Query) -> (String, Vec<Param>) {
    let text = |v: Option<&str>| v.map(|v| Param::Text(v.to_string()));
    let kind = q.kind.map(|k| k.as_str());
    let filters = [
        ("eui64", text(q.eui64.as_ref().map(|e| e.as_str()))),
        ("entity_id", text(q.entity_id.as_ref().map(|e| e.as_str()))),
        ("serial", text(q.serial.as_deref())),
        ("issuer_key_id", text(q.issuer_key_id.as_deref())),
        ("usage", text(q.usage.as_deref())),
        ("role", text(q.role.as_deref())),
        ("status", text(q.status.as_deref())),
        ("issuer", text(q.issuer.as_deref())),
        ("verdict", text(q.verdict.as_deref())),
        ("kind", text(kind)),
    ];
    let mut clauses = Vec::new();
    let mut params = Vec::new();
    for (column, value) in filters {
        if let Some(v) = value {
            params.push(v);
            clauses.push(format!("{column} = ?{}", params.len()));
        }
    }
    if let Some(after) = q.after {
        params.push(Param::Int(after));
        clauses.push(format!("id > ?{}", params.len()));
    }
    let mut sql = format!("SELECT {COLUMNS} FROM certificates");
    if !clauses.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&clauses.join(" AND "));
    }
    params.push(Param::Int(q.limit as i64 + 1));
    sql.push_str(&format!(" ORDER BY id LIMIT ?{}", params.len()));
    (sql, params)
}

/// `sql` with its `?N` placeholders written `{mark}N` (PostgreSQL's are `$N`).
pub(crate) fn placeholders(sql: &str, mark: char) -> String {
    sql.replace('?', &mark.to_string())
}

/// A page from the rows of a search that asked for `limit + 1`.
pub(crate) fn page(mut certificates: Vec<crate::CertMeta>, limit: usize) -> crate::Page {
    let next = if certificates.len() > limit {
        certificates.truncate(limit);
        certificates.last().map(|c| c.id)
    } else {
        None
    };
    crate::Page { certificates, next }
}

/// A result row, whichever backend read it: typed access by column index.
pub(crate) trait Columns {
    type Error;
    fn int(&self, i: usize) -> Result<i64, Self::Error>;
    fn opt_int(&self, i: usize) -> Result<Option<i64>, Self::Error>;
    fn text(&self, i: usize) -> Result<String, Self::Error>;
    fn opt_text(&self, i: usize) -> Result<Option<String>, Self::Error>;
    fn opt_bool(&self, i: usize) -> Result<Option<bool>, Self::Error>;
    fn bytes(&self, i: usize) -> Result<Vec<u8>, Self::Error>;
}

/// [`Columns`] for a backend's row type, through its typed getter (`get` / `try_get`).
macro_rules! columns_for {
    ($row:ty, $error:ty, $get:ident) => {
        impl $crate::sql::Columns for $row {
            type Error = $error;
            fn int(&self, i: usize) -> Result<i64, $error> {
                self.$get(i)
            }
            fn opt_int(&self, i: usize) -> Result<Option<i64>, $error> {
                self.$get(i)
            }
            fn text(&self, i: usize) -> Result<String, $error> {
                self.$get(i)
            }
            fn opt_text(&self, i: usize) -> Result<Option<String>, $error> {
                self.$get(i)
            }
            fn opt_bool(&self, i: usize) -> Result<Option<bool>, $error> {
                self.$get(i)
            }
            fn bytes(&self, i: usize) -> Result<Vec<u8>, $error> {
                self.$get(i)
            }
        }
    };
}
pub(crate) use columns_for;

/// The metadata of a row selected as [`COLUMNS`].
pub(crate) fn meta<R: Columns>(row: &R) -> Result<crate::CertMeta, R::Error> {
    meta_at(row, 0)
}

/// The metadata in [`COLUMNS`] order from column `at` on.
pub(crate) fn meta_at<R: Columns>(row: &R, at: usize) -> Result<crate::CertMeta, R::Error> {
    Ok(crate::CertMeta {
        id: row.int(at)?,
        sha256: row.text(at + 1)?,
        serial: row.text(at + 2)?,
        serial_raw: row.text(at + 3)?,
        kind: crate::Kind::parse(&row.text(at + 4)?).unwrap_or(crate::Kind::Unknown),
        profile: row.text(at + 5)?,
        eui64: row.opt_text(at + 6)?,
        entity_id: row.opt_text(at + 7)?,
        role: row.opt_text(at + 8)?,
        usage: row.opt_text(at + 9)?,
        status: row.opt_text(at + 10)?,
        subject: row.opt_text(at + 11)?,
        issuer: row.opt_text(at + 12)?,
        issuer_key_id: row.opt_text(at + 13)?,
        not_before: row.opt_int(at + 14)?,
        not_after: row.opt_int(at + 15)?,
        issued: row.opt_text(at + 16)?,
        lifecycle: row.opt_text(at + 17)?,
        manufacturing: row.opt_bool(at + 18)?,
        verdict: row.text(at + 19)?,
        codes: row.text(at + 20)?,
        source: row.text(at + 21)?,
    })
}
