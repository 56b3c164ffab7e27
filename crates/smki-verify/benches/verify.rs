//! Verification throughput: the reference backend, the fast backend (one issuer, four
//! issuers round robin, batches of 64) and the per-issuer table build.
//!
//! `cargo bench -p smki-verify --bench verify`; on a shared machine the figures are noisy:
//! compare runs made in the same session, and see `openssl speed -seconds 3 ecdsap256`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::{Signature, SigningKey};
use sha2::Digest;
use smki_verify::{Backend, BatchItem, FastBackend, PlainBackend, PublicKey};
use std::time::Duration;

const ISSUERS: usize = 4;
const PER_ISSUER: usize = 64;

fn bytes(label: &str, i: u64) -> [u8; 32] {
    let mut h = sha2::Sha256::new();
    h.update(label.as_bytes());
    h.update(i.to_be_bytes());
    h.finalize().into()
}

struct Sig {
    issuer: usize,
    digest: [u8; 32],
    r: [u8; 32],
    s: [u8; 32],
}

/// ISSUERS keys and PER_ISSUER signatures each, interleaved round robin.
fn corpus() -> (Vec<PublicKey>, Vec<Sig>) {
    let sks: Vec<SigningKey> = (0..ISSUERS as u64)
        .map(|i| SigningKey::from_bytes(&bytes("issuer", i).into()).expect("key"))
        .collect();
    let keys = sks
        .iter()
        .map(|sk| {
            PublicKey::from_sec1(sk.verifying_key().to_encoded_point(false).as_bytes()).unwrap()
        })
        .collect();
    let mut sigs = Vec::new();
    for j in 0..PER_ISSUER {
        for (i, sk) in sks.iter().enumerate() {
            let digest = bytes("tbs", (j * ISSUERS + i) as u64);
            let sig: Signature = sk.sign_prehash(&digest).expect("sign");
            let (r, s) = sig.split_bytes();
            sigs.push(Sig {
                issuer: i,
                digest,
                r: r.into(),
                s: s.into(),
            });
        }
    }
    (keys, sigs)
}

fn bench(c: &mut Criterion) {
    let (keys, sigs) = corpus();
    let one: Vec<&Sig> = sigs.iter().filter(|s| s.issuer == 0).collect();

    let mut g = c.benchmark_group("verify");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Elements(1));

    let plain: Vec<_> = keys.iter().map(|k| PlainBackend.prepare(k)).collect();
    let mut i = 0;
    g.bench_function("plain", |b| {
        b.iter(|| {
            let s = &sigs[i % sigs.len()];
            i += 1;
            assert!(PlainBackend.verify(&plain[s.issuer], &s.digest, &s.r, &s.s));
        })
    });

    FastBackend.warm_up();
    let fast: Vec<_> = keys.iter().map(|k| FastBackend.prepare(k)).collect();
    let mut i = 0;
    g.bench_function("fast_1_issuer", |b| {
        b.iter(|| {
            let s = one[i % one.len()];
            i += 1;
            assert!(FastBackend.verify(&fast[0], &s.digest, &s.r, &s.s));
        })
    });
    let mut i = 0;
    g.bench_function("fast_4_issuers", |b| {
        b.iter(|| {
            let s = &sigs[i % sigs.len()];
            i += 1;
            assert!(FastBackend.verify(&fast[s.issuer], &s.digest, &s.r, &s.s));
        })
    });

    let items: Vec<BatchItem<'_, _>> = sigs
        .iter()
        .map(|s| BatchItem {
            key: &fast[s.issuer],
            digest: s.digest,
            r: s.r,
            s: s.s,
        })
        .collect();
    g.throughput(Throughput::Elements(64));
    let mut out = [false; 64];
    let mut i = 0;
    g.bench_function("fast_batch64_4_issuers", |b| {
        b.iter(|| {
            let start = (i * 64) % items.len();
            i += 1;
            FastBackend.verify_batch(&items[start..start + 64], &mut out);
            assert!(out.iter().all(|&o| o));
        })
    });
    g.finish();

    let mut g = c.benchmark_group("prepare");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));
    g.bench_function("fast_table_per_issuer", |b| {
        // The table is built on first use: prepare, then ask for it.
        b.iter(|| black_box(FastBackend.prepare(&keys[1]).table().size_bytes()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
