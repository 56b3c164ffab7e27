//! The PostgreSQL backend: a database on a server (`postgres://` URL, libpq's form), the
//! schema created on open, a small pool of connections (the sync `postgres` crate), each
//! batch one transaction sending its certificates as column arrays (`unnest`, one
//! statement). The SQL the dialects agree on is shared (`sql.rs`).
use crate::error::pg_doing;
use crate::sql::{self, INSERT_COLUMNS, ON_CONFLICT, SCHEMA_VERSION};
use crate::{
    Backend, CertMeta, Day, Extract, ExtractRow, NewCert, Page, Query, Stats, StoreError, Stored,
};
use ::postgres::types::ToSql;
use ::postgres::{Client, Config, NoTls, Row, Statement};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// The certificates table in PostgreSQL's types, and where the schema version lives.
const TABLE: &str = "
CREATE TABLE IF NOT EXISTS certificates (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    not_before    BIGINT,
    not_after     BIGINT,
    issued        TEXT,
    lifecycle     TEXT,
    manufacturing BOOLEAN,
    verdict       TEXT NOT NULL,
    codes         TEXT NOT NULL,
    source        TEXT NOT NULL,
    der           BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    day           TEXT NOT NULL,
    cert_id       BIGINT NOT NULL REFERENCES certificates (id),
    role          TEXT,
    usage         TEXT,
    status        TEXT,
    issued        TEXT,
    lifecycle     TEXT,
    manufacturing BOOLEAN
);
CREATE TABLE IF NOT EXISTS smki_schema (
    one     INTEGER PRIMARY KEY CHECK (one = 1),
    version BIGINT NOT NULL
);
";

/// The array type of each of [`INSERT_COLUMNS`], in order.
const ARRAY_TYPES: [&str; 22] = [
    "text[]",
    "text[]",
    "text[]",
    "text[]",
    "text[]",
    "text[]",
    "text[]",
    "text[]",
    "text[]",
    "text[]",
    "text[]",
    "text[]",
    "text[]",
    "bigint[]",
    "bigint[]",
    "text[]",
    "text[]",
    "boolean[]",
    "text[]",
    "text[]",
    "text[]",
    "bytea[]",
];

/// Schema creation is serialised between processes opening the same database.
const SCHEMA_LOCK: i64 = 0x736d_6b69_7374_6f72;

/// Connections kept open for reuse: as many as the service's concurrent store calls (64
/// clients), well under PostgreSQL's default `max_connections` (100). Opening one costs a
/// round of authentication and a runtime: churning past this bound is what slows a
/// service down (measured: 16 gave p99 333 ms at 64 clients).
const MAX_IDLE: usize = 64;

/// A batch's certificates upserted in one statement, each one inserted or changed recorded
/// in `changes` on the day `$23` (its extract metadata after the change), answering
/// (inserted, updated, DER bytes inserted); a row the conflict rule leaves alone is not
/// returned (unchanged).
fn upsert() -> String {
    let arrays: Vec<String> = ARRAY_TYPES
        .iter()
        .enumerate()
        .map(|(i, t)| format!("${}::{t}", i + 1))
        .collect();
    format!(
        "WITH up AS (
            INSERT INTO certificates ({INSERT_COLUMNS})
            SELECT * FROM unnest({})
            {ON_CONFLICT}
            RETURNING id, role, usage, status, issued, lifecycle, manufacturing,
                xmax = 0 AS fresh, octet_length(der) AS len),
        recorded AS (
            INSERT INTO changes (day, cert_id, role, usage, status, issued, lifecycle,
                manufacturing)
            SELECT ${}, id, role, usage, status, issued, lifecycle, manufacturing FROM up)
        SELECT count(*) FILTER (WHERE fresh), count(*) FILTER (WHERE NOT fresh),
            coalesce(sum(len) FILTER (WHERE fresh), 0)::bigint
        FROM up",
        arrays.join(", "),
        ARRAY_TYPES.len() + 1
    )
}

pub(crate) struct Postgres {
    config: Config,
    /// The URL without its password, for messages.
    url: String,
    idle: Mutex<Vec<Conn>>,
}

/// Statements a connection keeps prepared (searches differ by their filters: a few dozen).
const MAX_PREPARED: usize = 256;

/// A connection and the statements it has prepared: each SQL text is prepared once per
/// connection, not on every call (a round trip saved on each request).
struct Conn {
    client: Client,
    prepared: HashMap<String, Statement>,
}

impl Conn {
    fn statement(&mut self, sql: &str) -> Result<Statement, ::postgres::Error> {
        if let Some(s) = self.prepared.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        if self.prepared.len() >= MAX_PREPARED {
            self.prepared.clear();
        }
        self.prepared.insert(sql.to_string(), s.clone());
        Ok(s)
    }
}

impl Postgres {
    pub(crate) fn open(url: &str) -> Result<Postgres, StoreError> {
        let shown = without_password(url);
        let mut config: Config = url.parse().map_err(|source| StoreError::Connect {
            url: shown.clone(),
            source,
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("smki");
        }
        let pg = Postgres {
            config,
            url: shown,
            idle: Mutex::new(Vec::new()),
        };
        let found = pg.with("creating the schema", |conn| {
            let mut tx = conn.client.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
            let found: Option<i64> = if tx
                .query_one("SELECT to_regclass('certificates') IS NOT NULL", &[])?
                .get(0)
            {
                let versioned: bool = tx
                    .query_one("SELECT to_regclass('smki_schema') IS NOT NULL", &[])?
                    .get(0);
                Some(match versioned {
                    true => tx
                        .query_opt("SELECT version FROM smki_schema", &[])?
                        .map_or(0, |r| r.get(0)),
                    false => 0,
                })
            } else {
                None
            };
            if found.is_none_or(|v| v == SCHEMA_VERSION) {
                tx.batch_execute(TABLE)?;
                tx.batch_execute(sql::SHARED_SCHEMA)?;
                tx.execute(
                    "INSERT INTO smki_schema VALUES (1, $1)
                     ON CONFLICT (one) DO UPDATE SET version = excluded.version",
                    &[&SCHEMA_VERSION],
                )?;
                tx.commit()?;
            }
            Ok(found)
        })?;
        match found {
            Some(found) if found != SCHEMA_VERSION => Err(StoreError::Schema {
                found,
                expected: SCHEMA_VERSION,
            }),
            _ => Ok(pg),
        }
    }

    /// Runs `f` on a connection (from the pool, or a new one), kept for reuse unless it
    /// closed.
    fn with<T>(
        &self,
        what: &'static str,
        f: impl FnOnce(&mut Conn) -> Result<T, ::postgres::Error>,
    ) -> Result<T, StoreError> {
        let pooled = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => Conn {
                client: self
                    .config
                    .connect(NoTls)
                    .map_err(|source| StoreError::Connect {
                        url: self.url.clone(),
                        source,
                    })?,
                prepared: HashMap::new(),
            },
        };
        let out = f(&mut conn).map_err(pg_doing(what));
        if !conn.client.is_closed() {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            if idle.len() < MAX_IDLE {
                idle.push(conn);
            }
        }
        out
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // A connection closes through a runtime of its own, which cannot run on a thread of
        // another runtime (the service may drop the store there): close them on their own
        // thread.
        let idle = std::mem::take(self.idle.get_mut().unwrap_or_else(PoisonError::into_inner));
        if !idle.is_empty() {
            let _ = std::thread::spawn(move || drop(idle)).join();
        }
    }
}

sql::columns_for!(Row, ::postgres::Error, try_get);

/// A batch split into rounds that each hold a certificate at most once (an upsert cannot
/// touch a row twice): the second record of the same certificate goes to the second round,
/// and so on, so that the batch means what it would one record at a time.
fn rounds(batch: &[NewCert]) -> Vec<Vec<&NewCert>> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut rounds: Vec<Vec<&NewCert>> = Vec::new();
    for c in batch {
        let n = seen.entry(c.meta.sha256.as_str()).or_default();
        if *n == rounds.len() {
            rounds.push(Vec::new());
        }
        rounds[*n].push(c);
        *n += 1;
    }
    rounds
}

/// One round's certificates as one array per column, [`INSERT_COLUMNS`] order.
fn arrays<'a>(round: &[&'a NewCert]) -> Vec<Box<dyn ToSql + Sync + 'a>> {
    let text = |f: fn(&CertMeta) -> &str| -> Box<dyn ToSql + Sync + 'a> {
        Box::new(round.iter().map(|c| f(&c.meta)).collect::<Vec<&str>>())
    };
    let opt = |f: fn(&CertMeta) -> &Option<String>| -> Box<dyn ToSql + Sync + 'a> {
        Box::new(
            round
                .iter()
                .map(|c| f(&c.meta).as_deref())
                .collect::<Vec<Option<&str>>>(),
        )
    };
    let int = |f: fn(&CertMeta) -> Option<i64>| -> Box<dyn ToSql + Sync + 'a> {
        Box::new(round.iter().map(|c| f(&c.meta)).collect::<Vec<_>>())
    };
    vec![
        text(|m| &m.sha256),
        text(|m| &m.serial),
        text(|m| &m.serial_raw),
        text(|m| m.kind.as_str()),
        text(|m| &m.profile),
        opt(|m| &m.eui64),
        opt(|m| &m.entity_id),
        opt(|m| &m.role),
        opt(|m| &m.usage),
        opt(|m| &m.status),
        opt(|m| &m.subject),
        opt(|m| &m.issuer),
        opt(|m| &m.issuer_key_id),
        int(|m| m.not_before),
        int(|m| m.not_after),
        opt(|m| &m.issued),
        opt(|m| &m.lifecycle),
        Box::new(
            round
                .iter()
                .map(|c| c.meta.manufacturing)
                .collect::<Vec<_>>(),
        ),
        text(|m| &m.verdict),
        text(|m| &m.codes),
        text(|m| &m.source),
        Box::new(round.iter().map(|c| c.der.as_slice()).collect::<Vec<_>>()),
    ]
}

impl Backend for Postgres {
    fn insert(&self, batch: &[NewCert], day: &Day) -> Result<Stored, StoreError> {
        if batch.is_empty() {
            return Ok(Stored::default());
        }
        let upsert = upsert();
        self.with("storing a batch", |conn| {
            let statement = conn.statement(&upsert)?;
            let mut tx = conn.client.transaction()?;
            let mut stored = Stored::default();
            let mut der_bytes = 0i64;
            for round in rounds(batch) {
                let columns = arrays(&round);
                let mut params: Vec<&(dyn ToSql + Sync)> = columns.iter().map(|b| &**b).collect();
                let day = day.as_str();
                params.push(&day);
                let row = tx.query_one(&statement, &params)?;
                let (inserted, updated): (i64, i64) = (row.get(0), row.get(1));
                der_bytes += row.get::<_, i64>(2);
                stored.inserted += inserted as u64;
                stored.updated += updated as u64;
                stored.unchanged += (round.len() as i64 - inserted - updated) as u64;
            }
            tx.execute(
                &sql::placeholders(sql::COUNT, '$'),
                &[&(stored.inserted as i64), &der_bytes],
            )?;
            tx.commit()?;
            Ok(stored)
        })
    }

    fn extract_page(
        &self,
        extract: &Extract,
        after: i64,
        limit: usize,
    ) -> Result<Vec<ExtractRow>, StoreError> {
        let (text, day) = sql::extract(extract);
        let text = sql::placeholders(&text, '$');
        self.with("reading an extract", |conn| {
            let statement = conn.statement(&text)?;
            conn.client
                .query(&statement, &[&day, &after, &(limit as i64)])?
                .iter()
                .map(sql::extract_row)
                .collect()
        })
    }

    fn last_day(&self) -> Result<Option<Day>, StoreError> {
        let day: Option<String> = self.with("reading the last day", |conn| {
            Ok(conn.client.query_one(sql::LAST_DAY, &[])?.get(0))
        })?;
        sql::day_of(day)
    }

    fn search(&self, q: &Query) -> Result<Page, StoreError> {
        let (text, params) = sql::search(q);
        let text = sql::placeholders(&text, '$');
        let values: Vec<Box<dyn ToSql + Sync>> = params
            .into_iter()
            .map(|p| -> Box<dyn ToSql + Sync> {
                match p {
                    sql::Param::Text(t) => Box::new(t),
                    sql::Param::Int(i) => Box::new(i),
                }
            })
            .collect();
        let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|b| &**b).collect();
        let certificates = self.with("searching", |conn| {
            let statement = conn.statement(&text)?;
            conn.client
                .query(&statement, &params)?
                .iter()
                .map(sql::meta)
                .collect::<Result<Vec<_>, _>>()
        })?;
        Ok(sql::page(certificates, q.limit))
    }

    fn der(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        self.with("reading a certificate", |conn| {
            let statement = conn.statement(&sql::placeholders(sql::DER_BY_ID, '$'))?;
            Ok(conn.client.query_opt(&statement, &[&id])?.map(|r| r.get(0)))
        })
    }

    fn by_sha256(&self, sha256: &str) -> Result<Option<CertMeta>, StoreError> {
        self.with("looking up a certificate", |conn| {
            let statement = conn.statement(&sql::placeholders(&sql::by_sha256(), '$'))?;
            conn.client
                .query_opt(&statement, &[&sha256])?
                .as_ref()
                .map(sql::meta)
                .transpose()
        })
    }

    fn stats(&self) -> Result<Stats, StoreError> {
        self.with("counting", |conn| {
            let client = &mut conn.client;
            let counters = client.query_one(sql::COUNTERS, &[])?;
            let disk: i64 = client
                .query_one(
                    "SELECT sum(pg_total_relation_size(t::regclass))::bigint FROM unnest($1::text[]) t",
                    &[&sql::TABLES.to_vec()],
                )?
                .get(0);
            Ok(Stats {
                certificates: counters.get::<_, i64>(0) as u64,
                der_bytes: counters.get::<_, i64>(1) as u64,
                disk_bytes: Some(disk as u64),
            })
        })
    }
}

/// A `postgres://` URL with its password (in the user info, or a `password=` parameter)
/// replaced by `***`.
pub(crate) fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (main, query) = match rest.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (rest, None),
    };
    let main = match main.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => main.to_string(),
        },
        None => main.to_string(),
    };
    let query = query.map(|q| {
        q.split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k == "password" => format!("{k}=***"),
                _ => kv.to_string(),
            })
            .collect::<Vec<_>>()
            .join("&")
    });
    match query {
        Some(q) => format!("{scheme}://{main}?{q}"),
        None => format!("{scheme}://{main}"),
    }
}
