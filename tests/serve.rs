//! `smki repo load` and `smki serve`, end to end through the built binary: a simulated
//! repository (extract format) is loaded into a store and served on 127.0.0.1 (an ephemeral
//! port), then asked by the DCC's own client (`@smartdcc/dccboxed-keystore`, Node, in
//! tests/dcc_client), by raw XML and by the JSON API.
//!
//! Oracles: the simulator's ground truth (`ground-truth.jsonl`: each certificate's SHA-256,
//! serial, EUI-64, usage, status, role, written by the simulator, not by the store) decides
//! what each query must find; the DCC client (with Node's OpenSSL-backed X509Certificate)
//! decides whether the answers are what a DCC Boxed client accepts.
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn smki() -> Command {
    Command::new(env!("CARGO_BIN_EXE_smki"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A simulated repository loaded into a store.
struct Repo {
    dir: tempfile::TempDir,
    /// The ground truth, by SHA-256.
    truth: HashMap<String, Value>,
    /// The store (`--db`): a SQLite file in `dir`, or the PostgreSQL database `postgres`.
    db: String,
    postgres: Option<smki_store::testing::TestDb>,
}

impl Repo {
    fn sim(&self) -> PathBuf {
        self.dir.path().join("sim")
    }
    fn db(&self) -> &str {
        &self.db
    }
    /// The same repository, stored in a PostgreSQL database of its own.
    fn on_postgres(mut self, db: smki_store::testing::TestDb) -> Repo {
        self.db = db.url.clone();
        self.postgres = Some(db);
        self
    }
    /// The ground-truth entries for which `keep` holds.
    fn truth_where(&self, keep: impl Fn(&Value) -> bool) -> Vec<&Value> {
        self.truth.values().filter(|t| keep(t)).collect()
    }
}

fn simulate(count: u64, seed: u64) -> Repo {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = smki()
        .args([
            "simulate",
            "--count",
            &count.to_string(),
            "--seed",
            &seed.to_string(),
        ])
        .args(["--format", "extract", "-q", "--out"])
        .arg(dir.path().join("sim"))
        .output()
        .expect("smki simulate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.path().join("sim/ground-truth.jsonl")).unwrap();
    let truth = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| (v["sha256"].as_str().unwrap().to_string(), v))
        .collect();
    let db = dir.path().join("store.db").to_str().unwrap().to_string();
    Repo {
        dir,
        truth,
        db,
        postgres: None,
    }
}

/// `smki repo load` of `paths` into the repo's store: (exit code, summary JSON, stderr).
fn load(repo: &Repo, paths: &[PathBuf]) -> (i32, Value, String) {
    let json = repo.dir.path().join("load.json");
    let out = smki()
        .args(["repo", "load", "-q"])
        .args(paths)
        .arg("--db")
        .arg(repo.db())
        .arg("--json")
        .arg(&json)
        .output()
        .expect("smki repo load");
    let summary = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    (
        out.status.code().unwrap_or(-1),
        summary,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn loaded(count: u64, seed: u64) -> Repo {
    load_checked(simulate(count, seed))
}

/// `repo` loaded, every certificate of the ground truth stored once.
fn load_checked(repo: Repo) -> Repo {
    let (code, summary, stderr) =
        load(&repo, &[repo.sim().join("extract"), repo.sim().join("cas")]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(summary["errors"], 0);
    assert_eq!(
        summary["certificates_in_store"].as_u64().unwrap() as usize,
        repo.truth.len(),
        "every certificate of the ground truth is stored once"
    );
    repo
}

/// A running `smki serve`, killed when dropped.
struct Server {
    child: Child,
    base: String,
    /// Everything it wrote on standard error.
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(db: &str) -> Server {
    serve_with(db, &[])
}

fn serve_with(db: &str, extra: &[&str]) -> Server {
    let mut child = smki()
        .arg("serve")
        .arg("--db")
        .arg(db)
        .args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("smki serve");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().expect("a line from smki serve").unwrap();
    let base = first
        .split("on http://")
        .nth(1)
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let log = std::sync::Arc::new(std::sync::Mutex::new(first + "\n"));
    // Keep draining its standard error.
    let keep = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let mut log = keep.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
    Server {
        child,
        base: format!("http://{base}"),
        log,
    }
}

/// A response: status, content type, body.
struct Reply {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {:?}", self.text()))
    }
}

fn call(
    server: &Server,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Reply {
    call_with(server, method, path, content_type, &[], body)
}

fn call_with(
    server: &Server,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    call_on(
        &ureq::agent(),
        server,
        method,
        path,
        content_type,
        headers,
        body,
    )
}

/// A request through `agent`: a new agent is a new connection; one kept by a client is
/// reused from request to request (HTTP keep-alive, as the DCC's Node client does).
fn call_on(
    agent: &ureq::Agent,
    server: &Server,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut req = agent.request(method, &format!("{}{path}", server.base));
    if let Some(ct) = content_type {
        req = req.set("Content-Type", ct);
    }
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let resp = match if body.is_empty() && method == "GET" {
        req.call()
    } else {
        req.send_bytes(body)
    } {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: {e}"),
    };
    let status = resp.status();
    let content_type = resp.header("content-type").unwrap_or_default().to_string();
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut body).unwrap();
    assert!(status < 500, "{method} {path}: {status}");
    Reply {
        status,
        content_type,
        body,
    }
}

fn get(server: &Server, path: &str) -> Reply {
    call(server, "GET", path, None, &[])
}

fn xml(server: &Server, endpoint: &str, body: &str) -> Reply {
    call(
        server,
        "POST",
        &format!("/services/{endpoint}?apikey=u3bg9gt38htd0j2"),
        Some("application/xml"),
        body.as_bytes(),
    )
}

fn search_xml(field: &str, value: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><CertificateSearchRequest><{field}>{value}</{field}></CertificateSearchRequest>"
    )
}

fn retrieve_xml(serial: &str) -> String {
    format!("<CertificateDataRequest><CertificateSerial>{serial}</CertificateSerial></CertificateDataRequest>")
}

/// The text of every `<name>` element of a response (a test-side reading of the wire
/// format, independent of the server's writer).
fn elements(body: &str, name: &str) -> Vec<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    body.split(&open)
        .skip(1)
        .map(|rest| rest.split(&close).next().unwrap().to_string())
        .collect()
}

fn upper_dashed(eui: &str) -> String {
    eui.to_ascii_uppercase()
}

fn serials(entries: &[&Value]) -> BTreeSet<String> {
    entries
        .iter()
        .map(|t| {
            t["serial"]
                .as_str()
                .unwrap()
                .trim_start_matches('0')
                .to_ascii_lowercase()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// The DCC's own client
// ---------------------------------------------------------------------------------------

/// The client's directory, when node and the installed client are there. Outside CI a
/// missing one skips (saying so); under CI=true it fails.
fn dcc_client() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dcc_client");
    let node = Command::new("node").arg("--version").output();
    let why = if !node.is_ok_and(|o| o.status.success()) {
        "node is not on PATH"
    } else if !dir
        .join("node_modules/@smartdcc/dccboxed-keystore")
        .is_dir()
    {
        "the DCC client is not installed (cd tests/dcc_client && npm ci)"
    } else {
        return Some(dir);
    };
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "{why}: CI must have it (.ci/run installs it)"
    );
    eprintln!("SKIPPED (the DCC client): {why}");
    None
}

#[test]
fn the_dcc_client_finds_what_the_ground_truth_says() {
    let Some(client) = dcc_client() else {
        return;
    };
    let repo = loaded(300, 9);
    // With access control on, as DCC Boxed has it: the client sends DCC Boxed's published
    // key, which --boxed-compat accepts beside the key file's.
    let keys = repo.dir.path().join("keys");
    std::fs::write(
        &keys,
        format!("reader {}\n", sha256_hex(b"another reader key")),
    )
    .unwrap();
    let server = serve_with(
        repo.db(),
        &["--keys", keys.to_str().unwrap(), "--boxed-compat"],
    );
    // The client answers from its bundled keystore first: ask only for what is not there.
    let bundled = std::fs::read_to_string(
        client.join("node_modules/@smartdcc/dccboxed-keystore/keystore.json"),
    )
    .unwrap()
    .to_ascii_lowercase();
    let is_bundled = |eui: &str| {
        bundled.contains(&format!(
            "\"{}\"",
            eui.replace('-', "").to_ascii_lowercase()
        ))
    };

    let mut plan: Vec<Value> = Vec::new();
    let mut expected: Vec<BTreeSet<String>> = Vec::new(); // SHA-256s; empty set for null/[]
    let mut null_expected: Vec<bool> = Vec::new();
    let devices = repo.truth_where(|t| t["profile"] == "device");
    let device_euis: BTreeSet<&str> = devices
        .iter()
        .map(|t| t["eui64"].as_str().unwrap())
        .collect();
    assert!(device_euis.len() >= 5, "the simulation has devices");
    // Forty devices (two certificates each) are enough.
    for (i, eui) in device_euis
        .iter()
        .enumerate()
        .filter(|(_, e)| !is_bundled(e))
        .take(40)
    {
        for usage in ["DS", "KA"] {
            // The high-level query: devices, status I, by usage. Half the EUIs in lower case.
            let sent = if i % 2 == 0 {
                eui.to_ascii_lowercase()
            } else {
                eui.to_string()
            };
            plan.push(serde_json::json!({"op": "device", "eui": sent, "usage": usage}));
            let want: BTreeSet<String> = devices
                .iter()
                .filter(|t| t["eui64"] == *eui && t["usage"] == usage && t["status"] == "I")
                .map(|t| t["sha256"].as_str().unwrap().to_string())
                .collect();
            null_expected.push(want.is_empty());
            expected.push(want);
        }
    }
    // Organisations: by entity id, role, usage and status, through the low-level search.
    let orgs = repo.truth_where(|t| t["profile"] == "organisation");
    assert!(!orgs.is_empty(), "the simulation has organisations");
    let mut org_keys: BTreeSet<(String, String, String, String)> = BTreeSet::new();
    for t in &orgs {
        let eui = t["eui64"].as_str().unwrap();
        if is_bundled(eui) {
            continue;
        }
        let role = u8::from_str_radix(t["role"].as_str().unwrap(), 16)
            .unwrap()
            .to_string();
        org_keys.insert((
            eui.to_string(),
            role,
            t["usage"].as_str().unwrap().to_string(),
            t["status"].as_str().unwrap().to_string(),
        ));
    }
    assert!(!org_keys.is_empty());
    for (eui, role, usage, status) in &org_keys {
        plan.push(
            serde_json::json!({"op": "search", "subject_name": eui.to_ascii_lowercase(),
            "role": role, "usage": usage, "status": status}),
        );
        let want = orgs
            .iter()
            .filter(|t| {
                t["eui64"] == eui.as_str()
                    && u8::from_str_radix(t["role"].as_str().unwrap(), 16)
                        .unwrap()
                        .to_string()
                        == *role
                    && t["usage"] == usage.as_str()
                    && t["status"] == status.as_str()
            })
            .map(|t| t["sha256"].as_str().unwrap().to_string())
            .collect();
        expected.push(want);
        null_expected.push(false);
    }
    // Any device or organisation certificate by serial (the high-level query sends
    // lower-case hex without leading zeros).
    for t in devices.iter().chain(orgs.iter()).step_by(3) {
        let serial = t["serial"].as_str().unwrap();
        let decimal_key = u128::from_str_radix(serial, 16)
            .map(|n| n.to_string())
            .unwrap_or_default();
        if bundled.contains(&decimal_key) {
            continue;
        }
        plan.push(serde_json::json!({"op": "serial", "serial": serial}));
        expected.push(BTreeSet::from([t["sha256"].as_str().unwrap().to_string()]));
        null_expected.push(false);
    }
    // Unknown: an EUI no certificate has (empty), a serial no certificate has (null).
    plan.push(
        serde_json::json!({"op": "search", "subject_alt_name": "00-24-8b-ff-ff-ff-ff-fe",
        "usage": "DS", "status": "I"}),
    );
    expected.push(BTreeSet::new());
    null_expected.push(false);
    plan.push(serde_json::json!({"op": "serial", "serial": "7ffffffffffffffffffffffffffffffe"}));
    expected.push(BTreeSet::new());
    null_expected.push(true);
    plan.push(serde_json::json!({"op": "retrieve", "serial": "7ffffffffffffffffffffffffffffffe"}));
    expected.push(BTreeSet::new());
    null_expected.push(true);

    let plan_file = repo.dir.path().join("plan.json");
    std::fs::write(&plan_file, serde_json::to_vec(&plan).unwrap()).unwrap();
    let out = Command::new("node")
        .arg(client.join("query.js"))
        .arg(&server.base)
        .arg(&plan_file)
        .output()
        .expect("node");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results.len(), plan.len());
    let mut certificates_checked = 0;
    for (((q, r), want), null) in plan.iter().zip(&results).zip(&expected).zip(&null_expected) {
        assert!(
            r.get("error").is_none(),
            "{q}: the client threw {}",
            r["error"]
        );
        if *null {
            assert!(r["certs"].is_null(), "{q}: expected null, got {r}");
            continue;
        }
        let certs = r["certs"].as_array().unwrap_or_else(|| panic!("{q}: {r}"));
        let mut got = BTreeSet::new();
        for c in certs {
            use base64::Engine;
            let der = base64::engine::general_purpose::STANDARD
                .decode(c["der"].as_str().unwrap())
                .unwrap();
            let sha = sha256_hex(&der);
            // Byte-identical to the store's copy (the JSON API's DER) and to the dump's.
            let stored = get(
                &server,
                &format!("/api/v1/certificates/{sha}?format=der&apikey=u3bg9gt38htd0j2"),
            );
            assert_eq!(stored.status, 200, "{q}");
            assert_eq!(stored.body, der, "{q}");
            let truth = &repo.truth[&sha];
            // What the client read from the certificate agrees with the simulator.
            assert_eq!(
                c["eui"].as_str().unwrap(),
                truth["eui64"]
                    .as_str()
                    .unwrap()
                    .replace('-', "")
                    .to_ascii_lowercase()
            );
            got.insert(sha);
            certificates_checked += 1;
        }
        assert_eq!(&got, want, "{q}");
    }
    assert!(
        certificates_checked >= 20,
        "only {certificates_checked} certificates checked"
    );
}

// ---------------------------------------------------------------------------------------
// The XML wire format, byte level
// ---------------------------------------------------------------------------------------

#[test]
fn dcc_wire_format_and_matching_rules() {
    let repo = loaded(200, 3);
    let server = serve(repo.db());
    let device = repo.truth_where(|t| t["profile"] == "device")[0].clone();
    let eui = device["eui64"].as_str().unwrap();
    let same_eui = repo.truth_where(|t| t["profile"] == "device" && t["eui64"] == eui);
    // Lower case, upper case, and a default namespace: the same answer.
    let bodies = [
        search_xml("CertificateSubjectAltName", &eui.to_ascii_lowercase()),
        search_xml("CertificateSubjectAltName", &upper_dashed(eui)),
        format!("<CertificateSearchRequest xmlns=\"http://www.dccinterface.co.uk\"><CertificateSubjectAltName>{eui}</CertificateSubjectAltName></CertificateSearchRequest>"),
    ];
    for body in &bodies {
        let r = xml(&server, "certificatesearch", body);
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.content_type, "application/xml; charset=utf-8");
        let text = r.text();
        assert_eq!(elements(&text, "ResponseCode"), ["200"]);
        assert_eq!(elements(&text, "ResponseMessage"), ["Success"]);
        assert_eq!(elements(&text, "Result").len(), same_eui.len());
        let got: BTreeSet<String> = elements(&text, "CertificateSerial")
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect();
        assert_eq!(got, serials(&same_eui));
        assert!(elements(&text, "CertificateSubjectAltName")
            .iter()
            .all(|e| e == eui));
        let mut statuses = elements(&text, "CertificateStatus");
        let mut want: Vec<String> = same_eui
            .iter()
            .map(|t| t["status"].as_str().unwrap().to_string())
            .collect();
        statuses.sort();
        want.sort();
        assert_eq!(statuses, want);
        assert!(elements(&text, "ManufacturingFlag")
            .iter()
            .all(|f| f == "true" || f == "false"));
    }
    // An organisation by entity id: SubjectName and the role in decimal.
    let org = repo.truth_where(|t| t["profile"] == "organisation")[0].clone();
    let entity = org["eui64"].as_str().unwrap();
    let r = xml(
        &server,
        "certificatesearch",
        &search_xml("CertificateSubjectName", &entity.to_ascii_lowercase()),
    );
    assert_eq!(r.status, 200);
    let text = r.text();
    assert!(elements(&text, "CertificateSubjectAltName").is_empty());
    assert!(elements(&text, "CertificateSubjectName")
        .iter()
        .all(|e| e == entity));
    let role = u8::from_str_radix(org["role"].as_str().unwrap(), 16)
        .unwrap()
        .to_string();
    assert!(elements(&text, "CertificateRole").contains(&role));

    // Retrieve by serial: upper case with leading zeros, or lower case without.
    let serial = device["serial"].as_str().unwrap();
    for sent in [
        format!("0000{}", serial.to_ascii_uppercase()),
        serial.trim_start_matches('0').to_ascii_lowercase(),
    ] {
        let r = xml(&server, "retrievecertificate", &retrieve_xml(&sent));
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.content_type, "application/xml; charset=utf-8");
        let text = r.text();
        let body = elements(&text, "CertificateBody");
        use base64::Engine;
        let der = base64::engine::general_purpose::STANDARD
            .decode(&body[0])
            .unwrap();
        assert_eq!(sha256_hex(&der), device["sha256"].as_str().unwrap());
        assert_eq!(elements(&text, "CertificateSubjectAltName"), [eui]);
        assert_eq!(
            elements(&text, "CertificateUsage"),
            [device["usage"].as_str().unwrap()]
        );
    }
    // Not found: 402, as XML.
    for (endpoint, body) in [
        (
            "certificatesearch",
            search_xml("CertificateSubjectAltName", "00-24-8B-FF-FF-FF-FF-FE"),
        ),
        (
            "retrievecertificate",
            retrieve_xml("7ffffffffffffffffffffffffffffffe"),
        ),
    ] {
        let r = xml(&server, endpoint, &body);
        assert_eq!(r.status, 402, "{}", r.text());
        assert_eq!(r.content_type, "application/xml; charset=utf-8");
        assert_eq!(elements(&r.text(), "ResponseCode"), ["402"]);
    }
    // Invalid search parameters: 401.
    for (endpoint, body) in [
        ("certificatesearch", search_xml("CertificateSubjectAltName", "00-24-8B-FF")),
        ("certificatesearch", search_xml("CertificateSubjectAltName", "zz-24-8B-FF-FF-FF-FF-FE")),
        ("certificatesearch", search_xml("CertificateColour", "blue")),
        ("certificatesearch", "<CertificateSearchRequest/>".to_string()),
        ("certificatesearch", format!("<CertificateSearchRequest><CertificateSubjectAltName>{eui}</CertificateSubjectAltName><CertificateSubjectName>{eui}</CertificateSubjectName></CertificateSearchRequest>")),
        ("retrievecertificate", retrieve_xml("12G4")),
        ("retrievecertificate", retrieve_xml("")),
        ("retrievecertificate", search_xml("CertificateSubjectAltName", eui)),
    ] {
        let r = xml(&server, endpoint, &body);
        assert_eq!(r.status, 401, "{body}: {}", r.text());
        assert_eq!(elements(&r.text(), "ResponseCode"), ["401"]);
        let message = &elements(&r.text(), "ResponseMessage")[0];
        assert!(message.starts_with("Invalid search parameters") && message.ends_with('.'), "{message}");
    }
}

// ---------------------------------------------------------------------------------------
// The JSON API
// ---------------------------------------------------------------------------------------

fn shas(page: &Value) -> BTreeSet<String> {
    page["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sha256"].as_str().unwrap().to_string())
        .collect()
}

fn truth_shas(entries: &[&Value]) -> BTreeSet<String> {
    entries
        .iter()
        .map(|t| t["sha256"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn json_api_search_retrieve_and_paging() {
    json_api_on(loaded(200, 3));
}

/// The same on a PostgreSQL store (`smki repo load` and `smki serve` with `--db
/// postgres://...`), in a database of its own on the server `SMKI_TEST_POSTGRES` names.
#[test]
fn json_api_search_retrieve_and_paging_on_postgres() {
    let Some(db) = smki_store::testing::postgres("json_api_on_postgres") else {
        return;
    };
    let repo = load_checked(simulate(200, 3).on_postgres(db));
    json_api_on(repo);
}

fn json_api_on(repo: Repo) {
    let server = serve(repo.db());
    let health = get(&server, "/health");
    assert_eq!(health.status, 200);
    assert_eq!(
        health.json()["certificates"].as_u64().unwrap() as usize,
        repo.truth.len()
    );

    let device = repo.truth_where(|t| t["profile"] == "device")[0].clone();
    let eui = device["eui64"].as_str().unwrap();
    let org = repo.truth_where(|t| t["profile"] == "organisation")[0].clone();
    let entity = org["eui64"].as_str().unwrap();
    let key_id = device["issuer_key_id"].as_str().unwrap();
    // Each filter against the ground truth.
    let cases: Vec<(String, Vec<&Value>)> = vec![
        (
            format!("eui64={}", eui.to_ascii_lowercase()),
            repo.truth_where(|t| t["profile"] == "device" && t["eui64"] == eui),
        ),
        (
            format!("eui64={}", eui.replace('-', "")),
            repo.truth_where(|t| t["profile"] == "device" && t["eui64"] == eui),
        ),
        (
            format!("entity_id={entity}"),
            repo.truth_where(|t| t["profile"] != "device" && t["eui64"] == entity),
        ),
        (
            format!(
                "entity_id={entity}&role={}&usage=KA",
                org["role"].as_str().unwrap()
            ),
            repo.truth_where(|t| {
                t["profile"] == "organisation" && t["eui64"] == entity && t["usage"] == "KA"
            }),
        ),
        (
            format!(
                "serial=00{}",
                device["serial"].as_str().unwrap().to_ascii_uppercase()
            ),
            vec![&repo.truth[device["sha256"].as_str().unwrap()]],
        ),
        (
            format!("issuer_key_id={key_id}"),
            repo.truth_where(|t| t["issuer_key_id"] == key_id),
        ),
        (
            "usage=ka&kind=device".into(),
            repo.truth_where(|t| t["profile"] == "device" && t["usage"] == "KA"),
        ),
        ("status=N".into(), repo.truth_where(|t| t["status"] == "N")),
        (
            "kind=ca".into(),
            repo.truth_where(|t| {
                t["profile"].as_str().unwrap().ends_with("ca") || t["profile"] == "root"
            }),
        ),
        (
            "verdict=remediable".into(),
            repo.truth_where(|t| t["expected_verdict"] == "remediable"),
        ),
        (
            "verdict=clean&kind=organisation".into(),
            repo.truth_where(|t| {
                t["expected_verdict"] == "clean" && t["profile"] == "organisation"
            }),
        ),
    ];
    for (query, want) in &cases {
        let r = get(&server, &format!("/api/v1/certificates?{query}&limit=1000"));
        assert_eq!(r.status, 200, "{query}: {}", r.text());
        assert_eq!(r.content_type, "application/json");
        assert_eq!(shas(&r.json()), truth_shas(want), "{query}");
        // The same as a JSON body.
        let mut obj = serde_json::Map::new();
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').unwrap();
            obj.insert(k.into(), v.into());
        }
        obj.insert("limit".into(), 1000.into());
        let r = call(
            &server,
            "POST",
            "/api/v1/search",
            Some("application/json"),
            &serde_json::to_vec(&obj).unwrap(),
        );
        assert_eq!(r.status, 200, "{query}: {}", r.text());
        assert_eq!(shas(&r.json()), truth_shas(want), "{query} (POST)");
    }
    assert!(
        cases.iter().all(|(_, w)| !w.is_empty()),
        "every filter has something to find"
    );

    // Paging: pages of 7, in id order, every certificate once.
    let mut seen = Vec::new();
    let mut after: Option<i64> = None;
    loop {
        let path = match after {
            Some(a) => format!("/api/v1/certificates?limit=7&after={a}"),
            None => "/api/v1/certificates?limit=7".to_string(),
        };
        let page = get(&server, &path).json();
        let ids: Vec<i64> = page["certificates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect();
        assert!(ids.len() <= 7);
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        seen.extend(
            page["certificates"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["sha256"].as_str().unwrap().to_string()),
        );
        match page["next"].as_i64() {
            Some(n) => {
                assert_eq!(ids.len(), 7);
                assert_eq!(Some(&n), ids.last());
                after = Some(n);
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), repo.truth.len());
    assert_eq!(
        seen.iter().cloned().collect::<BTreeSet<_>>(),
        repo.truth.keys().cloned().collect()
    );

    // Retrieve: DER, PEM and JSON, all the same bytes as the dump's.
    let sha = device["sha256"].as_str().unwrap();
    let der = get(&server, &format!("/api/v1/certificates/{sha}?format=der"));
    assert_eq!(der.status, 200);
    assert_eq!(der.content_type, "application/pkix-cert");
    assert_eq!(sha256_hex(&der.body), sha);
    let pem = get(&server, &format!("/api/v1/certificates/{sha}?format=pem"));
    assert_eq!(pem.content_type, "application/x-pem-file");
    // OpenSSL reads the PEM back to the same DER.
    let pem_file = repo.dir.path().join("one.pem");
    std::fs::write(&pem_file, &pem.body).unwrap();
    let out = Command::new("openssl")
        .args(["x509", "-outform", "DER", "-in"])
        .arg(&pem_file)
        .output()
        .expect("openssl");
    assert!(out.status.success());
    assert_eq!(out.stdout, der.body);
    let json = get(
        &server,
        &format!("/api/v1/certificates/{}", sha.to_ascii_uppercase()),
    )
    .json();
    use base64::Engine;
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(json["der"].as_str().unwrap())
            .unwrap(),
        der.body
    );
    assert_eq!(json["eui64"], device["eui64"]);
    assert_eq!(json["usage"], device["usage"]);
    assert_eq!(json["status"], device["status"]);
    assert_eq!(
        json["serial"].as_str().unwrap(),
        device["serial"].as_str().unwrap().trim_start_matches('0')
    );
    assert_eq!(json["verdict"], device["expected_verdict"]);
}

// ---------------------------------------------------------------------------------------
// Bad requests
// ---------------------------------------------------------------------------------------

#[test]
fn every_bad_request_is_a_4xx_with_one_sentence() {
    let repo = loaded(10, 3);
    let server = serve(repo.db());
    let any_sha = repo.truth.keys().next().unwrap().clone();
    let big_xml = search_xml("CertificateSubjectAltName", &"0".repeat(20_000));
    let big_json = format!("{{\"issuer\": \"{}\"}}", "x".repeat(20_000));
    // (method, path, content type, body, expected status)
    type Case<'a> = (&'a str, String, Option<&'a str>, Vec<u8>, u16);
    let cases: Vec<Case<'_>> = vec![
        // DCC endpoints.
        ("POST", "/services/certificatesearch".into(), Some("application/xml"), b"<CertificateSearchRequest><CertificateSubjectAltName>".to_vec(), 400),
        ("POST", "/services/certificatesearch".into(), Some("application/xml"), b"not xml at all".to_vec(), 400),
        ("POST", "/services/certificatesearch".into(), Some("application/xml"), b"<a:CertificateSearchRequest xmlns:a=\"x\"><a:CertificateSubjectAltName>00-24-8B-01-04-00-00-00</a:CertificateSubjectAltName></a:CertificateSearchRequest>".to_vec(), 400),
        ("POST", "/services/certificatesearch".into(), Some("application/xml"), b"<!DOCTYPE x [<!ENTITY e \"boom\">]><CertificateSearchRequest><CertificateSubjectAltName>&e;</CertificateSubjectAltName></CertificateSearchRequest>".to_vec(), 400),
        ("POST", "/services/certificatesearch".into(), Some("application/xml"), big_xml.into_bytes(), 413),
        ("POST", "/services/certificatesearch".into(), Some("text/plain"), search_xml("CertificateSubjectAltName", "00-24-8B-01-04-00-00-00").into_bytes(), 415),
        ("POST", "/services/retrievecertificate".into(), None, retrieve_xml("01").into_bytes(), 415),
        ("POST", "/services/retrievecertificate".into(), Some("application/json"), b"{}".to_vec(), 415),
        ("GET", "/services/retrievecertificate".into(), None, vec![], 405),
        // JSON API.
        ("GET", "/api/v1/certificates?colour=blue".into(), None, vec![], 400),
        ("GET", "/api/v1/certificates?eui64=00-24".into(), None, vec![], 400),
        ("GET", "/api/v1/certificates?serial=xyz".into(), None, vec![], 400),
        ("GET", format!("/api/v1/certificates?serial={}", "1".repeat(200)), None, vec![], 400),
        ("GET", "/api/v1/certificates?usage=XX".into(), None, vec![], 400),
        ("GET", "/api/v1/certificates?status=Q".into(), None, vec![], 400),
        ("GET", "/api/v1/certificates?verdict=fine".into(), None, vec![], 400),
        ("GET", "/api/v1/certificates?kind=robot".into(), None, vec![], 400),
        ("GET", "/api/v1/certificates?issuer_key_id=xyz".into(), None, vec![], 400),
        ("GET", "/api/v1/certificates?limit=1001".into(), None, vec![], 400),
        ("GET", "/api/v1/certificates?limit=0".into(), None, vec![], 400),
        ("GET", "/api/v1/certificates?limit=many".into(), None, vec![], 400),
        ("POST", "/api/v1/search".into(), Some("application/json"), b"{\"eui64\": ".to_vec(), 400),
        ("POST", "/api/v1/search".into(), Some("application/json"), b"{\"colour\": \"blue\"}".to_vec(), 400),
        ("POST", "/api/v1/search".into(), Some("application/json"), b"{\"limit\": 5000}".to_vec(), 400),
        ("POST", "/api/v1/search".into(), Some("application/json"), b"[1, 2]".to_vec(), 400),
        ("POST", "/api/v1/search".into(), Some("application/json"), big_json.into_bytes(), 413),
        ("POST", "/api/v1/search".into(), Some("application/xml"), b"{}".to_vec(), 415),
        ("POST", "/api/v1/search".into(), None, b"{}".to_vec(), 415),
        ("GET", "/api/v1/certificates/abc".into(), None, vec![], 400),
        ("GET", format!("/api/v1/certificates/{any_sha}?format=gif"), None, vec![], 400),
        ("GET", format!("/api/v1/certificates/{any_sha}?size=9"), None, vec![], 400),
        ("GET", format!("/api/v1/certificates/{}", "0".repeat(64)), None, vec![], 404),
        ("GET", "/nowhere".into(), None, vec![], 404),
    ];
    for (method, path, ct, body, want) in cases {
        let r = call(&server, method, &path, ct, &body);
        assert_eq!(r.status, want, "{method} {path}: {}", r.text());
        if path.starts_with("/services/") {
            if want != 405 {
                assert_eq!(r.content_type, "application/xml; charset=utf-8", "{path}");
                let message = &elements(&r.text(), "ResponseMessage")[0];
                assert!(
                    message.ends_with('.') && !message.contains('\n'),
                    "{message}"
                );
                assert_eq!(elements(&r.text(), "ResponseCode"), [want.to_string()]);
            }
        } else {
            assert_eq!(r.content_type, "application/json", "{method} {path}");
            let message = r.json()["error"].as_str().unwrap().to_string();
            assert!(
                message.ends_with('.') && !message.contains('\n'),
                "{path}: {message}"
            );
        }
    }
    // The service is still up.
    assert_eq!(get(&server, "/health").status, 200);
}

// ---------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------

#[test]
fn loading_is_idempotent_and_reports_bad_records_without_stopping() {
    let repo = loaded(30, 11);
    let n = repo.truth.len() as u64;
    // The same dumps again: nothing new.
    let (code, summary, _) = load(&repo, &[repo.sim().join("extract"), repo.sim().join("cas")]);
    assert_eq!(code, 0);
    assert_eq!(summary["inserted"], 0);
    assert_eq!(summary["updated"], 0);
    assert_eq!(summary["certificates_in_store"], n);
    // A PEM bundle of the CA certificates with garbage among them: the garbage is reported
    // with its file, record and byte offset; the rest is read (already stored).
    let cas = std::fs::read_to_string(repo.sim().join("cas/bundle.pem")).unwrap();
    let first_end =
        cas.find("-----END CERTIFICATE-----").unwrap() + "-----END CERTIFICATE-----\n".len();
    let bad = format!(
        "{}-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n{}",
        &cas[..first_end],
        &cas[first_end..]
    );
    let bad_file = repo.dir.path().join("bad.pem");
    std::fs::write(&bad_file, &bad).unwrap();
    let (code, summary, stderr) = load(&repo, std::slice::from_ref(&bad_file));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(summary["errors"], 1, "{stderr}");
    let expected_locator = format!(
        "{}#1 (line {}, byte {first_end})",
        bad_file.display(),
        cas[..first_end].lines().count() + 1
    );
    assert!(
        stderr.contains(&expected_locator),
        "{expected_locator} not in {stderr}"
    );
    assert_eq!(
        summary["unchanged"].as_u64().unwrap() + 1,
        summary["records"].as_u64().unwrap()
    );
    assert_eq!(summary["certificates_in_store"], n);
}

// ---------------------------------------------------------------------------------------
// Access, metrics, load
// ---------------------------------------------------------------------------------------

#[test]
fn api_keys_are_required_when_given_and_never_logged() {
    let repo = loaded(10, 3);
    let key = "s3cret-reader-key-7f1d";
    let keys = repo.dir.path().join("keys");
    std::fs::write(
        &keys,
        format!(
            "# role sha256 name\nreader {} test reader\n",
            sha256_hex(key.as_bytes())
        ),
    )
    .unwrap();
    let server = serve_with(
        repo.db(),
        &["--keys", keys.to_str().unwrap(), "--boxed-compat"],
    );
    let device = repo.truth_where(|t| t["profile"] == "device")[0].clone();
    let search = search_xml(
        "CertificateSubjectAltName",
        device["eui64"].as_str().unwrap(),
    );
    let post = |path: &str, headers: &[(&str, &str)]| {
        call_with(
            &server,
            "POST",
            path,
            Some("application/xml"),
            headers,
            search.as_bytes(),
        )
    };
    let get_with =
        |path: &str, headers: &[(&str, &str)]| call_with(&server, "GET", path, None, headers, &[]);
    // Without a key, or with a wrong one: 401, in the endpoint's form.
    for path in [
        "/services/certificatesearch",
        "/services/certificatesearch?apikey=wrong",
    ] {
        let r = post(path, &[]);
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(r.content_type, "application/xml; charset=utf-8");
        assert_eq!(elements(&r.text(), "ResponseCode"), ["401"]);
    }
    for (path, headers) in [
        ("/api/v1/certificates", vec![]),
        ("/api/v1/certificates", vec![("X-API-Key", "wrong")]),
        ("/api/v1/certificates?apikey=s3cret-reader-key-7f1e", vec![]),
        ("/metrics", vec![]),
        ("/api/v1/extract/full", vec![]),
        ("/api/v1/extract/delta?date=2021-04-01&apikey=wrong", vec![]),
    ] {
        let r = get_with(path, &headers);
        assert_eq!(r.status, 401, "{path} {headers:?}");
        assert!(r.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("Access denied"));
    }
    // With the key, every way it can be given; DCC Boxed's published key too (--boxed-compat).
    assert_eq!(
        post(&format!("/services/certificatesearch?apikey={key}"), &[]).status,
        200
    );
    assert_eq!(
        post("/services/certificatesearch?apikey=u3bg9gt38htd0j2", &[]).status,
        200
    );
    assert_eq!(
        get_with(&format!("/api/v1/certificates?apikey={key}&limit=5"), &[]).status,
        200
    );
    assert_eq!(
        get_with("/api/v1/certificates", &[("X-API-Key", key)]).status,
        200
    );
    let bearer = format!("Bearer {key}");
    assert_eq!(
        get_with("/api/v1/certificates", &[("Authorization", &bearer)]).status,
        200
    );
    let full = get_with(&format!("/api/v1/extract/full?apikey={key}"), &[]);
    assert_eq!(full.status, 200);
    assert_eq!(
        full.text().lines().count(),
        repo.truth.len() + 1,
        "the header and every certificate"
    );
    assert_eq!(get(&server, "/health").status, 200, "health is open");
    // Never logged.
    let log = server.log.lock().unwrap().clone();
    assert!(log.contains("API keys required"), "{log}");
    assert!(
        !log.contains(key) && !log.contains("u3bg9gt38htd0j2"),
        "{log}"
    );
    drop(server);

    // A non-loopback address without keys is refused.
    let out = smki()
        .args(["serve", "--listen", "0.0.0.0:0", "--db"])
        .arg(repo.db())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a loopback address"));
    // A key file holding a key itself (not its hash) is refused, naming the line.
    std::fs::write(&keys, format!("\nreader {key}\n")).unwrap();
    let out = smki()
        .args(["serve", "--keys", keys.to_str().unwrap(), "--db"])
        .arg(repo.db())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("line 2"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The value of the metric line that starts with `name` (labels included).
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
        .parse()
        .unwrap()
}

#[test]
fn metrics_count_every_request() {
    let repo = loaded(10, 3);
    let server = serve(repo.db());
    for _ in 0..5 {
        assert_eq!(get(&server, "/api/v1/certificates?limit=2").status, 200);
    }
    for _ in 0..3 {
        assert_eq!(get(&server, "/api/v1/certificates?limit=0").status, 400);
    }
    let device = repo.truth_where(|t| t["profile"] == "device")[0].clone();
    let sha = device["sha256"].as_str().unwrap();
    assert_eq!(
        get(&server, &format!("/api/v1/certificates/{sha}?format=der")).status,
        200
    );
    assert_eq!(
        xml(&server, "retrievecertificate", &retrieve_xml("7e")).status,
        402
    );
    let r = get(&server, "/metrics");
    assert_eq!(r.status, 200);
    assert!(r.content_type.starts_with("text/plain; version=0.0.4"));
    let text = r.text();
    assert_eq!(
        metric(
            &text,
            r#"smki_http_requests_total{route="/api/v1/certificates",status="200"}"#
        ),
        5.0
    );
    assert_eq!(
        metric(
            &text,
            r#"smki_http_requests_total{route="/api/v1/certificates",status="400"}"#
        ),
        3.0
    );
    assert_eq!(
        metric(
            &text,
            r#"smki_http_requests_total{route="/api/v1/certificates/{sha256}",status="200"}"#
        ),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            r#"smki_http_requests_total{route="/services/retrievecertificate",status="402"}"#
        ),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            r#"smki_http_request_duration_seconds_count{route="/api/v1/certificates"}"#
        ),
        8.0
    );
    assert_eq!(
        metric(
            &text,
            r#"smki_http_request_duration_seconds_bucket{route="/api/v1/certificates",le="+Inf"}"#
        ),
        8.0
    );
    assert_eq!(
        metric(&text, "smki_store_certificates") as usize,
        repo.truth.len()
    );
    let der_bytes: usize = repo
        .truth
        .values()
        .map(|t| {
            get(
                &server,
                &format!(
                    "/api/v1/certificates/{}?format=der",
                    t["sha256"].as_str().unwrap()
                ),
            )
            .body
            .len()
        })
        .sum();
    assert_eq!(metric(&text, "smki_store_der_bytes") as usize, der_bytes);
}

/// Runs `clients` threads, each sending `per_client` requests on its own kept-alive
/// connection (searches by EUI-64 through the XML service and retrievals as DER through
/// the JSON API, alternating), and checks every answer against the ground truth:
/// (requests per second, p50, p99 in ms).
fn load_run(repo: &Repo, server: &Server, clients: usize, per_client: usize) -> (f64, f64, f64) {
    let devices: Vec<(String, String, usize)> = {
        let mut by_eui: HashMap<String, usize> = HashMap::new();
        for t in repo.truth_where(|t| t["profile"] == "device") {
            *by_eui
                .entry(t["eui64"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        repo.truth_where(|t| t["profile"] == "device")
            .iter()
            .take(10_000)
            .map(|t| {
                let eui = t["eui64"].as_str().unwrap().to_string();
                let n = by_eui[&eui];
                (eui, t["sha256"].as_str().unwrap().to_string(), n)
            })
            .collect()
    };
    let started = std::time::Instant::now();
    let latencies: Vec<f64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|c| {
                let devices = &devices;
                scope.spawn(move || {
                    let agent = ureq::AgentBuilder::new().build();
                    let mut times = Vec::with_capacity(per_client);
                    for i in 0..per_client {
                        let (eui, sha, n) = &devices[(c * 7919 + i * 104_729) % devices.len()];
                        let t = std::time::Instant::now();
                        if i % 2 == 0 {
                            let r = call_on(
                                &agent,
                                server,
                                "POST",
                                "/services/certificatesearch?apikey=u3bg9gt38htd0j2",
                                Some("application/xml"),
                                &[],
                                search_xml("CertificateSubjectAltName", eui).as_bytes(),
                            );
                            assert_eq!(r.status, 200);
                            assert_eq!(elements(&r.text(), "Result").len(), *n);
                        } else {
                            let r = call_on(
                                &agent,
                                server,
                                "GET",
                                &format!("/api/v1/certificates/{sha}?format=der"),
                                None,
                                &[],
                                &[],
                            );
                            assert_eq!(r.status, 200);
                            assert_eq!(&sha256_hex(&r.body), sha);
                        }
                        times.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                    times
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut sorted = latencies.clone();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    (latencies.len() as f64 / elapsed, at(0.50), at(0.99))
}

#[test]
fn sixty_four_concurrent_clients_bounded() {
    let repo = loaded(200, 3);
    let server = serve(repo.db());
    let (rate, p50, p99) = load_run(&repo, &server, 64, 8);
    eprintln!("64 clients x 8 requests: {rate:.0} requests/s, p50 {p50:.2} ms, p99 {p99:.2} ms");
    let metrics = get(&server, "/metrics").text();
    assert_eq!(
        metric(
            &metrics,
            r#"smki_http_requests_total{route="/services/certificatesearch",status="200"}"#
        ) + metric(
            &metrics,
            r#"smki_http_requests_total{route="/api/v1/certificates/{sha256}",status="200"}"#
        ),
        (64 * 8) as f64
    );
}

/// The load benchmark (README, "Repository service"): SMKI_LOAD_CERTS certificates
/// (default 1,000,000), 64 clients, SMKI_LOAD_REQUESTS requests each (default 200).
/// `cargo test --test serve -- --ignored --nocapture load_benchmark`.
#[test]
#[ignore]
fn load_benchmark() {
    let env = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let certs = env("SMKI_LOAD_CERTS", 1_000_000);
    let per_client = env("SMKI_LOAD_REQUESTS", 200);
    let t = std::time::Instant::now();
    let repo = simulate(certs as u64, 1);
    eprintln!("simulated {certs} in {:.1} s", t.elapsed().as_secs_f64());
    let repo = benchmark_on(repo, "SQLite", certs, per_client);
    // The same dump into PostgreSQL, when a server is given.
    if std::env::var(smki_store::testing::ENV).is_ok() {
        let db = smki_store::testing::postgres("load_benchmark").expect("a test server");
        benchmark_on(repo.on_postgres(db), "PostgreSQL", certs, per_client);
    } else {
        eprintln!(
            "SKIPPED (PostgreSQL): {} is not set",
            smki_store::testing::ENV
        );
    }
}

/// Loads `repo` into its store, serves it and runs the 64-client mix, printing the figures.
fn benchmark_on(repo: Repo, backend: &str, certs: usize, per_client: usize) -> Repo {
    let t = std::time::Instant::now();
    let (code, summary, stderr) =
        load(&repo, &[repo.sim().join("extract"), repo.sim().join("cas")]);
    assert_eq!(code, 0, "{stderr}");
    eprintln!(
        "{backend}: loaded in {:.1} s: {:.0} records/s, store {} bytes ({:.0} bytes per certificate)",
        t.elapsed().as_secs_f64(),
        summary["records_per_second"].as_f64().unwrap(),
        summary["store_bytes"],
        summary["store_bytes"].as_f64().unwrap()
            / summary["certificates_in_store"].as_f64().unwrap()
    );
    let server = serve(repo.db());
    let (rate, p50, p99) = load_run(&repo, &server, 64, per_client);
    eprintln!("{backend}: 64 clients x {per_client} requests on {certs} certificates: {rate:.0} requests/s, p50 {p50:.2} ms, p99 {p99:.2} ms");
    drop(server);
    repo
}

/// `smki scan --json` of `paths` with `issuers`, without its timings.
fn scan_summary(paths: &[PathBuf], issuers: &Path) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("scan.json");
    let out = smki()
        .arg("scan")
        .args(paths)
        .arg("--issuers")
        .arg(issuers)
        .args(["-q", "--json"])
        .arg(&json)
        .output()
        .expect("smki scan");
    assert!(out.status.code().is_some_and(|c| c <= 1), "{out:?}");
    let mut v: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    for k in ["elapsed_seconds", "records_per_second", "threads"] {
        v.as_object_mut().unwrap().remove(k);
    }
    v
}

/// `smki repo load` of `paths` into `db`, its changes recorded on `day`: the summary.
fn load_on(repo: &Repo, paths: &[PathBuf], issuers: &Path, day: &str) -> Value {
    let json = repo.dir.path().join("load_on.json");
    let out = smki()
        .args(["repo", "load", "-q", "--day", day])
        .args(paths)
        .arg("--issuers")
        .arg(issuers)
        .arg("--db")
        .arg(repo.db())
        .arg("--json")
        .arg(&json)
        .output()
        .expect("smki repo load");
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap()
}

/// The records of extract files as smki's extract reader applies them (a full extract,
/// then deltas): (SHA-256 of the certificate, metadata).
fn extract_rows(paths: &[PathBuf]) -> Vec<(String, smki_repo::Metadata)> {
    smki_repo::read_extracts(paths)
        .map(|r| {
            let r = r.expect("a readable row");
            (sha256_hex(&r.der), r.meta.expect("extract metadata"))
        })
        .collect()
}

#[test]
fn extracts_generated_from_the_store_read_as_the_dump_did() {
    let repo = simulate(300, 5);
    let cas = repo.sim().join("cas");
    let summary = load_on(&repo, &[repo.sim().join("extract")], &cas, "2021-04-01");
    assert_eq!(summary["errors"], 0);
    let server = serve(repo.db());
    let gen = repo.dir.path().join("gen");
    std::fs::create_dir(&gen).unwrap();
    let save = |name: &str, reply: &Reply| {
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.content_type, "text/csv; charset=utf-8");
        std::fs::write(gen.join(name), &reply.body).unwrap();
        gen.join(name)
    };

    // The full extract, scanned, says what the simulated dump said, count for count.
    let full1 = save("full-20210401.csv", &get(&server, "/api/v1/extract/full"));
    assert_eq!(
        scan_summary(std::slice::from_ref(&full1), &cas),
        scan_summary(&[repo.sim().join("extract")], &cas)
    );
    assert_eq!(extract_rows(std::slice::from_ref(&full1)).len(), 300);

    // Status moves on the next day: five rows with a new status, loaded as a delta.
    let text = String::from_utf8(std::fs::read(&full1).unwrap()).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert_eq!(header, smki_repo::EXTRACT_HEADER);
    let mut moved = format!("{header}\n");
    let mut expected = BTreeSet::new();
    for line in lines.take(5) {
        let mut fields: Vec<&str> = line.split(',').collect();
        let status = if fields[3] == "R" { "N" } else { "R" };
        fields[3] = status;
        moved.push_str(&fields.join(","));
        moved.push('\n');
        let der = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            fields.last().unwrap(),
        )
        .unwrap();
        expected.insert((sha256_hex(&der), status.to_string()));
    }
    let moves = repo.dir.path().join("moves.csv");
    std::fs::write(&moves, moved).unwrap();
    let summary = load_on(&repo, &[moves], &cas, "2021-04-02");
    assert_eq!(summary["updated"], 5);

    // The delta of that day holds exactly those rows, with their new status; the day
    // before holds the load; the day after, nothing.
    let delta2 = save(
        "delta-20210402.csv",
        &get(&server, "/api/v1/extract/delta?date=2021-04-02"),
    );
    let got: BTreeSet<(String, String)> = extract_rows(std::slice::from_ref(&delta2))
        .into_iter()
        .map(|(sha, m)| (sha, m.status.unwrap()))
        .collect();
    assert_eq!(got, expected);
    let delta1 = get(&server, "/api/v1/extract/delta?date=2021-04-01");
    assert_eq!(delta1.text().lines().count(), 301);
    let delta3 = get(&server, "/api/v1/extract/delta?date=2021-04-03");
    assert_eq!(delta3.text(), format!("{header}\n"));
    // As of the first day, the full extract is the one before the moves.
    let as_of = get(&server, "/api/v1/extract/full?as_of=2021-04-01");
    assert_eq!(as_of.body, std::fs::read(&full1).unwrap());

    // The full extract and the delta, applied by smki's extract reader, are the store now.
    let now = save("now.csv", &get(&server, "/api/v1/extract/full"));
    assert_eq!(
        extract_rows(&[full1.clone(), delta2.clone()]),
        extract_rows(std::slice::from_ref(&now))
    );
    // ... and scanning them together (a directory of a full extract and its deltas, as
    // `smki simulate` writes) says what scanning the store's extract says.
    let set = repo.dir.path().join("set");
    std::fs::create_dir(&set).unwrap();
    std::fs::copy(&full1, set.join("full-20210401.csv")).unwrap();
    std::fs::copy(&delta2, set.join("delta-20210402.csv")).unwrap();
    assert_eq!(
        scan_summary(&[set], &cas),
        scan_summary(std::slice::from_ref(&now), &cas)
    );

    // The command line writes the same bytes.
    let cli = repo.dir.path().join("cli-delta.csv");
    let out = smki()
        .args(["repo", "extract", "--delta", "2021-04-02", "--db"])
        .arg(repo.db())
        .arg("--out")
        .arg(&cli)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        std::fs::read(&cli).unwrap(),
        std::fs::read(&delta2).unwrap()
    );

    // Bad requests: a sentence and a 400.
    for path in [
        "/api/v1/extract/delta",
        "/api/v1/extract/delta?date=2021-02-30",
        "/api/v1/extract/delta?date=yesterday",
        "/api/v1/extract/full?as_of=2021-4-1",
        "/api/v1/extract/full?since=2021-04-01",
    ] {
        let r = get(&server, path);
        assert_eq!(r.status, 400, "{path}: {}", r.text());
        assert!(r.json()["error"].as_str().unwrap().ends_with('.'), "{path}");
    }
}

/// Waits (at most `secs` seconds) until the server's log holds `text`.
fn wait_for_log(server: &Server, text: &str, secs: u64) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while !server.log.lock().unwrap().contains(text) {
        assert!(
            std::time::Instant::now() < until,
            "no {text:?} in the log after {secs} s:\n{}",
            server.log.lock().unwrap()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The number of certificates the JSON API finds for `filter`, page by page.
fn count_where(server: &Server, filter: &str) -> u64 {
    let (mut n, mut after) = (0, None::<i64>);
    loop {
        let mut path = format!("/api/v1/certificates?{filter}&limit=1000");
        if let Some(a) = after {
            path.push_str(&format!("&after={a}"));
        }
        let page = get(server, &path).json();
        n += page["certificates"].as_array().unwrap().len() as u64;
        match page["next"].as_i64() {
            Some(a) => after = Some(a),
            None => return n,
        }
    }
}

#[test]
fn a_living_repository_issues_and_moves_and_its_extracts_say_so() {
    let repo = simulate(100, 7);
    let cas = repo.sim().join("cas");
    load_on(
        &repo,
        &[repo.sim().join("extract"), cas.clone()],
        &cas,
        "2021-04-01",
    );
    let mut server = serve_with(
        repo.db(),
        &[
            "--simulate-issuance",
            "40",
            "--sim-moves",
            "4",
            "--sim-day-seconds",
            "2",
            "--sim-seed",
            "7",
            "--sim-defect-rate",
            "0.25",
        ],
    );
    let size = |server: &Server| metric(&get(server, "/metrics").text(), "smki_store_certificates");
    let before = size(&server);
    // The first simulated day is the day after the load; wait for two of them to end.
    wait_for_log(&server, "simulated day 2021-04-02:", 60);
    wait_for_log(&server, "simulated day 2021-04-03:", 60);
    let after = size(&server);
    assert!(after >= before + 60.0, "{before} -> {after}");

    let gen = repo.dir.path().join("gen");
    std::fs::create_dir(&gen).unwrap();
    let save = |server: &Server, name: &str, path: &str| {
        let reply = get(server, path);
        assert_eq!(reply.status, 200, "{}", reply.text());
        std::fs::write(gen.join(name), &reply.body).unwrap();
        gen.join(name)
    };
    let full1 = save(
        &server,
        "full-20210401.csv",
        "/api/v1/extract/full?as_of=2021-04-01",
    );
    let delta2 = save(
        &server,
        "delta-20210402.csv",
        "/api/v1/extract/delta?date=2021-04-02",
    );
    let delta3 = save(
        &server,
        "delta-20210403.csv",
        "/api/v1/extract/delta?date=2021-04-03",
    );
    let as_loaded: HashMap<String, smki_repo::Metadata> =
        extract_rows(std::slice::from_ref(&full1))
            .into_iter()
            .collect();
    for (delta, day) in [(&delta2, "2021-04-02"), (&delta3, "2021-04-03")] {
        let rows = extract_rows(std::slice::from_ref(delta));
        let new: Vec<_> = rows
            .iter()
            .filter(|(_, m)| m.issued.as_deref() == Some(day))
            .collect();
        // About 80 certificates a day (40 a second, 2 seconds a day), in pairs.
        assert!(new.len() >= 20, "{day}: {} new", new.len());
        // Every other row is a status move of a certificate issued before, a real change.
        let moves: Vec<_> = rows
            .iter()
            .filter(|(_, m)| m.issued.as_deref() != Some(day))
            .collect();
        for (sha, m) in &moves {
            assert!(m.issued.as_deref() < Some(day), "{sha}: {m:?}");
            assert!(as_loaded.contains_key(sha) || m.issued.is_some(), "{sha}");
        }
        // A new device is found by its EUI-64, through the DCC service.
        let (_, device) = new
            .iter()
            .find(|(_, m)| m.subject.is_none())
            .expect("a new device certificate");
        let eui = device.eui64.clone().unwrap();
        let reply = xml(
            &server,
            "certificatesearch",
            &search_xml("CertificateSubjectAltName", &eui.to_ascii_lowercase()),
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    let moved: usize = [&delta2, &delta3]
        .iter()
        .map(|d| {
            extract_rows(std::slice::from_ref(*d))
                .iter()
                .filter(|(_, m)| m.issued.as_deref() < Some("2021-04-02"))
                .count()
        })
        .sum();
    assert!(moved > 0, "no status moves among the loaded certificates");

    // SIGTERM stops it cleanly, the issuance with it.
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break s;
        }
        assert!(std::time::Instant::now() < until, "smki serve did not stop");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        server.log.lock().unwrap().contains("stopped: "),
        "{}",
        server.log.lock().unwrap()
    );

    // The store at rest: a scan of its full extract agrees with the store's verdicts, and
    // every certificate issued on a simulated day is in that day's delta.
    let server = serve(repo.db());
    let now = save(&server, "now.csv", "/api/v1/extract/full");
    let scan = scan_summary(std::slice::from_ref(&now), &cas);
    let stored = count_where(&server, "kind=device")
        + count_where(&server, "kind=organisation")
        + count_where(&server, "kind=ca")
        + count_where(&server, "kind=unknown");
    assert_eq!(scan["records"].as_u64().unwrap(), stored);
    for verdict in [
        "clean",
        "remediable",
        "needs_reissue",
        "unverifiable",
        "unreadable",
    ] {
        assert_eq!(
            scan["verdicts"][verdict].as_u64().unwrap_or(0),
            count_where(&server, &format!("verdict={verdict}")),
            "{verdict}: {}",
            scan["verdicts"]
        );
    }
    // The faulty signer was at work in the new certificates (25 % of them).
    assert!(
        scan["verdicts"]["remediable"].as_u64().unwrap() > 10,
        "{}",
        scan["verdicts"]
    );
    let in_delta: BTreeSet<String> = extract_rows(std::slice::from_ref(&delta2))
        .into_iter()
        .map(|r| r.0)
        .collect();
    let issued_then: BTreeSet<String> = extract_rows(std::slice::from_ref(&now))
        .into_iter()
        .filter(|(_, m)| m.issued.as_deref() == Some("2021-04-02"))
        .map(|r| r.0)
        .collect();
    assert!(!issued_then.is_empty());
    assert!(issued_then.is_subset(&in_delta));
    drop(server);

    // Options it cannot follow are refused before serving, in one sentence.
    for (args, says) in [
        (&["--simulate-issuance", "0"][..], "above 0"),
        (
            &["--simulate-issuance", "5", "--sim-inject", "UNREADABLE=0.1"][..],
            "UNREADABLE cannot be issued live",
        ),
    ] {
        let out = smki()
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(repo.db())
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{out:?}"
        );
    }
}
