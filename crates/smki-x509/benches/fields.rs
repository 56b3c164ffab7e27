//! `CertView::split` + `Fields::parse` on the sample corpus (fixtures/sample: the simulated
//! repository's certificates and its CAs), next to the x509-parser based implementation it
//! replaced (tests/reference). `cargo bench -p smki-x509 --bench fields`. With mimalloc, the
//! allocator `smki scan` runs with (a Fields is some 25 small allocations).
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use smki_x509::{CertView, Fields};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../tests/corpus/mod.rs"]
mod corpus;
#[path = "../tests/reference/mod.rs"]
mod reference;

fn fields(c: &mut Criterion) {
    let certs: Vec<Vec<u8>> = corpus::sample().into_iter().map(|c| c.der).collect();
    let parsed = certs
        .iter()
        .filter(|d| CertView::split(d).is_ok_and(|v| Fields::parse(&v).is_ok()))
        .count();
    eprintln!("{} certificates, {parsed} with fields", certs.len());
    let mut g = c.benchmark_group("fields");
    g.throughput(Throughput::Elements(certs.len() as u64));
    g.bench_function("split_and_parse", |b| {
        b.iter(|| {
            certs
                .iter()
                .filter_map(|d| Fields::parse(&CertView::split(d).ok()?).ok())
                .map(|f| f.serial.len())
                .sum::<usize>()
        })
    });
    g.bench_function("split_and_parse_x509_parser_reference", |b| {
        b.iter(|| {
            certs
                .iter()
                .filter_map(|d| reference::parse(&CertView::split(d).ok()?).ok())
                .map(|f| f.serial.len())
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, fields);
criterion_main!(benches);
