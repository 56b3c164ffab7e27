//! `CertView::extensions`, `Extensions::of_certificate` and `CertView::authority_key_id`,
//! the cheap lenient reading the scan's first pass uses, against `Fields::parse`, the strict
//! one: on every certificate of the sample corpus (and of the DCC test certificates when
//! present) they list the same extensions and give the same authorityKeyIdentifier; on every
//! mutant `Fields::parse` reads (each byte of the tbsCertificate flipped with three masks),
//! the same keyIdentifier.
use smki_x509::{CertView, Extension, Extensions, Fields, Oid};

/// The keyIdentifier of the first authorityKeyIdentifier, as the first pass reads it.
fn aki_of<'a>(mut extensions: impl Iterator<Item = Extension<'a>>) -> Option<&'a [u8]> {
    extensions
        .find(|e| e.oid == Oid::AuthorityKeyIdentifier.der())?
        .authority_key_id()
}

mod corpus;

fn certificates() -> Vec<corpus::Cert> {
    let mut certs = corpus::sample();
    assert!(certs.len() >= 40, "sample: {} certificates", certs.len());
    certs.extend(corpus::dcc().unwrap_or_default());
    certs
}

#[test]
fn originals_give_the_extensions_and_the_aki_of_the_fields() {
    let mut with_aki = 0;
    for c in certificates() {
        let view = CertView::split(&c.der).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let f = Fields::parse(&view).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let oids: Vec<String> = view
            .extensions()
            .map(|e| smki_der::oid_text(e.oid).unwrap())
            .collect();
        let expected: Vec<&str> = f.extensions.iter().map(|e| e.oid.as_str()).collect();
        assert_eq!(oids, expected, "{}", c.name);
        let unsplit: Vec<&[u8]> = Extensions::of_certificate(&c.der).map(|e| e.oid).collect();
        let split: Vec<&[u8]> = view.extensions().map(|e| e.oid).collect();
        assert_eq!(unsplit, split, "{}", c.name);
        assert_eq!(
            view.authority_key_id(),
            f.authority_key_id.as_deref(),
            "{}",
            c.name
        );
        with_aki += usize::from(f.authority_key_id.is_some());
        // Every extension's value is there; the SKI's is an OCTET STRING of the key id.
        assert!(view.extensions().all(|e| e.value().is_some()), "{}", c.name);
        if let Some(ski) = &f.subject_key_id {
            let value = view
                .extensions()
                .find(|e| e.oid == Oid::SubjectKeyIdentifier.der())
                .and_then(|e| e.value())
                .unwrap();
            assert_eq!(&value[2..], ski.as_slice(), "{}", c.name);
        }
    }
    assert!(with_aki >= 40, "{with_aki} certificates with an AKI");
}

#[test]
fn mutants_the_fields_read_give_their_aki() {
    let (mut read, mut changed) = (0, 0);
    for c in corpus::sample() {
        let tbs = CertView::split(&c.der).unwrap().tbs;
        let original = Fields::parse(&CertView::split(&c.der).unwrap())
            .unwrap()
            .authority_key_id;
        for pos in tbs.offset..tbs.end {
            for mask in [0x01u8, 0x20, 0xff] {
                let mut m = c.der.clone();
                m[pos] ^= mask;
                let Ok(view) = CertView::split(&m) else {
                    continue;
                };
                let Ok(f) = Fields::parse(&view) else {
                    continue;
                };
                read += 1;
                changed += usize::from(f.authority_key_id != original);
                let expected = f.authority_key_id.as_deref();
                let how = format!("{}: byte {pos} ^= {mask:#04x}", c.name);
                assert_eq!(view.authority_key_id(), expected, "{how}");
                assert_eq!(aki_of(Extensions::of_certificate(&m)), expected, "{how}");
            }
        }
    }
    assert!(read > 10_000, "{read} mutants read");
    assert!(changed > 100, "{changed} mutants with another AKI");
}
