//! Input detection (issue 14, class 7): what a dump file holds is decided from its content
//! as it is read, not guessed from its first 4 KiB. Every object here is made by the
//! `openssl` CLI in a temporary directory, and every expected outcome is what a real program
//! says of the file: the certificates of a PEM file are those pyca/cryptography's
//! `x509.load_pem_x509_certificates` loads (the test skips, saying so, without
//! `cryptography`), the type of a CRL, CSR or key is the `openssl` command that parses it,
//! the bytes of a certificate are those `openssl x509 -outform DER` wrote.
use smki_repo::{ErrorKind, Format, ObjectKind, OutputFormat, Record, RecordReader};
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

mod support;
use support::{require_tool, run, run_ok};

/// The objects of the test, made once by `openssl` in a temporary directory.
struct Pki {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    /// Certificates (P-256 and RSA, so that lengths of one and two octets both occur):
    /// PEM file and DER bytes as openssl wrote them.
    certs: Vec<(PathBuf, Vec<u8>)>,
    /// Non-certificate objects: (name, PEM file, DER file).
    objects: Vec<(&'static str, PathBuf, PathBuf)>,
}

fn openssl(args: &[&str], dir: &Path) -> Vec<u8> {
    run_ok(
        Command::new(require_tool("openssl"))
            .args(args)
            .current_dir(dir),
    )
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let mut certs = Vec::new();
        for (i, key) in ["ec", "ec", "rsa", "ec", "rsa", "ec"].iter().enumerate() {
            let opt = if *key == "ec" {
                "ec_paramgen_curve:P-256"
            } else {
                "rsa_keygen_bits:2048"
            };
            let (pem, der) = (format!("c{i}.pem"), format!("c{i}.der"));
            openssl(
                &[
                    "req",
                    "-x509",
                    "-newkey",
                    key,
                    "-pkeyopt",
                    opt,
                    "-nodes",
                    "-keyout",
                    &format!("c{i}.key"),
                    "-subj",
                    &format!("/CN=input detection {i}/O=smki"),
                    "-days",
                    "30",
                    "-out",
                    &pem,
                ],
                &dir,
            );
            openssl(
                &["x509", "-in", &pem, "-outform", "DER", "-out", &der],
                &dir,
            );
            certs.push((dir.join(&pem), std::fs::read(dir.join(&der)).unwrap()));
        }
        // A CRL from the first certificate's key (`openssl ca -gencrl` needs a database).
        std::fs::write(dir.join("index.txt"), b"").unwrap();
        std::fs::write(dir.join("crlnumber"), b"01\n").unwrap();
        std::fs::write(
            dir.join("ca.cnf"),
            "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\ncrlnumber = crlnumber\n\
             default_md = sha256\ndefault_crl_days = 30\n",
        )
        .unwrap();
        openssl(
            &[
                "ca", "-gencrl", "-config", "ca.cnf", "-keyfile", "c0.key", "-cert", "c0.pem",
                "-out", "crl.pem",
            ],
            &dir,
        );
        openssl(
            &[
                "req",
                "-new",
                "-key",
                "c1.key",
                "-subj",
                "/CN=request",
                "-out",
                "csr.pem",
            ],
            &dir,
        );
        openssl(
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                "pkcs8.pem",
            ],
            &dir,
        );
        openssl(&["ec", "-in", "pkcs8.pem", "-out", "sec1.pem"], &dir);
        openssl(
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:1024",
                "-out",
                "rsa8.pem",
            ],
            &dir,
        );
        openssl(
            &["rsa", "-in", "rsa8.pem", "-traditional", "-out", "rsa1.pem"],
            &dir,
        );
        openssl(
            &["pkey", "-in", "pkcs8.pem", "-pubout", "-out", "pub.pem"],
            &dir,
        );
        let mut objects = Vec::new();
        for (name, cmd, extra) in [
            ("crl", "crl", &[][..]),
            ("csr", "req", &[][..]),
            ("pkcs8", "pkey", &[][..]),
            ("sec1", "ec", &[][..]),
            ("rsa1", "rsa", &["-traditional"][..]),
            ("pub", "pkey", &["-pubin"][..]),
        ] {
            let (pem, der) = (format!("{name}.pem"), format!("{name}.der"));
            let mut args = vec![cmd, "-in", &pem, "-outform", "DER", "-out", &der];
            args.extend_from_slice(extra);
            openssl(&args, &dir);
            objects.push((name, dir.join(pem), dir.join(der)));
        }
        Pki {
            _dir: tmp,
            dir,
            certs,
            objects,
        }
    })
}

/// The certificates pyca/cryptography loads from a PEM file, as DER; None (the test then
/// skips, saying so) when `cryptography` cannot be imported.
fn pyca_certificates(path: &Path) -> Option<Vec<Vec<u8>>> {
    const SCRIPT: &str = "import sys\n\
        from cryptography import x509\n\
        from cryptography.hazmat.primitives.serialization import Encoding\n\
        for c in x509.load_pem_x509_certificates(open(sys.argv[1], 'rb').read()):\n\
        \x20   print(c.public_bytes(Encoding.DER).hex())\n";
    let probe = Command::new("python3")
        .args(["-c", "import cryptography"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: python3 with pyca/cryptography is not available (the oracle)");
        return None;
    }
    let out = run_ok(Command::new("python3").arg("-c").arg(SCRIPT).arg(path));
    Some(
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| hex::decode(l.trim()).unwrap())
            .collect(),
    )
}

/// What `openssl` parses a DER file as (the first of these commands that succeeds), or
/// None when it parses as a certificate or as none of them.
fn openssl_object(der: &Path) -> Option<ObjectKind> {
    let parses = |args: &[&str]| {
        run(Command::new(require_tool("openssl"))
            .args(args)
            .args(["-inform", "DER", "-noout", "-in"])
            .arg(der))
        .status
        .success()
    };
    if parses(&["x509"]) {
        return None;
    }
    [
        (&["crl"][..], ObjectKind::Crl),
        (&["req"][..], ObjectKind::Csr),
        (&["pkey"][..], ObjectKind::PrivateKey),
        (&["pkey", "-pubin"][..], ObjectKind::PublicKey),
    ]
    .into_iter()
    .find(|(args, _)| parses(args))
    .map(|(_, kind)| kind)
}

/// Every record of a file, through the reader every command uses.
fn read(path: &Path) -> Vec<Result<Record, smki_repo::Error>> {
    smki_repo::open(path).collect()
}

/// The same bytes through a streaming reader with a small buffer (the slow paths).
fn read_small(bytes: &[u8], capacity: usize) -> Vec<Result<Record, smki_repo::Error>> {
    let src = BufReader::with_capacity(capacity, std::io::Cursor::new(bytes));
    RecordReader::new(Arc::from("small"), src).collect()
}

fn good(records: &[Result<Record, smki_repo::Error>]) -> Vec<Vec<u8>> {
    records
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|r| r.der.clone())
        .collect()
}

fn pem_text(i: usize) -> String {
    std::fs::read_to_string(&pki().certs[i].0).unwrap()
}

/// A PEM bundle as pyca reads it: smki reads the same certificates, byte for byte, in the
/// same order, with no error record, whatever the buffer; and the format is PEM.
fn same_as_pyca(name: &str, text: &[u8]) {
    let path = pki().dir.join(name);
    std::fs::write(&path, text).unwrap();
    let Some(expected) = pyca_certificates(&path) else {
        return;
    };
    assert!(
        expected.len() >= 2,
        "{name}: the oracle reads {}",
        expected.len()
    );
    let records = read(&path);
    assert_eq!(
        good(&records),
        expected,
        "{name}: the certificates pyca loads"
    );
    let errors: Vec<_> = records.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(errors.is_empty(), "{name}: {errors:?}");
    for cap in [1, 7, 100, 4096] {
        assert_eq!(
            read_small(text, cap).len(),
            records.len(),
            "{name}, buffer {cap}"
        );
        assert_eq!(
            good(&read_small(text, cap)),
            expected,
            "{name}, buffer {cap}"
        );
    }
    assert_eq!(
        smki_repo::dump_format(&path).unwrap(),
        OutputFormat::Pem,
        "{name}"
    );
    // The audit sees them all: one finding per certificate, of its bytes.
    let findings = pki().dir.join(format!("{name}.jsonl"));
    let out = support::smki(
        &["scan", "--quiet"],
        &[("", &path), ("--findings", &findings)],
    );
    // (the exit code follows the policy: an RSA certificate is unverifiable)
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hashes: Vec<String> = support::jsonl(&findings)
        .iter()
        .map(|f| f["sha256"].as_str().unwrap().to_string())
        .collect();
    let expected_hashes: Vec<String> = expected
        .iter()
        .map(|d| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(d)))
        .collect();
    assert_eq!(hashes, expected_hashes, "{name}: smki scan");
    // Each record is located at its BEGIN marker: line and byte offset.
    for r in records.iter().flatten() {
        let at = r.locator.offset;
        assert!(
            text[at..].starts_with(b"-----BEGIN CERTIFICATE-----"),
            "{name}: {:?}",
            r.locator
        );
        let line = 1 + text[..at].iter().filter(|&&b| b == b'\n').count();
        assert_eq!(r.locator.line, Some(line), "{name}");
    }
}

/// More than 4 KiB of text before the first BEGIN line: `openssl x509 -text` output (each
/// certificate's text, then its PEM) after a header of the same text.
#[test]
fn pem_after_more_than_4_kib_of_text() {
    let mut text = Vec::new();
    for (pem, _) in &pki().certs {
        let p = pem.to_str().unwrap();
        text.extend(openssl(&["x509", "-in", p, "-noout", "-text"], &pki().dir));
    }
    let header = text.len();
    for (pem, _) in &pki().certs {
        text.extend(openssl(
            &["x509", "-in", pem.to_str().unwrap(), "-text"],
            &pki().dir,
        ));
    }
    let first_begin = text.windows(11).position(|w| w == b"-----BEGIN ").unwrap();
    assert!(first_begin > 4096 && header > 4096, "{first_begin}");
    same_as_pyca("text.pem", &text);
}

/// A UTF-8 byte-order mark before the first BEGIN line.
#[test]
fn pem_after_a_byte_order_mark() {
    let text = format!("\u{feff}{}{}{}", pem_text(0), pem_text(1), pem_text(2));
    same_as_pyca("bom.pem", text.as_bytes());
}

/// Text before BEGIN on the same line, and a bundle made with `cat` of files that lack
/// their last line end (`-----END CERTIFICATE----------BEGIN CERTIFICATE-----`).
#[test]
fn pem_markers_inside_a_line() {
    let text = format!("# bundle of {}: {}{}", 3, pem_text(0), pem_text(3));
    same_as_pyca("same-line.pem", text.as_bytes());
    let text = format!(
        "{}{}{}",
        pem_text(0).trim_end(),
        pem_text(1).trim_end(),
        pem_text(2)
    );
    same_as_pyca("no-eol.pem", text.as_bytes());
}

/// An extract with a byte-order mark: every row is read, with its certificate's bytes and
/// its serial.
#[test]
fn extract_with_a_byte_order_mark() {
    let mut text = String::from("\u{feff}");
    text.push_str(smki_repo::EXTRACT_HEADER);
    text.push('\n');
    for (i, (_, der)) in pki().certs.iter().enumerate() {
        let meta = smki_repo::Metadata {
            serial: Some(format!("{i:02x}")),
            ..Default::default()
        };
        text.push_str(&smki_repo::extract_row(der, Some(&meta)));
    }
    let path = pki().dir.join("bom.csv");
    std::fs::write(&path, &text).unwrap();
    let records = read(&path);
    let expected: Vec<Vec<u8>> = pki().certs.iter().map(|(_, d)| d.clone()).collect();
    assert_eq!(good(&records), expected);
    assert_eq!(records.len(), expected.len());
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    for (i, r) in records.iter().enumerate() {
        let r = r.as_ref().unwrap();
        assert_eq!(r.meta.as_ref().unwrap().serial, Some(format!("{i:02x}")));
        assert_eq!(r.locator.line, Some(i + 2));
        assert_eq!(r.locator.offset, line_starts[i + 1]);
    }
    assert_eq!(
        smki_repo::dump_format(&path).unwrap(),
        OutputFormat::Extract
    );
}

/// A CRL, a CSR, keys: each, alone in a PEM or a DER file, is one record "not a
/// certificate: ..." at the start of the file, of the kind `openssl` parses it as; in a PEM
/// bundle and in concatenated DER between certificates, each at its place, the
/// certificates around them read.
#[test]
fn crls_csrs_and_keys_are_not_certificates() {
    let pki = pki();
    let mut bundle = pem_text(0);
    let mut der_bundle = pki.certs[0].1.clone();
    let mut expected = vec![None];
    for (name, pem, der) in &pki.objects {
        let kind = openssl_object(der);
        assert!(
            kind.is_some(),
            "{name}: openssl parses it as no object of the test"
        );
        for (path, format) in [(pem, Format::Pem), (der, Format::Der)] {
            let records = read(path);
            assert_eq!(records.len(), 1, "{name}: {records:?}");
            let e = records[0].as_ref().unwrap_err();
            let ErrorKind::NotACertificate { object, .. } = &e.kind else {
                panic!("{name} {format:?}: {e}");
            };
            assert_eq!(Some(*object), kind, "{name} {format:?}: {e}");
            assert_eq!((e.locator.record, e.locator.offset), (0, 0), "{e}");
            assert!(e.to_string().contains("not a certificate: a"), "{e}");
            assert_eq!(e.raw.as_deref(), Some(&std::fs::read(path).unwrap()[..]));
        }
        bundle.push_str(&std::fs::read_to_string(pem).unwrap());
        bundle.push_str(&pem_text(1));
        der_bundle.extend(std::fs::read(der).unwrap());
        der_bundle.extend(&pki.certs[1].1);
        expected.extend([kind, None]);
    }
    // The CRL's display, as the issue asks.
    let crl = read(&pki.objects[0].2);
    assert_eq!(
        crl[0].as_ref().unwrap_err().to_string(),
        format!(
            "{}#0 (byte 0): not a certificate: a CRL",
            pki.objects[0].2.display()
        )
    );
    let begins: Vec<usize> = (0..bundle.len())
        .filter(|&i| bundle[i..].starts_with("-----BEGIN "))
        .collect();
    let mut der_offsets = vec![0];
    let mut at = pki.certs[0].1.len();
    for (_, _, der) in &pki.objects {
        der_offsets.push(at);
        at += std::fs::read(der).unwrap().len();
        der_offsets.push(at);
        at += pki.certs[1].1.len();
    }
    for (name, bytes, offsets) in [
        ("objects.pem", bundle.as_bytes(), &begins),
        ("objects.der", &der_bundle[..], &der_offsets),
    ] {
        let path = pki.dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let records = read(&path);
        assert_eq!(records.len(), expected.len(), "{name}: {records:?}");
        for (i, (r, kind)) in records.iter().zip(&expected).enumerate() {
            match (r, kind) {
                (Ok(rec), None) => {
                    assert_eq!(rec.der, pki.certs[usize::from(i > 0)].1, "{name} #{i}");
                    assert_eq!(rec.locator.offset, offsets[i], "{name} #{i}");
                }
                (Err(e), Some(kind)) => {
                    assert!(
                        matches!(&e.kind, ErrorKind::NotACertificate { object, .. } if object == kind),
                        "{name} #{i}: {e}"
                    );
                    assert_eq!((e.locator.record, e.locator.offset), (i, offsets[i]), "{e}");
                }
                _ => panic!("{name} #{i}: {r:?}, expected {kind:?}"),
            }
        }
        assert_eq!(
            read_small(bytes, 33),
            records
                .iter()
                .map(|r| relabel(r, "small"))
                .collect::<Vec<_>>()
        );
    }
}

/// A record as another file name would locate it.
fn relabel(r: &Result<Record, smki_repo::Error>, file: &str) -> Result<Record, smki_repo::Error> {
    let mut r = r.clone();
    match &mut r {
        Ok(rec) => rec.locator.file = file.into(),
        Err(e) => e.locator.file = file.into(),
    }
    r
}

/// Concatenated DER with one certificate truncated, at every length from 1 to its length
/// less one: every other certificate is read with the bytes openssl wrote, at its offset,
/// and the truncated bytes are one error record at their offset (skipped up to the next
/// certificate, or to the end of the file for the last one). Through `parse_buffer` and
/// streaming readers with small buffers.
#[test]
fn a_truncated_record_does_not_swallow_the_next_certificate() {
    let certs: Vec<&Vec<u8>> = pki().certs.iter().map(|(_, d)| d).collect();
    let mut lengths_tried = 0;
    for cut in [0, 2, 3, certs.len() - 1] {
        for keep in 1..certs[cut].len() {
            let mut bytes = Vec::new();
            let mut offsets = Vec::new();
            for (i, c) in certs.iter().enumerate() {
                offsets.push(bytes.len());
                bytes.extend_from_slice(if i == cut { &c[..keep] } else { c });
            }
            let check = |records: &[Result<Record, smki_repo::Error>], how: &str| {
                assert_eq!(
                    records.len(),
                    certs.len(),
                    "{how}, cut {cut} at {keep}: {records:?}"
                );
                for (i, r) in records.iter().enumerate() {
                    if i == cut {
                        let e = r.as_ref().expect_err("the truncated record");
                        assert_eq!(e.locator.offset, offsets[cut], "{how} {keep}: {e}");
                        assert_eq!(
                            e.raw.as_deref(),
                            Some(&certs[cut][..keep]),
                            "{how} {keep}: {e}"
                        );
                        match &e.kind {
                            ErrorKind::Skipped { count, .. } => {
                                assert_eq!(*count, keep, "{e}");
                                assert_eq!(e.resumed_at(), Some(offsets[cut] + keep), "{e}");
                                assert!(e.to_string().ends_with(&format!(
                                    "bytes skipped up to the next certificate, at byte {}",
                                    offsets[cut + 1]
                                )));
                                assert!(cut + 1 < certs.len());
                            }
                            ErrorKind::Der(_) => {
                                assert_eq!(cut + 1, certs.len(), "{how} {keep}: {e}")
                            }
                            _ => panic!("{how} {keep}: {e}"),
                        }
                    } else {
                        let rec = r
                            .as_ref()
                            .unwrap_or_else(|e| panic!("{how}, cut {cut} at {keep}: {e}"));
                        assert_eq!(&rec.der, certs[i], "{how} {keep} #{i}");
                        assert_eq!((rec.locator.record, rec.locator.offset), (i, offsets[i]));
                    }
                }
            };
            check(&smki_repo::parse_buffer("t.der", &bytes), "buffer");
            if keep % 7 == 0 {
                check(&read_small(&bytes, 61), "61-byte buffer");
                check(&read_small(&bytes, 1024), "1 KiB buffer");
            }
            lengths_tried += 1;
        }
    }
    assert!(lengths_tried > 1000, "{lengths_tried}");
}

/// A text file with neither a BEGIN line nor an extract header, longer than any buffer: one
/// record of unknown format at its end, holding the whole file.
#[test]
fn text_without_begin_is_unknown_at_its_end() {
    let path = pki().dir.join("notes.txt");
    let mut text = Vec::new();
    for (pem, _) in &pki().certs {
        text.extend(openssl(
            &["x509", "-in", pem.to_str().unwrap(), "-noout", "-text"],
            &pki().dir,
        ));
    }
    let text = text.repeat(8);
    assert!(text.len() > 1 << 16);
    std::fs::write(&path, &text).unwrap();
    let records = read(&path);
    assert_eq!(records.len(), 1);
    let e = records[0].as_ref().unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnknownFormat);
    assert_eq!(e.raw.as_deref(), Some(&text[..]));
    assert_eq!(
        smki_repo::dump_format(&path).unwrap_err().kind,
        ErrorKind::UnknownFormat
    );
}
