//! The store's errors.
use std::fmt;
use std::path::PathBuf;

/// Why the store could not do what was asked.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The store could not be opened or created at `path`.
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// The backend failed (`doing`: what the store was doing).
    Backend {
        doing: &'static str,
        source: rusqlite::Error,
    },
    /// The PostgreSQL server at `url` (shown without its password) could not be reached or
    /// refused the connection.
    Connect {
        url: String,
        source: postgres::Error,
    },
    /// The PostgreSQL server failed (`doing`: what the store was doing).
    Postgres {
        doing: &'static str,
        source: postgres::Error,
    },
    /// The store exists but was written by another version (its schema version).
    Schema { found: i64, expected: i64 },
    /// A page larger than the store hands out.
    PageTooLarge { asked: usize, max: usize },
    /// Not supported (yet).
    Unsupported { what: String },
    /// The store holds something this code never writes (`what`: where and what).
    Corrupt { what: String },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Open { path, source } => {
                write!(f, "cannot open the store {}: {source}", path.display())
            }
            StoreError::Backend { doing, source } => write!(f, "store: {doing}: {source}"),
            StoreError::Connect { url, source } => {
                write!(
                    f,
                    "cannot connect to the PostgreSQL store {url}: {}",
                    chain(source)
                )
            }
            StoreError::Postgres { doing, source } => {
                write!(f, "store: {doing}: {}", chain(source))
            }
            StoreError::Schema { found, expected } => write!(
                f,
                "the store has schema version {found}, this smki reads version {expected}"
            ),
            StoreError::PageTooLarge { asked, max } => {
                write!(
                    f,
                    "a page of {asked} certificates asked for, at most {max} are given"
                )
            }
            StoreError::Unsupported { what } => write!(f, "{what} are not supported yet"),
            StoreError::Corrupt { what } => write!(f, "the store is damaged: {what}"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Open { source, .. } | StoreError::Backend { source, .. } => Some(source),
            // Their message already holds the PostgreSQL error's whole chain ([`chain`]).
            StoreError::Connect { .. } | StoreError::Postgres { .. } => None,
            _ => None,
        }
    }
}

/// Wraps a backend error with what the store was doing.
pub(crate) fn doing(doing: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Backend { doing, source }
}

/// Wraps a PostgreSQL error with what the store was doing.
pub(crate) fn pg_doing(doing: &'static str) -> impl FnOnce(postgres::Error) -> StoreError {
    move |source| StoreError::Postgres { doing, source }
}

/// A PostgreSQL error with its causes (the server's message and SQLSTATE, or the I/O
/// error): the error's own text is often only its kind ("db error", "error connecting to
/// server").
fn chain(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
}
