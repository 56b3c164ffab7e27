//! The scan pipeline: records in, findings out in input order, in parallel, in bounded memory.
use crate::{Examiner, Finding, Summary};
use smki_repo::{Error as RecordError, Record};
use smki_verify::Backend;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

/// Items per call of a pipeline's work function: the unit of batch verification, and of
/// the pipeline's bookkeeping.
pub const BATCH: usize = 64;

/// Batches in flight (taken but not yet handed to the sink) per thread, at most: memory
/// stays flat however many items there are, and however slow one batch is.
const WINDOW_PER_THREAD: u64 = 4;

/// The engine of every pipeline: maps `work` over `items`, [`BATCH`] at a time (it returns
/// one result per item, in order), on `threads` threads, and hands each item with its result
/// to `sink` in input order. Stops at the first error `sink` returns, and returns it.
///
/// There is no reader or writer thread: each of the `threads` threads takes the next batch
/// from `items` (under a lock), works on it, and leaves the results; whichever thread finds
/// the next results in order ready hands them to `sink` (under another lock, never waited
/// for). So `threads` threads use `threads` cores, and one thread uses one.
pub fn for_each_ordered<T, R, E>(
    items: impl Iterator<Item = T> + Send,
    threads: usize,
    work: impl Fn(&[T]) -> Vec<R> + Sync,
    sink: impl FnMut(T, R) -> Result<(), E> + Send,
) -> Result<(), E>
where
    T: Send,
    R: Send,
    E: Send,
{
    let threads = threads.max(1);
    let pipe = Pipe {
        source: Mutex::new((items, 0)),
        done: Mutex::new(Done {
            ready: BTreeMap::new(),
            next: 0,
        }),
        advanced: Condvar::new(),
        sink: Mutex::new((sink, None)),
        failed: AtomicBool::new(false),
        window: WINDOW_PER_THREAD * threads as u64,
    };
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| pipe.run(&work));
        }
    });
    match pipe.sink.into_inner().expect("sink lock").1 {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Stops the other threads when this one panics (they may wait for its batch); the panic
/// then reaches the caller when the scope joins the threads.
struct OnPanic<'a, I, T, R, F, E>(&'a Pipe<I, T, R, F, E>);

impl<I, T, R, F, E> Drop for OnPanic<'_, I, T, R, F, E> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // Under the lock the waiters check `failed` with: none misses the wake-up.
            let _done = self.0.done.lock().unwrap_or_else(|e| e.into_inner());
            self.0.failed.store(true, Ordering::Release);
            self.0.advanced.notify_all();
        }
    }
}

/// Results waiting for their turn, by batch number, and the next batch number to sink.
struct Done<T, R> {
    ready: BTreeMap<u64, (Vec<T>, Vec<R>)>,
    next: u64,
}

struct Pipe<I, T, R, F, E> {
    /// The items, and the number of the next batch to take.
    source: Mutex<(I, u64)>,
    done: Mutex<Done<T, R>>,
    /// Signalled when `done.next` advances (or the run fails).
    advanced: Condvar,
    /// The sink, and its first error.
    sink: Mutex<(F, Option<E>)>,
    failed: AtomicBool,
    window: u64,
}

fn lock<X>(m: &Mutex<X>) -> MutexGuard<'_, X> {
    m.lock().expect("pipeline lock (a thread panicked)")
}

impl<I, T, R, F, E> Pipe<I, T, R, F, E>
where
    I: Iterator<Item = T>,
    F: FnMut(T, R) -> Result<(), E>,
{
    fn run(&self, work: &impl Fn(&[T]) -> Vec<R>) {
        let _stop_others_on_panic = OnPanic(self);
        while let Some((n, batch)) = self.take() {
            let results = work(&batch);
            assert_eq!(results.len(), batch.len(), "one result per item");
            lock(&self.done).ready.insert(n, (batch, results));
            self.drain();
        }
    }

    /// The next batch and its number, once it is within the window of the sink; `None` at
    /// the end of the items or after a failure.
    fn take(&self) -> Option<(u64, Vec<T>)> {
        let mut source = lock(&self.source);
        let n = source.1;
        let mut done = lock(&self.done);
        while n >= done.next + self.window && !self.failed.load(Ordering::Acquire) {
            done = self.advanced.wait(done).expect("pipeline lock");
        }
        drop(done);
        if self.failed.load(Ordering::Acquire) {
            return None;
        }
        let batch: Vec<T> = source.0.by_ref().take(BATCH).collect();
        if batch.is_empty() {
            return None;
        }
        source.1 += 1;
        Some((n, batch))
    }

    /// Hands every batch that is next in order to the sink, unless another thread is at it
    /// (it will find ours: results are left before, and looked for again after, the sink).
    fn drain(&self) {
        loop {
            let Ok(mut sink) = self.sink.try_lock() else {
                return;
            };
            loop {
                let next = {
                    let mut done = lock(&self.done);
                    let n = done.next;
                    done.ready.remove(&n)
                };
                let Some((batch, results)) = next else { break };
                if sink.1.is_none() {
                    for (item, result) in batch.into_iter().zip(results) {
                        if let Err(e) = (sink.0)(item, result) {
                            sink.1 = Some(e);
                            self.failed.store(true, Ordering::Release);
                            break;
                        }
                    }
                }
                lock(&self.done).next += 1;
                self.advanced.notify_all();
            }
            drop(sink);
            let done = lock(&self.done);
            if !done.ready.contains_key(&done.next) {
                return;
            }
        }
    }
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
    mut sink: impl FnMut(&Finding, R) -> Result<(), E> + Send,
) -> Result<Summary, E>
where
    B: Backend,
    R: Send,
    E: Send,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// A little deterministic jitter so that batches finish out of order.
    fn spin(i: usize) {
        let mut x = i as u64;
        for _ in 0..(i * 7919 % 13) * 2000 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }

    #[test]
    fn order_kept_all_items_once_and_memory_bounded() {
        for threads in [1, 2, 3, 8] {
            for count in [0, 1, BATCH - 1, BATCH, BATCH + 1, 5000] {
                let produced = AtomicUsize::new(0);
                let items = (0..count).inspect(|_| {
                    produced.fetch_add(1, Ordering::Relaxed);
                });
                let mut seen = Vec::new();
                let mut most_in_flight = 0;
                let r: Result<(), ()> = for_each_ordered(
                    items,
                    threads,
                    |batch: &[usize]| {
                        batch
                            .iter()
                            .map(|&i| {
                                spin(i);
                                i * 3
                            })
                            .collect()
                    },
                    |item, result| {
                        assert_eq!(result, item * 3);
                        seen.push(item);
                        most_in_flight =
                            most_in_flight.max(produced.load(Ordering::Relaxed) - seen.len());
                        Ok(())
                    },
                );
                assert!(r.is_ok());
                assert_eq!(seen, (0..count).collect::<Vec<_>>(), "{threads} threads");
                let bound = (WINDOW_PER_THREAD as usize * threads + 1) * BATCH;
                assert!(most_in_flight <= bound, "{most_in_flight} > {bound}");
            }
        }
    }

    #[test]
    fn the_first_sink_error_stops_the_run() {
        for threads in [1, 2, 4] {
            let taken = AtomicUsize::new(0);
            let items = (0..100_000usize).inspect(|_| {
                taken.fetch_add(1, Ordering::Relaxed);
            });
            let mut sunk = Vec::new();
            let r = for_each_ordered(
                items,
                threads,
                |batch: &[usize]| batch.to_vec(),
                |item, _| {
                    if item == 1000 {
                        return Err(format!("stop at {item}"));
                    }
                    sunk.push(item);
                    Ok(())
                },
            );
            assert_eq!(r, Err("stop at 1000".to_string()));
            assert_eq!(sunk, (0..1000).collect::<Vec<_>>());
            // The run stopped soon after: it did not read the rest of the items.
            let bound = 1000 + (WINDOW_PER_THREAD as usize * threads + 1) * BATCH;
            assert!(taken.load(Ordering::Relaxed) <= bound);
        }
    }

    #[test]
    #[should_panic]
    fn a_panic_in_work_is_not_swallowed() {
        let _ = for_each_ordered(
            0..1000usize,
            2,
            |batch: &[usize]| {
                assert!(!batch.contains(&500), "boom");
                batch.to_vec()
            },
            |_, _| Ok::<(), ()>(()),
        );
    }
}
