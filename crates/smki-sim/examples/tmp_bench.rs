use smki_sim::crypto::*;
struct Instant(u64);
impl Instant {
    fn now() -> Instant { Instant(cpu_ns()) }
    fn elapsed(&self) -> std::time::Duration { std::time::Duration::from_nanos(cpu_ns() - self.0) }
}
fn cpu_ns() -> u64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    s.split_whitespace().next().unwrap().parse().unwrap()
}
fn main() {
    smki_verify::g_fast_table();
    let key = KeyPair::from_seed(&[9u8; 32]);
    for _ in 0..3 {
        let n = 64 * 2000;
        let t = Instant::now();
        let mut c = 0u64;
        key.sign_walk(&[1u8; 32], n, |r, s| { c += (r[0] ^ s[0]) as u64; None });
        std::hint::black_box(c);
        println!("walk (no accept): {:.3} us/candidate", t.elapsed().as_secs_f64() * 1e6 / n as f64);
        let t = Instant::now();
        key.sign_walk(&[1u8; 32], n, |r, s| { faulty_accept(r, s); None });
        println!("walk (faulty_accept): {:.3} us/candidate", t.elapsed().as_secs_f64() * 1e6 / n as f64);
        let seeds: Vec<[u8; 32]> = (0..64u8).map(|i| [i; 32]).collect();
        let t = Instant::now();
        for _ in 0..200 { std::hint::black_box(KeyPair::batch_from_seeds(&seeds)); }
        println!("batch_from_seeds: {:.2} us/key", t.elapsed().as_secs_f64() * 1e6 / (200 * 64) as f64);
        let keys = KeyPair::batch_from_seeds(&seeds);
        let reqs: Vec<(&KeyPair, [u8; 32])> = keys.iter().map(|k| (k, [k.public[5]; 32])).collect();
        let t = Instant::now();
        for _ in 0..200 { std::hint::black_box(batch_sign(&reqs)); }
        println!("batch_sign: {:.2} us/sig", t.elapsed().as_secs_f64() * 1e6 / (200 * 64) as f64);
    }
}
