//! The strict DER walk on whole certificates, one hand-made certificate per row: the class-1
//! rows hold opaque OCTET STRINGs (or BIT STRINGs) whose contents happen to read as TLVs,
//! which are DER and must stay clean; the class-6 rows each break one DER rule that depends
//! on the certificate's ASN.1 module or on X.690's rules for SET OF and times, and must each
//! give one `CERT_BER` with its path, kind and byte offset (issue 14, classes 1 and 6).
//!
//! Every certificate is built with the project's own encoder (`smki_der::encode`) and signed
//! (RFC 6979, P-256) by a CA made the same way. The expected relying-party outcomes are not
//! written here: the real programs decide them. `tests/oracles/x509_oracle.py` runs real
//! OpenSSL 3 (libcrypto's d2i_X509, EXFLAG_INVALID, X509_verify) and real pyca/cryptography
//! (strict DER load, its extensions read, signature verified) on every row, and smki's
//! `openssl` and `pyca` predictions (from `smki scan`) must equal what they did. That part
//! is skipped, saying so, when python3 cannot import `cryptography`.
mod support;

use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::{Signature, SigningKey};
use sha2::Digest;
use smki_der::encode::{self, tlv};
use smki_der::BerIssueKind::{self, *};
use smki_der::Tag;
use smki_x509::{ber_issues, CertView, Oid};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn el(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    tlv(tag, content, &mut out);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    el(Tag::SEQUENCE, &parts.concat())
}

fn oid(o: Oid) -> Vec<u8> {
    el(Tag::OID, o.der())
}

/// An AttributeTypeAndValue with a PrintableString value.
fn atv(o: Oid, value: &str) -> Vec<u8> {
    seq(&[&oid(o), &el(Tag::PRINTABLE_STRING, value.as_bytes())])
}

/// A Name of one RDN per attribute.
fn name(attrs: &[Vec<u8>]) -> Vec<u8> {
    let rdns: Vec<Vec<u8>> = attrs.iter().map(|a| el(Tag::SET, a)).collect();
    el(Tag::SEQUENCE, &rdns.concat())
}

fn key(label: &str) -> SigningKey {
    let scalar: [u8; 32] = sha2::Sha256::digest(label.as_bytes()).into();
    SigningKey::from_bytes(&scalar.into()).expect("a scalar below n")
}

fn spki(k: &SigningKey) -> Vec<u8> {
    let point = k.verifying_key().to_encoded_point(false);
    let mut bits = vec![0];
    bits.extend_from_slice(point.as_bytes());
    seq(&[
        &seq(&[&oid(Oid::EcPublicKey), &oid(Oid::Secp256r1)]),
        &el(Tag::BIT_STRING, &bits),
    ])
}

/// One extension: extnID, the critical BOOLEAN element as written (empty: left out), and
/// the extnValue's contents.
struct Ext {
    id: Vec<u8>,
    critical: Vec<u8>,
    value: Vec<u8>,
}

fn ext(o: Oid, critical: bool, value: Vec<u8>) -> Ext {
    Ext {
        id: o.der().to_vec(),
        critical: if critical {
            vec![0x01, 0x01, 0xff]
        } else {
            Vec::new()
        },
        value,
    }
}

/// Every field of a tbsCertificate, as written.
struct Tbs {
    /// The `[0]` element's contents; empty: left out.
    version: Vec<u8>,
    issuer: Vec<u8>,
    /// (tag, text) of notBefore and notAfter.
    not_before: (u8, &'static str),
    not_after: (u8, &'static str),
    subject: Vec<u8>,
    spki: Vec<u8>,
    extensions: Vec<Ext>,
}

const CA_NAME: &str = "DER rules CA";
/// The CA's subjectKeyIdentifier: contents that read as a BOOLEAN of 2 octets (issue 14).
const CA_KEY_ID: &[u8] = &[0x01, 0x02, 0x03, 0x04];

impl Tbs {
    /// A v3 leaf of the CA, DER throughout: keyUsage digitalSignature, an SKI, the AKI.
    fn leaf(subject_key: &SigningKey) -> Tbs {
        Tbs {
            version: el(Tag::INTEGER, &[2]),
            issuer: name(&[atv(Oid::CommonName, CA_NAME)]),
            not_before: (Tag::UTC_TIME, "250101000000Z"),
            not_after: (Tag::GENERALIZED_TIME, "99991231235959Z"),
            subject: name(&[atv(Oid::CommonName, "leaf")]),
            spki: spki(subject_key),
            extensions: vec![
                ext(Oid::KeyUsage, true, vec![0x03, 0x02, 0x07, 0x80]),
                ext(
                    Oid::SubjectKeyIdentifier,
                    false,
                    el(
                        Tag::OCTET_STRING,
                        &[0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb],
                    ),
                ),
                ext(
                    Oid::AuthorityKeyIdentifier,
                    false,
                    seq(&[&el(0x80, CA_KEY_ID)]),
                ),
            ],
        }
    }

    fn der(&self, serial: u8) -> Vec<u8> {
        let mut body = Vec::new();
        if !self.version.is_empty() {
            tlv(0xa0, &self.version, &mut body);
        }
        encode::unsigned_integer(
            &[0x11, serial, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77],
            &mut body,
        );
        body.extend_from_slice(smki_x509::ECDSA_WITH_SHA256);
        body.extend_from_slice(&self.issuer);
        body.extend(seq(&[
            &el(self.not_before.0, self.not_before.1.as_bytes()),
            &el(self.not_after.0, self.not_after.1.as_bytes()),
        ]));
        body.extend_from_slice(&self.subject);
        body.extend_from_slice(&self.spki);
        if !self.extensions.is_empty() {
            let exts: Vec<Vec<u8>> = self
                .extensions
                .iter()
                .map(|e| {
                    seq(&[
                        &el(Tag::OID, &e.id),
                        &e.critical,
                        &el(Tag::OCTET_STRING, &e.value),
                    ])
                })
                .collect();
            tlv(0xa3, &el(Tag::SEQUENCE, &exts.concat()), &mut body);
        }
        el(Tag::SEQUENCE, &body)
    }
}

/// The certificate of `tbs`, signed with `signer` (RFC 6979).
fn sign(tbs: &[u8], signer: &SigningKey) -> Vec<u8> {
    let digest: [u8; 32] = sha2::Sha256::digest(tbs).into();
    let sig: Signature = signer.sign_prehash(&digest).expect("sign");
    let (r, s) = sig.split_bytes();
    let value = encode::signature_bit_string(&r.into(), &s.into());
    encode::certificate(tbs, smki_x509::ECDSA_WITH_SHA256, &value)
}

/// The CA: self-signed, basicConstraints cA TRUE, keyUsage keyCertSign and cRLSign, and a
/// subjectKeyIdentifier `01020304` (class 1: a BOOLEAN of 2 octets to a walk that reads
/// opaque bytes as DER).
fn ca(ca_key: &SigningKey) -> Vec<u8> {
    let tbs = Tbs {
        subject: name(&[atv(Oid::CommonName, CA_NAME)]),
        spki: spki(ca_key),
        extensions: vec![
            ext(Oid::BasicConstraints, true, seq(&[&[0x01, 0x01, 0xff]])),
            ext(Oid::KeyUsage, true, vec![0x03, 0x02, 0x01, 0x06]),
            ext(
                Oid::SubjectKeyIdentifier,
                false,
                el(Tag::OCTET_STRING, CA_KEY_ID),
            ),
        ],
        ..Tbs::leaf(ca_key)
    };
    sign(&tbs.der(1), ca_key)
}

/// What smki must find: nothing, or one CERT_BER of this path and kind at the byte offset of
/// `needle`'s first occurrence in the certificate plus `delta`.
enum Want {
    Clean,
    Ber {
        path: &'static str,
        kind: BerIssueKind,
        needle: Vec<u8>,
        delta: usize,
    },
}

fn ber(path: &'static str, kind: BerIssueKind, needle: &[u8], delta: usize) -> Want {
    Want::Ber {
        path,
        kind,
        needle: needle.to_vec(),
        delta,
    }
}

/// A hardwareModuleName otherName (RFC 4108) with this hwSerialNum.
fn hardware_module_name(serial: &[u8]) -> Vec<u8> {
    let hmn = seq(&[&oid(Oid::SmkiHwType), &el(Tag::OCTET_STRING, serial)]);
    el(
        0xa0,
        &[oid(Oid::HardwareModuleName), el(0xa0, &hmn)].concat(),
    )
}

/// The rows: (what, the leaf's tbsCertificate, what smki must find).
fn rows(leaf_key: &SigningKey) -> Vec<(&'static str, Tbs, Want)> {
    let leaf = || Tbs::leaf(leaf_key);
    let with_ext = |i: usize, e: Ext| {
        let mut t = leaf();
        t.extensions.insert(i, e);
        t
    };
    let key_usage = |bits: &[u8]| {
        let mut t = leaf();
        t.extensions[0].value = bits.to_vec();
        t
    };
    let times = |nb: (u8, &'static str), na: (u8, &'static str)| Tbs {
        not_before: nb,
        not_after: na,
        ..leaf()
    };
    // An EUI-64 that reads as a BOOLEAN of 2 octets then a non-minimal INTEGER.
    let eui64 = [0x01, 0x02, 0xff, 0x00, 0x02, 0x02, 0x00, 0x01];
    vec![
        // Class 1: opaque contents that look like TLVs. DER: clean.
        (
            "DER throughout; the AKI's keyIdentifier is 01020304",
            leaf(),
            Want::Clean,
        ),
        (
            "subjectKeyIdentifier 02020001 (reads as a non-minimal INTEGER)",
            {
                let mut t = leaf();
                t.extensions[1].value = el(Tag::OCTET_STRING, &[0x02, 0x02, 0x00, 0x01]);
                t
            },
            Want::Clean,
        ),
        (
            "hwSerialNum: an EUI-64 that reads as TLVs",
            with_ext(
                1,
                ext(
                    Oid::SubjectAltName,
                    true,
                    seq(&[&hardware_module_name(&eui64)]),
                ),
            ),
            Want::Clean,
        ),
        (
            "an unknown extension whose extnValue reads as a BOOLEAN of 2 octets",
            with_ext(
                3,
                Ext {
                    id: vec![0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x63, 0x01],
                    critical: Vec::new(),
                    value: vec![0x01, 0x02, 0x03, 0x04],
                },
            ),
            Want::Clean,
        ),
        (
            "x500UniqueIdentifier whose bits read as TLVs",
            Tbs {
                subject: name(&[
                    atv(Oid::CommonName, "leaf"),
                    seq(&[
                        &oid(Oid::UniqueIdentifier),
                        &el(Tag::BIT_STRING, &[&[0x00][..], &eui64].concat()),
                    ]),
                ]),
                ..leaf()
            },
            Want::Clean,
        ),
        // Class 6: each breaks one DER rule.
        (
            "critical FALSE encoded (Extension.critical DEFAULT FALSE)",
            {
                let mut t = leaf();
                t.extensions[1].critical = vec![0x01, 0x01, 0x00];
                t
            },
            ber(
                "tbsCertificate.extensions[1].critical",
                DefaultEncoded,
                &[0x06, 0x03, 0x55, 0x1d, 0x0e, 0x01, 0x01, 0x00],
                5,
            ),
        ),
        (
            "cA FALSE encoded (BasicConstraints.cA DEFAULT FALSE)",
            with_ext(
                1,
                ext(Oid::BasicConstraints, false, seq(&[&[0x01, 0x01, 0x00]])),
            ),
            ber(
                "tbsCertificate.extensions[1].extnValue[0][0]",
                DefaultEncoded,
                &[0x04, 0x05, 0x30, 0x03, 0x01, 0x01, 0x00],
                4,
            ),
        ),
        (
            "version v1 encoded (version DEFAULT v1)",
            Tbs {
                version: el(Tag::INTEGER, &[0]),
                extensions: Vec::new(),
                ..leaf()
            },
            ber(
                "tbsCertificate.version",
                DefaultEncoded,
                &[0xa0, 0x03, 0x02, 0x01, 0x00],
                0,
            ),
        ),
        (
            "SET OF not sorted (a multi-valued RDN: O before CN)",
            Tbs {
                subject: el(
                    Tag::SEQUENCE,
                    &el(
                        Tag::SET,
                        &[
                            atv(Oid::OrganizationName, "leaf"),
                            atv(Oid::CommonName, "leaf"),
                        ]
                        .concat(),
                    ),
                ),
                ..leaf()
            },
            ber(
                "tbsCertificate.subject[0]",
                SetOfOrder,
                &[0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x03, 0x13, 0x04],
                0,
            ),
        ),
        (
            "UTCTime without seconds",
            times(
                (Tag::UTC_TIME, "2501010000Z"),
                (Tag::GENERALIZED_TIME, "99991231235959Z"),
            ),
            ber(
                "tbsCertificate.validity.notBefore",
                TimeForm,
                b"2501010000Z",
                10,
            ),
        ),
        (
            "UTCTime not ending in Z",
            times(
                (Tag::UTC_TIME, "250101000000+0100"),
                (Tag::GENERALIZED_TIME, "99991231235959Z"),
            ),
            ber(
                "tbsCertificate.validity.notBefore",
                TimeForm,
                b"250101000000+0100",
                12,
            ),
        ),
        (
            "GeneralizedTime with a fraction",
            times(
                (Tag::UTC_TIME, "250101000000Z"),
                (Tag::GENERALIZED_TIME, "99991231235959.5Z"),
            ),
            ber(
                "tbsCertificate.validity.notAfter",
                TimeForm,
                b"99991231235959.5Z",
                14,
            ),
        ),
        (
            "GeneralizedTime without Z",
            times(
                (Tag::UTC_TIME, "250101000000Z"),
                (Tag::GENERALIZED_TIME, "99991231235959"),
            ),
            ber(
                "tbsCertificate.validity.notAfter",
                TimeForm,
                b"99991231235959",
                13,
            ),
        ),
        (
            "keyUsage with its trailing 0 bits kept (0 unused bits)",
            key_usage(&[0x03, 0x02, 0x00, 0x80]),
            ber(
                "tbsCertificate.extensions[0].extnValue[0]",
                NamedBitsTrailingZeros,
                &[0x04, 0x04, 0x03, 0x02, 0x00, 0x80],
                4,
            ),
        ),
        (
            "keyUsage with a wrong unused-bits count (5 for 0x80)",
            key_usage(&[0x03, 0x02, 0x05, 0x80]),
            ber(
                "tbsCertificate.extensions[0].extnValue[0]",
                NamedBitsTrailingZeros,
                &[0x04, 0x04, 0x03, 0x02, 0x05, 0x80],
                4,
            ),
        ),
        (
            "keyUsage with a trailing 0x00 octet",
            key_usage(&[0x03, 0x03, 0x07, 0x80, 0x00]),
            ber(
                "tbsCertificate.extensions[0].extnValue[0]",
                NamedBitsTrailingZeros,
                &[0x04, 0x05, 0x03, 0x03, 0x07, 0x80, 0x00],
                6,
            ),
        ),
    ]
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Can python3 import pyca/cryptography (which the oracle needs)?
fn oracle_available() -> bool {
    Command::new("python3")
        .args(["-c", "import cryptography"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn der_rules_on_whole_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let (certs, cas) = (dir.path().join("certs"), dir.path().join("cas"));
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::create_dir_all(&cas).unwrap();
    let ca_key = key("der_rules CA");
    let leaf_key = key("der_rules leaf");
    let ca_der = ca(&ca_key);
    std::fs::write(cas.join("ca.der"), &ca_der).unwrap();

    // (file name, what, DER, expected) for the CA and every row.
    let mut cases = vec![(
        "00.der".to_string(),
        "the CA: subjectKeyIdentifier 01020304 (reads as a BOOLEAN of 2 octets)",
        ca_der.clone(),
        Want::Clean,
    )];
    for (i, (what, tbs, want)) in rows(&leaf_key).into_iter().enumerate() {
        let der = sign(&tbs.der(i as u8 + 2), &ca_key);
        cases.push((format!("{:02}.der", i + 1), what, der, want));
    }

    // smki's finding, from the library.
    for (file, what, der, want) in &cases {
        std::fs::write(certs.join(file), der).unwrap();
        let view = CertView::split(der).unwrap_or_else(|e| panic!("{what}: {e}"));
        let got: Vec<_> = ber_issues(&view)
            .into_iter()
            .map(|b| {
                assert!(!b.detail.is_empty(), "{what}");
                (b.path, b.kind, b.offset)
            })
            .collect();
        let expected = match want {
            Want::Clean => Vec::new(),
            Want::Ber {
                path,
                kind,
                needle,
                delta,
            } => {
                let at = find(der, needle).unwrap_or_else(|| panic!("{what}: needle"));
                vec![(path.to_string(), *kind, at + delta)]
            }
        };
        assert_eq!(got, expected, "{what}");
    }

    // The scan: verdicts and predictions.
    let findings = dir.path().join("findings.jsonl");
    let out = support::smki(
        &["scan", "-q", "--fail-on", "never"],
        &[("", &certs), ("--issuers", &cas), ("--findings", &findings)],
    );
    assert!(out.status.success(), "{}", support::one_line(&out.stderr));
    let by_file: BTreeMap<String, serde_json::Value> = support::jsonl(&findings)
        .into_iter()
        .map(|f| {
            let file = f["locator"]["file"].as_str().unwrap().to_string();
            let name = Path::new(&file).file_name().unwrap().to_string_lossy();
            (name.to_string(), f)
        })
        .collect();
    for (file, what, _, want) in &cases {
        let f = &by_file[file];
        let verdict = support::verdict(f);
        let expected = match want {
            Want::Clean => smki_scan::Verdict::Clean,
            Want::Ber { .. } => smki_scan::Verdict::NeedsReissue,
        };
        assert_eq!(verdict, expected, "{what}: {f}");
    }

    if !oracle_available() {
        eprintln!(
            "oracle part skipped: python3 cannot import cryptography (pip install \
             cryptography; tests/oracles/requirements.txt)"
        );
        return;
    }
    let oracle = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracles/x509_oracle.py");
    let mut cmd = Command::new("python3");
    cmd.arg(&oracle).arg("verify");
    for (file, ..) in &cases {
        cmd.arg(certs.join(file)).arg(cas.join("ca.der"));
    }
    let out = support::run_timeout(&mut cmd, support::CHILD_LIMIT);
    assert!(out.status.success(), "{}", support::one_line(&out.stderr));
    let answers: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(answers.len(), cases.len());
    let mut table = String::new();
    let mut wrong = Vec::new();
    for ((file, what, _, want), answer) in cases.iter().zip(&answers) {
        let f = &by_file[file];
        let mut line = format!("{what}:");
        for party in ["openssl", "pyca"] {
            let real = answer[party]["outcome"].as_str().unwrap();
            let predicted = f["predictions"][party].as_str().unwrap();
            line.push_str(&format!(
                " {party} {real} ({})",
                answer[party]["error"].as_str().unwrap_or("")
            ));
            if predicted != real {
                wrong.push(format!(
                    "{what}: smki predicts {party} {predicted}, real {party}: {real}"
                ));
            }
            // Class 1 is DER: the real programs accept it.
            if matches!(want, Want::Clean) && real != "accept" {
                wrong.push(format!("{what}: DER, but real {party} rejects it"));
            }
        }
        table.push_str(&line);
        table.push('\n');
    }
    eprintln!("{table}");
    assert!(wrong.is_empty(), "{wrong:#?}");
}
