//! Wycheproof ECDSA P-256 / SHA-256 vectors: the fast backend and the reference backend
//! give the expected result on every canonical-DER vector (decoded as in `wycheproof.rs`),
//! and agree with each other, through `verify` and through `verify_batch`.

mod common;

use common::{hex, parse_canonical};
use smki_verify::{Backend, BatchItem, FastBackend, PlainBackend, PublicKey, AFFINE_MIN};
use smki_x509::sha256;

const JSON: &str = include_str!("../../../vectors/wycheproof/ecdsa_secp256r1_sha256_test.json");

#[test]
fn wycheproof_fast_backend() {
    let v: serde_json::Value = serde_json::from_str(JSON).expect("json");
    let (mut valid, mut invalid, mut large_x) = (0, 0, 0);
    for group in v["testGroups"].as_array().expect("groups") {
        let key_hex = group["publicKey"]["uncompressed"].as_str().expect("key");
        let key = PublicKey::from_sec1(&hex(key_hex)).expect("group key is a valid point");
        let plain = PlainBackend.prepare(&key);
        let fast = FastBackend.prepare(&key);
        let mut items = Vec::new();
        let mut expect = Vec::new();
        for t in group["tests"].as_array().expect("tests") {
            let id = t["tcId"].as_u64().expect("tcId");
            let result = t["result"].as_str().expect("result");
            let msg = hex(t["msg"].as_str().expect("msg"));
            let sig = hex(t["sig"].as_str().expect("sig"));
            let Some((r, s)) = parse_canonical(&sig) else {
                continue;
            };
            let z = sha256(&msg);
            let want = match result {
                "valid" => true,
                "invalid" => false,
                other => panic!("tcId {id}: unexpected result {other}"),
            };
            let p = PlainBackend.verify(&plain, &z, &r, &s);
            let f = FastBackend.verify(&fast, &z, &r, &s);
            assert_eq!(p, want, "tcId {id} ({}): plain", t["comment"]);
            assert_eq!(f, want, "tcId {id} ({}): fast", t["comment"]);
            // Alone in a batch large enough for the batch-affine path.
            let item = BatchItem {
                key: &fast,
                digest: z,
                r,
                s,
            };
            let mut out = [!want; AFFINE_MIN];
            FastBackend.verify_batch(&[item; AFFINE_MIN], &mut out);
            assert!(
                out.iter().all(|&o| o == want),
                "tcId {id} ({}): fast batch-affine",
                t["comment"]
            );
            // x(R) >= n: the comparison's (r + n) Z^2 == X branch, end to end (tcId 350).
            if want && t["comment"].as_str() == Some("k*G has a large x-coordinate") {
                large_x += 1;
            }
            if want {
                valid += 1;
            } else {
                invalid += 1;
            }
            items.push(BatchItem {
                key: &fast,
                digest: z,
                r,
                s,
            });
            expect.push(want);
        }
        let mut out = vec![false; items.len()];
        FastBackend.verify_batch(&items, &mut out);
        assert_eq!(out, expect, "verify_batch, key {key_hex}");
    }
    eprintln!("wycheproof fast: {valid} valid, {invalid} invalid canonical vectors; {large_x} with x(R) >= n");
    assert!(
        valid > 100 && invalid > 50,
        "{valid} valid, {invalid} invalid"
    );
    assert!(large_x >= 1, "the x(R) >= n vector was not run");
}
