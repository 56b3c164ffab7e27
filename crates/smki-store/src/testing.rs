//! Test support, not API: a fresh PostgreSQL database for each test that needs one, on the
//! server `SMKI_TEST_POSTGRES` names (a `postgres://` URL of a role that may create
//! databases; `.ci/run` starts one). Without it a test skips, saying so, outside CI and
//! fails under `CI=true`.
use ::postgres::{Client, NoTls};
use std::sync::atomic::{AtomicU64, Ordering};

/// The variable naming the test server.
pub const ENV: &str = "SMKI_TEST_POSTGRES";

/// A database made for one test, dropped (with its connections) when this is dropped.
pub struct TestDb {
    admin: String,
    name: String,
    /// The database's URL (what `--db` takes).
    pub url: String,
}

/// A fresh database for `test`, or `None` (after saying `SKIPPED`) when no server is given
/// outside CI. Panics under `CI=true` without one, or when the server refuses.
pub fn postgres(test: &str) -> Option<TestDb> {
    let Ok(admin) = std::env::var(ENV) else {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "{ENV} is not set: CI must have a PostgreSQL server (.ci/run starts one)"
        );
        eprintln!("SKIPPED ({test} on PostgreSQL): {ENV} is not set (a postgres:// URL of a role that may create databases; see the README)");
        return None;
    };
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!(
        "smki_test_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    admin_client(&admin)
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("creating the test database {name}: {e:?}"));
    let url = with_database(&admin, &name);
    Some(TestDb { admin, name, url })
}

impl TestDb {
    /// Runs `sql` in the test's database (to change what a test needs changed).
    pub fn execute(&self, sql: &str) {
        admin_client(&self.url)
            .batch_execute(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = admin_client(&self.admin).batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

fn admin_client(url: &str) -> Client {
    Client::connect(url, NoTls).unwrap_or_else(|e| {
        panic!(
            "{ENV}: cannot connect to {}: {e:?}",
            crate::postgres::without_password(url)
        )
    })
}

/// `url` naming the database `name` instead of its own.
fn with_database(url: &str, name: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((m, q)) => (m, format!("?{q}")),
        None => (url, String::new()),
    };
    let (scheme, rest) = main.split_once("://").unwrap_or(("postgres", main));
    let authority = rest.split_once('/').map_or(rest, |(a, _)| a);
    format!("{scheme}://{authority}/{name}{query}")
}
