mod common;

use common::{bytes, scalar, sign};
use smki_verify::{KeySource, Lookup, PlainBackend, Registry};

fn anchor(s: &str) -> KeySource {
    KeySource::Anchor {
        from: s.to_string(),
    }
}

#[test]
fn lookup_by_key_id_name_and_not_found() {
    let mut reg = Registry::new(PlainBackend);
    assert!(reg.is_empty());
    let (k1, _, _) = sign(&scalar("k", 1), &bytes("z", 1));
    let (k2, _, _) = sign(&scalar("k", 2), &bytes("z", 2));
    let (k3, _, _) = sign(&scalar("k", 3), &bytes("z", 3));
    let a = reg.add(k1, None, Some(b"root".to_vec()), anchor("root.der"));
    let b = reg.add(k2, Some(&[9; 20]), Some(b"ica".to_vec()), anchor("ica.der"));
    // Same name as b: lookup by name returns both, in the order added.
    let c = reg.add(k3, None, Some(b"ica".to_vec()), anchor("ica2.der"));
    assert_eq!((a, b, c), (0, 1, 2));
    assert_eq!(reg.len(), 3);
    assert_eq!(reg.get(a).key_id, k1.key_id().to_vec());
    assert_eq!(reg.get(b).key_id, vec![9; 20]);

    assert_eq!(reg.lookup(Some(&k1.key_id()), None), Lookup::KeyId(&[a]));
    assert_eq!(
        reg.lookup(Some(&[9; 20]), Some(b"root")),
        Lookup::KeyId(&[b])
    );
    // The method-2 identifier is an alias even where the CA declares another SKI.
    assert_eq!(reg.lookup(Some(&k2.key_id()), None), Lookup::KeyId(&[b]));
    assert_eq!(
        reg.lookup(Some(&k3.key_id()), Some(b"ica")),
        Lookup::KeyId(&[c])
    );
    assert_eq!(reg.lookup(None, Some(b"ica")), Lookup::Name(&[b, c]));
    // Unknown AKI falls back to the name.
    assert_eq!(reg.lookup(Some(&[0; 8]), Some(b"root")), Lookup::Name(&[a]));
    assert_eq!(reg.lookup(Some(&[0; 8]), Some(b"nobody")), Lookup::NotFound);
    assert_eq!(reg.lookup(None, None), Lookup::NotFound);
    let ids: Vec<_> = reg.iter().map(|(id, i)| (id, i.key)).collect();
    assert_eq!(ids, vec![(0, k1), (1, k2), (2, k3)]);
    // A fourth key declaring b's SKI: both are candidates of that key identifier.
    let (k4, _, _) = sign(&scalar("k", 4), &bytes("z", 4));
    let d = reg.add(k4, Some(&[9; 20]), Some(b"other".to_vec()), anchor("d.der"));
    assert_eq!(reg.lookup(Some(&[9; 20]), None), Lookup::KeyId(&[b, d]));
    assert_eq!(reg.lookup(Some(&[9; 20]), None).candidates(), &[b, d]);
    assert_eq!(Lookup::NotFound.candidates(), &[] as &[usize]);
}

#[test]
fn add_is_idempotent() {
    let mut reg = Registry::new(PlainBackend);
    let (k, r, s) = sign(&scalar("k", 7), &bytes("z", 7));
    let id = reg.add(k, None, Some(b"ca".to_vec()), anchor("a"));
    assert_eq!(reg.add(k, None, Some(b"ca".to_vec()), anchor("b")), id);
    assert_eq!(
        reg.add(k, None, None, KeySource::Recovered { from: "c".into() }),
        id
    );
    assert_eq!(reg.len(), 1);
    // The first anchor's fields stay.
    assert_eq!(reg.get(id).source, anchor("a"));
    assert_eq!(reg.get(id).name.as_deref(), Some(&b"ca"[..]));
    assert_eq!(reg.find_key(&k), Some(id));
    assert!(reg.verify(id, &bytes("z", 7), &r, &s));
    assert!(!reg.verify(id, &bytes("z", 8), &r, &s));
    assert_eq!(smki_verify::Backend::name(reg.backend()), "plain");
}
