//! The store's contract, on real certificates (fixtures/sample, examined by the examiner).
//! The expected results of each search are computed from the certificates' own metadata,
//! by filtering the list in the test; the store must give the same, in id order.
use super::*;
use std::path::Path;

fn sample() -> Vec<NewCert> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sample");
    let dump: Vec<_> = smki_repo::open(&dir.join("certificates.pem"))
        .chain(smki_repo::open(&dir.join("cas")))
        .collect();
    let ex = smki_scan::Examiner::builder(smki_verify::FastBackend)
        .issuers(smki_repo::open(&dir.join("cas")))
        .dump(dump.iter().cloned())
        .build(1)
        .unwrap()
        .examiner;
    let findings = ex.examine_batch(&dump);
    let certs: Vec<NewCert> = dump
        .iter()
        .zip(&findings)
        .filter_map(|(r, f)| NewCert::from_finding(f, &r.as_ref().ok()?.der))
        .collect();
    assert!(certs.len() >= 40, "{} certificates", certs.len());
    certs
}

fn fresh() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db").to_str().unwrap()).unwrap();
    (dir, store)
}

/// Distinct certificates (the sample's bundle repeats the CA files).
fn distinct(certs: &[NewCert]) -> Vec<&NewCert> {
    let mut seen = std::collections::HashSet::new();
    certs
        .iter()
        .filter(|c| seen.insert(c.meta.sha256.clone()))
        .collect()
}

#[test]
fn a_certificate_is_stored_once_and_its_bytes_come_back() {
    let certs = sample();
    let unique = distinct(&certs);
    let (_dir, store) = fresh();
    let first = store.insert(&certs).unwrap();
    assert_eq!(first.inserted as usize, unique.len());
    assert_eq!(
        (first.inserted + first.updated + first.unchanged) as usize,
        certs.len()
    );
    let again = store.insert(&certs).unwrap();
    assert_eq!(
        again,
        Stored {
            inserted: 0,
            updated: 0,
            unchanged: certs.len() as u64
        }
    );
    let stats = store.stats().unwrap();
    assert_eq!(stats.certificates as usize, unique.len());
    assert_eq!(
        stats.der_bytes,
        unique.iter().map(|c| c.der.len() as u64).sum::<u64>()
    );
    for c in &unique {
        let meta = store
            .by_sha256(&c.meta.sha256.to_ascii_uppercase())
            .unwrap()
            .unwrap();
        assert_eq!(
            CertMeta {
                id: 0,
                ..meta.clone()
            },
            CertMeta {
                id: 0,
                ..c.meta.clone()
            }
        );
        assert_eq!(store.der(meta.id).unwrap().unwrap(), c.der);
        // The bytes are the certificate's: their SHA-256 is its identity.
        assert_eq!(hex::encode(smki_x509::sha256(&c.der)), c.meta.sha256);
    }
    assert_eq!(store.by_sha256(&"0".repeat(64)).unwrap(), None);
    assert_eq!(store.der(1 << 40).unwrap(), None);
}

#[test]
fn a_new_status_updates_and_a_record_without_one_keeps_it() {
    let certs = sample();
    let (_dir, store) = fresh();
    let mut one = certs[0].clone();
    one.meta.status = Some("I".into());
    assert_eq!(
        store.insert(std::slice::from_ref(&one)).unwrap().inserted,
        1
    );
    one.meta.status = Some("R".into());
    assert_eq!(store.insert(std::slice::from_ref(&one)).unwrap().updated, 1);
    one.meta.status = None;
    assert_eq!(
        store.insert(std::slice::from_ref(&one)).unwrap().unchanged,
        1
    );
    let meta = store.by_sha256(&one.meta.sha256).unwrap().unwrap();
    assert_eq!(meta.status.as_deref(), Some("R"));
}

#[test]
fn every_filter_finds_what_the_metadata_says_in_id_order_with_paging() {
    let certs = sample();
    let (_dir, store) = fresh();
    store.insert(&certs).unwrap();
    let all = store.all(Query::default()).unwrap();
    assert_eq!(all.len(), distinct(&certs).len());
    assert!(all.windows(2).all(|w| w[0].id < w[1].id));
    let device = all.iter().find(|c| c.kind == Kind::Device).unwrap();
    let org = all.iter().find(|c| c.kind == Kind::Organisation);
    let eui = Eui64::parse(&device.eui64.clone().unwrap().to_ascii_lowercase()).unwrap();
    type Filter = Box<dyn Fn(&CertMeta) -> bool>;
    let mut cases: Vec<(Query, Filter)> = vec![
        (
            Query {
                eui64: Some(eui.clone()),
                ..Query::default()
            },
            Box::new({
                let e = eui.as_str().to_string();
                move |c| c.eui64.as_deref() == Some(e.as_str())
            }),
        ),
        (
            Query {
                serial: Some(
                    normalise_serial(&format!("000{}", device.serial.to_ascii_uppercase()))
                        .unwrap(),
                ),
                ..Query::default()
            },
            Box::new({
                let s = device.serial.clone();
                move |c| c.serial == s
            }),
        ),
        (
            Query {
                usage: Some("KA".into()),
                kind: Some(Kind::Device),
                ..Query::default()
            },
            Box::new(|c| c.usage.as_deref() == Some("KA") && c.kind == Kind::Device),
        ),
        (
            Query {
                issuer_key_id: device.issuer_key_id.clone(),
                ..Query::default()
            },
            Box::new({
                let k = device.issuer_key_id.clone();
                move |c| c.issuer_key_id == k
            }),
        ),
        (
            Query {
                issuer: device.issuer.clone(),
                verdict: Some("remediable".into()),
                ..Query::default()
            },
            Box::new({
                let i = device.issuer.clone();
                move |c| c.issuer == i && c.verdict == "remediable"
            }),
        ),
        (
            Query {
                kind: Some(Kind::Ca),
                ..Query::default()
            },
            Box::new(|c| c.kind == Kind::Ca),
        ),
    ];
    if let Some(org) = org {
        let entity = Eui64::parse(org.entity_id.as_deref().unwrap()).unwrap();
        let role = org.role.clone();
        cases.push((
            Query {
                entity_id: Some(entity.clone()),
                role: role.clone(),
                ..Query::default()
            },
            Box::new(move |c| c.entity_id.as_deref() == Some(entity.as_str()) && c.role == role),
        ));
    }
    for (query, keep) in &cases {
        let want: Vec<i64> = all.iter().filter(|c| keep(c)).map(|c| c.id).collect();
        assert!(!want.is_empty(), "{query:?} finds something");
        let got: Vec<i64> = store
            .all(query.clone())
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(got, want, "{query:?}");
        // Paged by 2: the same, in order.
        let mut paged = Vec::new();
        let mut q = Query {
            limit: 2,
            ..query.clone()
        };
        loop {
            let page = store.search(&q).unwrap();
            assert!(page.certificates.len() <= 2);
            paged.extend(page.certificates.iter().map(|c| c.id));
            match page.next {
                Some(n) => q.after = Some(n),
                None => break,
            }
        }
        assert_eq!(paged, want, "{query:?} paged");
    }
    assert!(matches!(
        store.search(&Query { limit: MAX_PAGE + 1, ..Query::default() }),
        Err(StoreError::PageTooLarge { asked, max: MAX_PAGE }) if asked == MAX_PAGE + 1
    ));
}

#[test]
fn a_store_reopens_with_its_contents_and_refuses_another_schema() {
    let certs = sample();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let n = {
        let store = Store::open(path.to_str().unwrap()).unwrap();
        store.insert(&certs).unwrap().inserted
    };
    let store = Store::open(&format!("sqlite:{}", path.display())).unwrap();
    assert_eq!(store.stats().unwrap().certificates, n);
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    assert!(matches!(
        Store::open(path.to_str().unwrap()),
        Err(StoreError::Schema { found: 99, .. })
    ));
    assert!(matches!(
        Store::open("postgres://localhost/smki"),
        Err(StoreError::Unsupported { .. })
    ));
}

#[test]
fn eui64_and_serial_syntax() {
    for ok in [
        "88-73-84-57-00-2f-96-6c",
        "88-73-84-57-00-2F-96-6C",
        "88738457002f966c",
        "88:73:84:57:00:2F:96:6C",
    ] {
        assert_eq!(
            Eui64::parse(ok).unwrap().as_str(),
            "88-73-84-57-00-2F-96-6C",
            "{ok}"
        );
    }
    for (bad, at) in [
        ("", 0),
        ("88-73-84-57-00-2f-96", 20),
        ("88-73-84-57-00-2f-96-6c-01", 24),
        ("88-73-84-57-00-2g-96-6c", 16),
        ("88-73:84-57-00-2f-96-6c", 5),
        ("887-384-57-00-2f-96-6c", 3),
        ("88--73-84-57-00-2f-96-6c", 3),
        ("88-73-84-57-00-2f-96-6c-", 23),
        ("88-7384-57-00-2f-96-6c", 0),
    ] {
        let e = Eui64::parse(bad).unwrap_err();
        assert_eq!(e.at, at, "{bad}: {e}");
    }
    assert_eq!(normalise_serial("00ABCdef").unwrap(), "abcdef");
    assert_eq!(normalise_serial("0x0001").unwrap(), "1");
    assert_eq!(normalise_serial("0000").unwrap(), "0");
    assert_eq!(normalise_serial("12g4").unwrap_err().at, 2);
    assert_eq!(normalise_serial("0x12g4").unwrap_err().at, 4);
    assert!(normalise_serial("").is_err());
    assert!(normalise_serial(&"1".repeat(81)).is_err());
    assert_eq!(normalise_serial(&"1".repeat(80)).unwrap().len(), 80);
}
