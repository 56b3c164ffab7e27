mod common;

use common::{bytes, hex32, scalar, sign, sub_be};
use p256::elliptic_curve::PrimeField;
use p256::{ProjectivePoint, Scalar};
use smki_verify::{g_table, rfc6979_k, sign_prehash_with_table, GTable};
use smki_verify::{Backend, PlainBackend, PublicKey};

#[test]
fn table_mul_matches_generator_mul() {
    let t = g_table();
    let n_minus_1 = -Scalar::ONE;
    let mut edge = vec![
        Scalar::ZERO,
        Scalar::ONE,
        n_minus_1,
        Scalar::from(2u64),
        Scalar::from(255u64),
        Scalar::from(256u64),
    ];
    // Scalars with single bytes set, all 0xff bytes below n, 2^(8i) for every window.
    for i in 0..32 {
        let mut b = [0u8; 32];
        b[31 - i] = 1;
        edge.push(Scalar::from_repr(b.into()).unwrap());
        b[31 - i] = 0xff;
        edge.push(Scalar::from_repr(b.into()).unwrap());
    }
    for i in 0..100 {
        edge.push(scalar("k", i));
    }
    for k in edge {
        assert_eq!(t.mul(&k), ProjectivePoint::GENERATOR * k, "k = {k:?}");
    }
    assert_eq!(t.mul(&Scalar::ZERO), ProjectivePoint::IDENTITY);
}

#[test]
fn table_signature_verifies_and_matches_p256() {
    for i in 0..50 {
        let d = scalar("d", i);
        let z = bytes("z", i);
        let k = rfc6979_k(&d, &z);
        let (r, s) = sign_prehash_with_table(&d, &z, &k).expect("signature");
        let (pk, r0, s0) = sign(&d, &z);
        // The digests here are below n, where RFC 6979 and ecdsa 0.16 agree on k.
        assert_eq!((r, s), (r0, s0), "iteration {i}");
        let key = PlainBackend.prepare(&pk);
        assert!(PlainBackend.verify(&key, &z, &r, &s));
        // And with a non-RFC 6979 nonce.
        let (r2, s2) = sign_prehash_with_table(&d, &z, &scalar("nonce", i)).unwrap();
        assert!(PlainBackend.verify(&key, &z, &r2, &s2));
        assert_ne!(r2, r);
    }
    assert!(sign_prehash_with_table(&Scalar::ONE, &[0; 32], &Scalar::ZERO).is_none());
}

#[test]
fn rfc6979_appendix_a_2_5() {
    // RFC 6979 A.2.5, P-256, SHA-256, message "sample".
    let d = Scalar::from_repr(
        hex32("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721").into(),
    )
    .unwrap();
    let z = smki_x509::sha256(b"sample");
    let k = rfc6979_k(&d, &z);
    assert_eq!(
        <[u8; 32]>::from(k.to_bytes()),
        hex32("A6E3C57DD01ABE90086538398355DD4C3B17AA873382B0F24D6129493D8AAD60")
    );
    let (r, s) = sign_prehash_with_table(&d, &z, &k).unwrap();
    assert_eq!(
        r,
        hex32("EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716")
    );
    assert_eq!(
        s,
        hex32("F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8")
    );
    // Public key from the table.
    let q = g_table().mul(&d).to_affine();
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let pk = PublicKey::from_sec1(q.to_encoded_point(false).as_bytes()).unwrap();
    assert!(PlainBackend.verify(&PlainBackend.prepare(&pk), &z, &r, &s));
}

#[test]
fn rfc6979_digest_above_n_is_reduced() {
    // A digest >= n enters RFC 6979 reduced: the same k as for digest - n.
    let d = scalar("d", 1);
    let z = [0xff; 32];
    let n = hex32("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    let zr = sub_be(&z, &n);
    assert_eq!(rfc6979_k(&d, &z), rfc6979_k(&d, &zr));
    let (r, s) = sign_prehash_with_table(&d, &z, &rfc6979_k(&d, &z)).unwrap();
    let (pk, _, _) = sign(&d, &z);
    assert!(PlainBackend.verify(&PlainBackend.prepare(&pk), &z, &r, &s));
}

/// Timings: `cargo test --release -p smki-verify --test fixed_base -- --ignored --nocapture`.
#[test]
#[ignore]
fn timings() {
    use std::time::Instant;
    let t0 = Instant::now();
    let runs = 5;
    let mut t = None;
    for _ in 0..runs {
        t = Some(std::hint::black_box(GTable::new()));
    }
    let build = t0.elapsed() / runs;
    let t = t.unwrap();
    let ks: Vec<Scalar> = (0..2000).map(|i| scalar("k", i)).collect();
    let t0 = Instant::now();
    let mut acc = ProjectivePoint::IDENTITY;
    for k in &ks {
        acc += t.mul(k);
    }
    let table_mul = t0.elapsed() / ks.len() as u32;
    let t0 = Instant::now();
    for k in &ks[..500] {
        acc += ProjectivePoint::GENERATOR * k;
    }
    let plain_mul = t0.elapsed() / 500;
    let t0 = Instant::now();
    for (i, k) in ks[..500].iter().enumerate() {
        std::hint::black_box(sign_prehash_with_table(
            k,
            &bytes("z", i as u64),
            &ks[(i + 1) % 500],
        ));
    }
    let table_sign = t0.elapsed() / 500;
    let t0 = Instant::now();
    for (i, k) in ks[..500].iter().enumerate() {
        std::hint::black_box(sign(k, &bytes("z", i as u64)));
    }
    let p256_sign = t0.elapsed() / 500;
    let pts: Vec<ProjectivePoint> = ks[..500].iter().map(|k| t.mul(k)).collect();
    let t0 = Instant::now();
    for p in &pts {
        std::hint::black_box(p.to_affine());
    }
    let to_affine = t0.elapsed() / 500;
    let t0 = Instant::now();
    for k in &ks[..500] {
        std::hint::black_box(k.invert());
    }
    let invert = t0.elapsed() / 500;
    let t0 = Instant::now();
    for k in &ks[..500] {
        std::hint::black_box(p256::elliptic_curve::ops::Invert::invert_vartime(k));
    }
    let invert_vt = t0.elapsed() / 500;
    eprintln!("to_affine {to_affine:?}; Scalar::invert {invert:?}; invert_vartime {invert_vt:?}");
    std::hint::black_box(acc);
    eprintln!(
        "GTable::new {build:?}; mul {table_mul:?} (p256 GENERATOR * k {plain_mul:?}); \
         sign_prehash_with_table {table_sign:?} (p256 sign_prehash + key encode {p256_sign:?})"
    );
}
