//! `smki serve`: the repository service over a store (docs/service.md).
//!
//! - The DCC Boxed SMKI web service, wire-compatible with the DCC's own client:
//!   `POST /services/certificatesearch` and `POST /services/retrievecertificate` (XML).
//! - A JSON API: `GET /api/v1/certificates?...` and `POST /api/v1/search` (search, paged),
//!   `GET /api/v1/certificates/{sha256}?format=der|pem|json` (retrieve),
//!   `GET /api/v1/extract/full?as_of=` and `GET /api/v1/extract/delta?date=` (the
//!   repository's extracts, generated from the store, streamed).
//! - `GET /health`.
//!
//! A bad request gets a 4xx and one sentence; the store runs on blocking threads.
#![forbid(unsafe_code)]

pub mod access;
mod api;
mod dcc;
pub mod issuance;
pub mod xml;

pub use access::{Keys, Role, BOXED_TEST_KEY};
pub use issuance::{Issuance, IssuanceError};

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use smki_store::{Store, StoreError};
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// What the handlers share.
pub(crate) struct AppState {
    pub(crate) store: Store,
    /// Numbers the DCC responses' AuditReference.
    pub(crate) requests: AtomicU64,
    /// The accepted API keys; `None`: no key needed.
    pub(crate) keys: Option<Keys>,
    pub(crate) metrics: access::Metrics,
    /// Store calls running at once ([`STORE_CALLS`]); the others wait their turn here.
    pub(crate) store_calls: tokio::sync::Semaphore,
}

/// At most this many store calls run at once. SQLite work is CPU and page-cache bound:
/// more threads than this only add switching, and each one needs a reader connection
/// (the store keeps 16 open; past that every call would open and close one).
const STORE_CALLS: usize = 8;

/// How the service runs.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Options {
    /// The API keys every request but `/health` must present; `None`: open.
    pub keys: Option<Keys>,
    /// A living repository: new certificates and status moves while serving.
    pub issuance: Option<Issuance>,
}

impl Options {
    pub fn with_keys(keys: Option<Keys>) -> Options {
        Options {
            keys,
            issuance: None,
        }
    }

    pub fn with_issuance(mut self, issuance: Option<Issuance>) -> Options {
        self.issuance = issuance;
        self
    }
}

pub(crate) type Shared = Arc<AppState>;

/// The service's routes over `store`.
pub fn router(store: Store, options: Options) -> Router {
    let state: Shared = Arc::new(AppState {
        store,
        requests: AtomicU64::new(0),
        keys: options.keys,
        metrics: access::Metrics::default(),
        store_calls: tokio::sync::Semaphore::new(STORE_CALLS),
    });
    Router::new()
        .route("/health", get(api::health))
        .route("/metrics", get(api::metrics))
        .route("/services/certificatesearch", post(dcc::search))
        .route("/services/retrievecertificate", post(dcc::retrieve))
        .route("/api/v1/certificates", get(api::search_get))
        .route("/api/v1/search", post(api::search_post))
        .route("/api/v1/certificates/{sha256}", get(api::retrieve))
        .route("/api/v1/extract/full", get(api::extract_full))
        .route("/api/v1/extract/delta", get(api::extract_delta))
        .fallback(api::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::guard,
        ))
        .with_state(state)
}

/// Serves `store` on `listen` until SIGINT or SIGTERM. `ready` is called with the address
/// bound (the port, when `listen` asked for port 0) before the first request is taken.
/// With [`Options::issuance`], the repository lives meanwhile (stopped, and its thread
/// joined, when the service stops): the answer then says how many certificates it issued
/// and moved.
pub fn serve(
    store: Store,
    listen: SocketAddr,
    mut options: Options,
    ready: impl FnOnce(SocketAddr),
) -> std::io::Result<Option<(u64, u64)>> {
    let living = options
        .issuance
        .take()
        .map(|i| issuance::Living::new(store.clone(), i))
        .transpose()
        .map_err(std::io::Error::other)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_io()
        .enable_time()
        .build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind(listen))?;
    ready(listener.local_addr()?);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let life = living.map(|l| issuance::spawn(l, stop.clone()));
    let served = runtime.block_on(async move {
        axum::serve(listener, router(store, options))
            .with_graceful_shutdown(shutdown())
            .await
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let lived = match life.map(|t| t.join().expect("the issuance thread")) {
        Some(Ok(counts)) => Some(counts),
        // Already reported by the thread; the service itself ran.
        Some(Err(_)) | None => None,
    };
    served.map(|()| lived)
}

async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// Runs a store call on a blocking thread, once one of the [`STORE_CALLS`] places is free.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &Shared,
    f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let _place = state
        .store_calls
        .acquire()
        .await
        .expect("the semaphore is never closed");
    let state = state.clone();
    match tokio::task::spawn_blocking(move || f(&state.store)).await {
        Ok(r) => r,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// The media type of a request (lower-case, parameters dropped), `None` when absent.
pub(crate) fn media_type(headers: &HeaderMap) -> Option<String> {
    let ct = headers.get(header::CONTENT_TYPE)?;
    let text = String::from_utf8_lossy(ct.as_bytes());
    Some(
        text.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase(),
    )
}

/// A response with `status`, `content_type` and `body`.
pub(crate) fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<axum::body::Body>,
) -> Response {
    (status, [(header::CONTENT_TYPE, content_type)], body.into()).into_response()
}
