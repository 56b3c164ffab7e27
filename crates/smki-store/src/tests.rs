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

/// The day the tests' loads happen on.
fn day() -> Day {
    Day::parse("2024-01-01").unwrap()
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
    let first = store.insert(&certs, &day()).unwrap();
    assert_eq!(first.inserted as usize, unique.len());
    assert_eq!(
        (first.inserted + first.updated + first.unchanged) as usize,
        certs.len()
    );
    let again = store.insert(&certs, &day()).unwrap();
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
        store
            .insert(std::slice::from_ref(&one), &day())
            .unwrap()
            .inserted,
        1
    );
    one.meta.status = Some("R".into());
    assert_eq!(
        store
            .insert(std::slice::from_ref(&one), &day())
            .unwrap()
            .updated,
        1
    );
    one.meta.status = None;
    assert_eq!(
        store
            .insert(std::slice::from_ref(&one), &day())
            .unwrap()
            .unchanged,
        1
    );
    let meta = store.by_sha256(&one.meta.sha256).unwrap().unwrap();
    assert_eq!(meta.status.as_deref(), Some("R"));
}

#[test]
fn every_filter_finds_what_the_metadata_says_in_id_order_with_paging() {
    let certs = sample();
    let (_dir, store) = fresh();
    store.insert(&certs, &day()).unwrap();
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
        store.insert(&certs, &day()).unwrap().inserted
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

#[test]
fn days_are_real_calendar_dates() {
    for good in ["2024-02-29", "2021-03-31", "1999-12-01"] {
        assert_eq!(Day::parse(good).unwrap().as_str(), good);
    }
    for (bad, at) in [
        ("2023-02-29", 8),
        ("2021-04-31", 8),
        ("2021-13-01", 5),
        ("2021-00-10", 5),
        ("2021-1-01", 6),
        ("20210101", 4),
        ("2021-01-01x", 10),
        ("", 0),
        ("0999-01-01", 0),
    ] {
        let e = Day::parse(bad).unwrap_err();
        assert_eq!(e.at, at, "{bad}: {e}");
    }
}

/// The rows of an extract file as smki's extract reader reads them: (SHA-256, metadata).
fn read_rows(paths: &[std::path::PathBuf]) -> Vec<(String, smki_repo::Metadata)> {
    smki_repo::read_extracts(paths)
        .map(|r| {
            let r = r.unwrap();
            (hex::encode(smki_x509::sha256(&r.der)), r.meta.unwrap())
        })
        .collect()
}

fn write(store: &Store, extract: Extract, path: &Path) -> std::path::PathBuf {
    let text: Vec<String> = store.extract(extract).collect::<Result<_, _>>().unwrap();
    std::fs::write(path, text.concat()).unwrap();
    path.to_path_buf()
}

#[test]
fn extracts_full_as_of_a_day_and_daily_deltas_rebuild_the_store() {
    let certs: Vec<NewCert> = distinct(&sample()).into_iter().cloned().collect();
    let (dir, store) = fresh();
    let d = |s: &str| Day::parse(s).unwrap();
    let half = certs.len() / 2;
    assert_eq!(store.last_day().unwrap(), None);
    store.insert(&certs[..half], &d("2024-01-01")).unwrap();
    store.insert(&certs[half..], &d("2024-01-02")).unwrap();
    // Day 3: two status moves (and a record bringing nothing new, not a change).
    let mut moved = vec![certs[0].clone(), certs[half].clone()];
    moved[0].meta.status = Some("I".into());
    moved[0].meta.lifecycle = Some("installed".into());
    moved[1].meta.status = Some("R".into());
    let mut batch = moved.clone();
    batch.push(certs[1].clone());
    let s = store.insert(&batch, &d("2024-01-03")).unwrap();
    assert_eq!((s.updated, s.unchanged), (2, 1));
    assert_eq!(store.last_day().unwrap(), Some(d("2024-01-03")));

    let path = |n: &str| dir.path().join(n);
    let full1 = write(
        &store,
        Extract::Full {
            as_of: Some(d("2024-01-01")),
        },
        &path("full1.csv"),
    );
    let delta2 = write(
        &store,
        Extract::Delta {
            day: d("2024-01-02"),
        },
        &path("delta2.csv"),
    );
    let delta3 = write(
        &store,
        Extract::Delta {
            day: d("2024-01-03"),
        },
        &path("delta3.csv"),
    );
    let delta4 = write(
        &store,
        Extract::Delta {
            day: d("2024-01-04"),
        },
        &path("delta4.csv"),
    );
    let full_now = write(&store, Extract::Full { as_of: None }, &path("full.csv"));
    let full2 = write(
        &store,
        Extract::Full {
            as_of: Some(d("2024-01-02")),
        },
        &path("full2.csv"),
    );
    let before = write(
        &store,
        Extract::Full {
            as_of: Some(d("2023-12-31")),
        },
        &path("f0.csv"),
    );

    let shas = |certs: &[NewCert]| {
        certs
            .iter()
            .map(|c| c.meta.sha256.clone())
            .collect::<Vec<_>>()
    };
    let rows_of = |p: &std::path::PathBuf| read_rows(std::slice::from_ref(p));
    let only_shas = |rows: Vec<(String, smki_repo::Metadata)>| {
        rows.into_iter().map(|r| r.0).collect::<Vec<_>>()
    };
    // As of day 1: the first half, in load order, with their metadata of then.
    assert_eq!(only_shas(rows_of(&full1)), shas(&certs[..half]));
    assert_eq!(only_shas(rows_of(&delta2)), shas(&certs[half..]));
    // The delta of day 3 holds exactly the two moves, with their new metadata.
    let d3 = rows_of(&delta3);
    assert_eq!(only_shas(d3.clone()), shas(&moved));
    assert_eq!(d3[0].1.status.as_deref(), Some("I"));
    assert_eq!(d3[0].1.lifecycle.as_deref(), Some("installed"));
    assert_eq!(d3[1].1.status.as_deref(), Some("R"));
    assert!(rows_of(&delta4).is_empty());
    assert!(rows_of(&before).is_empty());
    // A full extract as of day 2 shows the state before the moves.
    let f2 = rows_of(&full2);
    assert_eq!(f2.len(), certs.len());
    assert_eq!(f2[0].1.status, certs[0].meta.status);
    assert_eq!(f2[half].1.status, certs[half].meta.status);

    // The full extract of day 1 and the deltas after it, applied by smki's reader, are the
    // store as it is now, row for row; and so is the full extract as of now.
    let rebuilt = read_rows(&[full1, delta2, delta3, delta4]);
    let now = rows_of(&full_now);
    assert_eq!(rebuilt, now);
    assert_eq!(now.len(), certs.len());
    for (sha, meta) in &now {
        let stored = store.by_sha256(sha).unwrap().unwrap();
        assert_eq!(*meta, stored.extract_metadata(), "{sha}");
    }
}
