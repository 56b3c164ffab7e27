//! Wycheproof ECDSA P-256 / SHA-256 vectors against the reference backend: the crypto only.
//! Tests whose signature is not canonical DER are skipped (their encoding is checked
//! elsewhere); every canonical one must verify exactly when it is "valid".

mod common;

use common::{hex, parse_canonical};
use smki_verify::{recover_keys, Backend, PlainBackend, PublicKey};
use smki_x509::sha256;

const JSON: &str = include_str!("../../../vectors/wycheproof/ecdsa_secp256r1_sha256_test.json");

#[test]
fn wycheproof_plain_backend() {
    let v: serde_json::Value = serde_json::from_str(JSON).expect("json");
    let (mut valid, mut invalid, mut skipped, mut four) = (0, 0, 0, 0);
    for group in v["testGroups"].as_array().expect("groups") {
        let key_hex = group["publicKey"]["uncompressed"].as_str().expect("key");
        let key = PublicKey::from_sec1(&hex(key_hex)).expect("group key is a valid point");
        let prepared = PlainBackend.prepare(&key);
        for t in group["tests"].as_array().expect("tests") {
            let id = t["tcId"].as_u64().expect("tcId");
            let result = t["result"].as_str().expect("result");
            let msg = hex(t["msg"].as_str().expect("msg"));
            let sig = hex(t["sig"].as_str().expect("sig"));
            let Some((r, s)) = parse_canonical(&sig) else {
                assert_ne!(
                    result, "valid",
                    "tcId {id}: a valid test with non-canonical DER"
                );
                skipped += 1;
                continue;
            };
            let ok = PlainBackend.verify(&prepared, &sha256(&msg), &r, &s);
            match result {
                "valid" => {
                    assert!(ok, "tcId {id} ({}) must verify", t["comment"]);
                    // Key recovery finds the group key (including x = r + n cases).
                    let cands = recover_keys(&sha256(&msg), &r, &s);
                    assert!(cands.contains(&key), "tcId {id}: key not recovered");
                    if cands.len() > 2 {
                        four += 1;
                    }
                    valid += 1;
                }
                "invalid" => {
                    assert!(!ok, "tcId {id} ({}) must not verify", t["comment"]);
                    invalid += 1;
                }
                other => panic!("tcId {id}: unexpected result {other}"),
            }
        }
    }
    eprintln!("wycheproof: {valid} valid, {invalid} invalid (canonical DER), {skipped} skipped; {four} with r + n < p");
    assert!(
        valid > 100 && invalid > 50,
        "{valid} valid, {invalid} invalid"
    );
}

#[test]
fn out_of_range_scalars_fail() {
    let v: serde_json::Value = serde_json::from_str(JSON).expect("json");
    let group = &v["testGroups"][0];
    let key =
        PublicKey::from_sec1(&hex(group["publicKey"]["uncompressed"].as_str().unwrap())).unwrap();
    let t = &group["tests"][0];
    assert_eq!(t["result"], "valid");
    let (r, s) = parse_canonical(&hex(t["sig"].as_str().unwrap())).unwrap();
    let z = sha256(&hex(t["msg"].as_str().unwrap()));
    let k = PlainBackend.prepare(&key);
    assert!(PlainBackend.verify(&k, &z, &r, &s));
    let n = common::hex32("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    for bad in [[0u8; 32], n, [0xff; 32]] {
        assert!(!PlainBackend.verify(&k, &z, &bad, &s));
        assert!(!PlainBackend.verify(&k, &z, &r, &bad));
    }
    // High s (n - s) verifies: no low-s rule for X.509.
    use p256::elliptic_curve::PrimeField;
    let s_sc = p256::Scalar::from_repr(s.into()).unwrap();
    let high: [u8; 32] = (-s_sc).to_bytes().into();
    assert!(PlainBackend.verify(&k, &z, &r, &high));
}
