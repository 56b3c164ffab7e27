//! A record as a certificate: split, signature analysis, strict walk, fields, and the whole
//! judge (`Examiner::examine`).
//!
//! Invariants: no panic; defect and BER-issue offsets inside the record; the lenient
//! authorityKeyIdentifier (`CertView::authority_key_id`) is the fields' wherever the fields
//! are read; the verdict is Unreadable exactly when the split fails.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smki_repo::Locator;
use smki_scan::{Examiner, Input, Verdict};
use smki_x509::{ber_issues, CertView, Fields};
use std::sync::OnceLock;

static EXAMINER: OnceLock<Examiner> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let split = CertView::split(data);
    if let Ok(view) = &split {
        let sig = view.analyse_signature();
        for d in &sig.defects {
            assert!(d.offset <= data.len(), "signature defect {:?} at {}", d.code, d.offset);
        }
        for b in ber_issues(view) {
            assert!(b.offset < data.len(), "BER issue {:?} at {} ({})", b.kind, b.offset, b.path);
        }
        let aki = view.authority_key_id();
        for e in view.extensions() {
            let _ = (e.value(), e.authority_key_id());
        }
        if let Ok(f) = Fields::parse(view) {
            assert_eq!(aki, f.authority_key_id.as_deref(), "authorityKeyIdentifier");
        }
    }

    let examiner = EXAMINER.get_or_init(|| {
        Examiner::builder(smki_verify::PlainBackend)
            .build(1)
            .expect("no issuers to read")
            .examiner
    });
    let locator = Locator { file: "fuzz".into(), record: 0, line: None, offset: 0 };
    let finding = examiner.examine(Input::der(data, &locator));
    assert_eq!(
        finding.verdict == Verdict::Unreadable,
        split.is_err(),
        "verdict {:?} ({}) but split {:?}",
        finding.verdict,
        finding.reason,
        split.as_ref().err()
    );
});
