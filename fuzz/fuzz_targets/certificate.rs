//! A record as a certificate: split, signature analysis, strict walk, fields, and the whole
//! judge (`Examiner::examine_der`).
//!
//! Invariants: no panic; defect and BER-issue offsets inside the record; the verdict is
//! Unreadable exactly when the split fails.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smki_repo::Locator;
use smki_scan::{Examiner, Verdict};
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
        let _ = Fields::parse(view);
    }

    let examiner = EXAMINER.get_or_init(|| Examiner::plain(false));
    let locator = Locator { file: "fuzz".into(), record: 0, line: None, offset: 0 };
    let finding = examiner.examine_der(data, locator, None);
    assert_eq!(
        finding.verdict == Verdict::Unreadable,
        split.is_err(),
        "verdict {:?} ({}) but split {:?}",
        finding.verdict,
        finding.reason,
        split.as_ref().err()
    );
});
