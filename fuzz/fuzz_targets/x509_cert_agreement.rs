//! smki's "is this certificate DER" (the strict walk under `CertificateSchema`, what
//! CERT_BER reports) against RustCrypto's x509-cert (tests/support/x509_cert_judge.rs:
//! `Certificate::from_der`, and the certificate and its known extensions written back byte
//! for byte), on any input.
//!
//! Invariant (docs/vocabulary.md, "Checked against x509-cert"): whenever x509-cert judges
//! the input DER, smki's walk reads it without a read error and reports no issue, except
//! where the agreement is not claimed: a BIT STRING's unused bits (der 0.7 does not look),
//! and anything inside the contents of an `ANY` (x509-cert keeps them as bytes; located
//! with tests/support/der_tree.rs). The other direction (smki says DER, x509-cert refuses)
//! is a disagreement only for structures both understand, which arbitrary bytes are not:
//! the property test (tests/x509_cert_oracle.rs) checks it on mutated real certificates.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/support/der_tree.rs"]
mod der_tree;
#[path = "../../tests/support/x509_cert_judge.rs"]
mod x509_cert_judge;

fuzz_target!(|data: &[u8]| {
    let walk = smki_der::walk_with(data, 0, &smki_x509::CertificateSchema);
    if x509_cert_judge::x509_cert_is_der(data).is_err() {
        return;
    }
    let tree = der_tree::parse(data).expect("x509-cert's DER reads as a tree");
    assert_eq!(der_tree::encode(&tree), data, "the tree writes it back");
    let any = der_tree::any_contents(&tree);
    // A read error inside an ANY's contents (say, a hardwareModuleName whose OCTET STRING
    // has eleven length octets) is smki's to report and x509-cert's not to look at.
    if let Some(e) = walk.error {
        assert!(
            any.iter().any(|r| r.contains(&e.position)),
            "x509-cert reads it, smki's walk does not: {e:?}"
        );
    }
    for issue in &walk.issues {
        let excluded = issue.kind == smki_der::BerIssueKind::BitStringPadding
            || any.iter().any(|r| r.contains(&issue.offset));
        assert!(
            excluded,
            "x509-cert says DER, smki says {:?} at byte {}: {}",
            issue.kind, issue.offset, issue.detail
        );
    }
});
