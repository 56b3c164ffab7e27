//! Simulation throughput (certificates per second): key generation, signing, encoding and
//! writing, on 2,000 certificates with the default 2018 defect rate. Goal: 100k in < 10 s.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use smki_sim::{simulate, OutputFormat, SimOptions};

fn bench(c: &mut Criterion) {
    const COUNT: u64 = 2000;
    let mut group = c.benchmark_group("simulate");
    group.throughput(Throughput::Elements(COUNT));
    group.sample_size(10);
    // Build the fixed-base table once, outside the measurement.
    smki_verify::g_fast_table();
    for format in [
        OutputFormat::Der,
        OutputFormat::DerTree,
        OutputFormat::Extract,
    ] {
        group.bench_function(format.as_str(), |b| {
            b.iter(|| {
                let dir = tempfile::tempdir().expect("tempdir");
                let opts = SimOptions {
                    count: COUNT,
                    seed: 1,
                    format,
                    out: dir.path().to_path_buf(),
                    ..SimOptions::default()
                };
                simulate(&opts).expect("simulate")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
