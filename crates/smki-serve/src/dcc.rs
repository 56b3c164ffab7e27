//! The DCC Boxed SMKI web service (docs/service.md, "The DCC Boxed SMKI web service").
use crate::xml::{read_request, XmlError, MAX_XML_BYTES};
use crate::{blocking, media_type, respond, Shared};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use quick_xml::escape::escape;
use smki_store::{normalise_serial, CertMeta, Eui64, Kind, Query};
use std::fmt::Write;
use std::sync::atomic::Ordering;

const XML: &str = "application/xml; charset=utf-8";

/// The DCC client's status codes: 402 is "not found", 401 "invalid search parameters".
const NOT_FOUND: u16 = 402;
const INVALID: u16 = 401;

/// One request's failure: its HTTP status and one sentence.
struct Failure(StatusCode, String);

impl Failure {
    fn new(code: u16, message: impl Into<String>) -> Failure {
        Failure(
            StatusCode::from_u16(code).expect("a valid status"),
            message.into(),
        )
    }
}

impl From<XmlError> for Failure {
    fn from(e: XmlError) -> Failure {
        match e {
            XmlError::Malformed { .. } | XmlError::Shape { .. } => Failure::new(
                400,
                format!("The request is not the XML this service reads: {e}."),
            ),
            // Well-formed, but asks for what the service does not have.
            XmlError::Root { .. } | XmlError::UnknownElement { .. } | XmlError::Repeated { .. } => {
                Failure::new(INVALID, format!("Invalid search parameters: {e}."))
            }
        }
    }
}

/// The body, when it is XML of at most [`MAX_XML_BYTES`].
async fn xml_body(headers: &HeaderMap, body: Body) -> Result<axum::body::Bytes, Failure> {
    match media_type(headers).as_deref() {
        Some("application/xml" | "text/xml") => {}
        Some(other) => {
            return Err(Failure::new(
                415,
                format!(
                    "The request's content type is {other:?}; this service reads application/xml."
                ),
            ))
        }
        None => {
            return Err(Failure::new(
                415,
                "The request has no content type; this service reads application/xml.",
            ))
        }
    }
    axum::body::to_bytes(body, MAX_XML_BYTES)
        .await
        .map_err(|_| {
            Failure::new(
                413,
                format!("The request body is larger than {MAX_XML_BYTES} bytes, the most this service reads."),
            )
        })
}

/// A response element `root` with the code, message and audit reference, then `inner`.
fn envelope(
    state: &Shared,
    root: &str,
    status: StatusCode,
    message: &str,
    inner: &str,
) -> Response {
    let n = state.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let mut out = String::with_capacity(256 + inner.len());
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    let _ = write!(
        out,
        "<{root}><ResponseCode>{}</ResponseCode><ResponseMessage>{}</ResponseMessage><AuditReference>smki-{n}</AuditReference>{inner}</{root}>",
        status.as_u16(),
        escape(message)
    );
    respond(status, XML, out)
}

/// `<name>value</name>`, escaped.
fn element(out: &mut String, name: &str, value: &str) {
    let _ = write!(out, "<{name}>{}</{name}>", escape(value));
}

/// The serial as the service lists it: upper-case hex without leading zeros.
fn listed_serial(c: &CertMeta) -> String {
    c.serial.to_ascii_uppercase()
}

/// The role as the DCC service gives it: the OU's two hex digits as a decimal number.
fn decimal_role(c: &CertMeta) -> Option<String> {
    let role = c.role.as_deref()?;
    u8::from_str_radix(role, 16).ok().map(|r| r.to_string())
}

/// The subject fields of a result: a device's EUI-64 as CertificateSubjectAltName; a
/// party's entity id as CertificateSubjectName, with its role.
fn subject_fields(out: &mut String, c: &CertMeta) {
    if let Some(eui) = &c.eui64 {
        element(out, "CertificateSubjectAltName", eui);
    } else if let Some(entity) = &c.entity_id {
        element(out, "CertificateSubjectName", entity);
        if let Some(role) = decimal_role(c) {
            element(out, "CertificateRole", &role);
        }
    }
}

fn flags(out: &mut String, c: &CertMeta) {
    if let Some(usage) = &c.usage {
        element(out, "CertificateUsage", usage);
    }
    element(
        out,
        "ManufacturingFlag",
        if c.manufacturing == Some(true) {
            "true"
        } else {
            "false"
        },
    );
}

/// `POST /services/certificatesearch`.
pub(crate) async fn search(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    const ROOT: &str = "CertificateSearchResponse";
    match search_inner(&state, &headers, body).await {
        Ok(found) if found.is_empty() => envelope(
            &state,
            ROOT,
            StatusCode::from_u16(NOT_FOUND).expect("402"),
            "No certificate found",
            "",
        ),
        Ok(found) => {
            let mut inner = String::with_capacity(found.len() * 256);
            for c in &found {
                inner.push_str("<Result>");
                element(&mut inner, "CertificateSerial", &listed_serial(c));
                subject_fields(&mut inner, c);
                if let Some(status) = &c.status {
                    element(&mut inner, "CertificateStatus", status);
                }
                flags(&mut inner, c);
                inner.push_str("</Result>");
            }
            envelope(&state, ROOT, StatusCode::OK, "Success", &inner)
        }
        Err(Failure(status, message)) => envelope(&state, ROOT, status, &message, ""),
    }
}

async fn search_inner(
    state: &Shared,
    headers: &HeaderMap,
    body: Body,
) -> Result<Vec<CertMeta>, Failure> {
    let body = xml_body(headers, body).await?;
    let fields = read_request(
        &body,
        "CertificateSearchRequest",
        &["CertificateSubjectAltName", "CertificateSubjectName"],
    )?;
    let query = match fields.as_slice() {
        [(name, value)] => {
            let eui = Eui64::parse(value.trim())
                .map_err(|e| Failure::new(INVALID, format!("Invalid search parameters: {e}.")))?;
            if *name == "CertificateSubjectAltName" {
                Query {
                    eui64: Some(eui),
                    kind: Some(Kind::Device),
                    ..Query::default()
                }
            } else {
                Query {
                    entity_id: Some(eui),
                    ..Query::default()
                }
            }
        }
        _ => {
            return Err(Failure::new(
                INVALID,
                "Invalid search parameters: give exactly one of CertificateSubjectAltName (a device's EUI-64) and CertificateSubjectName (an entity id).",
            ))
        }
    };
    blocking(state, move |store| store.all(query))
        .await
        .map_err(|e| Failure::new(500, format!("The store failed: {e}.")))
}

/// `POST /services/retrievecertificate`.
pub(crate) async fn retrieve(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    const ROOT: &str = "CertificateDataResponse";
    match retrieve_inner(&state, &headers, body).await {
        Ok(None) => envelope(
            &state,
            ROOT,
            StatusCode::from_u16(NOT_FOUND).expect("402"),
            "No certificate found",
            "",
        ),
        Ok(Some((c, der))) => {
            let mut inner = String::with_capacity(der.len() * 2 + 256);
            inner.push_str("<CertificateResponse>");
            subject_fields(&mut inner, &c);
            element(&mut inner, "CertificateSerial", &listed_serial(&c));
            if let Some(status) = &c.status {
                element(&mut inner, "CertificateStatus", status);
            }
            element(
                &mut inner,
                "CertificateBody",
                &base64::engine::general_purpose::STANDARD.encode(&der),
            );
            flags(&mut inner, &c);
            inner.push_str("</CertificateResponse>");
            envelope(&state, ROOT, StatusCode::OK, "Success", &inner)
        }
        Err(Failure(status, message)) => envelope(&state, ROOT, status, &message, ""),
    }
}

async fn retrieve_inner(
    state: &Shared,
    headers: &HeaderMap,
    body: Body,
) -> Result<Option<(CertMeta, Vec<u8>)>, Failure> {
    let body = xml_body(headers, body).await?;
    let fields = read_request(&body, "CertificateDataRequest", &["CertificateSerial"])?;
    let [(_, serial)] = fields.as_slice() else {
        return Err(Failure::new(
            INVALID,
            "Invalid search parameters: give a CertificateSerial.",
        ));
    };
    let serial = normalise_serial(serial.trim())
        .map_err(|e| Failure::new(INVALID, format!("Invalid search parameters: {e}.")))?;
    blocking(state, move |store| {
        let query = Query {
            serial: Some(serial),
            limit: 1,
            ..Query::default()
        };
        let Some(c) = store.search(&query)?.certificates.into_iter().next() else {
            return Ok(None);
        };
        Ok(store.der(c.id)?.map(|der| (c, der)))
    })
    .await
    .map_err(|e| Failure::new(500, format!("The store failed: {e}.")))
}
