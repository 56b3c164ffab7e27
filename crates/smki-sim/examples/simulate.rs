//! `cargo run --release -p smki-sim --example simulate -- --count 100000 --seed 1 --out DIR
//! [--format der-tree|pem-tree|pem|der|extract] [--defect-rate 0.04] [--inject NAME=RATE]...
//! [--threads N]`: the simulator without the CLI.
use smki_sim::{simulate, SimOptions};

fn main() {
    let mut opts = SimOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut v = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--count" => opts.count = v().parse().expect("count"),
            "--seed" => opts.seed = v().parse().expect("seed"),
            "--out" => opts.out = v().into(),
            "--format" => opts.format = v().parse().expect("format"),
            "--defect-rate" => opts.defect_rate = v().parse().expect("rate"),
            "--threads" => opts.threads = Some(v().parse().expect("threads")),
            "--chunk" => opts.chunk = v().parse().expect("chunk"),
            "--inject" => {
                let s = v();
                let (name, rate) = s.split_once('=').expect("NAME=RATE");
                opts.inject
                    .push((name.to_string(), rate.parse().expect("rate")));
            }
            other => panic!("unknown argument {other}"),
        }
    }
    match simulate(&opts) {
        Ok(s) => println!("{s}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
