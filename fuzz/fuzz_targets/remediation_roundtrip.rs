//! Remediation: a certificate whose signature reads is re-encoded with `CertView::reencoded`.
//!
//! Invariants: the result splits; its signature is canonical with the same (r, s); the
//! tbsCertificate and signatureAlgorithm bytes are untouched; re-encoding again is a no-op.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smki_x509::CertView;

fuzz_target!(|data: &[u8]| {
    let Ok(view) = CertView::split(data) else { return };
    let Some((r, s)) = view.analyse_signature().rs() else { return };

    let fixed = view.reencoded(&r, &s);
    let again = CertView::split(&fixed).expect("re-encoded certificate splits");
    let sig = again.analyse_signature();
    assert!(sig.is_canonical(), "re-encoded signature has defects: {:?}", sig.defects);
    assert_eq!(sig.rs(), Some((r, s)));
    assert_eq!(again.tbs_bytes(), view.tbs_bytes());
    assert_eq!(again.signature_algorithm_bytes(), view.signature_algorithm_bytes());
    assert_eq!(again.reencoded(&r, &s), fixed, "re-encoding is not idempotent");
});
