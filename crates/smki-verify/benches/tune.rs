//! Window tuning for the fast backend, robust to a shared machine: for each (G window,
//! Q window) the best of several rounds of 256 verifications (min is what the code can
//! do; the load of other processes only adds). `cargo bench -p smki-verify --bench tune`.

use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::{Signature, SigningKey};
use sha2::Digest;
use smki_verify::{verify_with_tables, FixedBaseTable};
use std::time::{Duration, Instant};

fn bytes(label: &str, i: u64) -> [u8; 32] {
    let mut h = sha2::Sha256::new();
    h.update(label.as_bytes());
    h.update(i.to_be_bytes());
    h.finalize().into()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let sks: Vec<SigningKey> = (0..4u64)
        .map(|i| SigningKey::from_bytes(&bytes("issuer", i).into()).unwrap())
        .collect();
    let mut sigs = Vec::new();
    for j in 0..64u64 {
        for (i, sk) in sks.iter().enumerate() {
            let z = bytes("tbs", j * 4 + i as u64);
            let sig: Signature = sk.sign_prehash(&z).unwrap();
            let (r, s) = sig.split_bytes();
            sigs.push((i, z, <[u8; 32]>::from(r), <[u8; 32]>::from(s)));
        }
    }
    let windows: Vec<(u32, u32)> = std::env::var("TUNE_WINDOWS")
        .unwrap_or_else(|_| "8:8,9:8,10:8,7:7,8:7,10:7,9:9".into())
        .split(',')
        .map(|p| {
            let (g, q) = p.split_once(':').unwrap();
            (g.parse().unwrap(), q.parse().unwrap())
        })
        .collect();
    let rounds: usize = std::env::var("TUNE_ROUNDS").map_or(15, |v| v.parse().unwrap());
    let mut tables = Vec::new();
    for &(gw, qw) in &windows {
        let gt = FixedBaseTable::new(&p256::AffinePoint::GENERATOR, gw);
        let t0 = Instant::now();
        let qts: Vec<FixedBaseTable> = sks
            .iter()
            .map(|sk| FixedBaseTable::new(sk.verifying_key().as_affine(), qw))
            .collect();
        let build = t0.elapsed() / 4;
        tables.push((gw, qw, gt, qts, build));
    }
    let mut best = vec![Duration::MAX; tables.len()];
    for _ in 0..rounds {
        // Interleave configurations so that load changes hit them alike.
        for (k, (_, _, gt, qts, _)) in tables.iter().enumerate() {
            let t0 = Instant::now();
            for (i, z, r, s) in &sigs {
                assert!(verify_with_tables(gt, &qts[*i], z, r, s));
            }
            best[k] = best[k].min(t0.elapsed());
        }
    }
    for (k, (gw, qw, gt, qts, build)) in tables.iter().enumerate() {
        let per = best[k] / sigs.len() as u32;
        println!(
            "G w={gw} ({} KB) Q w={qw} ({} KB, build {build:?}): {per:?}/verify, {:.0} verifies/s (4 issuers, best of {rounds})",
            gt.size_bytes() / 1024,
            qts[0].size_bytes() / 1024,
            1e9 / per.as_nanos() as f64
        );
    }
}
