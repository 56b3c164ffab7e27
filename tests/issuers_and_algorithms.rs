//! Issue #14, classes 2 to 5, on certificates made by the `openssl` CLI (no smki code
//! wrote them), each outcome decided by real OpenSSL and real pyca/cryptography
//! (tests/oracles/x509_oracle.py) in the test:
//!
//! 2. several CAs under one key identifier, or one name: every one is a candidate issuer;
//! 3. a self-issued CA certificate signed by another key of its name (a key rollover) is
//!    verified under that key, not called self-signed;
//! 4. RSA, Ed25519, ECDSA with SHA-384 and ECDSA on P-384 are never analysed as a P-256
//!    ECDSA-Sig-Value, and get one verdict whether or not their issuer is present;
//! 5. a duplicate extension is a finding with its path, and the signature is still checked.

mod support;

use smki_der::DefectCode;
use smki_scan::{Examiner, Finding, Prediction, SignatureCheck, Verdict};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::oracle::{Oracle, OracleAnswer};
use support::{assemble_certificate, elements, header, pem_to_der, run_ok, split_certificate, tlv};

/// A key made by `openssl genpkey`.
fn key(dir: &Path, name: &str, alg: &[&str]) -> PathBuf {
    let path = dir.join(format!("{name}.key"));
    run_ok(
        Command::new("openssl")
            .arg("genpkey")
            .args(alg)
            .arg("-out")
            .arg(&path),
    );
    path
}

const P256: &[&str] = &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];
const P384: &[&str] = &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"];
const RSA: &[&str] = &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"];
const ED25519: &[&str] = &["-algorithm", "ED25519"];

/// A certificate made by the openssl CLI: its key, PEM and DER files.
struct Cert {
    key: PathBuf,
    pem: PathBuf,
    der: PathBuf,
}

fn write_der(pem: &Path) -> PathBuf {
    let der = pem.with_extension("der");
    let text = std::fs::read_to_string(pem).expect("read PEM");
    std::fs::write(&der, pem_to_der(&text)).expect("write DER");
    der
}

/// `-sha256` and the like: none for EdDSA.
fn digest_args(digest: Option<&str>) -> Vec<String> {
    digest.map(|d| vec![format!("-{d}")]).unwrap_or_default()
}

/// A self-signed CA certificate (`openssl req -x509`) with these extensions.
fn root(
    dir: &Path,
    name: &str,
    subject: &str,
    key: PathBuf,
    digest: Option<&str>,
    ext: &[&str],
) -> Cert {
    let pem = dir.join(format!("{name}.pem"));
    let mut cmd = Command::new("openssl");
    cmd.args(["req", "-x509", "-new", "-days", "3650", "-subj", subject])
        .arg("-key")
        .arg(&key)
        .args(digest_args(digest))
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    for e in ext {
        cmd.args(["-addext", e]);
    }
    run_ok(cmd.arg("-out").arg(&pem));
    Cert {
        key,
        der: write_der(&pem),
        pem,
    }
}

/// A certificate for `key` issued by `ca` (`openssl x509 -req`) with the extensions of
/// `ext` (extfile lines).
fn issue(
    dir: &Path,
    name: &str,
    subject: &str,
    key: PathBuf,
    ca: &Cert,
    digest: Option<&str>,
    ext: &[&str],
) -> Cert {
    let csr = dir.join(format!("{name}.csr"));
    run_ok(
        Command::new("openssl")
            .args(["req", "-new", "-subj", subject])
            .arg("-key")
            .arg(&key)
            .arg("-out")
            .arg(&csr),
    );
    let extfile = dir.join(format!("{name}.ext"));
    std::fs::write(&extfile, ext.join("\n") + "\n").expect("write extfile");
    let pem = dir.join(format!("{name}.pem"));
    run_ok(
        Command::new("openssl")
            .args(["x509", "-req", "-days", "3650"])
            .arg("-in")
            .arg(&csr)
            .arg("-CA")
            .arg(&ca.pem)
            .arg("-CAkey")
            .arg(&ca.key)
            .args(digest_args(digest))
            .arg("-extfile")
            .arg(&extfile)
            .arg("-out")
            .arg(&pem),
    );
    Cert {
        key,
        der: write_der(&pem),
        pem,
    }
}

/// The findings of `dump` (in order) with `issuers` registered, as `smki scan` makes them.
fn examine(issuers: &[&Path], dump: &[&Path]) -> Vec<Finding> {
    let read =
        |paths: &[&Path]| -> Vec<_> { paths.iter().flat_map(|p| smki_repo::open(p)).collect() };
    let records = read(dump);
    let ex = Examiner::builder(smki_verify::FastBackend)
        .issuers(read(issuers))
        .dump(records.clone())
        .build(1)
        .expect("issuers read")
        .examiner;
    ex.examine_batch(&records)
}

fn codes(f: &Finding) -> Vec<DefectCode> {
    f.defects.iter().map(|d| d.code).collect()
}

/// The key source's locator of a valid signature (`None` if not valid).
fn valid_under(f: &Finding) -> Option<String> {
    match &f.signature {
        SignatureCheck::Valid { key_source, .. } => Some(key_source.from().to_string()),
        _ => None,
    }
}

fn prediction(p: &str) -> Prediction {
    if p == "accept" {
        Prediction::Accept
    } else {
        Prediction::Reject
    }
}

/// smki's signature status and openssl / pyca predictions agree with the real parties.
fn agrees(f: &Finding, real: &OracleAnswer) {
    let valid = matches!(f.signature, SignatureCheck::Valid { .. });
    assert_eq!(
        Some(valid),
        real.openssl.signature_verifies(),
        "signature of {} per X509_verify ({real:?}); smki: {f:?}",
        real.cert
    );
    assert_eq!(
        f.predictions.openssl,
        prediction(&real.openssl.outcome),
        "openssl on {}: {real:?}",
        real.cert
    );
    assert_eq!(
        f.predictions.pyca,
        prediction(&real.pyca.outcome),
        "pyca on {}: {real:?}",
        real.cert
    );
}

/// Class 2: two CAs declaring the same subjectKeyIdentifier; two CAs of the same name.
#[test]
fn every_ca_under_one_key_identifier_or_name_is_a_candidate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let same_ski = "subjectKeyIdentifier=0102030405060708";
    let one = root(
        d,
        "ca-one",
        "/CN=CA one",
        key(d, "ca-one", P256),
        Some("sha256"),
        &[same_ski],
    );
    let two = root(
        d,
        "ca-two",
        "/CN=CA two",
        key(d, "ca-two", P256),
        Some("sha256"),
        &[same_ski],
    );
    let leaf_ext = [
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature",
        "authorityKeyIdentifier=keyid:always",
    ];
    let leaf_one = issue(
        d,
        "leaf-one",
        "/CN=leaf of one",
        key(d, "leaf-one", P256),
        &one,
        Some("sha256"),
        &leaf_ext,
    );
    let leaf_two = issue(
        d,
        "leaf-two",
        "/CN=leaf of two",
        key(d, "leaf-two", P256),
        &two,
        Some("sha256"),
        &leaf_ext,
    );
    // Same name, distinct keys; leaves without an AKI: found by name only.
    let name = "/CN=Same name CA";
    let three = root(
        d,
        "ca-three",
        name,
        key(d, "ca-three", P256),
        Some("sha256"),
        &[],
    );
    let four = root(
        d,
        "ca-four",
        name,
        key(d, "ca-four", P256),
        Some("sha256"),
        &[],
    );
    let no_aki = [
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature",
        "authorityKeyIdentifier=none",
        "subjectKeyIdentifier=none",
    ];
    let leaf_three = issue(
        d,
        "leaf-three",
        "/CN=leaf of three",
        key(d, "leaf-three", P256),
        &three,
        Some("sha256"),
        &no_aki,
    );
    let leaf_four = issue(
        d,
        "leaf-four",
        "/CN=leaf of four",
        key(d, "leaf-four", P256),
        &four,
        Some("sha256"),
        &no_aki,
    );
    let leaves = [
        (&leaf_one, &one),
        (&leaf_two, &two),
        (&leaf_three, &three),
        (&leaf_four, &four),
    ];

    let issuers = [
        one.der.as_path(),
        two.der.as_path(),
        three.der.as_path(),
        four.der.as_path(),
    ];
    let dump: Vec<&Path> = leaves.iter().map(|(l, _)| l.der.as_path()).collect();
    let findings = examine(&issuers, &dump);
    for ((leaf, ca), f) in leaves.iter().zip(&findings) {
        assert_eq!(f.verdict, Verdict::Clean, "{}: {f:?}", leaf.der.display());
        assert_eq!(
            valid_under(f).as_deref(),
            Some(&*format!("{}#0 (byte 0)", ca.der.display())),
            "{f:?}"
        );
    }
    // The same with the CAs in the dump instead (the first pass registers them).
    let mut both: Vec<&Path> = issuers.to_vec();
    both.extend(&dump);
    let findings = examine(&[], &both);
    assert!(
        findings[4..].iter().all(|f| f.verdict == Verdict::Clean),
        "{findings:?}"
    );

    if let Some(oracle) = Oracle::find() {
        let pairs: Vec<(&Path, &Path)> = leaves
            .iter()
            .map(|(l, c)| (l.der.as_path(), c.der.as_path()))
            .collect();
        for (real, f) in oracle.verify(&pairs).iter().zip(&findings[4..]) {
            agrees(f, real);
        }
        // And the other CA of the pair does not verify it (so the right one was found).
        let crossed = oracle.verify(&[(&leaf_one.der, &two.der), (&leaf_three.der, &four.der)]);
        assert!(
            crossed
                .iter()
                .all(|a| a.openssl.signature_verifies() == Some(false)),
            "{crossed:?}"
        );
    }
}

/// Class 3: a CA key rollover. The new CA certificate has the old one's name, no AKI, and
/// is signed by the old key; it is not self-signed.
#[test]
fn a_self_issued_certificate_is_verified_under_the_key_that_signed_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let name = "/CN=Rollover Root";
    let old = root(
        d,
        "old",
        name,
        key(d, "old", P256),
        Some("sha256"),
        &["subjectKeyIdentifier=hash", "authorityKeyIdentifier=none"],
    );
    let ca_ext = [
        "basicConstraints=critical,CA:TRUE",
        "keyUsage=critical,keyCertSign,cRLSign",
        "subjectKeyIdentifier=hash",
        "authorityKeyIdentifier=none",
    ];
    let new = issue(
        d,
        "new",
        name,
        key(d, "new", P256),
        &old,
        Some("sha256"),
        &ca_ext,
    );
    let leaf = issue(
        d,
        "leaf",
        "/CN=leaf",
        key(d, "leaf", P256),
        &new,
        Some("sha256"),
        &[
            "basicConstraints=critical,CA:FALSE",
            "keyUsage=critical,digitalSignature",
            "authorityKeyIdentifier=keyid:always",
        ],
    );
    let findings = examine(&[], &[&old.der, &new.der, &leaf.der]);
    assert_eq!(
        valid_under(&findings[0]).as_deref(),
        Some("self-signed"),
        "{:?}",
        findings[0]
    );
    assert_eq!(
        valid_under(&findings[1]).as_deref(),
        Some(&*format!("{}#0 (byte 0)", old.der.display())),
        "the new root is verified under the old key: {:?}",
        findings[1]
    );
    assert!(
        findings.iter().all(|f| f.verdict == Verdict::Clean),
        "{findings:?}"
    );
    if let Some(oracle) = Oracle::find() {
        let real = oracle.verify(&[
            (&old.der, &old.der),
            (&new.der, &old.der),
            (&leaf.der, &new.der),
            (&new.der, &new.der),
        ]);
        for (r, f) in real.iter().zip(&findings) {
            agrees(f, r);
        }
        assert_eq!(
            real[3].openssl.signature_verifies(),
            Some(false),
            "the new root is not self-signed: {:?}",
            real[3]
        );
    }
}

/// Class 4: signatures smki does not verify are never analysed as a P-256 ECDSA-Sig-Value,
/// and give the same verdict with or without their issuer.
#[test]
fn other_algorithms_are_named_not_analysed_as_p256() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let leaf_ext = [
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature",
        "authorityKeyIdentifier=keyid:always",
    ];
    let rsa = root(
        d,
        "rsa-ca",
        "/CN=RSA CA",
        key(d, "rsa-ca", RSA),
        Some("sha256"),
        &[],
    );
    let ed = root(
        d,
        "ed-ca",
        "/CN=Ed25519 CA",
        key(d, "ed-ca", ED25519),
        None,
        &[],
    );
    let p384 = root(
        d,
        "p384-ca",
        "/CN=P-384 CA",
        key(d, "p384-ca", P384),
        Some("sha384"),
        &[],
    );
    let p256 = root(
        d,
        "p256-ca",
        "/CN=P-256 CA",
        key(d, "p256-ca", P256),
        Some("sha256"),
        &[],
    );
    // (leaf, its CA, the algorithm the reason must name)
    let cases = [
        (
            issue(
                d,
                "rsa-leaf",
                "/CN=rsa leaf",
                key(d, "rsa-leaf", P256),
                &rsa,
                Some("sha256"),
                &leaf_ext,
            ),
            &rsa,
            "sha256WithRSAEncryption",
        ),
        (
            issue(
                d,
                "ed-leaf",
                "/CN=ed leaf",
                key(d, "ed-leaf", P256),
                &ed,
                None,
                &leaf_ext,
            ),
            &ed,
            "id-Ed25519",
        ),
        (
            issue(
                d,
                "p384-leaf",
                "/CN=p384 leaf",
                key(d, "p384-leaf", P256),
                &p384,
                Some("sha384"),
                &leaf_ext,
            ),
            &p384,
            "ecdsa-with-SHA384 on P-384",
        ),
        (
            issue(
                d,
                "p384-sha256-leaf",
                "/CN=p384 sha256 leaf",
                key(d, "p384-sha256-leaf", P256),
                &p384,
                Some("sha256"),
                &leaf_ext,
            ),
            &p384,
            "ecdsa-with-SHA256 on P-384",
        ),
        (
            issue(
                d,
                "sha384-leaf",
                "/CN=p256 sha384 leaf",
                key(d, "sha384-leaf", P256),
                &p256,
                Some("sha384"),
                &leaf_ext,
            ),
            &p256,
            "ecdsa-with-SHA384 on P-256",
        ),
    ];
    let dump: Vec<&Path> = cases.iter().map(|(l, _, _)| l.der.as_path()).collect();
    let cas = [
        rsa.der.as_path(),
        ed.der.as_path(),
        p384.der.as_path(),
        p256.der.as_path(),
    ];
    let with_issuers = examine(&cas, &dump);
    let mut with_cas_in_dump: Vec<&Path> = cas.to_vec();
    with_cas_in_dump.extend(&dump);
    let cas_in_dump = examine(&[], &with_cas_in_dump);
    let without = examine(&[], &dump);
    // The P-384 CA is itself ecdsa-with-SHA384, self-signed: unverifiable, no SIG_ code.
    for f in cas_in_dump.iter() {
        assert!(codes(f).iter().all(|c| !c.is_signature()), "{f:?}");
    }
    for (i, (leaf, _, alg)) in cases.iter().enumerate() {
        let runs = [&with_issuers[i], &cas_in_dump[4 + i], &without[i]];
        for f in runs {
            assert_eq!(
                f.verdict,
                Verdict::Unverifiable,
                "{}: {f:?}",
                leaf.der.display()
            );
            assert_eq!(
                codes(f),
                vec![DefectCode::CertUnsupportedAlg],
                "{}: {f:?}",
                leaf.der.display()
            );
            assert!(
                f.reason.contains(alg),
                "{}: reason {:?} names {alg}",
                leaf.der.display(),
                f.reason
            );
            assert_eq!(f.predictions.openssl, Prediction::Unknown);
        }
        assert_eq!(
            (runs[0].verdict, &runs[0].reason),
            (runs[2].verdict, &runs[2].reason),
            "same with or without the issuer"
        );
    }
    // Real OpenSSL accepts every one of these under its CA: nothing here needs a reissue.
    if let Some(oracle) = Oracle::find() {
        let pairs: Vec<(&Path, &Path)> = cases
            .iter()
            .map(|(l, c, _)| (l.der.as_path(), c.der.as_path()))
            .collect();
        for real in oracle.verify(&pairs) {
            assert!(real.openssl.accepts(), "{real:?}");
        }
    }
}

/// Class 5: a second basicConstraints extension, signed by the CA: the signature is still
/// checked (and verifies), the duplicate is a finding with its path.
#[test]
fn a_duplicate_extension_is_a_finding_and_the_signature_is_still_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let pki = support::TestPki::create(d);
    // The leaf's tbsCertificate with its first extension repeated at the end.
    let (tbs, alg, _) = split_certificate(&pki.leaf_der);
    let (hl, _) = header(&tbs);
    let mut fields: Vec<Vec<u8>> = elements(&tbs[hl..])
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect();
    let wrapper = fields.pop().expect("extensions");
    assert_eq!(wrapper[0], 0xa3);
    let (whl, _) = header(&wrapper);
    let seq = &wrapper[whl..];
    let (shl, _) = header(seq);
    let mut exts: Vec<Vec<u8>> = elements(&seq[shl..])
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect();
    let index = exts.len();
    exts.push(exts[0].clone());
    fields.push(tlv(0xa3, &tlv(0x30, &exts.concat())));
    let tbs = tlv(0x30, &fields.concat());
    let digest = smki_x509::sha256(&tbs);
    let (r, s) = pki.sign(&digest);
    let cert = assemble_certificate(&tbs, &alg, &smki_der::encode::signature_bit_string(&r, &s));
    let path = d.join("duplicate.der");
    std::fs::write(&path, &cert).expect("write");
    let ca_der = d.join("ca.der");
    std::fs::write(&ca_der, &pki.ca_der).expect("write");

    let f = &examine(&[&ca_der], &[&path])[0];
    assert!(matches!(f.signature, SignatureCheck::Valid { .. }), "{f:?}");
    assert_eq!(codes(f), vec![DefectCode::CertDuplicateExtension], "{f:?}");
    assert_eq!(
        f.defects[0].at.to_string(),
        format!("tbsCertificate.extensions[{index}]")
    );
    assert_eq!(f.verdict, Verdict::NeedsReissue, "{f:?}");
    if let Some(oracle) = Oracle::find() {
        let real = &oracle.verify(&[(&path, &ca_der)])[0];
        agrees(f, real);
        assert_eq!(real.pyca.signature_verifies(), Some(true), "{real:?}");
    }
}
