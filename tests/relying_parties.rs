//! The relying-party predictions of `smki` against the real relying parties.
//!
//! A CA and a leaf are made with the `openssl` CLI in a temporary directory. Keeping the
//! leaf's tbsCertificate (and signatureAlgorithm) byte-identical, only the signature
//! encoding is changed: the same tbs is signed again with the CA's private key in Rust
//! (random k, until (r, s) has the shape a row needs), and the signature is written one way
//! per row of the table in docs/predictions.md. Each variant is then
//! * verified by Java (tests/java/VerifyCert.java: CertificateFactory + cert.verify, one JVM
//!   for all files) and by `openssl verify -CAfile ca.pem`;
//! * examined by `smki_scan::Examiner` with the CA registered as an issuer;
//!
//! and the finding's `predictions.java` / `predictions.openssl` must equal what Java and
//! OpenSSL actually did, row by row. A disagreement fails the test with the whole table
//! (prediction, reality, and the relying party's own error text).

mod support;

use smki_der::encode;
use smki_der::DefectCode::{self, *};
use smki_repo::{Locator, Record};
use smki_scan::{Examiner, Finding, Input, Prediction, RelyingParty, Verdict};
use smki_verify::{Backend, PlainBackend, PublicKey};
use smki_x509::{sha256, CertView};
use std::path::PathBuf;
use support::{
    bit_string, der_int, der_sig, int_content, openssl_verify, tlv, Answer, JavaVerifier, TestPki,
};

/// What a row needs of (r, s) before it can be written its way.
type Shape = fn(&[u8; 32], &[u8; 32]) -> bool;
/// Writes the signatureValue BIT STRING element of a row from (r, s).
type Build = fn(&[u8; 32], &[u8; 32]) -> Vec<u8>;

struct Row {
    name: &'static str,
    /// The signature must have this shape (the CA signs again until it has).
    shape: Shape,
    build: Build,
    /// The defect codes smki must report for this variant (as a set, in any order).
    codes: &'static [DefectCode],
}

fn any(_: &[u8; 32], _: &[u8; 32]) -> bool {
    true
}

fn seq(content: &[u8]) -> Vec<u8> {
    tlv(0x30, content)
}

/// An INTEGER with `zeros` extra 0x00 octets before the minimal content.
fn int_with_zeros(v: &[u8; 32], zeros: usize) -> Vec<u8> {
    let content = [vec![0u8; zeros], int_content(v)].concat();
    tlv(0x02, &content)
}

/// The order n of P-256 minus s (the other valid s for the same r).
fn negate_s(s: &[u8; 32]) -> [u8; 32] {
    use p256::elliptic_curve::PrimeField;
    let scalar = p256::Scalar::from_repr((*s).into()).expect("s < n");
    (-scalar).to_bytes().into()
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            name: "canonical DER",
            shape: any,
            build: |r, s| bit_string(0, &der_sig(r, s)),
            codes: &[],
        },
        Row {
            // The 2018 signer: fixed-width 32-octet r and s, r < 2^247.
            name: "leading 0x00 in r (fixed-width signer, r < 2^247)",
            shape: |r, s| r[0] == 0 && r[1] < 0x80 && r[1] != 0 && s[0] != 0,
            build: |r, s| encode::faulty_fixed_width_bit_string(r, s),
            codes: &[SigIntLeadingZero],
        },
        Row {
            name: "1 redundant 0x00 before r",
            shape: |r, _| r[0] != 0 && r[0] < 0x80,
            build: |r, s| bit_string(0, &seq(&[int_with_zeros(r, 1), der_int(s)].concat())),
            codes: &[SigIntLeadingZero],
        },
        Row {
            name: "2 redundant 0x00 before r",
            shape: any,
            build: |r, s| bit_string(0, &seq(&[int_with_zeros(r, 2), der_int(s)].concat())),
            codes: &[SigIntLeadingZero],
        },
        Row {
            name: "1 redundant 0x00 before s",
            shape: any,
            build: |r, s| bit_string(0, &seq(&[der_int(r), int_with_zeros(s, 1)].concat())),
            codes: &[SigIntLeadingZero],
        },
        Row {
            name: "long-form length on the SEQUENCE (30 81 LL)",
            shape: any,
            build: |r, s| {
                let ints = [der_int(r), der_int(s)].concat();
                let mut sig = vec![0x30, 0x81, ints.len() as u8];
                sig.extend(ints);
                bit_string(0, &sig)
            },
            codes: &[SigLenLongForm],
        },
        Row {
            name: "long-form length on r (02 81 LL)",
            shape: any,
            build: |r, s| {
                let rc = int_content(r);
                let mut ints = vec![0x02, 0x81, rc.len() as u8];
                ints.extend(rc);
                ints.extend(der_int(s));
                bit_string(0, &seq(&ints))
            },
            codes: &[SigLenLongForm],
        },
        Row {
            name: "indefinite length on the SEQUENCE (30 80 .. 00 00)",
            shape: any,
            build: |r, s| {
                let mut sig = vec![0x30, 0x80];
                sig.extend(der_int(r));
                sig.extend(der_int(s));
                sig.extend([0, 0]);
                bit_string(0, &sig)
            },
            codes: &[SigLenIndefinite],
        },
        Row {
            name: "trailing byte after the SEQUENCE",
            shape: any,
            build: |r, s| bit_string(0, &[der_sig(r, s), vec![0]].concat()),
            codes: &[SigTrailingData],
        },
        Row {
            name: "third element in the SEQUENCE (02 01 01)",
            shape: any,
            build: |r, s| bit_string(0, &seq(&[der_int(r), der_int(s), vec![2, 1, 1]].concat())),
            codes: &[SigExtraElement],
        },
        Row {
            name: "negative r (0x00 pad missing)",
            // High bit set, and not FF followed by >= 0x80 (that reads as a redundant 0xFF).
            shape: |r, _| r[0] >= 0x80 && !(r[0] == 0xff && r[1] >= 0x80),
            build: |r, s| bit_string(0, &seq(&[tlv(0x02, r), der_int(s)].concat())),
            codes: &[SigIntNegative],
        },
        Row {
            name: "negative s (0x00 pad missing)",
            shape: |_, s| s[0] >= 0x80 && !(s[0] == 0xff && s[1] >= 0x80),
            build: |r, s| bit_string(0, &seq(&[der_int(r), tlv(0x02, s)].concat())),
            codes: &[SigIntNegative],
        },
        Row {
            // inject's SIG_INT_LEADING_FF: one 0xFF before a negative r (33 octets).
            name: "0xFF + negative r (33 octets)",
            shape: |r, _| r[0] >= 0x80,
            build: |r, s| {
                let content = [&[0xffu8][..], &r[..]].concat();
                bit_string(0, &seq(&[tlv(0x02, &content), der_int(s)].concat()))
            },
            codes: &[SigIntLeadingFf],
        },
        Row {
            name: "BIT STRING 1 unused bit, pad bit 0",
            shape: |_, s| s[31] & 1 == 0,
            build: |r, s| bit_string(1, &der_sig(r, s)),
            codes: &[SigBitstringUnusedBits],
        },
        Row {
            name: "BIT STRING 1 unused bit, pad bit 1",
            shape: |_, s| s[31] & 1 == 1,
            build: |r, s| bit_string(1, &der_sig(r, s)),
            codes: &[SigBitstringUnusedBits],
        },
        Row {
            name: "BIT STRING 7 unused bits, pad bits 0",
            shape: |_, s| s[31] & 0x7f == 0,
            build: |r, s| bit_string(7, &der_sig(r, s)),
            codes: &[SigBitstringUnusedBits],
        },
        Row {
            name: "long-form length of the BIT STRING (03 81 LL)",
            shape: any,
            build: |r, s| {
                let body = [vec![0u8], der_sig(r, s)].concat();
                assert!(body.len() < 0x80);
                [vec![0x03, 0x81, body.len() as u8], body].concat()
            },
            codes: &[CertBer],
        },
        Row {
            name: "BIT STRING length 03 82 00 LL (leading 0x00)",
            shape: any,
            build: |r, s| {
                let body = [vec![0u8], der_sig(r, s)].concat();
                [vec![0x03, 0x82, 0x00, body.len() as u8], body].concat()
            },
            codes: &[CertBer],
        },
        Row {
            name: "high s (n - s)",
            // s below 2^255 - 2^248 < n/2, so that n - s is the high one.
            shape: |_, s| s[0] < 0x7f,
            build: |r, s| bit_string(0, &der_sig(r, &negate_s(s))),
            codes: &[],
        },
    ]
}

/// The one row smki gets wrong today (see `missing_pad_before_ff_reads_as_java_reads_it`).
fn ff_missing_pad_row() -> Row {
    Row {
        // The same missing-pad writer, for the 1 r in 512 that starts FF 8x..FF: by
        // X.690 the FF is a redundant sign octet of a negative number. Java reads the
        // 32 octets unsigned (= r), so the signature is as remediable as any other
        // missing pad.
        name: "negative r starting FF 8x (missing pad)",
        shape: |r, _| r[0] == 0xff && r[1] >= 0x80,
        build: |r, s| bit_string(0, &seq(&[tlv(0x02, r), der_int(s)].concat())),
        codes: &[SigIntLeadingFf],
    }
}

fn prediction_bool(p: Prediction) -> Option<bool> {
    match p {
        Prediction::Accept => Some(true),
        Prediction::Reject => Some(false),
        _ => None,
    }
}

fn ar(accept: bool) -> &'static str {
    if accept {
        "A"
    } else {
        "R"
    }
}

fn pr(p: Prediction) -> &'static str {
    match p {
        Prediction::Accept => "A",
        Prediction::Reject => "R",
        _ => "?",
    }
}

struct Variant {
    name: &'static str,
    path: PathBuf,
    der: Vec<u8>,
    finding: Finding,
    want_codes: &'static [DefectCode],
}

/// Rows of the table in docs/predictions.md, then rows probing beyond it (negative s, 7 unused bits,
/// a BIT STRING length with a leading 0x00, a redundant 0xFF): every prediction of smki for
/// Java and OpenSSL must be what they did.
#[test]
fn predictions_match_real_java_and_openssl() {
    let failures = check_rows(rows());
    if !failures.is_empty() {
        panic!(
            "{} disagreement(s) between smki and reality:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

/// The missing-pad signer writes r as its 32 octets; when r happens to start FF 8x..FF
/// (1 r in 512), X.690 reads the FF as a redundant sign octet. Java reads the 32 octets
/// unsigned, gets r back and ACCEPTS the certificate. smki must then predict that, and call
/// the certificate remediable (its (r, s), read the way Java reads them, verify).
#[test]
fn missing_pad_before_ff_reads_as_java_reads_it() {
    let failures = check_rows(vec![ff_missing_pad_row()]);
    if !failures.is_empty() {
        panic!(
            "{} disagreement(s) between smki and reality:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

/// Makes the test PKI, writes every row's variant, runs Java and OpenSSL on them, examines
/// them with smki, prints the table and returns every disagreement.
fn check_rows(rows: Vec<Row>) -> Vec<String> {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let pki = TestPki::create(dir);
    let java = JavaVerifier::compile(dir);
    let openssl_version = support::one_line(&support::run_ok(
        std::process::Command::new(&pki.openssl).arg("version"),
    ));
    eprintln!("java: {}; openssl: {openssl_version}", java.version());

    // The leaf as openssl made it, split by hand and by smki (they must agree).
    let (tbs, alg, original_sig) = support::split_certificate(&pki.leaf_der);
    let view = CertView::split(&pki.leaf_der).expect("openssl's leaf splits");
    assert_eq!(view.tbs_bytes(), &tbs[..]);
    assert_eq!(view.signature_algorithm_bytes(), &alg[..]);
    assert_eq!(view.signature_value_bytes(), &original_sig[..]);
    assert_eq!(
        support::assemble_certificate(&tbs, &alg, &original_sig),
        pki.leaf_der,
        "re-assembling the three parts gives openssl's leaf back byte for byte"
    );
    let digest = sha256(&tbs);

    // The CA key as smki reads it from the CA certificate; every re-signed (r, s) verifies.
    let ca_key = PublicKey::from_sec1(
        pki.ca_key
            .verifying_key()
            .to_encoded_point(false)
            .as_bytes(),
    )
    .expect("CA key");
    let prepared = PlainBackend.prepare(&ca_key);

    // Sanity: openssl's own signature verifies, and the real relying parties accept the
    // untouched leaf (else the PKI, not the encoding, would be what they reject).
    let os = smki_der::analyse_signature(&original_sig, 0);
    let (r0, s0) = os.rs().expect("openssl's signature reads");
    assert!(os.is_canonical(), "openssl writes canonical DER");
    assert!(PlainBackend.verify(&prepared, &digest, &r0, &s0));
    let baseline = [
        java.verify_all(&pki.ca_pem, std::slice::from_ref(&pki.leaf_pem))[0].clone(),
        openssl_verify(&pki.openssl, &pki.ca_pem, &pki.leaf_pem),
    ];
    assert!(
        baseline.iter().all(|a| a.accept),
        "the untouched openssl leaf must be accepted by Java and OpenSSL: {baseline:?}"
    );

    let ca = Record {
        der: pki.ca_der.clone(),
        locator: Locator {
            file: "ca.pem".into(),
            record: 0,
            line: None,
            offset: 0,
        },
        meta: None,
    };
    let built = Examiner::builder(PlainBackend)
        .issuers([Ok(ca)])
        .build(1)
        .unwrap();
    assert!(
        built.skipped.is_empty(),
        "the CA registers as an issuer: {:?}",
        built.skipped
    );
    let examiner = built.examiner;

    let mut variants = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        let (r, s) = pki.sign_until(&digest, 100_000, row.shape);
        assert!(
            PlainBackend.verify(&prepared, &digest, &r, &s),
            "{}: the re-signed (r, s) verifies",
            row.name
        );
        let sig_value = (row.build)(&r, &s);
        let der = support::assemble_certificate(&tbs, &alg, &sig_value);
        // Only the signature changed.
        let (tbs2, alg2, sig2) = support::split_certificate(&der);
        assert_eq!((tbs2, alg2), (tbs.clone(), alg.clone()), "{}", row.name);
        assert_eq!(sig2, sig_value);
        let path = dir.join(format!("{i:02}.pem"));
        std::fs::write(&path, support::pem_certificate(&der)).expect("write variant");
        std::fs::write(path.with_extension("der"), &der).expect("write variant");
        let locator = Locator {
            file: path.display().to_string().into(),
            record: 0,
            line: None,
            offset: 0,
        };
        let finding = examiner.examine(Input::der(&der, &locator));
        variants.push(Variant {
            name: row.name,
            path,
            der,
            finding,
            want_codes: row.codes,
        });
    }

    let paths: Vec<PathBuf> = variants.iter().map(|v| v.path.clone()).collect();
    let java_answers = java.verify_all(&pki.ca_pem, &paths);
    let openssl_answers: Vec<Answer> = paths
        .iter()
        .map(|p| openssl_verify(&pki.openssl, &pki.ca_pem, p))
        .collect();

    let mut failures = Vec::new();
    // pyca/cryptography (through tests/oracles/x509_oracle.py), Go's crypto/x509
    // (tests/go/verify.go) and BouncyCastle (tests/java/VerifyBc.java); each skipped, saying
    // so, outside CI when its runtime is missing.
    let ca_der = dir.join("ca.der");
    std::fs::write(&ca_der, &pki.ca_der).expect("write CA");
    let ders: Vec<PathBuf> = paths.iter().map(|p| p.with_extension("der")).collect();
    let pairs: Vec<(&std::path::Path, &std::path::Path)> = ders
        .iter()
        .map(|d| (d.as_path(), ca_der.as_path()))
        .collect();
    let mut others: Vec<(RelyingParty, String, Vec<support::oracle::PartyAnswer>)> = Vec::new();
    if let Some(oracle) = support::oracle::Oracle::find() {
        let answers = oracle.verify(&pairs).into_iter().map(|a| a.pyca).collect();
        others.push((
            RelyingParty::Pyca,
            format!("pyca {}", oracle.versions()["pyca"]),
            answers,
        ));
    }
    for (rp, party) in [
        (RelyingParty::Go, support::oracle::Party::go()),
        (
            RelyingParty::Bouncycastle,
            support::oracle::Party::bouncycastle(),
        ),
    ] {
        if let Some(party) = party {
            others.push((rp, party.version(), party.verify(&pairs)));
        }
    }
    for (rp, version, answers) in &others {
        eprintln!("\n{rp}: {version}");
        for (v, real) in variants.iter().zip(answers) {
            let p = v.finding.predictions.get(*rp);
            eprintln!(
                "{:<52} {rp} {}/{} {}",
                v.name,
                pr(p),
                ar(real.accepts()),
                real.error
            );
            if prediction_bool(p) != Some(real.accepts()) {
                failures.push(format!(
                    "{}: smki predicts {rp} {p:?} ({}), {version} did {} ({})",
                    v.name,
                    v.finding.predictions.reason(*rp).unwrap_or(""),
                    ar(real.accepts()),
                    real.error
                ));
            }
        }
    }
    eprintln!(
        "\n{:<52} {:>9} {:>11}  {:<13} defects",
        "signature encoding", "java p/a", "openssl p/a", "smki verdict"
    );
    for ((v, ja), oa) in variants.iter().zip(&java_answers).zip(&openssl_answers) {
        let f = &v.finding;
        let pj = f.predictions.java;
        let po = f.predictions.openssl;
        eprintln!(
            "{:<52} {:>5}/{:<3} {:>7}/{:<3}  {:<13} {}",
            v.name,
            pr(pj),
            ar(ja.accept),
            pr(po),
            ar(oa.accept),
            f.verdict,
            f.codes_text(",")
        );
        if !ja.accept {
            eprintln!("{:<54}java:    {}", "", ja.detail);
        }
        if !oa.accept {
            eprintln!("{:<54}openssl: {}", "", oa.detail);
        }
        if prediction_bool(pj) != Some(ja.accept) {
            failures.push(format!(
                "{}: smki predicts java {:?} ({}), Java did {} ({})",
                v.name,
                pj,
                f.predictions
                    .reason(smki_scan::RelyingParty::Java)
                    .unwrap_or(""),
                ar(ja.accept),
                ja.detail
            ));
        }
        if prediction_bool(po) != Some(oa.accept) {
            failures.push(format!(
                "{}: smki predicts openssl {:?} ({}), OpenSSL did {} ({})",
                v.name,
                po,
                f.predictions
                    .reason(smki_scan::RelyingParty::Openssl)
                    .unwrap_or(""),
                ar(oa.accept),
                oa.detail
            ));
        }
        // What smki reports about the encoding itself.
        let mut got: Vec<DefectCode> = f.codes().collect();
        got.sort_unstable();
        let mut want = v.want_codes.to_vec();
        want.sort_unstable();
        if got != want {
            failures.push(format!(
                "{}: smki reports defects {got:?}, expected {want:?}",
                v.name
            ));
        }
        let want_verdict = if v.want_codes.is_empty() {
            Verdict::Clean
        } else {
            Verdict::Remediable
        };
        if f.verdict != want_verdict {
            failures.push(format!(
                "{}: verdict {} ({}), expected {}",
                v.name, f.verdict, f.reason, want_verdict
            ));
        }
    }

    // Remediation in reality: for every variant smki calls remediable, re-encode the (r, s)
    // it read (CertView::reencoded); smki must call the result clean, and Java and OpenSSL
    // must both accept it.
    let mut fixed_paths = Vec::new();
    let mut fixed_names = Vec::new();
    for (i, v) in variants.iter().enumerate() {
        if v.finding.verdict != Verdict::Remediable {
            continue;
        }
        let view = CertView::split(&v.der).expect("variant splits");
        let (r, s) = view.analyse_signature().rs().expect("(r, s) read");
        let fixed = view.reencoded(&r, &s);
        assert_eq!(
            support::split_certificate(&fixed).0,
            tbs,
            "{}: re-encoding keeps the tbsCertificate",
            v.name
        );
        let again = examiner.examine(Input::der(&fixed, &v.finding.locator));
        if again.verdict != Verdict::Clean {
            failures.push(format!(
                "{}: re-encoded, verdict {} ({})",
                v.name, again.verdict, again.reason
            ));
        }
        let path = dir.join(format!("{i:02}-reencoded.pem"));
        std::fs::write(&path, support::pem_certificate(&fixed)).expect("write re-encoded");
        fixed_paths.push(path);
        fixed_names.push(v.name);
    }
    let java_fixed = java.verify_all(&pki.ca_pem, &fixed_paths);
    for ((name, path), ja) in fixed_names.iter().zip(&fixed_paths).zip(&java_fixed) {
        let oa = openssl_verify(&pki.openssl, &pki.ca_pem, path);
        if !ja.accept || !oa.accept {
            failures.push(format!(
                "{name}: re-encoded by smki, Java {} ({}), OpenSSL {} ({})",
                ar(ja.accept),
                ja.detail,
                ar(oa.accept),
                oa.detail
            ));
        }
    }
    eprintln!(
        "\n{} remediable variants re-encoded by smki: Java and OpenSSL checked each",
        fixed_paths.len()
    );
    failures
}
