//! The JSON API and the health endpoint (docs/service.md, "JSON API").
use crate::{blocking, media_type, respond, Shared};
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use serde::Deserialize;
use smki_scan::Verdict;
use smki_store::{normalise_serial, Day, Eui64, Extract, Kind, Query, StoreError, MAX_PAGE};

/// The largest JSON request body read.
pub const MAX_JSON_BYTES: usize = 16 * 1024;

/// The page size when a search names none.
pub const DEFAULT_PAGE: usize = 100;

const JSON: &str = "application/json";

/// A failed request: its status and one sentence.
pub(crate) struct Failure(StatusCode, String);

fn bad(message: impl Into<String>) -> Failure {
    Failure(StatusCode::BAD_REQUEST, message.into())
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        match e {
            StoreError::PageTooLarge { .. } => bad(format!("{e}.")),
            _ => Failure(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("The store failed: {e}."),
            ),
        }
    }
}

fn json_response(status: StatusCode, value: &impl serde::Serialize) -> Response {
    let body = serde_json::to_vec(value).expect("a response serialises");
    respond(status, JSON, body)
}

impl Failure {
    fn response(self) -> Response {
        json_response(self.0, &serde_json::json!({ "error": self.1 }))
    }
}

/// A query string's parameters, or a 400 saying what is wrong with it.
fn query_params<T>(params: Result<UrlQuery<T>, QueryRejection>) -> Result<T, Failure> {
    params
        .map(|UrlQuery(p)| p)
        .map_err(|e| bad(format!("Bad query string: {}.", e.body_text())))
}

fn reply(r: Result<Response, Failure>) -> Response {
    r.unwrap_or_else(Failure::response)
}

/// `GET /health`: the store answers, and how many certificates it holds.
pub(crate) async fn health(State(state): State<Shared>) -> Response {
    reply(
        async {
            let stats = blocking(&state, |s| s.stats()).await?;
            Ok(json_response(
                StatusCode::OK,
                &serde_json::json!({ "status": "ok", "certificates": stats.certificates }),
            ))
        }
        .await,
    )
}

/// `GET /metrics`: Prometheus text (requests, latency histogram, store size).
pub(crate) async fn metrics(State(state): State<Shared>) -> Response {
    let stats = blocking(&state, |s| s.stats()).await.ok();
    respond(
        StatusCode::OK,
        "text/plain; version=0.0.4; charset=utf-8",
        state.metrics.render(stats),
    )
}

/// Anything else.
pub(crate) async fn not_found() -> Response {
    Failure(
        StatusCode::NOT_FOUND,
        "No such endpoint: see docs/service.md for the service's endpoints.".into(),
    )
    .response()
}

/// A search's parameters, as a query string or a JSON object.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchParams {
    eui64: Option<String>,
    entity_id: Option<String>,
    serial: Option<String>,
    issuer_key_id: Option<String>,
    usage: Option<String>,
    role: Option<String>,
    status: Option<String>,
    issuer: Option<String>,
    verdict: Option<String>,
    kind: Option<String>,
    after: Option<i64>,
    limit: Option<usize>,
    /// The API key, read by the access check (`?apikey=`).
    #[serde(default, rename = "apikey")]
    _apikey: Option<String>,
}

/// The longest text a filter may hold.
const MAX_FILTER: usize = 256;

impl SearchParams {
    fn query(self) -> Result<Query, Failure> {
        let text = |name: &str, v: Option<String>| -> Result<Option<String>, Failure> {
            match v {
                Some(v) if v.len() > MAX_FILTER => Err(bad(format!(
                    "The {name} filter is longer than {MAX_FILTER} bytes."
                ))),
                v => Ok(v),
            }
        };
        let eui = |v: Option<String>| {
            v.map(|v| Eui64::parse(&v).map_err(|e| bad(format!("{e}."))))
                .transpose()
        };
        let one_of = |name: &str, v: Option<String>, allowed: &[&str]| {
            v.map(|v| {
                let up = v.to_ascii_uppercase();
                if allowed.contains(&up.as_str()) {
                    Ok(up)
                } else {
                    Err(bad(format!(
                        "{name} {:?} is not one of {}.",
                        v.chars().take(40).collect::<String>(),
                        allowed.join(", ")
                    )))
                }
            })
            .transpose()
        };
        let issuer_key_id = text("issuer_key_id", self.issuer_key_id)?
            .map(|k| {
                if !k.is_empty() && k.len() % 2 == 0 && k.bytes().all(|b| b.is_ascii_hexdigit()) {
                    Ok(k.to_ascii_lowercase())
                } else {
                    Err(bad(format!(
                        "issuer_key_id {:?} is not hex octets.",
                        k.chars().take(40).collect::<String>()
                    )))
                }
            })
            .transpose()?;
        let verdict = text("verdict", self.verdict)?
            .map(|v| {
                Verdict::parse(&v)
                    .map(|v| v.as_str().to_string())
                    .ok_or_else(|| {
                        bad(format!(
                            "verdict {v:?} is not one of {}.",
                            Verdict::ALL
                                .iter()
                                .map(|v| v.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    })
            })
            .transpose()?;
        let kind = self
            .kind
            .map(|k| {
                Kind::parse(&k).ok_or_else(|| {
                    bad(format!(
                        "kind {:?} is not one of {}.",
                        k.chars().take(40).collect::<String>(),
                        Kind::ALL.map(Kind::as_str).join(", ")
                    ))
                })
            })
            .transpose()?;
        let limit = self.limit.unwrap_or(DEFAULT_PAGE);
        if limit == 0 || limit > MAX_PAGE {
            return Err(bad(format!(
                "limit {limit} is out of range: a page holds 1 to {MAX_PAGE} certificates."
            )));
        }
        Ok(Query {
            eui64: eui(self.eui64)?,
            entity_id: eui(self.entity_id)?,
            serial: text("serial", self.serial)?
                .map(|s| normalise_serial(&s).map_err(|e| bad(format!("{e}."))))
                .transpose()?,
            issuer_key_id,
            usage: one_of("usage", self.usage, &["DS", "KA"])?,
            role: text("role", self.role)?.map(|r| r.to_ascii_uppercase()),
            status: one_of("status", self.status, &["P", "I", "N", "E", "R"])?,
            issuer: text("issuer", self.issuer)?,
            verdict,
            kind,
            after: self.after,
            limit,
        })
    }
}

async fn run_search(state: &Shared, params: SearchParams) -> Result<Response, Failure> {
    let query = params.query()?;
    let page = blocking(state, move |s| s.search(&query)).await?;
    Ok(json_response(StatusCode::OK, &page))
}

/// `GET /api/v1/certificates?eui64=...&limit=...`.
pub(crate) async fn search_get(
    State(state): State<Shared>,
    params: Result<UrlQuery<SearchParams>, QueryRejection>,
) -> Response {
    reply(
        async {
            let params = query_params(params)?;
            run_search(&state, params).await
        }
        .await,
    )
}

/// `POST /api/v1/search` with the same parameters as a JSON object.
pub(crate) async fn search_post(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    reply(
        async {
            match media_type(&headers).as_deref() {
                Some("application/json") => {}
                other => {
                    return Err(Failure(
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        format!(
                            "The request's content type is {}; this endpoint reads application/json.",
                            other.map_or("absent".to_string(), |o| format!("{o:?}"))
                        ),
                    ))
                }
            }
            let body = axum::body::to_bytes(body, MAX_JSON_BYTES).await.map_err(|_| {
                Failure(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("The request body is larger than {MAX_JSON_BYTES} bytes, the most this endpoint reads."),
                )
            })?;
            let params: SearchParams = serde_json::from_slice(&body)
                .map_err(|e| bad(format!("The request is not a search as JSON: {e}.")))?;
            run_search(&state, params).await
        }
        .await,
    )
}

/// How to retrieve a certificate.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RetrieveParams {
    format: Option<String>,
    /// The API key, read by the access check (`?apikey=`).
    #[serde(default, rename = "apikey")]
    _apikey: Option<String>,
}

/// `GET /api/v1/certificates/{sha256}?format=json|der|pem`.
pub(crate) async fn retrieve(
    State(state): State<Shared>,
    Path(sha256): Path<String>,
    params: Result<UrlQuery<RetrieveParams>, QueryRejection>,
) -> Response {
    reply(
        async {
            let params = query_params(params)?;
            let format = params.format.as_deref().unwrap_or("json");
            if !["json", "der", "pem"].contains(&format) {
                return Err(bad(format!(
                    "format {:?} is not one of json, der, pem.",
                    format.chars().take(40).collect::<String>()
                )));
            }
            if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad(format!(
                    "{:?} is not a SHA-256 (64 hex digits).",
                    sha256.chars().take(70).collect::<String>()
                )));
            }
            let found = blocking(&state, move |s| {
                let Some(meta) = s.by_sha256(&sha256)? else {
                    return Ok(None);
                };
                Ok(s.der(meta.id)?.map(|der| (meta, der)))
            })
            .await?;
            let Some((meta, der)) = found else {
                return Err(Failure(
                    StatusCode::NOT_FOUND,
                    "No certificate with that SHA-256 in the store.".into(),
                ));
            };
            Ok(match format {
                "der" => respond(StatusCode::OK, "application/pkix-cert", der),
                "pem" => respond(
                    StatusCode::OK,
                    "application/x-pem-file",
                    smki_repo::pem_block(&der),
                ),
                _ => {
                    let mut v = serde_json::to_value(&meta).expect("metadata serialises");
                    v["der"] = base64::engine::general_purpose::STANDARD
                        .encode(&der)
                        .into();
                    json_response(StatusCode::OK, &v)
                }
            })
        }
        .await,
    )
}

/// `GET /api/v1/extract/full?as_of=YYYY-MM-DD`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FullParams {
    as_of: Option<String>,
    /// The API key, read by the access check (`?apikey=`).
    #[serde(default, rename = "apikey")]
    _apikey: Option<String>,
}

/// `GET /api/v1/extract/delta?date=YYYY-MM-DD`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeltaParams {
    date: Option<String>,
    /// The API key, read by the access check (`?apikey=`).
    #[serde(default, rename = "apikey")]
    _apikey: Option<String>,
}

fn day(name: &str, text: &str) -> Result<Day, Failure> {
    Day::parse(text).map_err(|e| bad(format!("{name}: {e}.")))
}

/// `GET /api/v1/extract/full`: every certificate (as of a day), as an extract.
pub(crate) async fn extract_full(
    State(state): State<Shared>,
    params: Result<UrlQuery<FullParams>, QueryRejection>,
) -> Response {
    reply(
        async {
            let params = query_params(params)?;
            let as_of = params.as_of.map(|d| day("as_of", &d)).transpose()?;
            let name = match &as_of {
                Some(d) => format!("full-{}.csv", d.as_str().replace('-', "")),
                None => "full.csv".to_string(),
            };
            stream_extract(&state, Extract::Full { as_of }, name).await
        }
        .await,
    )
}

/// `GET /api/v1/extract/delta?date=`: the certificates stored or changed that day.
pub(crate) async fn extract_delta(
    State(state): State<Shared>,
    params: Result<UrlQuery<DeltaParams>, QueryRejection>,
) -> Response {
    reply(
        async {
            let params = query_params(params)?;
            let Some(date) = params.date else {
                return Err(bad("A delta names its day: ?date=YYYY-MM-DD."));
            };
            let day = day("date", &date)?;
            let name = format!("delta-{}.csv", day.as_str().replace('-', ""));
            stream_extract(&state, Extract::Delta { day }, name).await
        }
        .await,
    )
}

/// The chunks of an extract as a response body, made on a blocking thread and handed over
/// a channel of two chunks (memory flat in the size of the store). The header and the
/// first page are read before the response starts, so that a store failure there is a
/// 500; a failure later ends the body early (the client sees a truncated transfer).
async fn stream_extract(
    state: &Shared,
    extract: Extract,
    name: String,
) -> Result<Response, Failure> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, StoreError>>(2);
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || {
        for chunk in store.extract(extract) {
            let failed = chunk.is_err();
            if tx.blocking_send(chunk.map(Bytes::from)).is_err() || failed {
                break;
            }
        }
    });
    let mut first = Vec::new();
    for _ in 0..2 {
        match rx.recv().await {
            Some(chunk) => first.push(chunk?),
            None => break,
        }
    }
    let body = Body::from_stream(Chunks {
        first: first.into_iter(),
        rest: rx,
    });
    Ok(axum::http::Response::builder()
        .status(StatusCode::OK)
        .header(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")
        .header(
            axum::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        )
        .body(body)
        .expect("a valid response"))
}

/// The chunks already read, then the rest from the channel.
struct Chunks {
    first: std::vec::IntoIter<Bytes>,
    rest: tokio::sync::mpsc::Receiver<Result<Bytes, StoreError>>,
}

impl futures_core::Stream for Chunks {
    type Item = Result<Bytes, StoreError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        if let Some(b) = self.first.next() {
            return std::task::Poll::Ready(Some(Ok(b)));
        }
        self.rest.poll_recv(cx)
    }
}
