//! The encoders and the defect injector, checked against the analyser.
use proptest::prelude::*;
use smki_der::encode::{faulty_fixed_width_bit_string, inject, signature_bit_string};
use smki_der::{analyse_signature, Component, DefectCode, IntRead, P256_ORDER};
use std::collections::BTreeSet;
use DefectCode::*;

fn sig_codes() -> Vec<DefectCode> {
    DefectCode::ALL
        .iter()
        .copied()
        .filter(|c| c.is_signature())
        .collect()
}

fn in_range(v: &[u8; 32]) -> bool {
    v.iter().any(|&b| b != 0) && v < &P256_ORDER
}

/// Checks that `bytes`, injected with `codes` for (r, s), analyses as exactly `codes`, with
/// r and s read back unless made unreadable or replaced (SIG_RANGE).
fn check_injected(r: &[u8; 32], s: &[u8; 32], codes: &[DefectCode], bytes: &[u8]) {
    let e = analyse_signature(bytes, 0);
    let got: BTreeSet<DefectCode> = e.defects.iter().map(|d| d.code).collect();
    let want: BTreeSet<DefectCode> = codes.iter().copied().collect();
    assert_eq!(
        got,
        want,
        "{codes:?} -> {}: {:#?}",
        hex::encode(bytes),
        e.defects
    );
    let ranged = |c| {
        e.defects
            .iter()
            .any(|d| d.code == SigRange && d.component == c)
    };
    for (c, value, read, original) in [
        (Component::R, e.r, e.r_read, r),
        (Component::S, e.s, e.s_read, s),
    ] {
        if read != IntRead::Unreadable && !ranged(c) {
            assert_eq!(
                value.as_ref(),
                Some(original),
                "{c:?} {codes:?} -> {}",
                hex::encode(bytes)
            );
        }
    }
    if !codes
        .iter()
        .any(|c| matches!(c, SigIntEmpty | SigTruncated | SigNotSequence))
    {
        assert!(
            e.r_read != IntRead::Unreadable && e.s_read != IntRead::Unreadable,
            "{codes:?}"
        );
    }
}

fn v32(hex: &str) -> [u8; 32] {
    hex::decode(hex).unwrap().try_into().unwrap()
}

/// r and s with the high bit set (so every code applies), and r2 below 2^248.
fn samples() -> Vec<([u8; 32], [u8; 32])> {
    let hi = v32(&"99".repeat(32));
    let hi2 = v32(&format!("c3{}", "5a".repeat(31)));
    let lo = v32(&format!("007f{}", "11".repeat(30)));
    let one = v32(&format!("{}01", "00".repeat(31)));
    vec![(hi, hi2), (lo, hi), (hi2, one)]
}

#[test]
fn every_single_code_injects() {
    let (r, s) = samples()[0];
    for code in sig_codes() {
        for variant in 0..32 {
            let bytes = inject(&r, &s, &[code], variant).unwrap_or_else(|| panic!("{code}"));
            check_injected(&r, &s, &[code], &bytes);
        }
    }
}

#[test]
fn every_subset_on_samples() {
    let codes = sig_codes();
    let mut injected = 0;
    for (r, s) in samples() {
        for mask in 0u32..1 << codes.len() {
            let subset: Vec<DefectCode> = codes
                .iter()
                .enumerate()
                .filter(|(i, _)| mask >> i & 1 == 1)
                .map(|(_, &c)| c)
                .collect();
            for variant in [0, 1, 0xdead_beef] {
                if let Some(bytes) = inject(&r, &s, &subset, variant) {
                    injected += 1;
                    check_injected(&r, &s, &subset, &bytes);
                    assert_eq!(
                        inject(&r, &s, &subset, variant),
                        Some(bytes),
                        "deterministic"
                    );
                }
            }
        }
    }
    assert!(injected > 5_000, "{injected}");
}

#[test]
fn refusals() {
    let (hi, _) = samples()[0];
    let lo = v32(&format!("007f{}", "11".repeat(30)));
    // Negative or leading 0xFF need a high bit that can be exposed.
    assert_eq!(inject(&lo, &lo, &[SigIntNegative], 0), None);
    assert_eq!(inject(&lo, &lo, &[SigIntLeadingFf], 0), None);
    assert_eq!(
        inject(&hi, &lo, &[SigIntNegative, SigIntLeadingFf], 0),
        None
    );
    // ff 80..: without its pad it would read as a redundant 0xFF, not as negative.
    let ff80 = v32(&format!("ff80{}", "11".repeat(30)));
    assert_eq!(inject(&ff80, &lo, &[SigIntNegative], 0), None);
    assert_eq!(inject(&ff80, &lo, &[SigIntLeadingFf], 0), None);
    // At most one content defect per integer.
    assert_eq!(
        inject(&hi, &hi, &[SigIntLeadingZero, SigIntEmpty, SigRange], 0),
        None
    );
    // Refused: CERT_BER, repeats, out-of-range input, impossible combinations.
    assert_eq!(inject(&hi, &hi, &[CertBer], 0), None);
    assert_eq!(
        inject(&hi, &hi, &[SigTrailingData, SigTrailingData], 0),
        None
    );
    assert_eq!(inject(&[0; 32], &hi, &[], 0), None);
    assert_eq!(inject(&P256_ORDER, &hi, &[], 0), None);
    assert_eq!(
        inject(&hi, &hi, &[SigNotSequence, SigTrailingData], 0),
        None
    );
    assert_eq!(inject(&hi, &hi, &[SigTruncated, SigExtraElement], 0), None);
    assert_eq!(inject(&hi, &hi, &[SigTruncated, SigLenIndefinite], 0), None);
    // No defect: the canonical encoding.
    assert_eq!(
        inject(&hi, &lo, &[], 7),
        Some(signature_bit_string(&hi, &lo))
    );
}

#[test]
fn faulty_signer_example() {
    let lo = v32(&format!("007f{}", "11".repeat(30)));
    let hi = v32(&"99".repeat(32));
    let want = format!(
        "0348003045 0220{} 022100{}",
        hex::encode(lo),
        hex::encode(hi)
    )
    .replace(' ', "");
    assert_eq!(hex::encode(faulty_fixed_width_bit_string(&lo, &hi)), want);
}

fn scalar() -> impl Strategy<Value = [u8; 32]> {
    prop_oneof![
        // Random, with 0-3 leading zero octets (a quarter below 2^248 and so on).
        (any::<[u8; 32]>(), 0usize..4).prop_map(|(mut v, zeros)| {
            v[..zeros].fill(0);
            v
        }),
        // Between 2^247 and 2^248: 0x00 then a byte >= 0x80.
        any::<[u8; 32]>().prop_map(|mut v| {
            v[0] = 0;
            v[1] |= 0x80;
            v
        }),
        // Starting 0xFF: the edge for negative and 0xFF injections.
        any::<[u8; 32]>().prop_map(|mut v| {
            v[0] = 0xff;
            v
        }),
    ]
    .prop_filter("1 <= v < n", in_range)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn injected_codes_are_found(
        r in scalar(),
        s in scalar(),
        codes in proptest::sample::subsequence(sig_codes(), 0..=5),
        variant in any::<u64>(),
    ) {
        if let Some(bytes) = inject(&r, &s, &codes, variant) {
            check_injected(&r, &s, &codes, &bytes);
        }
    }

    #[test]
    fn canonical_round_trips(r in scalar(), s in scalar()) {
        let e = analyse_signature(&signature_bit_string(&r, &s), 17);
        prop_assert!(e.is_canonical(), "{:?}", e.defects);
        prop_assert_eq!((e.r_read, e.s_read), (IntRead::Canonical, IntRead::Canonical));
        prop_assert_eq!(e.rs(), Some((r, s)));
    }

    #[test]
    fn faulty_signer_pads_small_values(r in scalar(), s in scalar()) {
        let e = analyse_signature(&faulty_fixed_width_bit_string(&r, &s), 0);
        for d in &e.defects {
            prop_assert_eq!(d.code, SigIntLeadingZero);
        }
        // Redundant exactly when the value is below 2^247: from 2^247 to 2^248 the first
        // 0x00 of the 32 octets is the pad DER wants anyway.
        let padded = |v: &[u8; 32]| v[0] == 0 && v[1] < 0x80;
        let flagged = |c| e.defects.iter().any(|d| d.component == c);
        prop_assert_eq!(flagged(Component::R), padded(&r));
        prop_assert_eq!(flagged(Component::S), padded(&s));
        prop_assert_eq!(e.has(SigIntLeadingZero), padded(&r) || padded(&s));
        prop_assert_eq!(e.rs(), Some((r, s)));
    }
}
