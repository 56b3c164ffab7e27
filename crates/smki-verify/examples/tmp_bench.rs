use p256::Scalar;
use smki_verify::fixed_base::*;
struct Instant(u64);
impl Instant {
    fn now() -> Instant {
        Instant(cpu_ns())
    }
    fn elapsed(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(cpu_ns() - self.0)
    }
}
fn cpu_ns() -> u64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    s.split_whitespace().next().unwrap().parse().unwrap()
}
fn main() {
    smki_verify::g_fast_table();
    let mut x = Scalar::from(0x0123_4567_89ab_cdefu64);
    let ks: Vec<Scalar> = (0..64)
        .map(|_| {
            x = x.square() + Scalar::from(5u64);
            x
        })
        .collect();
    let n = 2000;
    for _ in 0..2 {
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(mul_g_batch_x(std::hint::black_box(&ks)));
        }
        println!(
            "mul_g_batch_x: {:.2} us/scalar",
            t.elapsed().as_secs_f64() * 1e6 / (n * 64) as f64
        );
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(invert_scalars(std::hint::black_box(&ks)));
        }
        println!(
            "invert_scalars: {:.3} us/scalar",
            t.elapsed().as_secs_f64() * 1e6 / (n * 64) as f64
        );
        let t = Instant::now();
        for _ in 0..n / 10 {
            for k in &ks {
                std::hint::black_box(mul_g_affine(std::hint::black_box(k)));
            }
        }
        println!(
            "mul_g_affine: {:.2} us/scalar",
            t.elapsed().as_secs_f64() * 1e6 / (n / 10 * 64) as f64
        );
        let mut w = GWalk::new(&ks[0]);
        let mut out = Vec::new();
        let t = Instant::now();
        for _ in 0..n {
            w.next_batch_x(&mut out);
            std::hint::black_box(&out);
        }
        println!(
            "walk: {:.3} us/point",
            t.elapsed().as_secs_f64() * 1e6 / (n * 64) as f64
        );
        let t = Instant::now();
        let d = ks[3];
        for _ in 0..n {
            for k in &ks {
                std::hint::black_box(rfc6979_k(&d, &std::hint::black_box(k.to_bytes().into())));
            }
        }
        println!(
            "rfc6979: {:.3} us",
            t.elapsed().as_secs_f64() * 1e6 / (n * 64) as f64
        );
        let t = Instant::now();
        let mut acc = ks[1];
        for _ in 0..n {
            for k in &ks {
                acc = acc * k;
            }
        }
        std::hint::black_box(acc);
        println!(
            "scalar mul: {:.1} ns",
            t.elapsed().as_secs_f64() * 1e9 / (n * 64) as f64
        );
    }
}
