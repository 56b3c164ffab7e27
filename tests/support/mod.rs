//! Shared harness for the integration tests: the real relying parties (the `openssl` CLI and
//! a small Java verifier compiled with `javac` at test time), a test PKI made with the
//! `openssl` CLI, re-signing a certificate's tbsCertificate with the CA key in Rust, and
//! small hand-written DER helpers (independent of the crates under test) to build signature
//! encodings.
//!
//! Use from a test file with `mod support;`.
#![allow(dead_code)]

pub mod oracle;

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

/// Runs a command, killing it (and panicking, naming the command) when it has not finished
/// within `limit`: a hung relying party or CLI fails the test instead of stalling CI.
pub fn run_timeout(cmd: &mut Command, limit: std::time::Duration) -> Output {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let err = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {limit:?}: killed");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    }
}

/// The time limit for one relying-party or `smki` run in the tests that use
/// [`run_timeout`] (generous: each takes seconds).
pub const CHILD_LIMIT: std::time::Duration = std::time::Duration::from_secs(240);

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
// The smki binary and its outputs
// ---------------------------------------------------------------------------------------

/// Runs the `smki` binary (of this build) with `args`, then each (flag, path) of `paths`
/// (an empty flag: the path alone), under [`CHILD_LIMIT`].
pub fn smki(args: &[&str], paths: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_smki"));
    cmd.args(args);
    for (flag, p) in paths {
        if !flag.is_empty() {
            cmd.arg(flag);
        }
        cmd.arg(p);
    }
    run_timeout(&mut cmd, CHILD_LIMIT)
}

/// Copies the directory tree `from` to `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("mkdir {}: {e}", to.display()));
    for e in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let e = e.expect("a directory entry");
        let t = to.join(e.file_name());
        if e.file_type().expect("a file type").is_dir() {
            copy_tree(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), &t).unwrap_or_else(|e| panic!("copy to {}: {e}", t.display()));
        }
    }
}

/// The project's own sample corpus (`fixtures/sample/certificates.pem`), DER, one per
/// certificate.
pub fn sample_certificates() -> Vec<Vec<u8>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample/certificates.pem");
    let pem = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    smki_repo::parse_buffer("sample", &pem)
        .into_iter()
        .map(|r| r.expect("the sample corpus reads").der)
        .collect()
}

/// The JSON values of a JSONL file, one per non-empty line.
pub fn jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
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
        parse_java_answers(&stdout, leaves)
    }

    /// Verifies each leaf under its own issuer key, in one JVM (VerifyCert's `--pairs`
    /// mode; the list of pairs is written to `dir/java-pairs-N.tsv`). One answer per pair,
    /// in order.
    pub fn verify_pairs(&self, dir: &Path, pairs: &[(IssuerKey, PathBuf)]) -> Vec<Answer> {
        if pairs.is_empty() {
            return Vec::new();
        }
        let mut list = String::new();
        for (issuer, leaf) in pairs {
            let (kind, path) = match issuer {
                IssuerKey::Cert(p) => ("cert", p),
                IssuerKey::Spki(p) => ("spki", p),
            };
            for p in [path, leaf] {
                let text = p.to_str().expect("UTF-8 path");
                assert!(
                    !text.contains('\t') && !text.contains('\n'),
                    "no tab or newline in {text:?}"
                );
            }
            list.push_str(&format!("{kind}\t{}\t{}\n", path.display(), leaf.display()));
        }
        let mut n = 0;
        let list_path = loop {
            let candidate = dir.join(format!("java-pairs-{n}.tsv"));
            if !candidate.exists() {
                break candidate;
            }
            n += 1;
        };
        std::fs::write(&list_path, list).expect("write the Java pairs list");
        let mut cmd = Command::new(&self.java);
        cmd.arg("-cp")
            .arg(&self.classes)
            .arg("VerifyCert")
            .arg("--pairs")
            .arg(&list_path);
        let out = run_timeout(&mut cmd, CHILD_LIMIT);
        assert!(
            out.status.success(),
            "{cmd:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = out.stdout;
        let leaves: Vec<PathBuf> = pairs.iter().map(|(_, leaf)| leaf.clone()).collect();
        parse_java_answers(&stdout, &leaves)
    }
}

/// The key a leaf is verified under by [`JavaVerifier::verify_pairs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerKey {
    /// The issuing CA's certificate (PEM or DER): its public key.
    Cert(PathBuf),
    /// A DER X.509 SubjectPublicKeyInfo file (see [`p256_spki_der`]).
    Spki(PathBuf),
}

/// The Java verifier's lines (LEAF<TAB>ACCEPT or LEAF<TAB>REJECT<TAB>why), one per leaf
/// in order.
fn parse_java_answers(stdout: &[u8], leaves: &[PathBuf]) -> Vec<Answer> {
    let text = String::from_utf8(stdout.to_vec()).expect("UTF-8 from the Java verifier");
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

/// `openssl verify` of many leaves in one process: `openssl verify FLAGS -CAfile CA
/// [-untrusted UNTRUSTED] LEAF...` (in chunks of 200 files). A leaf is accepted when
/// openssl prints `LEAF: OK` for it; otherwise the detail is the `error N at D depth
/// lookup: ...` line(s) openssl printed before `error LEAF: verification failed` (or
/// whatever it said about the file). One answer per leaf, in order. Every leaf must be
/// mentioned in openssl's output one way or the other (else the batch went wrong).
pub fn openssl_verify_many(
    openssl: &Path,
    flags: &[&str],
    ca_file: &Path,
    untrusted: Option<&Path>,
    leaves: &[PathBuf],
) -> Vec<Answer> {
    let mut answers = Vec::with_capacity(leaves.len());
    for chunk in leaves.chunks(200) {
        let mut cmd = Command::new(openssl);
        cmd.arg("verify").args(flags).arg("-CAfile").arg(ca_file);
        if let Some(u) = untrusted {
            cmd.arg("-untrusted").arg(u);
        }
        cmd.args(chunk);
        let out = run_timeout(&mut cmd, CHILD_LIMIT);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let ok: std::collections::HashSet<&str> = stdout
            .lines()
            .filter_map(|l| l.trim().strip_suffix(": OK"))
            .collect();
        // "error 7 at 0 depth lookup: certificate signature failure" lines come before
        // "error LEAF: verification failed".
        let mut failed: std::collections::HashMap<String, String> = Default::default();
        let mut pending: Vec<String> = Vec::new();
        for line in stderr.lines().map(str::trim) {
            if let Some(file) = line
                .strip_prefix("error ")
                .and_then(|l| l.strip_suffix(": verification failed"))
            {
                failed.insert(file.to_string(), pending.join(" | "));
                pending.clear();
            } else if line.starts_with("error ") && line.contains(" depth lookup") {
                pending.push(line.to_string());
            }
        }
        for leaf in chunk {
            let name = leaf.to_str().expect("UTF-8 path");
            let answer = if ok.contains(name) && !failed.contains_key(name) {
                Answer {
                    accept: true,
                    detail: String::new(),
                }
            } else if let Some(why) = failed.get(name) {
                Answer {
                    accept: false,
                    detail: why.clone(),
                }
            } else {
                // Not even read (e.g. "Could not read certificate from ..."): a rejection,
                // provided openssl said something about the file.
                let said: Vec<&str> = stderr.lines().filter(|l| l.contains(name)).collect();
                assert!(
                    !said.is_empty(),
                    "openssl verify said nothing about {name}:\n{stdout}\n{stderr}"
                );
                Answer {
                    accept: false,
                    detail: said.join(" | "),
                }
            };
            answers.push(answer);
        }
    }
    answers
}

/// The DER SubjectPublicKeyInfo of a P-256 public key given as its 65-octet uncompressed
/// point: the fixed prefix SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING
/// (0 unused bits) } followed by the point.
pub fn p256_spki_der(point: &[u8; 65]) -> Vec<u8> {
    const PREFIX: [u8; 26] = [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    assert_eq!(point[0], 0x04, "an uncompressed point");
    [&PREFIX[..], &point[..]].concat()
}

/// (tag, header length, content length) of the element at the start of `der`, for
/// definite lengths (short or long form, up to 4 length octets); None otherwise.
pub fn try_header(der: &[u8]) -> Option<(u8, usize, usize)> {
    let tag = *der.first()?;
    let first = *der.get(1)?;
    let (hl, len) = if first < 0x80 {
        (2, first as usize)
    } else {
        let n = (first & 0x7f) as usize;
        if !(1..=4).contains(&n) {
            return None;
        }
        let len = der
            .get(2..2 + n)?
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | b as usize);
        (2 + n, len)
    };
    if hl + len > der.len() {
        return None;
    }
    Some((tag, hl, len))
}

/// The elements of a constructed element's content as (tag, content); None when an element
/// has an indefinite or overlong length.
pub fn try_elements(mut content: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (tag, hl, len) = try_header(content)?;
        out.push((tag, &content[hl..hl + len]));
        content = &content[hl + len..];
    }
    Some(out)
}

/// The extnValue content (the octets inside the OCTET STRING) of the extension whose OID
/// has the content octets `oid` in the certificate `der`, found by walking Certificate ->
/// tbsCertificate -> [3] -> Extensions by hand (not with the crates under test).
pub fn extension_value<'a>(der: &'a [u8], oid: &[u8]) -> Option<&'a [u8]> {
    let (_, hl, len) = try_header(der)?;
    let (tag, tbs) = *try_elements(&der[hl..hl + len])?.first()?;
    if tag != 0x30 {
        return None;
    }
    let (_, exts) = try_elements(tbs)?.into_iter().find(|(t, _)| *t == 0xa3)?;
    let (_, exts) = *try_elements(exts)?.first()?;
    for (_, ext) in try_elements(exts)? {
        let parts = try_elements(ext)?;
        if parts.first() == Some(&(0x06, oid)) {
            return parts.iter().find(|(t, _)| *t == 0x04).map(|(_, v)| *v);
        }
    }
    None
}

/// The subjectKeyIdentifier (2.5.29.14) of a certificate, read by hand.
pub fn subject_key_id(der: &[u8]) -> Option<Vec<u8>> {
    let v = extension_value(der, &[0x55, 0x1d, 0x0e])?;
    let (tag, hl, len) = try_header(v)?;
    (tag == 0x04).then(|| v[hl..hl + len].to_vec())
}

/// The keyIdentifier [0] of the authorityKeyIdentifier (2.5.29.35) of a certificate, read
/// by hand.
pub fn authority_key_id(der: &[u8]) -> Option<Vec<u8>> {
    let v = extension_value(der, &[0x55, 0x1d, 0x23])?;
    let (tag, hl, len) = try_header(v)?;
    if tag != 0x30 {
        return None;
    }
    try_elements(&v[hl..hl + len])?
        .into_iter()
        .find(|(t, _)| *t == 0x80)
        .map(|(_, id)| id.to_vec())
}

// ---------------------------------------------------------------------------------------
// Reports
// ---------------------------------------------------------------------------------------

/// A value of a report (a verdict, a defect code, a list of them...) read as its enum:
/// only the names the vocabulary declares read.
pub fn typed<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> T {
    serde_json::from_value(v.clone())
        .unwrap_or_else(|e| panic!("{v} is not a {}: {e}", std::any::type_name::<T>()))
}

/// A finding's verdict.
pub fn verdict(finding: &serde_json::Value) -> smki_scan::Verdict {
    typed(&finding["verdict"])
}
