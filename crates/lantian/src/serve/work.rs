//! Heavy work under load: every computed page is cached per store
//! generation, computed once however many clients ask at the same time,
//! run on a bounded number of threads behind a bounded queue (beyond it: 503
//! with `Retry-After`), and dropped when every client that wanted it is gone.
//!
//! Why this shape: a burst of 200 clients used to start 200 computations of
//! the same city page on 200 blocking threads (2 GB, no answer within 5 s).
//! Now a page is computed at most once per store generation, at most
//! `workers` computations run at once, and the rest wait in a queue that
//! costs nothing but a future.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OnceCell, Semaphore};

/// How long the store's generation is trusted before the manifest is read again.
pub const RECHECK: Duration = Duration::from_secs(1);

/// Why a piece of work produced no answer.
#[derive(Debug)]
pub enum Refused {
    /// The queue is full: try again in a moment.
    Busy,
    /// The server is stopping.
    Stopping,
    /// The computation failed (the message is for people).
    Failed(anyhow::Error),
}

/// Set when nobody waits for a computation any more, or when the server
/// stops; long computations check it between steps.
#[derive(Clone, Default)]
pub struct Cancel {
    own: Arc<AtomicBool>,
    stopping: Arc<AtomicBool>,
}

impl Cancel {
    pub fn is_set(&self) -> bool {
        self.own.load(Ordering::Relaxed) || self.stopping.load(Ordering::Relaxed)
    }

    /// An error to return from a computation that noticed it was cancelled.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.is_set() { Err(anyhow::anyhow!("cancelled: the client went away")) } else { Ok(()) }
    }
}

/// Sets the flag when dropped unless disarmed: the future awaiting the
/// blocking computation was dropped (its client went away).
struct CancelOnDrop(Option<Arc<AtomicBool>>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            c.store(true, Ordering::Relaxed);
        }
    }
}

type Cell<T> = Arc<OnceCell<T>>;

/// A pool for blocking work; `T` is what its cache keeps (`()`: no cache).
pub struct Work<T = ()> {
    permits: Arc<Semaphore>,
    queued: AtomicUsize,
    max_queued: usize,
    /// Finished or running computations by key, with the generation they belong to.
    cache: Mutex<HashMap<String, (u64, Cell<T>)>>,
    max_entries: usize,
    stopping: Arc<AtomicBool>,
}

impl<T: Clone + Send + Sync + 'static> Work<T> {
    pub fn new(workers: usize, max_queued: usize, max_entries: usize) -> Work<T> {
        Work {
            permits: Arc::new(Semaphore::new(workers.max(1))),
            queued: AtomicUsize::new(0),
            max_queued,
            cache: Mutex::new(HashMap::new()),
            max_entries,
            stopping: Arc::new(AtomicBool::new(false)),
        }
    }

    /// From now on, queued and running work is abandoned.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Relaxed);
    }

    /// The answer for `key` on store generation `generation`: from the cache,
    /// from a computation another request already started, or computed now.
    pub async fn cached(
        &self,
        key: String,
        generation: u64,
        compute: impl FnOnce(&Cancel) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, Refused> {
        let cell = {
            let mut cache = self.cache.lock().expect("cache lock");
            match cache.get(&key) {
                Some((g, cell)) if *g == generation => cell.clone(),
                _ => {
                    if cache.len() >= self.max_entries {
                        // Older generations first; if all are current, start afresh.
                        cache.retain(|_, (g, _)| *g == generation);
                        if cache.len() >= self.max_entries {
                            cache.clear();
                        }
                    }
                    let cell: Cell<T> = Arc::new(OnceCell::new());
                    cache.insert(key, (generation, cell.clone()));
                    cell
                }
            }
        };
        // If this request's client goes away while it computes, another
        // request waiting on the same cell takes over (OnceCell's contract).
        cell.get_or_try_init(|| self.run(compute)).await.cloned()
    }

    /// Run `compute` on a blocking thread once a worker is free.
    pub async fn run<R: Send + 'static>(
        &self,
        compute: impl FnOnce(&Cancel) -> anyhow::Result<R> + Send + 'static,
    ) -> Result<R, Refused> {
        let stopping = || self.stopping.load(Ordering::Relaxed);
        if stopping() {
            return Err(Refused::Stopping);
        }
        // Enter the queue, or refuse when it is full.
        if self.queued.fetch_add(1, Ordering::SeqCst) >= self.max_queued {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(Refused::Busy);
        }
        let permit = self.permits.clone().acquire_owned().await;
        self.queued.fetch_sub(1, Ordering::SeqCst);
        let permit = permit.map_err(|_| Refused::Stopping)?;
        if stopping() {
            return Err(Refused::Stopping);
        }
        let cancel = Cancel { own: Arc::new(AtomicBool::new(false)), stopping: self.stopping.clone() };
        let mut guard = CancelOnDrop(Some(cancel.own.clone()));
        let handle = tokio::task::spawn_blocking(move || {
            // The permit is held until the work really ends, so at most
            // `workers` computations occupy threads, cancelled or not.
            let _permit = permit;
            cancel.check()?;
            compute(&cancel)
        });
        let out = handle.await;
        guard.0 = None;
        match out {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(Refused::Failed(e)),
            Err(e) => Err(Refused::Failed(anyhow::anyhow!("the computation failed: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    /// However many ask at once, a page is computed once per generation;
    /// a new generation computes it again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn computed_once_per_generation() {
        let work: Arc<Work<u64>> = Arc::new(Work::new(2, 100, 10));
        let runs = Arc::new(AtomicUsize::new(0));
        let ask = |generation: u64| {
            let (work, runs) = (work.clone(), runs.clone());
            tokio::spawn(async move {
                work.cached("page".into(), generation, move |_| {
                    runs.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(50));
                    Ok(generation * 10)
                })
                .await
                .ok()
            })
        };
        let answers: Vec<_> = (0..20).map(|_| ask(1)).collect();
        for a in answers {
            assert_eq!(a.await.unwrap(), Some(10));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(ask(2).await.unwrap(), Some(20));
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    /// Wait until `cond` holds (a state another task reaches, not a time).
    async fn until(cond: impl Fn() -> bool) {
        while !cond() {
            tokio::task::yield_now().await;
        }
    }

    /// Beyond the queue the answer is "busy" at once; the queue still drains.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_refuses() {
        let work: Arc<Work> = Arc::new(Work::new(1, 2, 0));
        let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let w = work.clone();
        let running = tokio::spawn(async move {
            w.run(move |_| {
                started_tx.send(()).ok();
                release_rx.recv().ok();
                Ok(())
            })
            .await
        });
        tokio::task::spawn_blocking(move || started_rx.recv()).await.unwrap().unwrap();
        let queued: Vec<_> = (0..2)
            .map(|_| {
                let w = work.clone();
                tokio::spawn(async move { w.run(|_| Ok(())).await })
            })
            .collect();
        until(|| work.queued.load(Ordering::SeqCst) == 2).await;
        assert!(matches!(work.run(|_| Ok(())).await, Err(Refused::Busy)), "the third waiter is refused");
        release_tx.send(()).unwrap();
        assert!(running.await.unwrap().is_ok());
        for q in queued {
            assert!(q.await.unwrap().is_ok());
        }
    }

    /// A client that goes away cancels its computation: the flag is set and
    /// the work stops at its next check, and the worker is free again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn abandoned_work_is_cancelled() {
        let work: Arc<Work> = Arc::new(Work::new(1, 10, 0));
        let (step_tx, step_rx) = std::sync::mpsc::channel::<usize>();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<usize>();
        let w = work.clone();
        let client = tokio::spawn(async move {
            w.run(move |cancel| {
                for i in 0..1_000_000 {
                    if cancel.is_set() {
                        done_tx.send(i).ok();
                        anyhow::bail!("cancelled");
                    }
                    step_tx.send(i).ok();
                    std::thread::yield_now();
                }
                done_tx.send(1_000_000).ok();
                Ok(())
            })
            .await
        });
        tokio::task::spawn_blocking(move || step_rx.recv()).await.unwrap().unwrap();
        client.abort();
        let steps = tokio::task::spawn_blocking(move || done_rx.recv()).await.unwrap().unwrap();
        assert!(steps < 1_000_000, "stopped at its next check");
        assert!(work.run(|_| Ok(())).await.is_ok(), "the worker is free again");
    }

    /// After `stop`, nothing new runs.
    #[tokio::test]
    async fn stopped_refuses() {
        let work: Work = Work::new(1, 10, 0);
        work.stop();
        assert!(matches!(work.run(|_| Ok(())).await, Err(Refused::Stopping)));
    }
}
