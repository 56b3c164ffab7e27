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
    for _ in 0..rounds * 4 {
        // Interleave configurations so that load changes hit them alike; keep the best
        // 64-signature slice.
        for (k, (_, _, gt, qts, _)) in tables.iter().enumerate() {
            for c in sigs.chunks(64) {
                let t0 = Instant::now();
                for (i, z, r, s) in c {
                    assert!(verify_with_tables(gt, &qts[*i], z, r, s));
                }
                best[k] = best[k].min(t0.elapsed());
            }
        }
    }
    {
        use p256::elliptic_curve::ops::Invert;
        let ss: Vec<p256::NonZeroScalar> = sigs
            .iter()
            .map(|(_, _, _, s)| p256::NonZeroScalar::from_repr((*s).into()).unwrap())
            .collect();
        let mut best_inv = Duration::MAX;
        let mut best_mul = Duration::MAX;
        let mut best_own = Duration::MAX;
        for _ in 0..rounds {
            let t0 = Instant::now();
            for s in &ss {
                std::hint::black_box(s.as_ref().invert_vartime());
            }
            best_inv = best_inv.min(t0.elapsed());
            let t0 = Instant::now();
            for s in &ss {
                std::hint::black_box(smki_verify::invert_scalar(s));
            }
            best_own = best_own.min(t0.elapsed());
            let t0 = Instant::now();
            let mut acc = p256::Scalar::ONE;
            for s in &ss {
                acc *= s.as_ref();
            }
            std::hint::black_box(acc);
            best_mul = best_mul.min(t0.elapsed());
        }
        println!(
            "Scalar::invert_vartime {:?}, own binary inversion {:?}, Scalar mul {:?}",
            best_inv / ss.len() as u32,
            best_own / ss.len() as u32,
            best_mul / ss.len() as u32
        );
    }
    {
        use smki_verify::{Backend, BatchItem, FastBackend, PublicKey};
        let keys: Vec<_> = sks
            .iter()
            .map(|sk| {
                let pk = PublicKey::from_sec1(
                    p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(
                        sk.verifying_key().as_affine(),
                        false,
                    )
                    .as_bytes(),
                )
                .unwrap();
                FastBackend.prepare(&pk)
            })
            .collect();
        let items: Vec<_> = sigs
            .iter()
            .map(|(i, z, r, s)| BatchItem {
                key: &keys[*i],
                digest: *z,
                r: *r,
                s: *s,
            })
            .collect();
        let sizes: Vec<usize> = std::env::var("TUNE_BATCH")
            .unwrap_or_else(|_| "64".into())
            .split(',')
            .map(|v| v.parse().unwrap())
            .collect();
        for &size in &sizes {
            let mut out = vec![false; size];
            let mut best = Duration::MAX;
            for _ in 0..rounds * 4 {
                for c in items.chunks_exact(size) {
                    let t0 = Instant::now();
                    FastBackend.verify_batch(c, &mut out);
                    best = best.min(t0.elapsed());
                    assert!(out.iter().all(|&o| o));
                }
            }
            let per = best / size as u32;
            println!(
                "verify_batch {size}: {per:?}/verify ({:.0}/s)",
                1e9 / per.as_nanos() as f64
            );
        }
        let mut out = [false; 64];
        let mut best = Duration::MAX;
        let mut best1 = Duration::MAX;
        // Best 64-signature slice: short slices catch the moments the core is not shared.
        for _ in 0..rounds * 4 {
            for c in items.chunks(64) {
                let t0 = Instant::now();
                FastBackend.verify_batch(c, &mut out);
                best = best.min(t0.elapsed());
                assert!(out.iter().all(|&o| o));
            }
            for c in items.chunks(64) {
                let t0 = Instant::now();
                for it in c {
                    assert!(FastBackend.verify(it.key, &it.digest, &it.r, &it.s));
                }
                best1 = best1.min(t0.elapsed());
            }
        }
        let per = best / 64;
        let per1 = best1 / 64;
        println!(
            "FastBackend (G w={}, Q w={}): verify {per1:?} ({:.0}/s), verify_batch 64 {per:?}/verify ({:.0}/s)",
            smki_verify::G_WINDOW,
            smki_verify::Q_WINDOW,
            1e9 / per1.as_nanos() as f64,
            1e9 / per.as_nanos() as f64
        );
    }
    for (k, (gw, qw, gt, qts, build)) in tables.iter().enumerate() {
        let per = best[k] / 64;
        println!(
            "G w={gw} ({} KB) Q w={qw} ({} KB, build {build:?}): {per:?}/verify, {:.0} verifies/s (4 issuers, best of {rounds})",
            gt.size_bytes() / 1024,
            qts[0].size_bytes() / 1024,
            1e9 / per.as_nanos() as f64
        );
    }
}
