mod common;

use common::{bytes, scalar, sign};
use smki_verify::{recover_keys, recover_pinned, KeySource, PlainBackend, Registry};

#[test]
fn true_key_among_candidates() {
    for i in 0..40 {
        let d = scalar("d", i);
        let z = bytes("z", i);
        let (pk, r, s) = sign(&d, &z);
        let cands = recover_keys(&z, &r, &s);
        assert!((1..=4).contains(&cands.len()), "{} candidates", cands.len());
        assert!(cands.contains(&pk), "iteration {i}");
        // All candidates distinct.
        for (a, ca) in cands.iter().enumerate() {
            for cb in &cands[a + 1..] {
                assert_ne!(ca, cb);
            }
        }
        assert_eq!(recover_pinned(&pk.key_id(), &z, &r, &s), Some(pk));
    }
}

#[test]
fn out_of_range_or_wrong_aki() {
    let d = scalar("d", 99);
    let z = bytes("z", 99);
    let (pk, r, s) = sign(&d, &z);
    assert!(recover_keys(&z, &[0; 32], &s).is_empty());
    assert!(recover_keys(&z, &r, &[0xff; 32]).is_empty());
    let mut aki = pk.key_id();
    assert_eq!(recover_pinned(&aki[..7], &z, &r, &s), None);
    let mut long = aki.to_vec();
    long.push(0);
    assert_eq!(recover_pinned(&long, &z, &r, &s), None);
    aki[7] ^= 1;
    assert_eq!(recover_pinned(&aki, &z, &r, &s), None);
}

#[test]
fn registry_recover_pins_and_marks() {
    let mut reg = Registry::new(PlainBackend);
    let d = scalar("ca", 1);
    let (pk, r, s) = sign(&d, &bytes("tbs", 1));
    let id = reg
        .recover(
            &pk.key_id(),
            &bytes("tbs", 1),
            &r,
            &s,
            "dump.pem#7".to_string(),
        )
        .expect("recovered");
    let issuer = reg.get(id);
    assert_eq!(issuer.key, pk);
    assert_eq!(issuer.key_id, pk.key_id().to_vec());
    assert_eq!(
        issuer.source,
        KeySource::Recovered {
            from: "dump.pem#7".into()
        }
    );
    assert_eq!(
        reg.lookup(Some(&pk.key_id()), None),
        smki_verify::Lookup::KeyId(&[id])
    );
    // Other signatures by the same CA verify under the recovered key.
    for i in 2..6 {
        let z = bytes("tbs", i);
        let (_, r2, s2) = sign(&d, &z);
        assert!(reg.verify(id, &z, &r2, &s2));
    }
    // Recovering again is idempotent; a wrong AKI adds nothing.
    let (_, r3, s3) = sign(&d, &bytes("tbs", 9));
    assert_eq!(
        reg.recover(&pk.key_id(), &bytes("tbs", 9), &r3, &s3, "other".into()),
        Some(id)
    );
    assert_eq!(
        reg.recover(&[0x40; 8], &bytes("tbs", 9), &r3, &s3, "other".into()),
        None
    );
    assert_eq!(reg.len(), 1);
    // The anchor upgrades it.
    let id2 = reg.add(
        pk,
        Some(&[1, 2, 3]),
        Some(b"CN=Z1".to_vec()),
        KeySource::Anchor {
            from: "ca.der".into(),
        },
    );
    assert_eq!(id2, id);
    assert_eq!(
        reg.get(id).source,
        KeySource::Anchor {
            from: "ca.der".into()
        }
    );
    assert_eq!(reg.get(id).key_id, vec![1, 2, 3]);
    assert_eq!(
        reg.lookup(Some(&[1, 2, 3]), None),
        smki_verify::Lookup::KeyId(&[id])
    );
    // A later recovery does not downgrade the anchor.
    assert_eq!(
        reg.recover(&pk.key_id(), &bytes("tbs", 9), &r3, &s3, "x".into()),
        Some(id)
    );
    assert_eq!(
        reg.get(id).source,
        KeySource::Anchor {
            from: "ca.der".into()
        }
    );
}

#[test]
fn key_source_serialises_tagged() {
    let j = serde_json::to_string(&KeySource::Recovered { from: "a#1".into() }).unwrap();
    assert_eq!(j, r#"{"kind":"recovered","from":"a#1"}"#);
    let j = serde_json::to_string(&KeySource::Anchor { from: "ca".into() }).unwrap();
    assert_eq!(j, r#"{"kind":"anchor","from":"ca"}"#);
}
