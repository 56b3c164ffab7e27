//! Properties of remediation on real certificates (the project's sample corpus, signed by
//! its simulated CAs): for any combination of remediable signature-encoding defects applied
//! to a certificate's real (r, s), remediation re-encodes it to exactly the canonical
//! certificate, with the same tbsCertificate, algorithm and (r, s); and remediation is
//! idempotent (a second run changes nothing).
use proptest::prelude::*;
use smki_der::DefectCode;
use smki_repo::{Locator, Record};
use smki_scan::remediate::{remediate_record, Action};
use smki_scan::{Examiner, Verdict};
use smki_x509::CertView;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The defects that remediation fixes (the signature still verifies).
const REMEDIABLE: &[DefectCode] = &[
    DefectCode::SigIntLeadingZero,
    DefectCode::SigIntNegative,
    DefectCode::SigIntLeadingFf,
    DefectCode::SigLenLongForm,
    DefectCode::SigLenIndefinite,
    DefectCode::SigLenLeadingZero,
    DefectCode::SigTrailingData,
    DefectCode::SigExtraElement,
    DefectCode::SigBitstringUnusedBits,
];

struct Corpus {
    examiner: Examiner,
    /// Clean certificates of the sample.
    clean: Vec<Vec<u8>>,
}

fn corpus() -> &'static Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample");
        let examiner = Examiner::builder(smki_verify::PlainBackend)
            .issuers(smki_repo::open(&root.join("cas")))
            .build(1)
            .unwrap()
            .examiner;
        let clean = smki_repo::open(&root.join("certificates.pem"))
            .map(|r| r.unwrap())
            .filter(|r| examiner.examine(r).verdict == Verdict::Clean)
            .map(|r| r.der)
            .collect();
        Corpus { examiner, clean }
    })
}

fn record(der: Vec<u8>) -> Result<Record, smki_repo::Error> {
    Ok(Record {
        locator: Locator {
            file: "prop".into(),
            record: 0,
            line: None,
            offset: 0,
        },
        der,
        meta: None,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn remediation_restores_the_canonical_certificate_and_is_idempotent(
        which in 0usize..1000,
        mask in 1u32..(1 << REMEDIABLE.len()),
        variant in any::<u64>(),
    ) {
        let c = corpus();
        prop_assume!(!c.clean.is_empty());
        let canonical = &c.clean[which % c.clean.len()];
        let view = CertView::split(canonical).unwrap();
        let (r, s) = view.analyse_signature().rs().unwrap();
        let codes: Vec<DefectCode> = REMEDIABLE.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, c)| *c).collect();
        let Some(sig) = smki_der::encode::inject(&r, &s, &codes, variant) else {
            return Err(TestCaseError::reject("combination not applicable to this (r, s)"));
        };
        let defective = smki_der::encode::certificate(view.tbs_bytes(), view.signature_algorithm_bytes(), &sig);
        // The analyser sees exactly the injected codes.
        let mut seen: Vec<DefectCode> = CertView::split(&defective).unwrap().analyse_signature().defects.iter().map(|d| d.code).collect();
        seen.sort();
        seen.dedup();
        let mut want = codes.clone();
        want.sort();
        prop_assert_eq!(seen, want);
        // Remediation gives back exactly the canonical certificate.
        let first = remediate_record(&c.examiner, &record(defective));
        prop_assert_eq!(first.finding.verdict, Verdict::Remediable);
        let Action::Changed { der, .. } = first.action else {
            return Err(TestCaseError::fail(format!("not changed: {:?}", first.action)));
        };
        prop_assert_eq!(&der, canonical);
        // And a second run changes nothing.
        let second = remediate_record(&c.examiner, &record(der));
        prop_assert!(matches!(second.action, Action::Unchanged), "{:?}", second.action);
        prop_assert_eq!(second.finding.verdict, Verdict::Clean);
    }
}
