//! Certificate corpora for the differential test and the bench: the workspace's sample
//! corpus (`fixtures/sample`) and, when present, the DCC test certificates
//! (`/work/shared/fixtures/dcc-test-certs`, read in place, never copied).
#![allow(dead_code)]

use base64::Engine;
use std::path::{Path, PathBuf};

/// One certificate and where it came from (`file` or `file#n` for the n-th PEM block).
pub struct Cert {
    pub name: String,
    pub der: Vec<u8>,
}

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace's sample corpus: `fixtures/sample/certificates.pem` and `fixtures/sample/cas`.
pub fn sample() -> Vec<Cert> {
    load_dir(&crate_dir().join("../../fixtures/sample"))
}

/// The DCC test certificates, or None when the folder is absent.
pub fn dcc() -> Option<Vec<Cert>> {
    let dir = crate_dir().join("../../../shared/fixtures/dcc-test-certs");
    dir.is_dir().then(|| load_dir(&dir))
}

/// Every certificate in the .pem / .der / .cer / .crt files under `dir` (recursively, in
/// path order), each distinct DER once.
pub fn load_dir(dir: &Path) -> Vec<Cert> {
    let mut files = Vec::new();
    collect(dir, &mut files);
    files.sort();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for path in files {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path.display().to_string();
        let ders =
            if bytes.starts_with(b"-----BEGIN") || bytes.windows(10).any(|w| w == b"-----BEGIN") {
                pem_blocks(&bytes)
            } else {
                vec![bytes]
            };
        for (i, der) in ders.into_iter().enumerate() {
            if seen.insert(der.clone()) {
                out.push(Cert {
                    name: format!("{name}#{i}"),
                    der,
                });
            }
        }
    }
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()) {
        if entry.is_dir() {
            collect(&entry, out);
        } else if entry
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "pem" | "der" | "cer" | "crt"))
        {
            out.push(entry);
        }
    }
}

/// The DER of every `CERTIFICATE` block of a PEM file.
fn pem_blocks(text: &[u8]) -> Vec<Vec<u8>> {
    let text = String::from_utf8_lossy(text);
    let mut out = Vec::new();
    let mut body: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line == "-----BEGIN CERTIFICATE-----" {
            body = Some(String::new());
        } else if line == "-----END CERTIFICATE-----" {
            if let Some(b) = body.take() {
                out.push(
                    base64::engine::general_purpose::STANDARD
                        .decode(b)
                        .expect("PEM base64"),
                );
            }
        } else if let Some(b) = body.as_mut() {
            b.push_str(line);
        }
    }
    out
}
