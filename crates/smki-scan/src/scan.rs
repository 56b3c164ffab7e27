//! The scan pipeline: records in, findings out in input order, in parallel, in bounded memory.
use crate::{Examiner, Finding, Summary};
use rayon::prelude::*;
use smki_repo::{Error as RecordError, Record};
use smki_verify::Backend;
use std::sync::mpsc::sync_channel;

/// Records per unit of parallel work. Memory holds at most a few chunks at a time, however
/// long the dump.
pub const CHUNK: usize = 2048;

/// Items per call of a pipeline's work function: the unit of batch verification.
pub const BATCH: usize = 64;

/// The engine of every pipeline: maps `work` over `items`, [`BATCH`] at a time (it returns
/// one result per item, in order), on a pool of `threads` threads, and hands each item with
/// its result to `sink` in input order. Three stages overlap: a reader thread fills chunks of
/// [`CHUNK`] items, the pool works on one chunk, and `sink` (on the calling thread) takes the
/// results of the previous one; at most two chunks wait between stages, so memory stays flat
/// however many items there are. Stops at the first error `sink` returns.
pub fn for_each_ordered<T, R, E>(
    items: impl Iterator<Item = T> + Send,
    threads: usize,
    work: impl Fn(&[T]) -> Vec<R> + Sync,
    mut sink: impl FnMut(T, R) -> Result<(), E>,
) -> Result<(), E>
where
    T: Send + Sync,
    R: Send,
{
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .expect("thread pool");
    std::thread::scope(|scope| {
        let (to_work, chunks) = sync_channel::<Vec<T>>(2);
        let (to_sink, done) = sync_channel::<(Vec<T>, Vec<R>)>(2);
        scope.spawn(move || {
            let mut items = items;
            loop {
                let chunk: Vec<T> = items.by_ref().take(CHUNK).collect();
                if chunk.is_empty() || to_work.send(chunk).is_err() {
                    break;
                }
            }
        });
        let work = &work;
        let pool = &pool;
        scope.spawn(move || {
            for chunk in chunks {
                let results: Vec<Vec<R>> =
                    pool.install(|| chunk.par_chunks(BATCH).map(work).collect());
                let results = results.into_iter().flatten().collect();
                if to_sink.send((chunk, results)).is_err() {
                    break; // the sink stopped: stop working
                }
            }
        });
        for (chunk, results) in done {
            for (item, result) in chunk.into_iter().zip(results) {
                sink(item, result)?;
            }
        }
        Ok(())
    })
}

/// Scans `records` with `examiner` on `threads` threads. Each finding is rendered by
/// `render` on the worker that made it (serialising a report line there keeps the ordered
/// stage light), then handed with its rendering to `sink` in input order. Returns the
/// summary (root cause computed), or the first error of `sink`.
pub fn scan<B, R, E>(
    examiner: &Examiner<B>,
    records: impl Iterator<Item = Result<Record, RecordError>> + Send,
    threads: usize,
    render: impl Fn(&Finding) -> R + Sync,
    mut sink: impl FnMut(&Finding, R) -> Result<(), E>,
) -> Result<Summary, E>
where
    B: Backend,
    R: Send,
{
    let mut summary = Summary::default();
    for_each_ordered(
        records,
        threads,
        |batch| {
            let findings = examiner.examine_batch(batch);
            findings
                .into_iter()
                .map(|f| {
                    let r = render(&f);
                    (f, r)
                })
                .collect()
        },
        |_, (f, r): (Finding, R)| {
            summary.add(&f);
            sink(&f, r)
        },
    )?;
    summary.finish();
    Ok(summary)
}

/// What [`prepare_issuers`] found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct IssuersFound {
    /// CA certificates of the dump registered as anchors.
    pub anchors: usize,
    /// Issuer keys recovered from signatures (with `--recover-issuer-keys`).
    pub recovered: usize,
}

/// The first, cheap pass over a dump, so that the verdicts do not depend on the order of
/// the records: registers every CA certificate as an anchor and, when the examiner recovers
/// issuer keys, recovers the key of every authorityKeyIdentifier not yet known (from the
/// first signature that yields it). Only records carrying a basicConstraints extension, or
/// naming an AKI not yet resolved, are parsed.
pub fn prepare_issuers<B: Backend>(
    examiner: &Examiner<B>,
    records: impl Iterator<Item = Result<Record, RecordError>>,
) -> IssuersFound {
    const BASIC_CONSTRAINTS: &[u8] = &[0x06, 0x03, 0x55, 0x1d, 0x13];
    let mut found = IssuersFound::default();
    let mut resolved: std::collections::HashSet<[u8; 8]> = Default::default();
    for rec in records.flatten() {
        if memchr::memmem::find(&rec.der, BASIC_CONSTRAINTS).is_some()
            && Examiner::<B>::is_ca_certificate(&rec.der)
            && examiner
                .add_issuer(&rec.der, rec.locator.to_string())
                .is_ok()
        {
            found.anchors += 1;
        }
        if examiner.recovers() {
            let hint = aki_hint(&rec.der);
            if hint.is_some_and(|h| resolved.contains(&h)) {
                continue;
            }
            if let Some((known, recovered)) = examiner.learn_issuer_key(&rec.der) {
                found.recovered += usize::from(recovered);
                if let Ok(k) = <[u8; 8]>::try_from(known.as_slice()) {
                    resolved.insert(k);
                }
            }
        }
    }
    found
}

/// The 8-octet key identifier right after an authorityKeyIdentifier OID, if the bytes look
/// like one (`[0] 08 ...`): a hint to skip records whose issuer is already resolved.
fn aki_hint(der: &[u8]) -> Option<[u8; 8]> {
    const AKI: &[u8] = &[0x06, 0x03, 0x55, 0x1d, 0x23];
    let at = memchr::memmem::find(der, AKI)? + AKI.len();
    let window = der.get(at..(at + 16).min(der.len()))?;
    let k = window.windows(2).position(|w| w == [0x80, 0x08])? + 2;
    der.get(at + k..at + k + 8)?.try_into().ok()
}
