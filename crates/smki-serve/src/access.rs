//! Access (API keys with roles) and metrics: one middleware in front of every route
//! (docs/service.md, "Access" and "Metrics").
use crate::{respond, Shared};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// What a key may do. Every role reads; operator and approver are for the repository's
/// changes (governed replacement), which the service does not offer yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Role {
    Reader,
    Operator,
    Approver,
}

impl Role {
    fn parse(s: &str) -> Option<Role> {
        match s {
            "reader" => Some(Role::Reader),
            "operator" => Some(Role::Operator),
            "approver" => Some(Role::Approver),
            _ => None,
        }
    }
}

/// DCC Boxed's published test key, which its client sends (`--boxed-compat` accepts it as
/// a reader).
pub const BOXED_TEST_KEY: &str = "u3bg9gt38htd0j2";

/// The keys the service accepts: SHA-256 hashes only (a key itself is never kept).
#[derive(Debug, Clone, Default)]
pub struct Keys {
    entries: Vec<([u8; 32], Role)>,
}

/// A key file that cannot be used: the file, the 1-based line, and why.
#[derive(Debug)]
#[non_exhaustive]
pub struct KeyFileError {
    pub file: PathBuf,
    pub line: usize,
    pub why: String,
}

impl fmt::Display for KeyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "key file {}: {}", self.file.display(), self.why)
        } else {
            write!(
                f,
                "key file {}, line {}: {}",
                self.file.display(),
                self.line,
                self.why
            )
        }
    }
}

impl std::error::Error for KeyFileError {}

impl Keys {
    /// Reads a key file: one key a line, `ROLE SHA256` (the role: reader, operator or
    /// approver; the SHA-256 of the key, 64 hex digits, as `printf %s KEY | sha256sum`
    /// prints it), then optionally a name; `#` starts a comment; blank lines are ignored.
    pub fn load(path: &Path) -> Result<Keys, KeyFileError> {
        let err = |line, why: String| KeyFileError {
            file: path.to_path_buf(),
            line,
            why,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(0, e.to_string()))?;
        let mut keys = Keys::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let mut words = line.split_whitespace();
            let (Some(role), Some(hash)) = (words.next(), words.next()) else {
                return Err(err(i + 1, "expected ROLE SHA256 [NAME]".into()));
            };
            let role = Role::parse(role).ok_or_else(|| {
                err(
                    i + 1,
                    format!("role {role:?} is not one of reader, operator, approver"),
                )
            })?;
            let mut digest = [0u8; 32];
            if hash.len() != 64 || hex::decode_to_slice(hash, &mut digest).is_err() {
                return Err(err(
                    i + 1,
                    "the key must be given as its SHA-256, 64 hex digits (never the key itself)"
                        .into(),
                ));
            }
            keys.entries.push((digest, role));
        }
        if keys.entries.is_empty() {
            return Err(err(0, "no keys".into()));
        }
        Ok(keys)
    }

    /// Adds a key by its value (hashed here).
    pub fn add_key(&mut self, key: &str, role: Role) {
        self.entries
            .push((Sha256::digest(key.as_bytes()).into(), role));
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The role of `key`, comparing its hash with every stored hash in constant time (the
    /// time does not depend on which bytes match, nor on which entry does).
    pub fn role_of(&self, key: &str) -> Option<Role> {
        let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        let mut found: Option<Role> = None;
        for (stored, role) in &self.entries {
            let mut diff = 0u8;
            for (a, b) in stored.iter().zip(&digest) {
                diff |= a ^ b;
            }
            if std::hint::black_box(diff) == 0 {
                found = found.max(Some(*role));
            }
        }
        found
    }
}

/// The key a request presents: `?apikey=` (as the DCC client sends it), an `X-API-Key`
/// header, or `Authorization: Bearer KEY`.
fn presented_key(req: &Request) -> Option<String> {
    if let Some(query) = req.uri().query() {
        for pair in query.split('&') {
            if let Some(v) = pair.strip_prefix("apikey=") {
                return Some(percent_decode(v));
            }
        }
    }
    let headers = req.headers();
    if let Some(v) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(v.to_string());
    }
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|v| v.trim().to_string())
}

/// `%XX` escapes and `+` of a query-string value (invalid escapes kept as they are).
fn percent_decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
                match (digit(bytes[i + 1]), digit(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The routes, as metric labels (a fixed set: an unknown path is `other`).
const ROUTES: &[&str] = &[
    "/health",
    "/metrics",
    "/services/certificatesearch",
    "/services/retrievecertificate",
    "/api/v1/certificates",
    "/api/v1/search",
    "/api/v1/certificates/{sha256}",
    "/api/v1/extract/full",
    "/api/v1/extract/delta",
    "other",
];

fn route_of(path: &str) -> usize {
    if let Some(i) = ROUTES.iter().position(|r| *r == path) {
        return i;
    }
    if path.starts_with("/api/v1/certificates/") {
        return ROUTES
            .iter()
            .position(|r| *r == "/api/v1/certificates/{sha256}")
            .expect("a route");
    }
    ROUTES.len() - 1
}

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Requests and latencies, by route (and status).
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    inner: Mutex<MetricsInner>,
}

#[derive(Debug, Default)]
struct MetricsInner {
    /// (route, status) -> requests.
    requests: BTreeMap<(usize, u16), u64>,
    /// route -> (bucket counts, +Inf last; sum of seconds; count).
    latency: BTreeMap<usize, (Vec<u64>, f64, u64)>,
}

impl Metrics {
    fn record(&self, route: usize, status: u16, seconds: f64) {
        let mut m = self.inner.lock().expect("metrics");
        *m.requests.entry((route, status)).or_default() += 1;
        let (buckets, sum, count) = m
            .latency
            .entry(route)
            .or_insert_with(|| (vec![0; BUCKETS.len() + 1], 0.0, 0));
        let i = BUCKETS
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(BUCKETS.len());
        buckets[i] += 1;
        *sum += seconds;
        *count += 1;
    }

    /// The Prometheus text exposition (version 0.0.4).
    pub(crate) fn render(&self, stats: Option<smki_store::Stats>) -> String {
        let m = self.inner.lock().expect("metrics");
        let mut out = String::new();
        out.push_str("# HELP smki_http_requests_total HTTP requests answered, by route and status.\n# TYPE smki_http_requests_total counter\n");
        for ((route, status), n) in &m.requests {
            let _ = writeln!(
                out,
                "smki_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                ROUTES[*route]
            );
        }
        out.push_str("# HELP smki_http_request_duration_seconds Time to answer a request, by route.\n# TYPE smki_http_request_duration_seconds histogram\n");
        for (route, (buckets, sum, count)) in &m.latency {
            let route = ROUTES[*route];
            let mut cumulative = 0;
            for (i, n) in buckets.iter().enumerate() {
                cumulative += n;
                let le = BUCKETS.get(i).map_or("+Inf".to_string(), |b| b.to_string());
                let _ = writeln!(
                    out,
                    "smki_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "smki_http_request_duration_seconds_sum{{route=\"{route}\"}} {sum}\nsmki_http_request_duration_seconds_count{{route=\"{route}\"}} {count}"
            );
        }
        if let Some(s) = stats {
            let _ = writeln!(out, "# HELP smki_store_certificates Certificates in the store.\n# TYPE smki_store_certificates gauge\nsmki_store_certificates {}", s.certificates);
            let _ = writeln!(out, "# HELP smki_store_der_bytes The stored certificates' bytes, added up.\n# TYPE smki_store_der_bytes gauge\nsmki_store_der_bytes {}", s.der_bytes);
            if let Some(d) = s.disk_bytes {
                let _ = writeln!(out, "# HELP smki_store_disk_bytes The store's size on disk.\n# TYPE smki_store_disk_bytes gauge\nsmki_store_disk_bytes {d}");
            }
        }
        out
    }
}

/// The middleware: checks the key (when the service has keys) and records the request.
pub(crate) async fn guard(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let path = req.uri().path().to_string();
    let route = route_of(&path);
    let open = path == "/health";
    let response = match (&state.keys, open) {
        (Some(keys), false) => match presented_key(&req).and_then(|k| keys.role_of(&k)) {
            Some(_role) => next.run(req).await,
            None => denied(&path),
        },
        _ => next.run(req).await,
    };
    state.metrics.record(
        route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// 401, in the form of the endpoint (XML for the DCC endpoints, JSON otherwise).
fn denied(path: &str) -> Response {
    const MESSAGE: &str = "Access denied: this service needs an API key (?apikey=, X-API-Key or Authorization: Bearer).";
    if let Some(root) = match path {
        "/services/certificatesearch" => Some("CertificateSearchResponse"),
        "/services/retrievecertificate" => Some("CertificateDataResponse"),
        _ => None,
    } {
        return respond(
            StatusCode::UNAUTHORIZED,
            "application/xml; charset=utf-8",
            format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><{root}><ResponseCode>401</ResponseCode><ResponseMessage>{MESSAGE}</ResponseMessage></{root}>"),
        );
    }
    respond(
        StatusCode::UNAUTHORIZED,
        "application/json",
        serde_json::to_vec(&serde_json::json!({ "error": MESSAGE })).expect("JSON"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_hashed_and_matched_by_hash() {
        let dir = std::env::temp_dir().join(format!("smki-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("keys");
        let reader = hex::encode(Sha256::digest(b"reader-key"));
        let approver = hex::encode(Sha256::digest(b"approver-key"));
        std::fs::write(
            &file,
            format!("# keys\nreader {reader} alice\n\napprover {approver}\n"),
        )
        .unwrap();
        let keys = Keys::load(&file).unwrap();
        assert_eq!(keys.role_of("reader-key"), Some(Role::Reader));
        assert_eq!(keys.role_of("approver-key"), Some(Role::Approver));
        assert_eq!(keys.role_of("reader-kez"), None);
        assert_eq!(keys.role_of(""), None);
        // The key itself in the file is refused.
        std::fs::write(&file, "reader reader-key\n").unwrap();
        assert_eq!(Keys::load(&file).unwrap_err().line, 1);
        std::fs::write(&file, format!("admin {reader}\n")).unwrap();
        assert!(Keys::load(&file).unwrap_err().why.contains("admin"));
        std::fs::write(&file, "# nothing\n").unwrap();
        assert!(Keys::load(&file).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn query_values_are_percent_decoded() {
        assert_eq!(percent_decode("a%2Bb+c%"), "a+b c%");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
    }
}
