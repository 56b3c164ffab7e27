//! The examiner as its builder makes it (`Examiner::builder`), on the project's sample
//! corpus: the issuers in use, whose tables the first pass builds before the main pass, are
//! exactly the known issuers the records name by authorityKeyIdentifier (an issuer left
//! unknown is not one) (counted here from the AKIs and SKIs read by hand, not with the
//! crates under test); the verdicts after it are the reference backend's; the findings do
//! not depend on where the dump's CA certificates stand in it (after their leaves too, with
//! and without key recovery); issuers that cannot be read fail the build, those that cannot
//! serve are listed; a dump of self-signed certificates verifies each under its own key; and
//! a verification a batch asks for twice is shared only when issuer, digest, r and s are all
//! the same.
mod support;

use smki_repo::{Error as RecordError, Record};
use smki_scan::{Examiner, Finding, Input, SignatureCheck, Verdict};
use smki_verify::{Backend, FastBackend, KeySource, PlainBackend};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample")
}

fn read(path: PathBuf) -> Vec<Record> {
    smki_repo::open(&path)
        .map(|r| r.expect("sample record"))
        .collect()
}

#[test]
fn the_issuers_in_use_are_the_known_akis_of_the_records() {
    let certs = read(sample().join("certificates.pem"));
    let named: HashSet<Vec<u8>> = certs
        .iter()
        .filter_map(|c| support::authority_key_id(&c.der))
        .collect();
    // Every CA certificate but one that the records name: that issuer stays unknown.
    // (cas/ holds each CA as a .der file, and all of them again in bundle.pem.)
    let mut cas = read(sample().join("cas"));
    cas.retain(|c| c.locator.file.ends_with(".der"));
    let left_out = cas
        .iter()
        .position(|c| support::subject_key_id(&c.der).is_some_and(|k| named.contains(&k)))
        .expect("the sample names its CAs");
    cas.remove(left_out);
    let skis: HashSet<Vec<u8>> = cas
        .iter()
        .filter_map(|c| support::subject_key_id(&c.der))
        .collect();
    let expected = named.intersection(&skis).count();
    assert!(expected >= 2, "the sample uses several CAs: {expected}");
    assert!(named.len() > expected);
    let reference = Examiner::builder(PlainBackend)
        .issuers(cas.iter().cloned().map(Ok))
        .build(1)
        .unwrap();
    assert!(reference.skipped.is_empty());
    assert_eq!(
        reference.found,
        Default::default(),
        "no dump, nothing found"
    );
    let reference = reference.examiner;
    for threads in [1, 2, 3] {
        let prepared = Examiner::builder(FastBackend)
            .issuers(cas.iter().cloned().map(Ok))
            .dump(certs.iter().cloned().map(Ok))
            .build(threads)
            .unwrap();
        let (fast, found) = (prepared.examiner, prepared.found);
        assert_eq!(fast.issuer_count(), cas.len());
        assert_eq!(found.in_use, expected, "{threads} threads");
        assert_eq!(
            found.anchors, 0,
            "the sample's dump holds no CA certificate"
        );
        for c in &certs {
            let (a, b) = (fast.examine(c), reference.examine(c));
            assert_eq!(a.verdict, b.verdict, "{}", c.locator);
        }
    }
}

#[test]
fn self_signed_certificates_verify_under_their_own_key() {
    let root = read(sample().join("cas/root.der")).remove(0);
    // The root, and the root with one bit of its serial flipped, alternately: each verified
    // once, under the key it carries.
    let (tbs, alg, sig) = support::split_certificate(&root.der);
    let (hl, _) = support::header(&tbs);
    // [0] version (5 octets), then the serial: INTEGER of 16 octets.
    assert_eq!(tbs[hl + 5..hl + 7], [0x02, 0x10]);
    let mut broken_tbs = tbs.clone();
    broken_tbs[hl + 22] ^= 1;
    let broken = support::assemble_certificate(&broken_tbs, &alg, &sig);
    let dump: Vec<Record> = (0..40)
        .map(|i| Record {
            der: if i % 2 == 0 {
                root.der.clone()
            } else {
                broken.clone()
            },
            ..root.clone()
        })
        .collect();
    let prepared = Examiner::builder(FastBackend)
        .dump(dump.iter().cloned().map(Ok))
        .build(2)
        .unwrap();
    let (ex, found) = (prepared.examiner, prepared.found);
    assert!(found.anchors >= 1);
    for (i, rec) in dump.iter().enumerate() {
        let v = ex.examine(rec).verdict;
        if i % 2 == 0 {
            assert_eq!(v, Verdict::Clean, "{i}");
        } else {
            assert_eq!(
                v,
                Verdict::NeedsReissue,
                "{i}: a flipped bit still verified"
            );
        }
    }
}

#[test]
fn a_batch_shares_only_the_same_verification() {
    shares_only_the_same_verification(FastBackend);
    shares_only_the_same_verification(PlainBackend);
}

fn shares_only_the_same_verification<B: Backend>(backend: B) {
    let certs = read(sample().join("certificates.pem"));
    let ex = Examiner::builder(backend)
        .issuers(smki_repo::open(&sample().join("cas")))
        .build(1)
        .unwrap()
        .examiner;
    let clean: Vec<&Record> = certs
        .iter()
        .filter(|c| ex.examine(*c).verdict == Verdict::Clean)
        .take(8)
        .collect();
    assert_eq!(clean.len(), 8);
    // Each clean certificate, the same bytes again (as a re-encoding that changed
    // nothing would be), and a copy whose s differs in its last bit: same tbsCertificate
    // and r, so the same digest, but not the same signature.
    let mut other_s: Vec<Vec<u8>> = clean.iter().map(|c| c.der.clone()).collect();
    for d in &mut other_s {
        *d.last_mut().unwrap() ^= 1;
    }
    let records: Vec<Result<Record, RecordError>> = clean.iter().map(|&c| Ok(c.clone())).collect();
    let ders = clean.iter().map(|c| Input::der(&c.der, &c.locator)).chain(
        other_s
            .iter()
            .zip(&clean)
            .map(|(d, c)| Input::der(d, &c.locator)),
    );
    let mut first = ex.examine_batch(records.iter().map(Input::from).chain(ders));
    let second = first.split_off(records.len());
    assert_eq!((first.len(), second.len()), (8, 16));
    assert!(first.iter().all(|f| f.verdict == Verdict::Clean));
    let verdicts: Vec<Verdict> = second.iter().map(|f| f.verdict).collect();
    assert_eq!(verdicts[..8], [Verdict::Clean; 8]);
    assert_eq!(verdicts[8..], [Verdict::NeedsReissue; 8]);
}

/// Each finding as JSON, and the issuer key each verified signature was found under.
fn findings_json(findings: &[Finding]) -> Vec<serde_json::Value> {
    findings
        .iter()
        .map(|f| serde_json::to_value(f).unwrap())
        .collect()
}

/// The sample's leaves with the CA certificates of `cas/` (as records of the dump, not as
/// `--issuers`) before them, and after them: the first pass registers every CA of the dump
/// before any record is examined, so each record's finding is the same either way (with
/// key recovery too: a key recovered from a leaf before its CA certificate is reached is
/// upgraded to the anchor). Without the first pass, the CA certificates would not be known
/// when the leaves are examined.
#[test]
fn findings_do_not_depend_on_where_the_ca_certificates_stand() {
    let certs = read(sample().join("certificates.pem"));
    let mut cas = read(sample().join("cas"));
    cas.retain(|c| c.locator.file.ends_with(".der"));
    let first: Vec<Record> = cas.iter().chain(&certs).cloned().collect();
    let last: Vec<Record> = certs.iter().chain(&cas).cloned().collect();
    for recover in [false, true] {
        let examine = |dump: &[Record]| {
            let prepared = Examiner::builder(FastBackend)
                .recover(recover)
                .dump(dump.iter().cloned().map(Ok))
                .build(2)
                .unwrap();
            assert_eq!(prepared.found.anchors, cas.len(), "recover {recover}");
            let findings = prepared.examiner.examine_batch(dump);
            // Back in one order: the CA certificates first.
            let (leaves, cas_found) = if dump[0].der == cas[0].der {
                let (a, b) = findings.split_at(cas.len());
                (b.to_vec(), a.to_vec())
            } else {
                let (a, b) = findings.split_at(certs.len());
                (a.to_vec(), b.to_vec())
            };
            [cas_found, leaves].concat()
        };
        let (a, b) = (examine(&first), examine(&last));
        assert_eq!(findings_json(&a), findings_json(&b), "recover {recover}");
        // What is compared says something: most leaves verify, each under an anchor of
        // the dump.
        let valid: Vec<&KeySource> = a
            .iter()
            .filter_map(|f| match &f.signature {
                SignatureCheck::Valid { key_source, .. } => Some(key_source),
                _ => None,
            })
            .collect();
        assert!(valid.len() > certs.len() / 2, "{} valid", valid.len());
        assert!(
            valid.iter().all(|k| !k.is_recovered()),
            "recover {recover}: every key is an anchor"
        );
    }
    // The control: an examiner without the first pass does not know the CAs.
    let blind = Examiner::builder(FastBackend).build(1).unwrap().examiner;
    let findings = blind.examine_batch(&last);
    assert!(findings[..certs.len()]
        .iter()
        .all(|f| f.verdict != Verdict::Clean));
}

/// A record of `--issuers` that cannot be read fails the build; one that is not a
/// certificate is left out, and listed with why.
#[test]
fn issuers_that_cannot_be_read_fail_the_build_and_others_are_listed() {
    let file: Arc<str> = Arc::from("issuers.der");
    let unreadable = smki_repo::parse_buffer(&file, b"not a certificate");
    assert!(unreadable.iter().all(|r| r.is_err()));
    let e = Examiner::builder(FastBackend)
        .issuers(smki_repo::open(&sample().join("cas/root.der")).chain(unreadable))
        .build(1)
        .err()
        .expect("an unreadable issuer record fails the build");
    assert_eq!(e.locator.file, "issuers.der");
    // A TLV, but not a certificate: read, then refused as an issuer.
    let not_a_certificate = smki_repo::parse_buffer(&file, &[0x30, 0x03, 0x02, 0x01, 0x00]);
    let prepared = Examiner::builder(FastBackend)
        .issuers(
            not_a_certificate
                .into_iter()
                .chain(smki_repo::open(&sample().join("cas/root.der"))),
        )
        .build(1)
        .unwrap();
    assert_eq!(prepared.examiner.issuer_count(), 1);
    assert_eq!(prepared.skipped.len(), 1);
    let (locator, why) = &prepared.skipped[0];
    assert_eq!(locator.file, "issuers.der");
    assert!(
        matches!(why, smki_scan::IssuerRejected::Unreadable(_)),
        "{why:?}"
    );
}
