//! The store's contract, on real certificates (fixtures/sample, examined by the examiner).
//! The expected results of each search are computed from the certificates' own metadata,
//! by filtering the list in the test; the store must give the same, in id order.
//!
//! Every contract test runs on both backends (`on_every_backend!`): SQLite in a temporary
//! file, PostgreSQL in a fresh database of its own on the server `SMKI_TEST_POSTGRES` names
//! (`testing::postgres`: skipped outside CI without one, failed under CI).
use super::*;
use std::path::Path;

#[derive(Debug, Clone, Copy)]
enum Db {
    Sqlite,
    Postgres,
}

/// A test's own store location, removed with it.
enum Place {
    Sqlite(tempfile::TempDir),
    Postgres(testing::TestDb),
}

impl Place {
    /// `None`: the backend is not there (the test skips, having said so).
    fn new(db: Db, test: &str) -> Option<Place> {
        Some(match db {
            Db::Sqlite => Place::Sqlite(tempfile::tempdir().unwrap()),
            Db::Postgres => Place::Postgres(testing::postgres(test)?),
        })
    }

    fn spec(&self) -> String {
        match self {
            Place::Sqlite(dir) => dir.path().join("s.db").to_str().unwrap().to_string(),
            Place::Postgres(db) => db.url.clone(),
        }
    }

    fn open(&self) -> Store {
        Store::open(&self.spec()).unwrap()
    }

    /// Marks the store as written by schema version `version`.
    fn set_schema_version(&self, version: i64) {
        match self {
            Place::Sqlite(_) => {
                let conn = rusqlite::Connection::open(self.spec()).unwrap();
                conn.pragma_update(None, "user_version", version).unwrap();
            }
            Place::Postgres(db) => {
                db.execute(&format!("UPDATE smki_schema SET version = {version}"))
            }
        }
    }
}

/// Each test `fn NAME(db: Db)` as `sqlite::NAME` and `postgres::NAME`.
macro_rules! on_every_backend {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $test() { super::$test(super::Db::Sqlite) })*
        }
        mod postgres {
            $(#[test] fn $test() { super::$test(super::Db::Postgres) })*
        }
    };
}

on_every_backend!(
    a_certificate_is_stored_once_and_its_bytes_come_back,
    a_new_status_updates_and_a_record_without_one_keeps_it,
    every_filter_finds_what_the_metadata_says_in_id_order_with_paging,
    a_store_reopens_with_its_contents_and_refuses_another_schema,
    a_large_batch_is_one_statement_per_round_and_counts_right,
    extracts_full_as_of_a_day_and_daily_deltas_rebuild_the_store,
);

/// The day the tests' loads happen on.
fn day() -> Day {
    Day::parse("2024-01-01").unwrap()
}

/// The test's place and its store, or `None` to skip.
fn fresh(db: Db, test: &str) -> Option<(Place, Store)> {
    let place = Place::new(db, test)?;
    let store = place.open();
    Some((place, store))
}

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

/// Distinct certificates (the sample's bundle repeats the CA files).
fn distinct(certs: &[NewCert]) -> Vec<&NewCert> {
    let mut seen = std::collections::HashSet::new();
    certs
        .iter()
        .filter(|c| seen.insert(c.meta.sha256.clone()))
        .collect()
}

fn a_certificate_is_stored_once_and_its_bytes_come_back(db: Db) {
    let certs = sample();
    let unique = distinct(&certs);
    let Some((_place, store)) = fresh(db, "a_certificate_is_stored_once_and_its_bytes_come_back")
    else {
        return;
    };
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

fn a_new_status_updates_and_a_record_without_one_keeps_it(db: Db) {
    let certs = sample();
    let Some((_place, store)) = fresh(db, "a_new_status_updates_and_a_record_without_one_keeps_it")
    else {
        return;
    };
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

fn every_filter_finds_what_the_metadata_says_in_id_order_with_paging(db: Db) {
    let certs = sample();
    let Some((_place, store)) = fresh(
        db,
        "every_filter_finds_what_the_metadata_says_in_id_order_with_paging",
    ) else {
        return;
    };
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

fn a_store_reopens_with_its_contents_and_refuses_another_schema(db: Db) {
    let certs = sample();
    let Some(place) = Place::new(db, "a_store_reopens") else {
        return;
    };
    let n = place.open().insert(&certs, &day()).unwrap().inserted;
    let spec = match db {
        Db::Sqlite => format!("sqlite:{}", place.spec()),
        Db::Postgres => place.spec(),
    };
    let store = Store::open(&spec).unwrap();
    assert_eq!(store.stats().unwrap().certificates, n);
    assert_eq!(store.all(Query::default()).unwrap().len() as u64, n);
    drop(store);
    place.set_schema_version(99);
    assert!(matches!(
        Store::open(&place.spec()),
        Err(StoreError::Schema { found: 99, .. })
    ));
}

/// Thousands of certificates in one batch, some twice and some changed (the second
/// record of a certificate in the same batch is applied after the first, as one at a
/// time would); the counts and the stored metadata are those of one record at a time.
fn a_large_batch_is_one_statement_per_round_and_counts_right(db: Db) {
    let Some((_place, store)) = fresh(db, "a_large_batch") else {
        return;
    };
    let certs = sample();
    let unique: Vec<NewCert> = distinct(&certs).into_iter().cloned().collect();
    // Made distinct by their (otherwise unused here) bytes: the store trusts the given
    // SHA-256 as the identity.
    let mut batch = Vec::new();
    for i in 0..3000usize {
        let mut c = unique[i % unique.len()].clone();
        c.der.extend_from_slice(&(i as u32).to_be_bytes());
        c.meta.sha256 = hex::encode(smki_x509::sha256(&c.der));
        batch.push(c);
    }
    // The first 10 again with a new status, then again unchanged.
    for i in 0..10 {
        let mut again = batch[i].clone();
        again.meta.status = Some("R".into());
        batch.push(again.clone());
        batch.push(again);
    }
    let stored = store.insert(&batch, &day()).unwrap();
    assert_eq!(
        stored,
        Stored {
            inserted: 3000,
            updated: 10,
            unchanged: 10
        }
    );
    let stats = store.stats().unwrap();
    assert_eq!(stats.certificates, 3000);
    assert_eq!(
        stats.der_bytes,
        batch[..3000]
            .iter()
            .map(|c| c.der.len() as u64)
            .sum::<u64>()
    );
    assert!(stats.disk_bytes.unwrap() > stats.der_bytes);
    let status = |i: usize| {
        store
            .by_sha256(&batch[i].meta.sha256)
            .unwrap()
            .unwrap()
            .status
    };
    assert_eq!(status(3).as_deref(), Some("R"));
    assert_eq!(status(10), batch[10].meta.status);
    // Load order is id order.
    let mut ids = Vec::new();
    let mut q = Query::default();
    loop {
        let page = store.search(&q).unwrap();
        ids.extend(page.certificates.iter().map(|c| c.sha256.clone()));
        match page.next {
            Some(n) => q.after = Some(n),
            None => break,
        }
    }
    let want: Vec<String> = batch[..3000]
        .iter()
        .map(|c| c.meta.sha256.clone())
        .collect();
    assert_eq!(ids, want);
}

#[test]
fn a_postgres_server_that_does_not_answer_is_named_without_its_password() {
    let url = "postgres://smki:s3cret@127.0.0.1:1/smki?connect_timeout=5";
    let Err(e) = Store::open(url) else {
        panic!("nothing listens on port 1");
    };
    let text = e.to_string();
    assert!(matches!(e, StoreError::Connect { .. }), "{e:?}");
    assert!(
        text.starts_with(
            "cannot connect to the PostgreSQL store postgres://smki:***@127.0.0.1:1/smki?connect_timeout=5: "
        ),
        "{text}"
    );
    assert!(!text.contains("s3cret"), "{text}");
    assert!(text.to_ascii_lowercase().contains("refused"), "{text}");
}

#[test]
fn a_location_is_shown_without_its_password() {
    for (spec, want) in [
        ("postgres://u:p@h:5432/db", "postgres://u:***@h:5432/db"),
        (
            "postgresql://u@h/db?password=p&sslmode=disable",
            "postgresql://u@h/db?password=***&sslmode=disable",
        ),
        ("postgres://u:p:q@r@h/db", "postgres://u:***@h/db"),
        (
            "postgres:///db?host=/run/postgresql",
            "postgres:///db?host=/run/postgresql",
        ),
        ("store.db", "store.db"),
        ("sqlite:store.db", "sqlite:store.db"),
    ] {
        assert_eq!(shown(spec), want, "{spec}");
    }
    assert_eq!(
        Location::of("sqlite:a/b.db"),
        Location::File(Path::new("a/b.db"))
    );
    assert_eq!(
        Location::of("postgresql://h/db"),
        Location::Postgres("postgresql://h/db")
    );
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

fn extracts_full_as_of_a_day_and_daily_deltas_rebuild_the_store(db: Db) {
    let certs: Vec<NewCert> = distinct(&sample()).into_iter().cloned().collect();
    let Some((_place, store)) = fresh(db, "extracts_full_and_deltas") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
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
