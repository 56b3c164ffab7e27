//! A living repository (`smki serve --simulate-issuance RATE`, docs/service.md): a
//! background thread issues new certificates through smki-sim's live issuer, examines them
//! with the same examiner as `smki scan`, stores them in batches, and moves device
//! certificates' statuses as devices are installed, withdrawn and revoked; every change is
//! recorded on the simulated day it happens, so that the daily deltas carry it.
use smki_repo::{Locator, Record};
use smki_scan::Examiner;
use smki_sim::{Date, LiveIssuer, LiveOptions};
use smki_store::{Day, Kind, NewCert, Query, Store, StoreError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How the repository lives.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Issuance {
    /// New certificates per second (issued in DS + KA pairs).
    pub rate: f64,
    /// Status moves per second (certificates).
    pub moves: f64,
    /// Real seconds per simulated day.
    pub day_seconds: f64,
    /// The first simulated day (default: the day after the store's last change).
    pub start: Option<Day>,
    /// What the issuer makes (seed, defect rate, injections...).
    pub live: LiveOptions,
    /// Where progress goes (one line a simulated day).
    pub note: fn(&str),
}

impl Issuance {
    /// `rate` certificates a second; a tenth as many status moves; a simulated day a real
    /// day; the issuer's defaults.
    pub fn new(rate: f64, note: fn(&str)) -> Issuance {
        Issuance {
            rate,
            moves: rate / 10.0,
            day_seconds: 86_400.0,
            start: None,
            live: LiveOptions::default(),
            note,
        }
    }
}

/// Why the repository stopped living.
#[derive(Debug)]
#[non_exhaustive]
pub enum IssuanceError {
    /// The issuer's options are not valid.
    Options(smki_sim::Error),
    /// The simulated CAs could not serve as issuers.
    Issuers(String),
    Store(StoreError),
}

impl std::fmt::Display for IssuanceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IssuanceError::Options(e) => write!(f, "simulated issuance: {e}"),
            IssuanceError::Issuers(e) => write!(f, "simulated issuance: the simulated CAs: {e}"),
            IssuanceError::Store(e) => write!(f, "simulated issuance: {e}"),
        }
    }
}

impl std::error::Error for IssuanceError {}

impl From<StoreError> for IssuanceError {
    fn from(e: StoreError) -> Self {
        IssuanceError::Store(e)
    }
}

/// The most certificates issued (or moved) in one batch.
const MAX_BATCH: u64 = 2000;

/// The status moves of device certificates: (from, to, lifecycle after, weight).
const MOVES: &[(&str, &str, &str, u64)] = &[
    // Installed and commissioned.
    ("P", "I", "installed", 4),
    // Installed from storage.
    ("N", "I", "installed", 3),
    // Withdrawn (back in storage).
    ("I", "N", "in_storage", 2),
    // Revoked.
    ("I", "R", "installed", 1),
];

/// The running issuance: the issuer, its examiner, and where it is.
pub(crate) struct Living {
    store: Store,
    opts: Issuance,
    issuer: LiveIssuer,
    examiner: Examiner<smki_verify::FastBackend>,
    first_day: Date,
}

impl Living {
    /// Ready to run over `store`: the issuer made, the simulated CAs stored (their arrival
    /// recorded on the first day when they are new) and registered as the examiner's issuers.
    pub(crate) fn new(store: Store, opts: Issuance) -> Result<Living, IssuanceError> {
        let positive = |x: f64| x.is_finite() && x > 0.0;
        if !(positive(opts.rate) && positive(opts.day_seconds) && opts.moves.is_finite())
            || opts.moves < 0.0
        {
            return Err(IssuanceError::Options(smki_sim::Error::Options(format!(
                "issuance rate {} and seconds per day {} must be above 0, status moves {} at least 0",
                opts.rate, opts.day_seconds, opts.moves
            ))));
        }
        let issuer = LiveIssuer::new(&opts.live).map_err(IssuanceError::Options)?;
        let first_day = match &opts.start {
            Some(d) => d.as_str().parse::<Date>(),
            None => match store.last_day()? {
                Some(d) => d.as_str().parse::<Date>().map(|d| d.add_days(1)),
                None => Ok(Date::today()),
            },
        }
        .map_err(|e| IssuanceError::Options(smki_sim::Error::Options(e)))?;
        let cas: Vec<Result<Record, smki_repo::Error>> = issuer
            .ca_certificates()
            .into_iter()
            .enumerate()
            .map(|(i, der)| Ok(record("simulated CAs", i, der, None)))
            .collect();
        let examiner = Examiner::builder(smki_verify::FastBackend)
            .issuers(cas.clone())
            .dump(std::iter::empty())
            .build(1)
            .map_err(|e| IssuanceError::Issuers(e.to_string()))?
            .examiner;
        let living = Living {
            store,
            opts,
            issuer,
            examiner,
            first_day,
        };
        let ca_certs: Vec<NewCert> = cas
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .filter_map(|r| NewCert::from_finding(&living.examiner.examine(r), &r.der))
            .collect();
        living.store.insert(&ca_certs, &day_of(first_day))?;
        Ok(living)
    }

    /// Issues and moves until `stop` is set: (certificates issued, certificates moved).
    pub(crate) fn run(mut self, stop: &AtomicBool) -> Result<(u64, u64), IssuanceError> {
        let t0 = Instant::now();
        let (mut issued, mut moved) = (0u64, 0u64);
        // Moves due so far (met or not: with nothing to move, they do not pile up).
        let mut moves_due = 0u64;
        let mut day = self.first_day;
        let mut today_counts = (0u64, 0u64);
        while !stop.load(Ordering::Relaxed) {
            let elapsed = t0.elapsed().as_secs_f64();
            let now = self
                .first_day
                .add_days((elapsed / self.opts.day_seconds) as i64);
            if now != day {
                (self.opts.note)(&format!(
                    "simulated day {day}: {} certificates issued, {} moved",
                    today_counts.0, today_counts.1
                ));
                today_counts = (0, 0);
                day = now;
            }
            // Whole pairs only.
            let due = ((self.opts.rate * elapsed) as u64).saturating_sub(issued) / 2;
            if due > 0 {
                let n = self.issue(due.min(MAX_BATCH / 2), day)?;
                issued += n;
                today_counts.0 += n;
            }
            let due_moves = ((self.opts.moves * elapsed) as u64)
                .saturating_sub(moves_due)
                .min(MAX_BATCH);
            if due_moves > 0 {
                let n = self.move_statuses(due_moves, day)?;
                moves_due += due_moves.max(n);
                moved += n;
                today_counts.1 += n;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok((issued, moved))
    }

    /// Issues `pairs` pairs on `day`, examines and stores them: how many were stored.
    fn issue(&mut self, pairs: u64, day: Date) -> Result<u64, IssuanceError> {
        let base = self.issuer.counts().0;
        let records: Vec<Result<Record, smki_repo::Error>> = self
            .issuer
            .issue(pairs, day)
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                Ok(record(
                    "simulated issuance",
                    base as usize + i,
                    c.der,
                    Some(c.meta),
                ))
            })
            .collect();
        let findings = self.examiner.examine_batch(&records);
        let certs: Vec<NewCert> = records
            .iter()
            .zip(&findings)
            .filter_map(|(r, f)| NewCert::from_finding(f, &r.as_ref().ok()?.der))
            .collect();
        let stored = self.store.insert(&certs, &day_of(day))?;
        Ok(stored.inserted + stored.updated)
    }

    /// Moves the status of about `n` device certificates on `day` (each device's DS and KA
    /// certificates together): how many moved.
    fn move_statuses(&mut self, n: u64, day: Date) -> Result<u64, IssuanceError> {
        let total: u64 = MOVES.iter().map(|m| m.3).sum();
        let size = self.store.stats()?.certificates.max(1) as i64;
        let mut moved = 0u64;
        let mut tries = 0;
        while moved < n && tries < 4 * n {
            tries += 1;
            let mut pick = self.issuer.draw() % total;
            let &(from, to, lifecycle, _) = MOVES
                .iter()
                .find(|m| {
                    let hit = pick < m.3;
                    pick = pick.saturating_sub(m.3);
                    hit
                })
                .expect("a move");
            // A device with that status, from a random place in the store on.
            let after = (self.issuer.draw() % size as u64) as i64;
            let query = |after: Option<i64>| Query {
                kind: Some(Kind::Device),
                status: Some(from.to_string()),
                after,
                limit: 1,
                ..Query::default()
            };
            let found = match self.store.search(&query(Some(after)))?.certificates.pop() {
                Some(c) => Some(c),
                None => self.store.search(&query(None))?.certificates.pop(),
            };
            let Some(eui) = found.and_then(|c| c.eui64) else {
                continue;
            };
            let device = self.store.all(Query {
                eui64: smki_store::Eui64::parse(&eui).ok(),
                status: Some(from.to_string()),
                ..Query::default()
            })?;
            let mut batch = Vec::with_capacity(device.len());
            for mut meta in device {
                let Some(der) = self.store.der(meta.id)? else {
                    continue;
                };
                meta.status = Some(to.to_string());
                meta.lifecycle = Some(lifecycle.to_string());
                batch.push(NewCert { meta, der });
            }
            moved += self.store.insert(&batch, &day_of(day))?.updated;
        }
        Ok(moved)
    }
}

/// Runs the repository's life on its own thread until `stop` is set; the thread's result
/// says how many certificates it issued and moved.
pub(crate) fn spawn(
    living: Living,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Result<(u64, u64), IssuanceError>> {
    std::thread::Builder::new()
        .name("smki-issuance".into())
        .spawn(move || {
            let note = living.opts.note;
            let result = living.run(&stop);
            if let Err(e) = &result {
                note(&format!("{e}; the service goes on without it"));
            }
            result
        })
        .expect("a thread")
}

fn record(file: &str, index: usize, der: Vec<u8>, meta: Option<smki_repo::Metadata>) -> Record {
    Record {
        locator: Locator {
            file: file.into(),
            record: index,
            line: None,
            offset: 0,
        },
        der,
        meta,
    }
}

fn day_of(date: Date) -> Day {
    Day::parse(&date.to_string()).expect("a calendar date")
}
