//! Wycheproof ECDSA P-256 / SHA-256 vectors: the fast backend and the reference backend
//! give the expected result on every canonical-DER vector (decoded as in `wycheproof.rs`),
//! and agree with each other, through `verify` and through `verify_batch`.

mod common;

use common::hex;
use smki_verify::{sha256, Backend, BatchItem, FastBackend, PlainBackend, PublicKey, AFFINE_MIN};

const JSON: &str = include_str!("../../../vectors/wycheproof/ecdsa_secp256r1_sha256_test.json");

/// Minimal canonical DER reader: SEQUENCE { INTEGER, INTEGER }, short or 0x81 lengths
/// (minimal), positive minimal INTEGERs of at most 32 octets after the one pad. None for
/// anything else.
fn parse_canonical(sig: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    fn len(b: &[u8], i: &mut usize) -> Option<usize> {
        let l0 = *b.get(*i)?;
        *i += 1;
        match l0 {
            0..=0x7f => Some(l0 as usize),
            0x81 => {
                let l = *b.get(*i)?;
                *i += 1;
                (l >= 0x80).then_some(l as usize)
            }
            _ => None,
        }
    }
    fn int(b: &[u8], i: &mut usize) -> Option<[u8; 32]> {
        if *b.get(*i)? != 0x02 {
            return None;
        }
        *i += 1;
        let l = len(b, i)?;
        let c = b.get(*i..i.checked_add(l)?)?;
        *i += l;
        if c.is_empty() || c[0] & 0x80 != 0 {
            return None; // empty or negative
        }
        let c = if c[0] == 0 {
            if c.len() == 1 {
                c // the value 0, minimally encoded
            } else if c[1] & 0x80 == 0 {
                return None; // redundant leading zero
            } else {
                &c[1..]
            }
        } else {
            c
        };
        if c.len() > 32 {
            return None;
        }
        let mut out = [0u8; 32];
        out[32 - c.len()..].copy_from_slice(c);
        Some(out)
    }
    let mut i = 0;
    if *sig.first()? != 0x30 {
        return None;
    }
    i += 1;
    let l = len(sig, &mut i)?;
    if i + l != sig.len() {
        return None;
    }
    let r = int(sig, &mut i)?;
    let s = int(sig, &mut i)?;
    (i == sig.len()).then_some((r, s))
}

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
