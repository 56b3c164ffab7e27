//! The relying-party matrix (issue #16): SMKI-shaped certificates (a device and an
//! organisation certificate, issued by an SMKI-shaped root: critical certificatePolicies, a
//! hardwareModuleName, an x500UniqueIdentifier), each in every signature-encoding variant
//! the simulator's injector writes, plus a non-DER length outside the signed
//! tbsCertificate, of the tbsCertificate itself and of two fields inside it (serialNumber,
//! validity), an algorithm mismatch and a bad signature. All six real relying parties
//! are asked what they do with each:
//!
//! * Java 17: `CertificateFactory` + `X509Certificate.verify` (tests/java/VerifyCert.java);
//! * OpenSSL 3: `openssl verify -CAfile root`;
//! * BouncyCastle 1.72: BC's `CertificateFactory` + `verify(key, "BC")`
//!   (tests/java/VerifyBc.java, Debian's libbcprov-java);
//! * Go 1.19: `x509.ParseCertificate` + `CheckSignatureFrom` (tests/go/verify.go, Debian's
//!   golang-go);
//! * pyca/cryptography 48: `load_der_x509_certificate`, its extensions, the issuer key's
//!   `verify` (tests/oracles/x509_oracle.py);
//! * rustls-webpki 0.103: `EndEntityCert::verify_for_usage` with the root as trust anchor
//!   (in this process, a dev-dependency).
//!
//! Every prediction of `smki` must equal what the party did. The matrix, with each party's
//! version and own words, is docs/relying-parties.md: this test regenerates it and fails
//! when the checked-in file differs (`SMKI_UPDATE_DOCS=1 cargo test --test
//! relying_party_matrix` rewrites it). Outside CI a party whose runtime is missing is
//! skipped, saying so (and the document is then not compared).

#[path = "support/lint_corpus.rs"]
mod lint_corpus;
mod support;

use lint_corpus::Root;
use smki_der::DefectCode::{self, *};
use smki_repo::{Locator, Record};
use smki_scan::{Examiner, Finding, Input, Prediction, RelyingParty};
use std::path::{Path, PathBuf};
use support::oracle::{Oracle, Party, PartyAnswer};
use support::{
    assemble_certificate, elements, header, pem_certificate, split_certificate, tlv, IssuerKey,
    JavaVerifier,
};

/// Every signature-encoding code the simulator's injector writes.
const SIG_CODES: &[DefectCode] = &[
    SigIntLeadingZero,
    SigIntNegative,
    SigIntEmpty,
    SigIntLeadingFf,
    SigLenLongForm,
    SigLenIndefinite,
    SigLenLeadingZero,
    SigTrailingData,
    SigExtraElement,
    SigNotSequence,
    SigTruncated,
    SigBitstringUnusedBits,
    SigRange,
];

/// The signatureValue BIT STRING of (r, s) written canonically.
fn canonical(r: &[u8; 32], s: &[u8; 32]) -> Vec<u8> {
    smki_der::encode::signature_bit_string(r, s)
}

/// A tbsCertificate's SEQUENCE header rewritten with a long-form length of one more octet
/// than DER needs (`30 82 LL LL` -> `30 83 00 LL LL`).
fn tbs_long_form(tbs: &[u8]) -> Vec<u8> {
    let (hl, len) = header(tbs);
    let mut out = vec![0x30, 0x80 | (hl as u8), 0x00];
    out.extend_from_slice(&(len as u32).to_be_bytes()[4 - (hl - 1)..]);
    out.extend_from_slice(&tbs[hl..]);
    out
}

/// The tbsCertificate with the length of its field `field` (0: version, 1: serialNumber,
/// ..., 4: validity) written in the long form with one more octet than DER needs.
fn tbs_field_long_form(tbs: &[u8], field: usize) -> Vec<u8> {
    let (hl, _) = header(tbs);
    let mut fields: Vec<Vec<u8>> = elements(&tbs[hl..])
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect();
    let f = &fields[field];
    let (fhl, len) = header(f);
    // `81 LL` for a short-form length; `8(n+1) 00 <n octets>` for a long-form one.
    let n = (fhl - 2).max(1);
    let mut long = vec![f[0], 0x80 | (n as u8 + u8::from(fhl > 2))];
    if fhl > 2 {
        long.push(0x00);
    }
    long.extend_from_slice(&(len as u32).to_be_bytes()[4 - n..]);
    long.extend_from_slice(&f[fhl..]);
    fields[field] = long;
    tlv(0x30, &fields.concat())
}

/// The tbsCertificate with its signature AlgorithmIdentifier made ecdsa-with-SHA384.
fn tbs_sha384(tbs: &[u8]) -> Vec<u8> {
    let (hl, _) = header(tbs);
    let mut fields: Vec<Vec<u8>> = elements(&tbs[hl..])
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect();
    // version, serialNumber, signature, ...
    let alg = &mut fields[2];
    let at = alg.len() - 1;
    assert_eq!(alg[at], 0x02, "ecdsa-with-SHA256 ends in 02");
    alg[at] = 0x03;
    tlv(0x30, &fields.concat())
}

/// One variant: its name and DER.
struct Variant {
    leaf: &'static str,
    name: String,
    der: Vec<u8>,
}

fn variants(root: &Root) -> Vec<Variant> {
    let mut out = Vec::new();
    for (leaf, der) in root.smki_leaves() {
        let (tbs, alg, sig) = split_certificate(&der);
        let analysed = smki_der::analyse_signature(&sig, 0);
        let (r, s) = analysed.rs().expect("the root's signature reads");
        let mut push = |name: String, tbs: &[u8], sig: &[u8]| {
            out.push(Variant {
                leaf,
                name,
                der: assemble_certificate(tbs, &alg, sig),
            })
        };
        push("canonical DER".into(), &tbs, &canonical(&r, &s));
        for &code in SIG_CODES {
            match (0..16).find_map(|v| smki_der::encode::inject(&r, &s, &[code], v)) {
                Some(bs) => push(code.to_string(), &tbs, &bs),
                None => eprintln!("{leaf}: the injector cannot write {code} for this (r, s)"),
            }
        }
        // CERT_BER outside the signature: the signatureValue BIT STRING's own length.
        let ecdsa = smki_der::encode::ecdsa_sig_value(&r, &s);
        let mut long = vec![0x03, 0x81, (ecdsa.len() + 1) as u8, 0x00];
        long.extend_from_slice(&ecdsa);
        push(
            "CERT_BER: signatureValue length in long form".into(),
            &tbs,
            &long,
        );
        // CERT_BER inside the signed tbsCertificate, signed again.
        let ber_tbs = tbs_long_form(&tbs);
        let (r2, s2) = root.sign(&ber_tbs);
        push(
            "CERT_BER: tbsCertificate length in long form (signed)".into(),
            &ber_tbs,
            &canonical(&r2, &s2),
        );
        // CERT_BER inside the signed tbsCertificate (its own header DER), signed again:
        // the serialNumber's length (a primitive) and the validity's (a constructed).
        for (field, what) in [(1, "serialNumber"), (4, "validity")] {
            let ber_tbs = tbs_field_long_form(&tbs, field);
            let (r2, s2) = root.sign(&ber_tbs);
            push(
                format!("CERT_BER: {what} length in long form (signed)"),
                &ber_tbs,
                &canonical(&r2, &s2),
            );
        }
        // tbsCertificate.signature ecdsa-with-SHA384, signatureAlgorithm SHA-256, signed.
        let mismatch = tbs_sha384(&tbs);
        let (r3, s3) = root.sign(&mismatch);
        push(
            "CERT_SIG_ALG_MISMATCH (signed)".into(),
            &mismatch,
            &canonical(&r3, &s3),
        );
        // A signature that does not verify (s changed), canonically encoded.
        let mut bad_s = s;
        bad_s[31] ^= 0x01;
        push(
            "bad signature (s changed)".into(),
            &tbs,
            &canonical(&r, &bad_s),
        );
    }
    out
}

/// What webpki does with the certificate, the root its only trust anchor.
fn webpki_verify(root: &[u8], der: &[u8]) -> PartyAnswer {
    use rustls_pki_types::{CertificateDer, UnixTime};
    let root = CertificateDer::from(root);
    let anchor = webpki::anchor_from_trusted_cert(&root).expect("the root is a trust anchor");
    let cert = CertificateDer::from(der);
    let result = webpki::EndEntityCert::try_from(&cert).and_then(|ee| {
        ee.verify_for_usage(
            &[webpki::ring::ECDSA_P256_SHA256],
            &[anchor],
            &[],
            UnixTime::now(),
            webpki::KeyUsage::client_auth(),
            None,
            None,
        )
        .map(|_| ())
    });
    PartyAnswer {
        outcome: if result.is_ok() { "accept" } else { "reject" }.into(),
        error: result.err().map(|e| format!("{e:?}")).unwrap_or_default(),
        signature: None,
    }
}

/// A party's words without what differs from run to run: this run's temporary directory,
/// and the thread id OpenSSL puts before each error line.
fn stable_words(error: &str, dir: &Path) -> String {
    support::one_line(error.as_bytes())
        .replace(&*dir.to_string_lossy(), "DIR")
        .split(" | ")
        .map(|part| match part.split_once(":error:") {
            Some((id, rest)) if id.chars().all(|c| c.is_ascii_hexdigit()) => {
                format!("error:{rest}")
            }
            _ => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// A party's reported version at the granularity of [`RelyingParty::tested_with`]:
/// `openjdk version "17.0.15" ...` -> `OpenJDK 17`, `OpenSSL 3.0.19 ...` -> `OpenSSL 3.0`,
/// `go1.19.8` -> `Go 1.19`, `pyca/cryptography 48.0.0` -> `pyca/cryptography 48`,
/// `rustls-webpki 0.103.4 (ring)` -> `rustls-webpki 0.103`, `BouncyCastle 1.72` as it is.
fn tested_as(rp: RelyingParty, reported: &str) -> String {
    let first_version_word = |s: &str| -> String {
        s.split(|c: char| c.is_whitespace() || c == '"')
            .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))
            .unwrap_or("?")
            .to_string()
    };
    let parts = |v: &str, n: usize| v.split('.').take(n).collect::<Vec<_>>().join(".");
    match rp {
        RelyingParty::Java => format!("OpenJDK {}", parts(&first_version_word(reported), 1)),
        RelyingParty::Openssl => format!("OpenSSL {}", parts(&first_version_word(reported), 2)),
        RelyingParty::Bouncycastle => {
            format!("BouncyCastle {}", parts(&first_version_word(reported), 2))
        }
        RelyingParty::Go => format!("Go {}", parts(reported.trim().trim_start_matches("go"), 2)),
        RelyingParty::Pyca => format!(
            "pyca/cryptography {}",
            parts(&first_version_word(reported), 1)
        ),
        // 0.x: the minor is the breaking version.
        RelyingParty::Webpki => {
            format!("rustls-webpki {}", parts(&first_version_word(reported), 2))
        }
        _ => reported.to_string(),
    }
}

/// The version of a package in the workspace's Cargo.lock (the one this test links).
fn locked_version(package: &str) -> String {
    let lock = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock"))
        .expect("Cargo.lock");
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l == format!("name = \"{package}\"") {
            if let Some(v) = lines.next().and_then(|v| v.strip_prefix("version = ")) {
                return v.trim_matches('"').to_string();
            }
        }
    }
    panic!("{package} is not in Cargo.lock")
}

fn accept(b: bool) -> &'static str {
    if b {
        "accept"
    } else {
        "reject"
    }
}

#[test]
fn every_prediction_equals_what_every_real_party_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let root = Root::new();
    let root_der = d.join("root.der");
    let root_pem = d.join("root.pem");
    std::fs::write(&root_der, &root.der).expect("write");
    std::fs::write(&root_pem, pem_certificate(&root.der)).expect("write");
    let variants = variants(&root);

    let examiner = Examiner::builder(smki_verify::FastBackend)
        .issuers([Ok(Record {
            der: root.der.clone(),
            locator: Locator {
                file: "root.der".into(),
                record: 0,
                line: None,
                offset: 0,
            },
            meta: None,
        })])
        .build(1)
        .expect("the root reads")
        .examiner;
    let mut ders = Vec::new();
    let mut pems = Vec::new();
    let mut findings: Vec<Finding> = Vec::new();
    for (i, v) in variants.iter().enumerate() {
        let der = d.join(format!("{i:02}.der"));
        let pem = d.join(format!("{i:02}.pem"));
        std::fs::write(&der, &v.der).expect("write");
        std::fs::write(&pem, pem_certificate(&v.der)).expect("write");
        let locator = Locator {
            file: der.display().to_string().into(),
            record: 0,
            line: None,
            offset: 0,
        };
        findings.push(examiner.examine(Input::der(&v.der, &locator)));
        ders.push(der);
        pems.push(pem);
    }

    // (party, version, answers in variant order)
    let mut parties: Vec<(RelyingParty, String, Vec<PartyAnswer>)> = Vec::new();
    let mut complete = true;
    let as_party = |a: support::Answer| PartyAnswer {
        outcome: accept(a.accept).into(),
        error: a.detail,
        signature: None,
    };
    let java = JavaVerifier::compile(d);
    let pairs: Vec<(IssuerKey, PathBuf)> = ders
        .iter()
        .map(|p| (IssuerKey::Cert(root_der.clone()), p.clone()))
        .collect();
    parties.push((
        RelyingParty::Java,
        java.version(),
        java.verify_pairs(d, &pairs)
            .into_iter()
            .map(as_party)
            .collect(),
    ));
    let openssl = support::require_tool("openssl");
    let openssl_version = support::one_line(&support::run_ok(
        std::process::Command::new(&openssl).arg("version"),
    ));
    parties.push((
        RelyingParty::Openssl,
        openssl_version,
        pems.iter()
            .map(|p| as_party(support::openssl_verify(&openssl, &root_pem, p)))
            .collect(),
    ));
    let der_pairs: Vec<(&Path, &Path)> = ders
        .iter()
        .map(|p| (p.as_path(), root_der.as_path()))
        .collect();
    for (rp, party) in [
        (RelyingParty::Bouncycastle, Party::bouncycastle()),
        (RelyingParty::Go, Party::go()),
    ] {
        match party {
            Some(p) => parties.push((rp, p.version(), p.verify(&der_pairs))),
            None => complete = false,
        }
    }
    match Oracle::find() {
        Some(o) => parties.push((
            RelyingParty::Pyca,
            format!(
                "pyca/cryptography {}",
                o.versions()["pyca"].as_str().unwrap_or("?")
            ),
            o.verify(&der_pairs).into_iter().map(|a| a.pyca).collect(),
        )),
        None => complete = false,
    }
    parties.push((
        RelyingParty::Webpki,
        format!("rustls-webpki {} (ring)", locked_version("rustls-webpki")),
        variants
            .iter()
            .map(|v| webpki_verify(&root.der, &v.der))
            .collect(),
    ));
    parties.sort_by_key(|p| p.0);

    // Every party that ran is the version the predictions name (RelyingParty::tested_with,
    // the one table inspect and the scan summary show): a different one fails here, so the
    // table cannot go stale silently.
    let stale: Vec<String> = parties
        .iter()
        .filter(|(rp, reported, _)| tested_as(*rp, reported) != rp.tested_with())
        .map(|(rp, reported, _)| {
            format!(
                "{rp}: the table says {:?}, the real party reports {reported:?} ({:?})",
                rp.tested_with(),
                tested_as(*rp, reported)
            )
        })
        .collect();
    assert!(
        stale.is_empty(),
        "RelyingParty::tested_with is not the version that ran: measure the new version and \
         update the table:\n{}",
        stale.join("\n")
    );

    // The matrix, and every mismatch.
    let mut mismatches = Vec::new();
    let mut doc = String::from(DOC_HEAD);
    doc.push_str(
        "\n## Versions\nThe table of `RelyingParty::tested_with`, which `smki inspect` shows in each \
         prediction (`tested_with`) and the scan summary once (`relying_parties`); this test \
         fails when a party that ran reports another version.\n\n",
    );
    for &rp in RelyingParty::ALL {
        doc.push_str(&format!("- {rp}: {}\n", rp.tested_with()));
    }
    doc.push_str("\n## Versions this run reported\n");
    for (rp, version, _) in &parties {
        doc.push_str(&format!("- {rp}: {version}\n"));
    }
    doc.push_str("\n## Outcomes\nEach cell: what the party did (A accept, R reject); smki's prediction is the same in every cell (the test fails otherwise).\n\n| certificate | variant | smki verdict |");
    for (rp, ..) in &parties {
        doc.push_str(&format!(" {rp} |"));
    }
    doc.push_str("\n|---|---|---|");
    for _ in &parties {
        doc.push_str("---|");
    }
    doc.push('\n');
    let mut words = String::from("\n## The parties' own words\n");
    for (i, (v, f)) in variants.iter().zip(&findings).enumerate() {
        doc.push_str(&format!("| {} | {} | {} |", v.leaf, v.name, f.verdict));
        for (rp, version, answers) in &parties {
            let real = &answers[i];
            doc.push_str(if real.accepts() { " A |" } else { " R |" });
            let p = f.predictions.get(*rp);
            if !real.accepts() {
                words.push_str(&format!(
                    "- {} / {} / {rp}: {}\n",
                    v.leaf,
                    v.name,
                    stable_words(&real.error, d)
                ));
            }
            let predicted = match p {
                Prediction::Accept => Some(true),
                Prediction::Reject => Some(false),
                _ => None,
            };
            if predicted != Some(real.accepts()) {
                mismatches.push(format!(
                    "{} / {}: smki predicts {rp} {p} ({}), {version} did {} ({})",
                    v.leaf,
                    v.name,
                    f.predictions.reason(*rp).unwrap_or(""),
                    accept(real.accepts()),
                    real.error
                ));
            }
        }
        doc.push('\n');
    }
    doc.push_str(&words);
    eprintln!("{doc}");
    assert!(
        mismatches.is_empty(),
        "{} prediction(s) differ from the real parties:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );

    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/relying-parties.md");
    if std::env::var("SMKI_UPDATE_DOCS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &doc).expect("write docs/relying-parties.md");
    } else if complete {
        // The versions this run reported are recorded, not compared (a patch release
        // elsewhere is no change of behaviour; the table's granularity is compared above);
        // everything else must be what this run made.
        let without_versions = |text: &str| -> String {
            let mut skip = false;
            text.lines()
                .filter(|l| {
                    if l.starts_with("## ") {
                        skip = *l == "## Versions this run reported";
                    }
                    !skip
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            without_versions(&checked_in) == without_versions(&doc),
            "docs/relying-parties.md is not current: regenerate it with \
             `SMKI_UPDATE_DOCS=1 cargo test --test relying_party_matrix`"
        );
    } else {
        eprintln!("SKIPPED (docs/relying-parties.md comparison): a party is missing");
    }
}

const DOC_HEAD: &str = "# What the real relying parties do (generated)

Generated by `tests/relying_party_matrix.rs` (`SMKI_UPDATE_DOCS=1 cargo test --test
relying_party_matrix`); CI fails when this file is not what the test makes. It is the
evidence behind every prediction smki makes (docs/predictions.md has the rules).

Two SMKI-shaped certificates, a device and an organisation certificate issued by an
SMKI-shaped root (critical certificatePolicies; the device's critical subjectAltName with a
hardwareModuleName; the organisation's x500UniqueIdentifier BIT STRING in its subject),
each in every signature-encoding variant the simulator's injector writes (named by the
defect code it makes), plus a long-form length outside the signed tbsCertificate, of the
tbsCertificate itself and of its serialNumber and validity, an algorithm mismatch and a bad
signature. Each party is asked with the root as the issuer (OpenSSL: `openssl verify
-CAfile`; webpki: the only trust anchor).
";
