//! The fast backend against the reference backend: random valid signatures and mutations of
//! them (proptest), structured edge cases (r, s at 0, 1, n - 1, n; high s; digest 0 and
//! digests not below n; R at infinity; the doubling path of the incomplete formulas;
//! x(R) not below n through the comparison itself) and `verify_batch` against `verify`.

mod common;

use common::{bytes, hex32, scalar, sub_be};
use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::elliptic_curve::{Field, PrimeField};
use p256::{ProjectivePoint, Scalar};
use proptest::prelude::*;
use smki_verify::{
    g_table, sign_prehash_with_table, x_matches_affine_for_tests, Backend, BatchItem, FastBackend,
    FastKey, PlainBackend, PublicKey, AFFINE_MIN,
};
use std::sync::OnceLock;

const N: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
const P: &str = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";

/// An issuer: private scalar, public key, both backends' state.
struct Issuer {
    d: Scalar,
    key: PublicKey,
    plain: p256::ecdsa::VerifyingKey,
    fast: FastKey,
}

fn issuer_for(d: Scalar) -> Issuer {
    let q = g_table().mul(&d).to_affine();
    let key = PublicKey::from_sec1(q.to_encoded_point(false).as_bytes()).unwrap();
    Issuer {
        d,
        key,
        plain: PlainBackend.prepare(&key),
        fast: FastBackend.prepare(&key),
    }
}

/// Six issuers built once: four random keys, d = 1 (Q = G) and d = 2 (Q = 2G), the last
/// two so that G and Q look-ups can meet (the doubling and infinity paths).
fn issuers() -> &'static [Issuer] {
    static I: OnceLock<Vec<Issuer>> = OnceLock::new();
    I.get_or_init(|| {
        let mut v: Vec<Issuer> = (0..4).map(|i| issuer_for(scalar("issuer", i))).collect();
        v.push(issuer_for(Scalar::ONE));
        v.push(issuer_for(Scalar::from(2u64)));
        v
    })
}

fn sc(b: &[u8; 32]) -> Option<Scalar> {
    Option::from(Scalar::from_repr((*b).into()))
}

fn be(s: &Scalar) -> [u8; 32] {
    s.to_bytes().into()
}

/// Both backends; asserts they agree and returns the result.
fn both(i: &Issuer, z: &[u8; 32], r: &[u8; 32], s: &[u8; 32]) -> bool {
    let plain = PlainBackend.verify(&i.plain, z, r, s);
    let fast = FastBackend.verify(&i.fast, z, r, s);
    // A key used once (a self-signed certificate's), without a table of its own.
    assert_eq!(
        FastBackend.verify_once(&i.key, z, r, s),
        plain,
        "verify_once"
    );
    assert_eq!(
        plain,
        fast,
        "plain {plain} fast {fast}: key {:?} z {} r {} s {}",
        i.key,
        hex::encode(z),
        hex::encode(r),
        hex::encode(s)
    );
    // The batch path on a batch of one, and inside a larger batch.
    let mut out = [false];
    FastBackend.verify_batch(
        &[BatchItem {
            key: &i.fast,
            digest: *z,
            r: *r,
            s: *s,
        }],
        &mut out,
    );
    assert_eq!(out[0], fast, "verify_batch of one");
    // And in a batch large enough for the batch-affine path (the same item repeated).
    let item = BatchItem {
        key: &i.fast,
        digest: *z,
        r: *r,
        s: *s,
    };
    let items = [item; AFFINE_MIN];
    let mut out = [!fast; AFFINE_MIN];
    FastBackend.verify_batch(&items, &mut out);
    assert!(out.iter().all(|&o| o == fast), "batch-affine path");
    fast
}

/// A signature that makes the verifier compute exactly u1 = `u1`, u2 = `u2` (when r and s
/// come out non-zero): R = (u1 + u2 d) G, r = x(R) mod n, s = r / u2, z = u1 s.
fn with_u(i: &Issuer, u1: Scalar, u2: Scalar) -> Option<([u8; 32], [u8; 32], [u8; 32])> {
    let big_r = (ProjectivePoint::GENERATOR * (u1 + u2 * i.d)).to_affine();
    if bool::from(big_r.is_identity()) {
        return None;
    }
    let r = <Scalar as p256::elliptic_curve::ops::Reduce<p256::U256>>::reduce_bytes(&big_r.x());
    let u2_inv = Option::<Scalar>::from(u2.invert())?;
    let s = r * u2_inv;
    if bool::from(r.is_zero() | s.is_zero()) {
        return None;
    }
    Some((be(&(u1 * s)), be(&r), be(&s)))
}

fn flip(b: &[u8; 32], bit: usize) -> [u8; 32] {
    let mut o = *b;
    o[bit / 8] ^= 1 << (bit % 8);
    o
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn valid_signatures_and_mutations_agree(
        who in 0usize..6,
        z in any::<[u8; 32]>(),
        k in any::<[u8; 32]>(),
        bit in 0usize..256,
        other in 0usize..6,
    ) {
        let is = issuers();
        let i = &is[who];
        let k = Option::<Scalar>::from(Scalar::from_repr(k.into())).unwrap_or(Scalar::ONE);
        prop_assume!(!bool::from(k.is_zero()));
        let Some((r, s)) = sign_prehash_with_table(&i.d, &z, &k) else {
            return Ok(());
        };
        prop_assert!(both(i, &z, &r, &s));
        // High s verifies too.
        let high = be(&-sc(&s).unwrap());
        prop_assert!(both(i, &z, &r, &high));
        // One flipped bit anywhere: rejected by both (they agree even when a flip of r or
        // s leaves the range).
        prop_assert!(!both(i, &flip(&z, bit), &r, &s));
        prop_assert!(!both(i, &z, &flip(&r, bit), &s));
        prop_assert!(!both(i, &z, &r, &flip(&s, bit)));
        // Another key.
        if other != who {
            prop_assert!(!both(&is[other], &z, &r, &s));
        }
        // Swapped r and s.
        both(i, &z, &s, &r);
    }

    #[test]
    fn arbitrary_values_agree(
        who in 0usize..6,
        z in any::<[u8; 32]>(),
        r in any::<[u8; 32]>(),
        s in any::<[u8; 32]>(),
    ) {
        both(&issuers()[who], &z, &r, &s);
    }

    #[test]
    fn structured_scalars_agree(
        who in 0usize..6,
        a in 0u64..300,
        b in 1u64..300,
        neg_a in any::<bool>(),
        neg_b in any::<bool>(),
        same in any::<bool>(),
    ) {
        // Small u1, u2 (one or two table digits each, possibly negated): with Q = G or 2G
        // the G and Q look-ups hit the same points (the doubling path) or cancel.
        let i = &issuers()[who];
        let u1 = if neg_a { -Scalar::from(a) } else { Scalar::from(a) };
        let b = if same && a > 0 { a } else { b };
        let u2 = if neg_b { -Scalar::from(b) } else { Scalar::from(b) };
        if let Some((z, r, s)) = with_u(i, u1, u2) {
            prop_assert!(both(i, &z, &r, &s));
            prop_assert!(!both(i, &z, &r, &flip(&s, 0)));
        }
    }
}

#[test]
fn doubling_and_infinity_paths() {
    let is = issuers();
    let (g, g2) = (&is[4], &is[5]);
    // Q = G, u1 = u2 = 5: the Q look-up adds 5G to 5G (doubling path), R = 10G.
    let (z, r, s) = with_u(g, Scalar::from(5u64), Scalar::from(5u64)).unwrap();
    assert!(both(g, &z, &r, &s));
    // Q = 2G, u1 = 2^9 (one digit in window 1), u2 = 2^8: 2^9 G twice.
    let (z, r, s) = with_u(g2, Scalar::from(512u64), Scalar::from(256u64)).unwrap();
    assert!(both(g2, &z, &r, &s));
    // Large equal scalars with Q = G: many windows, the last Q window may double.
    for t in 0..20 {
        let u = scalar("u", t);
        if let Some((z, r, s)) = with_u(g, u, u) {
            assert!(both(g, &z, &r, &s));
        }
    }
    // R at infinity: z + r d = 0 mod n, any s: both reject (the signature equation cannot
    // hold, x of the identity is undefined).
    for i in is {
        for t in 0..5 {
            let r = scalar("r-inf", t);
            let z = be(&-(r * i.d));
            let s = be(&scalar("s-inf", t));
            assert!(!both(i, &z, &be(&r), &s));
        }
    }
    // u1 = n - u2 d exactly cancelling with Q = G through small digits: 7G - 7G.
    let z_bytes = be(&-Scalar::from(7u64));
    let r = be(&Scalar::from(7u64));
    assert!(!both(g, &z_bytes, &r, &be(&Scalar::ONE)));
}

#[test]
fn structured_batch_affine() {
    // One batch mixing the special cases of the batch-affine additions: tangents (equal
    // partial sums), cancellations (identity), identity chains, across keys.
    let is = issuers();
    let mut cases = Vec::new();
    for (who, i) in is.iter().enumerate() {
        for a in [1u64, 2, 5, 7, 255, 256, 512, 1000] {
            for (u1, u2) in [
                (Scalar::from(a), Scalar::from(a)),
                (Scalar::from(2 * a), Scalar::from(a)),
                (-Scalar::from(a), Scalar::from(a)),
                (Scalar::ZERO, Scalar::from(a)),
                (scalar("big", a), scalar("big", a)),
            ] {
                if let Some((z, r, s)) = with_u(i, u1, u2) {
                    cases.push((who, z, r, s));
                }
            }
        }
        // R at infinity.
        let r = scalar("r-inf-b", who as u64);
        cases.push((who, be(&-(r * i.d)), be(&r), be(&scalar("s", 0))));
    }
    assert!(cases.len() > 200);
    let items: Vec<_> = cases
        .iter()
        .map(|(w, z, r, s)| BatchItem {
            key: &is[*w].fast,
            digest: *z,
            r: *r,
            s: *s,
        })
        .collect();
    let expect: Vec<bool> = cases
        .iter()
        .map(|(w, z, r, s)| PlainBackend.verify(&is[*w].plain, z, r, s))
        .collect();
    assert!(expect.iter().filter(|&&e| e).count() > 150);
    let mut out = vec![false; items.len()];
    FastBackend.verify_batch(&items, &mut out);
    assert_eq!(out, expect);
    // Any length: split into chunks of equal size (65 = 33 + 32, 129 = 43 * 3), every
    // chunk on whichever path its size takes, the answers in order.
    for len in [1, AFFINE_MIN - 1, AFFINE_MIN, 63, 64, 65, 66, 127, 129] {
        for start in [0, 7] {
            let end = (start + len).min(items.len());
            let mut out = vec![false; end - start];
            FastBackend.verify_batch(&items[start..end], &mut out);
            assert_eq!(out, expect[start..end], "batch of {len} from {start}");
        }
    }
}

#[test]
fn range_edges_agree() {
    let n = hex32(N);
    let p = hex32(P);
    let n_minus_1 = be(&-Scalar::ONE);
    let one = be(&Scalar::ONE);
    let mut n_plus_1 = n;
    n_plus_1[31] += 1;
    let values = [[0u8; 32], one, n_minus_1, n, n_plus_1, p, [0xff; 32]];
    for i in issuers() {
        let z = bytes("z-edge", 0);
        let (r, s) = sign_prehash_with_table(&i.d, &z, &scalar("k-edge", 0)).unwrap();
        assert!(both(i, &z, &r, &s));
        for v in &values {
            both(i, &z, v, &s);
            both(i, &z, &r, v);
            for w in &values {
                both(i, &z, v, w);
            }
            // r + n or s + n style aliases (out of range) always rejected.
            if v == &n || v == &n_plus_1 || v == &p || v == &[0xff; 32] || v == &[0u8; 32] {
                assert!(!both(i, &z, v, &s));
                assert!(!both(i, &z, &r, v));
            }
        }
        // s = n - 1 and s = 1, r = n - 1 and r = 1, as real signatures (u1, u2 chosen so
        // that the wanted s or r comes out).
        for t in 0..3 {
            // s = 1: u2 = r, u1 = z.
            let k = scalar("k-s1", t);
            let rk = (ProjectivePoint::GENERATOR * k).to_affine();
            let r =
                <Scalar as p256::elliptic_curve::ops::Reduce<p256::U256>>::reduce_bytes(&rk.x());
            // s = k^-1 (z + r d) = 1  <=>  z = k - r d.
            let z1 = be(&(k - r * i.d));
            assert!(both(i, &z1, &be(&r), &one));
            // s = n - 1 = -1  <=>  z = -k - r d.
            let z2 = be(&(-k - r * i.d));
            assert!(both(i, &z2, &be(&r), &n_minus_1));
        }
    }
}

#[test]
fn digest_edges_agree() {
    let n = hex32(N);
    let mut n_minus_1 = n;
    n_minus_1[31] -= 1;
    let mut n_plus_5 = n;
    n_plus_5[31] += 5;
    for i in issuers() {
        for (t, z) in [[0u8; 32], n, n_minus_1, n_plus_5, [0xff; 32], hex32(P)]
            .iter()
            .enumerate()
        {
            // sign_prehash_with_table reduces the digest mod n, like both verifiers.
            let (r, s) = sign_prehash_with_table(&i.d, z, &scalar("k-z", t as u64)).unwrap();
            assert!(both(i, z, &r, &s), "digest {}", hex::encode(z));
            assert!(!both(i, &flip(z, 3), &r, &s));
        }
        // A digest and the same digest + n are the same scalar: the signature over z
        // verifies over z + n when that fits in 256 bits.
        let z = [0u8; 32];
        let (r, s) = sign_prehash_with_table(&i.d, &z, &scalar("k-zn", 0)).unwrap();
        assert!(both(i, &n, &r, &s));
    }
}

#[test]
fn comparison_handles_r_plus_n() {
    // x(R) >= n cannot be reached by searching nonces (probability ~2^-128), so the
    // comparison is tested directly: X / Z^2 = x for several Z.
    let n = hex32(N);
    let add = |a: &[u8; 32], b: &[u8; 32]| -> [u8; 32] {
        let mut o = [0u8; 32];
        let mut c = 0u16;
        for i in (0..32).rev() {
            let v = a[i] as u16 + b[i] as u16 + c;
            o[i] = v as u8;
            c = v >> 8;
        }
        o
    };
    // p - n, from the hex of p and n; p - n - 1 is the largest r with r + n < p.
    let p_minus_n = sub_be(&hex32(P), &n);
    assert_eq!(
        p_minus_n,
        hex32("000000000000000000000000000000004319055358e8617b0c46353d039cdaae")
    );
    let p_minus_n_minus_1 = sub_be(&p_minus_n, &be(&Scalar::ONE));
    for z in [1u64, 2, 0xdead_beef, u64::MAX] {
        for r in [
            be(&Scalar::ONE),
            be(&Scalar::from(12345u64)),
            p_minus_n_minus_1,
            hex32("0000000000000000000000000000000012345678123456781234567812345678"),
        ] {
            assert!(x_matches_affine_for_tests(&r, &r, z), "x = r");
            assert!(x_matches_affine_for_tests(&add(&r, &n), &r, z), "x = r + n");
            assert!(!x_matches_affine_for_tests(
                &add(&r, &be(&Scalar::ONE)),
                &r,
                z
            ));
            assert!(!x_matches_affine_for_tests(
                &add(&add(&r, &n), &be(&Scalar::ONE)),
                &r,
                z
            ));
        }
        // r = p - n: r + n = p is no field element; x = r still matches, x = 0 does not.
        assert!(x_matches_affine_for_tests(&p_minus_n, &p_minus_n, z));
        assert!(!x_matches_affine_for_tests(&[0; 32], &p_minus_n, z));
        // r = p - n + 5, x = 5 (Wycheproof tcId 481): r + n = p + 5 = 5 mod p, yet
        // x = 5 is no alias of r: must not match.
        let five = be(&Scalar::from(5u64));
        let r5 = add(&p_minus_n, &five);
        assert!(!x_matches_affine_for_tests(&five, &r5, z));
        assert!(x_matches_affine_for_tests(&r5, &r5, z));
        // A large r (r + n > p): only x = r matches.
        let big = be(&-Scalar::from(3u64));
        assert!(x_matches_affine_for_tests(&big, &big, z));
        assert!(!x_matches_affine_for_tests(&be(&Scalar::ONE), &big, z));
    }
}

#[test]
fn batch_matches_single() {
    let is = issuers();
    let mut items = Vec::new();
    let mut plain_items = Vec::new();
    let mut expect = Vec::new();
    for t in 0..150u64 {
        let i = &is[(t % 6) as usize];
        let z = bytes("bz", t);
        let (mut r, mut s) = sign_prehash_with_table(&i.d, &z, &scalar("bk", t)).unwrap();
        match t % 7 {
            1 => s = flip(&s, (t % 256) as usize),
            2 => r = [0; 32],
            3 => s = hex32(N),
            4 => r = flip(&r, 7),
            _ => {}
        }
        let key = if t % 11 == 5 {
            &is[(t as usize + 1) % 6]
        } else {
            i
        };
        expect.push(PlainBackend.verify(&key.plain, &z, &r, &s));
        items.push(BatchItem {
            key: &key.fast,
            digest: z,
            r,
            s,
        });
        plain_items.push(BatchItem {
            key: &key.plain,
            digest: z,
            r,
            s,
        });
    }
    assert!(expect.iter().filter(|&&e| e).count() > 50);
    assert!(expect.iter().filter(|&&e| !e).count() > 40);
    for len in [0usize, 1, 5, 63, 64, 65, 128, 150] {
        let mut out = vec![true; len];
        FastBackend.verify_batch(&items[..len], &mut out);
        assert_eq!(out, expect[..len], "len {len}");
        // The default (looping) implementation agrees too.
        let mut out = vec![true; len];
        PlainBackend.verify_batch(&plain_items[..len], &mut out);
        assert_eq!(out, expect[..len], "plain, len {len}");
    }
    // A batch with no valid scalars at all.
    let bad: Vec<_> = (0..10)
        .map(|_| BatchItem {
            key: &is[0].fast,
            digest: [1; 32],
            r: [0; 32],
            s: [0; 32],
        })
        .collect();
    let mut out = vec![true; 10];
    FastBackend.verify_batch(&bad, &mut out);
    assert!(out.iter().all(|&o| !o));
}

#[test]
#[should_panic(expected = "lengths differ")]
fn batch_length_mismatch_panics() {
    let mut out = [false; 2];
    FastBackend.verify_batch(&[], &mut out);
}

#[test]
fn registry_with_fast_backend() {
    let mut reg = smki_verify::Registry::new(FastBackend);
    let i = &issuers()[0];
    let id = reg.add(
        i.key,
        None,
        None,
        smki_verify::KeySource::Anchor { from: "t".into() },
    );
    let z = bytes("reg", 0);
    let (r, s) = sign_prehash_with_table(&i.d, &z, &scalar("reg-k", 0)).unwrap();
    assert!(reg.verify(id, &z, &r, &s));
    assert!(!reg.verify(id, &z, &s, &r));
    // Key must be shareable across threads by reference.
    fn assert_sync<T: Send + Sync>(_: &T) {}
    assert_sync(&reg.get(id).prepared);
    std::thread::scope(|sc| {
        for _ in 0..2 {
            sc.spawn(|| assert!(reg.verify(id, &z, &r, &s)));
        }
    });
}

/// `Registry::warm_up` builds the tables of the issuers it is given (on several threads),
/// and only theirs; verification under them is unchanged.
#[test]
fn warm_up_builds_the_tables_asked_for() {
    let mut reg = smki_verify::Registry::new(FastBackend);
    let ids: Vec<_> = (0..5)
        .map(|k| {
            let key = issuer_for(scalar("warm", k)).key;
            reg.add(
                key,
                None,
                None,
                smki_verify::KeySource::Anchor { from: "t".into() },
            )
        })
        .collect();
    assert!(ids.iter().all(|&id| !reg.get(id).prepared.has_table()));
    reg.warm_up(&ids[1..4], 3);
    let built: Vec<bool> = ids
        .iter()
        .map(|&id| reg.get(id).prepared.has_table())
        .collect();
    assert_eq!(built, [false, true, true, true, false]);
    reg.warm_up(&[], 2);
    for (k, &id) in ids.iter().enumerate() {
        let d = scalar("warm", k as u64);
        let z = bytes("warm-z", k as u64);
        let (r, s) = sign_prehash_with_table(&d, &z, &scalar("warm-k", k as u64)).unwrap();
        assert!(reg.verify(id, &z, &r, &s));
        assert!(!reg.verify(id, &bytes("warm-other", 0), &r, &s));
    }
}
