//! `analyse_signature` on arbitrary bytes (as a signatureValue BIT STRING element).
//!
//! Invariants: no panic; every defect offset is inside the input (an offset equal to the
//! length is allowed only for SIG_TRUNCATED, which may point just past the last byte at
//! the element that is missing); when (r, s) is readable its canonical encoding analyses
//! as canonical with the same (r, s); and an encoding reported canonical is exactly that
//! canonical encoding (DER is unique).
#![no_main]
use libfuzzer_sys::fuzz_target;
use smki_der::{analyse_signature, encode, read_header, DefectCode};

fuzz_target!(|data: &[u8]| {
    let a = analyse_signature(data, 0);
    for d in &a.defects {
        assert!(
            d.offset < data.len() || (d.offset == data.len() && d.code == DefectCode::SigTruncated),
            "defect {:?} at {} outside a {}-byte input",
            d.code,
            d.offset,
            data.len()
        );
    }
    assert!(a.defects.windows(2).all(|w| w[0].offset <= w[1].offset), "defects not sorted");

    if let Some((r, s)) = a.rs() {
        let canonical = encode::signature_bit_string(&r, &s);
        let b = analyse_signature(&canonical, 0);
        assert!(b.is_canonical(), "canonical encoding has defects: {:?}", b.defects);
        assert_eq!(b.rs(), Some((r, s)));
        if a.is_canonical() {
            // The BIT STRING's own length octets are not judged: compare the contents.
            let h = read_header(data, 0, 0).expect("canonical signature has a readable header");
            assert_eq!(&data[h.content], &canonical[2..], "canonical but not the DER of (r, s)");
        }
    } else {
        assert!(!a.is_canonical(), "canonical without a readable (r, s) in range");
    }
});
