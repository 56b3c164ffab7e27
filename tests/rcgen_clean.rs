//! Certificates no smki code wrote must all be clean (issue #16): `rcgen` (crates.io)
//! builds a P-256 ECDSA CA and leaves signed by it, varied in serial length, names,
//! validity, keyUsage, basicConstraints, subjectAltName, policies and custom extensions
//! (tests/support/rcgen_certs.rs). smki, through the `smki scan` CLI on a dump written to
//! a temporary directory with the rcgen CA as issuer, must find every one clean: no
//! CERT_BER, no SIG_* defect, the signature valid under the rcgen CA's key. Real OpenSSL
//! is the sanity oracle that they are real certificates (`openssl x509` reads each, and
//! `openssl verify` accepts each leaf under the CA).
//!
//! rcgen 0.14, not 0.13: rcgen 0.13 wrote every keyUsage as nine bits (trailing 0 bits
//! included, X.690 11.2.2) and `IsCa::ExplicitNoCa` as `cA FALSE` (a DEFAULT value
//! encoded, X.690 11.5); smki and x509-cert (tests/x509_cert_oracle.rs) both said those
//! certificates are not DER, and rcgen 0.14 writes both in DER.

#[path = "support/rcgen_certs.rs"]
mod rcgen_certs;
mod support;

use rcgen_certs::RcgenPki;
use std::process::Command;
use support::{jsonl, pem_certificate, require_tool, run, smki};

#[test]
fn every_rcgen_certificate_is_clean() {
    let pki = RcgenPki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let ca_pem = d.join("ca.pem");
    std::fs::write(&ca_pem, pem_certificate(&pki.ca.der)).expect("write");
    let dump = d.join("dump.pem");
    let all: Vec<_> = pki.all().collect();
    let pem: String = all.iter().map(|m| pem_certificate(&m.der)).collect();
    std::fs::write(&dump, pem).expect("write");
    let findings = d.join("findings.jsonl");

    let out = smki(
        &["scan", "--quiet"],
        &[
            ("", &dump),
            ("--issuers", &ca_pem),
            ("--findings", &findings),
        ],
    );
    // Exit 1 when a finding is not clean: the findings below say which.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "smki scan: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found = jsonl(&findings);
    assert_eq!(found.len(), all.len(), "one finding per certificate");
    let mut failures = Vec::new();
    for (m, f) in all.iter().zip(&found) {
        let codes: Vec<&str> = f["defects"]
            .as_array()
            .expect("defects")
            .iter()
            .filter_map(|d| d["code"].as_str())
            .collect();
        let status = f["signature"]["status"].as_str().unwrap_or("");
        if f["verdict"] != "clean" || !codes.is_empty() || status != "valid" {
            failures.push(format!(
                "{}: verdict {}, defects {codes:?}, signature {status}: {}",
                m.name, f["verdict"], f["reason"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "rcgen certificates smki does not find clean:\n{}",
        failures.join("\n")
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "smki scan exits 0 on a clean dump"
    );

    // OpenSSL: each reads, and each leaf verifies under the CA.
    let openssl = require_tool("openssl");
    for (i, m) in all.iter().enumerate() {
        let path = d.join(format!("{i}.pem"));
        std::fs::write(&path, pem_certificate(&m.der)).expect("write");
        let read = run(Command::new(&openssl)
            .args(["x509", "-noout", "-text", "-in"])
            .arg(&path));
        assert!(
            read.status.success(),
            "openssl x509 cannot read {}: {}",
            m.name,
            String::from_utf8_lossy(&read.stderr)
        );
        let answer = support::openssl_verify(&openssl, &ca_pem, &path);
        assert!(
            answer.accept,
            "openssl verify refuses {}: {}",
            m.name, answer.detail
        );
    }
    eprintln!(
        "{} rcgen certificates: all clean for smki, all read and verified by {}",
        all.len(),
        support::one_line(&support::run_ok(Command::new(&openssl).arg("version")))
    );
}
