//! The first pass (`smki_scan::prepare_issuers`) on the project's sample corpus: the issuers
//! in use, whose tables it builds before the main pass, are exactly the known issuers the
//! records name by authorityKeyIdentifier (an issuer left unknown is not one) (counted here from the AKIs and SKIs read by hand,
//! not with the crates under test); the verdicts after it are the reference backend's; a
//! dump of self-signed certificates verifies each under its own key; and a verification a
//! batch asks for twice is shared only when issuer, digest, r and s are all the same.
mod support;

use smki_repo::Record;
use smki_scan::{prepare_issuers, Examiner, Verdict};
use std::collections::HashSet;
use std::path::PathBuf;

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
    let reference = Examiner::plain(false);
    for c in &cas {
        reference.add_issuer(&c.der, c.locator.to_string()).unwrap();
    }
    for threads in [1, 2, 3] {
        let fast = Examiner::fast(false);
        for c in &cas {
            fast.add_issuer(&c.der, c.locator.to_string()).unwrap();
        }
        let found = prepare_issuers(&fast, certs.iter().cloned().map(Ok), threads);
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
    let ex = Examiner::fast(false);
    let found = prepare_issuers(&ex, dump.iter().cloned().map(Ok), 2);
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
    shares_only_the_same_verification(Examiner::fast(false));
    shares_only_the_same_verification(Examiner::plain(false));
}

fn shares_only_the_same_verification<B: smki_verify::Backend>(ex: Examiner<B>) {
    let cas = read(sample().join("cas"));
    let certs = read(sample().join("certificates.pem"));
    for c in &cas {
        ex.add_issuer(&c.der, c.locator.to_string()).unwrap();
    }
    let clean: Vec<&Record> = certs
        .iter()
        .filter(|c| ex.examine(c).verdict == Verdict::Clean)
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
    let records: Vec<Result<Record, smki_repo::Error>> =
        clean.iter().map(|&c| Ok(c.clone())).collect();
    let ders = clean
        .iter()
        .map(|c| (c.der.as_slice(), c.locator.clone(), None))
        .chain(
            other_s
                .iter()
                .zip(&clean)
                .map(|(d, c)| (d.as_slice(), c.locator.clone(), None)),
        );
    let (first, second) = ex.examine_both(&records, ders);
    assert!(first.iter().all(|f| f.verdict == Verdict::Clean));
    let verdicts: Vec<Verdict> = second.iter().map(|f| f.verdict).collect();
    assert_eq!(verdicts[..8], [Verdict::Clean; 8]);
    assert_eq!(verdicts[8..], [Verdict::NeedsReissue; 8]);
}
