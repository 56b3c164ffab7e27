//! Shared harness for the integration tests: the real relying parties (the `openssl` CLI and
//! a small Java verifier compiled with `javac` at test time), a test PKI made with the
//! `openssl` CLI, re-signing a certificate's tbsCertificate with the CA key in Rust, and
//! small hand-written DER helpers (independent of the crates under test) to build signature
//! encodings.
//!
//! Use from a test file with `mod support;`.
#![allow(dead_code)]

use p256::ecdsa::signature::hazmat::RandomizedPrehashSigner;
use p256::ecdsa::{Signature, SigningKey};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

// ---------------------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------------------

/// The path of an executable on PATH, or a panic that says what is missing and why it is
/// needed (these tools are on every development machine and CI runner of this project).
pub fn require_tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "`{name}` was not found on PATH. The relying-party tests run the real relying \
         parties: they need a JDK (`java` and `javac`, 11 or later) and the `openssl` CLI \
         (3.x). Install them (e.g. `apt-get install openjdk-17-jdk-headless openssl`)."
    );
}

/// Runs a command; panics with its stderr when it cannot be started.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Runs a command that must succeed; returns its stdout.
pub fn run_ok(cmd: &mut Command) -> Vec<u8> {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// One line of text: the first line of the tool's output, trimmed.
pub fn one_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}

// ---------------------------------------------------------------------------------------
// PEM
// ---------------------------------------------------------------------------------------

/// A CERTIFICATE PEM block for `der` (64-character lines).
pub fn pem_certificate(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// The DER of the first CERTIFICATE block of a PEM text.
pub fn pem_to_der(pem: &str) -> Vec<u8> {
    use base64::Engine;
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE-----"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .expect("PEM body is base64")
}

// ---------------------------------------------------------------------------------------
// DER, written by hand (not with the crates under test)
// ---------------------------------------------------------------------------------------

/// DER length octets.
pub fn der_len(len: usize) -> Vec<u8> {
    if len < 0x80 {
        vec![len as u8]
    } else {
        let be = len.to_be_bytes();
        let skip = be.iter().take_while(|&&b| b == 0).count();
        let mut out = vec![0x80 | (be.len() - skip) as u8];
        out.extend_from_slice(&be[skip..]);
        out
    }
}

/// tag, DER length, content.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(der_len(content.len()));
    out.extend_from_slice(content);
    out
}

/// The content octets of the minimal DER INTEGER of the unsigned big-endian `v`.
pub fn int_content(v: &[u8]) -> Vec<u8> {
    let skip = v.iter().take_while(|&&b| b == 0).count();
    let m = &v[skip..];
    match m.first() {
        None => vec![0],
        Some(&b) if b & 0x80 != 0 => [&[0u8][..], m].concat(),
        Some(_) => m.to_vec(),
    }
}

/// The minimal DER INTEGER of the unsigned big-endian `v`.
pub fn der_int(v: &[u8]) -> Vec<u8> {
    tlv(0x02, &int_content(v))
}

/// The canonical DER `ECDSA-Sig-Value` of (r, s).
pub fn der_sig(r: &[u8; 32], s: &[u8; 32]) -> Vec<u8> {
    tlv(0x30, &[der_int(r), der_int(s)].concat())
}

/// A BIT STRING element (DER length) declaring `unused` bits, holding `content`.
pub fn bit_string(unused: u8, content: &[u8]) -> Vec<u8> {
    tlv(0x03, &[&[unused][..], content].concat())
}

/// The elements of a DER SEQUENCE's content, each as its whole bytes (short or long-form
/// definite lengths only: enough for certificates made by openssl).
pub fn elements(content: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < content.len() {
        let (hl, len) = header(&content[pos..]);
        out.push(&content[pos..pos + hl + len]);
        pos += hl + len;
    }
    out
}

/// (header length, content length) of the element at the start of `der`.
pub fn header(der: &[u8]) -> (usize, usize) {
    let first = der[1];
    if first < 0x80 {
        (2, first as usize)
    } else {
        let n = (first & 0x7f) as usize;
        assert!((1..=4).contains(&n), "unsupported length form");
        let len = der[2..2 + n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | b as usize);
        (2 + n, len)
    }
}

/// A certificate split by hand: (tbsCertificate, signatureAlgorithm, signatureValue), each
/// a whole element.
pub fn split_certificate(der: &[u8]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    assert_eq!(der[0], 0x30, "a certificate is a SEQUENCE");
    let (hl, len) = header(der);
    assert_eq!(hl + len, der.len(), "the certificate fills the record");
    let parts = elements(&der[hl..]);
    assert_eq!(
        parts.len(),
        3,
        "tbsCertificate, signatureAlgorithm, signatureValue"
    );
    (parts[0].to_vec(), parts[1].to_vec(), parts[2].to_vec())
}

/// The Certificate SEQUENCE (DER length) around its three parts.
pub fn assemble_certificate(tbs: &[u8], alg: &[u8], sig_value: &[u8]) -> Vec<u8> {
    tlv(0x30, &[tbs, alg, sig_value].concat())
}

// ---------------------------------------------------------------------------------------
// A test PKI made with the openssl CLI
// ---------------------------------------------------------------------------------------

/// A CA (self-signed, basicConstraints CA:TRUE, keyUsage keyCertSign) and one leaf it
/// signed, both made with the `openssl` CLI in `dir`, valid for ten years from now.
pub struct TestPki {
    pub dir: PathBuf,
    pub openssl: PathBuf,
    pub ca_pem: PathBuf,
    pub ca_der: Vec<u8>,
    /// The CA's private key, read back from openssl's SEC1 PEM.
    pub ca_key: SigningKey,
    pub leaf_pem: PathBuf,
    pub leaf_der: Vec<u8>,
}

impl TestPki {
    pub fn create(dir: &Path) -> TestPki {
        let openssl = require_tool("openssl");
        let ossl = || {
            let mut c = Command::new(&openssl);
            c.current_dir(dir);
            c
        };
        run_ok(ossl().args([
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "ca.key",
        ]));
        run_ok(ossl().args([
            "req",
            "-x509",
            "-new",
            "-key",
            "ca.key",
            "-sha256",
            "-days",
            "3650",
            "-subj",
            "/OU=07/CN=Z1 smki test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE,pathlen:0",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-addext",
            "subjectKeyIdentifier=hash",
            "-out",
            "ca.pem",
        ]));
        run_ok(ossl().args([
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "leaf.key",
        ]));
        run_ok(ossl().args([
            "req",
            "-new",
            "-key",
            "leaf.key",
            "-sha256",
            "-subj",
            "/CN=smki test leaf",
            "-out",
            "leaf.csr",
        ]));
        std::fs::write(
            dir.join("leaf.ext"),
            "basicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature\n\
             subjectKeyIdentifier=hash\n\
             authorityKeyIdentifier=keyid:always\n",
        )
        .expect("write leaf.ext");
        run_ok(ossl().args([
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            "0x1234567890abcdef1234567890abcdef",
            "-sha256",
            "-days",
            "3650",
            "-extfile",
            "leaf.ext",
            "-out",
            "leaf.pem",
        ]));
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect(name);
        let ca_key = p256::SecretKey::from_sec1_pem(&read("ca.key"))
            .expect("openssl's EC PRIVATE KEY (SEC1) PEM parses");
        TestPki {
            dir: dir.to_path_buf(),
            ca_der: pem_to_der(&read("ca.pem")),
            ca_pem: dir.join("ca.pem"),
            ca_key: SigningKey::from(ca_key),
            leaf_der: pem_to_der(&read("leaf.pem")),
            leaf_pem: dir.join("leaf.pem"),
            openssl,
        }
    }

    /// An ECDSA signature of the SHA-256 `digest` by the CA key with a fresh random k,
    /// as (r, s) 32-octet big-endian.
    pub fn sign(&self, digest: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
        let sig: Signature = self
            .ca_key
            .sign_prehash_with_rng(&mut rand_core::OsRng, digest)
            .expect("signing a 32-octet prehash");
        let (r, s) = sig.split_bytes();
        (r.into(), s.into())
    }

    /// Signs `digest` again and again (random k) until `want(r, s)`; panics after
    /// `max_tries`.
    pub fn sign_until(
        &self,
        digest: &[u8; 32],
        max_tries: usize,
        want: impl Fn(&[u8; 32], &[u8; 32]) -> bool,
    ) -> ([u8; 32], [u8; 32]) {
        for _ in 0..max_tries {
            let (r, s) = self.sign(digest);
            if want(&r, &s) {
                return (r, s);
            }
        }
        panic!("no signature of the wanted shape in {max_tries} tries");
    }
}

// ---------------------------------------------------------------------------------------
// The relying parties
// ---------------------------------------------------------------------------------------

/// What a relying party did with one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub accept: bool,
    /// The exception (Java) or the error output (OpenSSL); empty on accept.
    pub detail: String,
}

/// The Java verifier of tests/java/VerifyCert.java, compiled once into a directory.
pub struct JavaVerifier {
    java: PathBuf,
    classes: PathBuf,
}

impl JavaVerifier {
    /// Compiles tests/java/VerifyCert.java into `dir/java-classes` with `javac`.
    pub fn compile(dir: &Path) -> JavaVerifier {
        let javac = require_tool("javac");
        let java = require_tool("java");
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java/VerifyCert.java");
        let classes = dir.join("java-classes");
        std::fs::create_dir_all(&classes).expect("mkdir java-classes");
        run_ok(Command::new(javac).arg("-d").arg(&classes).arg(&src));
        JavaVerifier { java, classes }
    }

    /// `java -version`, first line.
    pub fn version(&self) -> String {
        let out = run(Command::new(&self.java).arg("-version"));
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    }

    /// Parses each leaf with CertificateFactory and verifies it under the CA's public key,
    /// in one JVM. One answer per leaf, in order.
    pub fn verify_all(&self, ca_pem: &Path, leaves: &[PathBuf]) -> Vec<Answer> {
        let stdout = run_ok(
            Command::new(&self.java)
                .arg("-cp")
                .arg(&self.classes)
                .arg("VerifyCert")
                .arg(ca_pem)
                .args(leaves),
        );
        let text = String::from_utf8(stdout).expect("UTF-8 from the Java verifier");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines.len(),
            leaves.len(),
            "one line per leaf from the Java verifier:\n{text}"
        );
        lines
            .iter()
            .zip(leaves)
            .map(|(line, leaf)| {
                let mut fields = line.splitn(3, '\t');
                let file = fields.next().unwrap_or_default();
                assert_eq!(Path::new(file), leaf.as_path(), "Java answers in order");
                match (fields.next(), fields.next()) {
                    (Some("ACCEPT"), None) => Answer {
                        accept: true,
                        detail: String::new(),
                    },
                    (Some("REJECT"), Some(why)) => Answer {
                        accept: false,
                        detail: why.to_string(),
                    },
                    _ => panic!("unexpected line from the Java verifier: {line}"),
                }
            })
            .collect()
    }
}

/// `openssl verify -CAfile CA LEAF`: accepted when the exit status is 0, the output says
/// "LEAF: OK" and no "error" appears.
pub fn openssl_verify(openssl: &Path, ca_pem: &Path, leaf: &Path) -> Answer {
    let out = run(Command::new(openssl)
        .arg("verify")
        .arg("-CAfile")
        .arg(ca_pem)
        .arg(leaf));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let ok_line = format!("{}: OK", leaf.display());
    let accept = out.status.success()
        && stdout.lines().any(|l| l.trim() == ok_line)
        && !stdout.to_lowercase().contains("error")
        && !stderr.to_lowercase().contains("error");
    Answer {
        accept,
        detail: if accept {
            String::new()
        } else {
            one_line(format!("{stdout}{stderr}").as_bytes())
        },
    }
}
