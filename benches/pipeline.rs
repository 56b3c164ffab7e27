//! Criterion benchmarks of the pipeline's stages, on certificates the simulator makes:
//! signature analysis, the certificate view, examination (plain and fast backends, one
//! record and batches of 64), and an end-to-end scan of a simulated corpus
//! (`SMKI_BENCH_COUNT` certificates, default 100,000). `cargo bench --bench pipeline`.
//! For certificates per second per core next to `openssl speed ecdsap256` measured in the
//! same run, use `smki bench` (README.md, "Performance").
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use smki_repo::{OutputFormat, Record};
use smki_scan::Examiner;
use smki_x509::{CertView, Fields};
use std::path::{Path, PathBuf};

fn corpus(count: u64) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let opts = smki_sim::SimOptions {
        count,
        seed: 7,
        format: OutputFormat::Der,
        out: dir.path().join("sim"),
        ..smki_sim::SimOptions::default()
    };
    smki_sim::simulate(&opts).unwrap();
    let dump = dir.path().join("sim/certificates.der");
    let cas = dir.path().join("sim/cas");
    (dir, dump, cas)
}

fn records(path: &Path) -> Vec<Record> {
    smki_repo::open(path).map(|r| r.unwrap()).collect()
}

fn examiner<B: smki_verify::Backend>(backend: B, cas: &Path, dump: &Path) -> Examiner<B> {
    Examiner::builder(backend)
        .issuers(smki_repo::open(cas))
        .dump(smki_repo::open(dump))
        .build(1)
        .unwrap()
        .examiner
}

fn stages(c: &mut Criterion) {
    let (_dir, dump, cas) = corpus(2048);
    let recs = records(&dump);
    let n = recs.len() as u64;
    let mut g = c.benchmark_group("stages");
    g.throughput(Throughput::Elements(n));
    g.bench_function("analyse_signature", |b| {
        b.iter(|| {
            recs.iter()
                .map(|r| {
                    CertView::split(&r.der)
                        .unwrap()
                        .analyse_signature()
                        .defects
                        .len()
                })
                .sum::<usize>()
        })
    });
    g.bench_function("certificate_view_and_fields", |b| {
        b.iter(|| {
            recs.iter()
                .map(|r| {
                    Fields::parse(&CertView::split(&r.der).unwrap())
                        .unwrap()
                        .serial
                        .len()
                })
                .sum::<usize>()
        })
    });
    g.bench_function("strict_der_walk", |b| {
        b.iter(|| {
            recs.iter()
                .map(|r| smki_x509::ber_issues(&CertView::split(&r.der).unwrap()).len())
                .sum::<usize>()
        })
    });
    let results: Vec<Result<Record, smki_repo::Error>> = recs.iter().cloned().map(Ok).collect();
    let plain = examiner(smki_verify::PlainBackend, &cas, &dump);
    let fast = examiner(smki_verify::FastBackend, &cas, &dump);
    g.bench_function(BenchmarkId::new("examine_one_by_one", "fast"), |b| {
        b.iter(|| {
            recs.iter()
                .map(|r| fast.examine(r).verdict as usize)
                .sum::<usize>()
        })
    });
    g.bench_function(BenchmarkId::new("examine_batch_64", "fast"), |b| {
        b.iter(|| {
            results
                .chunks(64)
                .map(|c| fast.examine_batch(c).len())
                .sum::<usize>()
        })
    });
    g.sample_size(10);
    g.bench_function(BenchmarkId::new("examine_batch_64", "plain"), |b| {
        b.iter(|| {
            results
                .chunks(64)
                .map(|c| plain.examine_batch(c).len())
                .sum::<usize>()
        })
    });
    g.finish();
}

fn end_to_end(c: &mut Criterion) {
    let count: u64 = std::env::var("SMKI_BENCH_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let (_dir, dump, cas) = corpus(count);
    let mut g = c.benchmark_group("scan_end_to_end");
    g.sample_size(10);
    g.throughput(Throughput::Elements(count));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for threads in 1..=cores {
        let ex = examiner(smki_verify::FastBackend, &cas, &dump);
        g.bench_function(
            BenchmarkId::new("fast", format!("{threads}_threads")),
            |b| {
                b.iter(|| {
                    let mut out = std::io::sink();
                    smki_scan::scan(
                        &ex,
                        smki_repo::open(&dump),
                        threads,
                        |f| serde_json::to_vec(f).expect("a finding serialises"),
                        |_, line| std::io::Write::write_all(&mut out, &line),
                    )
                    .unwrap()
                    .records
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, stages, end_to_end);
criterion_main!(benches);
