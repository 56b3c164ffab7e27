//! The RustCrypto `der` crate (through `ecdsa`'s strict `Signature::from_der`, which reads
//! `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` with `der`'s DER rules and then
//! requires 0 < r, s < n) as an independent reader of the signature: on every input,
//! smki's analyser finds no defect exactly when the `der` crate accepts it.
//!
//! The inputs: every defect the simulator's injector can write (each code alone and in
//! pairs, several variants), and random single-byte edits, insertions and cuts of canonical
//! and defective encodings, over random (r, s) from proptest.
use p256::ecdsa::Signature;
use proptest::prelude::*;
use smki_der::encode::{ecdsa_sig_value, inject};
use smki_der::{analyse_signature, DefectCode};

/// The signatureValue BIT STRING around an ECDSA-Sig-Value (written by hand: DER length,
/// no unused bits), so that only the ECDSA-Sig-Value is judged.
fn bit_string(sig: &[u8]) -> Vec<u8> {
    let len = sig.len() + 1;
    let mut out = vec![0x03];
    match len {
        0..=0x7f => out.push(len as u8),
        0x80..=0xff => out.extend([0x81, len as u8]),
        _ => out.extend([0x82, (len >> 8) as u8, len as u8]),
    }
    out.push(0x00);
    out.extend_from_slice(sig);
    out
}

/// (smki says DER and in range, the `der` crate accepts) for one ECDSA-Sig-Value.
fn both(sig: &[u8]) -> (bool, bool) {
    let smki = analyse_signature(&bit_string(sig), 0).is_canonical();
    let der = Signature::from_der(sig).is_ok();
    (smki, der)
}

fn agree(sig: &[u8], how: &str) {
    let (smki, der) = both(sig);
    assert_eq!(
        smki,
        der,
        "{how}: smki says {}, the der crate {} {}",
        if smki { "DER" } else { "not DER" },
        if der { "accepts" } else { "refuses" },
        hex::encode(sig)
    );
}

/// The ECDSA-Sig-Value inside a BIT STRING the injector wrote (its unused-bits octet
/// skipped; `None` when the BIT STRING itself is what is defective).
fn inner(bit_string: &[u8]) -> Option<Vec<u8>> {
    let h = smki_der::read_header(bit_string, 0, 0).ok()?;
    let content = &bit_string[h.content];
    match content.split_first() {
        Some((0, rest)) => Some(rest.to_vec()),
        _ => None,
    }
}

const CODES: &[DefectCode] = &[
    DefectCode::SigIntLeadingZero,
    DefectCode::SigIntNegative,
    DefectCode::SigIntEmpty,
    DefectCode::SigIntLeadingFf,
    DefectCode::SigLenLongForm,
    DefectCode::SigLenIndefinite,
    DefectCode::SigLenLeadingZero,
    DefectCode::SigTrailingData,
    DefectCode::SigExtraElement,
    DefectCode::SigNotSequence,
    DefectCode::SigTruncated,
    DefectCode::SigRange,
];

fn scalar() -> impl Strategy<Value = [u8; 32]> {
    prop_oneof![
        // Uniform, as a signer's r and s are.
        4 => any::<[u8; 32]>(),
        // Short values (leading zero octets) and values with the high bit set.
        1 => (any::<[u8; 32]>(), 1usize..31).prop_map(|(mut v, zeros)| {
            v[..zeros].fill(0);
            v
        }),
        1 => any::<[u8; 32]>().prop_map(|mut v| {
            v[0] |= 0x80;
            v
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Canonical encodings and every injected defect, alone and in pairs.
    #[test]
    fn injected_defects(r in scalar(), s in scalar(), variant in 0u64..8) {
        agree(&ecdsa_sig_value(&r, &s), "canonical");
        for (i, &a) in CODES.iter().enumerate() {
            for &b in std::iter::once(&a).chain(&CODES[i + 1..]) {
                let codes: Vec<DefectCode> = if a == b { vec![a] } else { vec![a, b] };
                if let Some(bs) = inject(&r, &s, &codes, variant) {
                    if let Some(sig) = inner(&bs) {
                        agree(&sig, &format!("{codes:?} variant {variant}"));
                    }
                }
            }
        }
    }

    /// Random edits of a canonical or injected encoding: a byte changed, a byte inserted,
    /// the end cut.
    #[test]
    fn edited_encodings(
        r in scalar(),
        s in scalar(),
        code in proptest::option::of(proptest::sample::select(CODES)),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        edit in 0u8..3,
    ) {
        let sig = match code {
            None => ecdsa_sig_value(&r, &s),
            Some(c) => match inject(&r, &s, &[c], 0).as_deref().and_then(inner) {
                Some(sig) => sig,
                None => return Ok(()),
            },
        };
        let mut edited = sig.clone();
        let i = at.index(edited.len());
        match edit {
            0 => edited[i] = byte,
            1 => edited.insert(i, byte),
            _ => edited.truncate(i),
        }
        agree(&edited, &format!("{code:?}, edit {edit} at {i} with {byte:02x}"));
    }
}
