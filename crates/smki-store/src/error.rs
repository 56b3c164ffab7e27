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
            _ => None,
        }
    }
}

/// Wraps a backend error with what the store was doing.
pub(crate) fn doing(doing: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Backend { doing, source }
}
