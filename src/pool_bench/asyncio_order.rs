//! The order in which an asyncio event loop runs its coroutines, for the application model's
//! workers: tokio's current-thread scheduler runs woken tasks first come, first served too,
//! but it polls for I/O only when its queue is empty (or every 61 tasks), where asyncio's
//! `_run_once` runs in iterations: every callback ready at the start of an iteration, in order;
//! then one poll for I/O and due timers, whose callbacks join the end of the queue, behind
//! those the iteration made ready. Which coroutine runs first decides who gets a connection
//! that comes back to SQLAlchemy's pool (see `pool`: the woken waiter, or a request that runs
//! before it), and that is what stretches the application's latency tail.
//!
//! So each worker's tasks run in [`Iterations`]: one tokio task that polls, per turn, the
//! tasks that were ready when the turn began, then yields to its runtime, which (built with
//! `event_interval(1)`) polls I/O and timers before polling it again.
//!
//! Measured against the real application (SQLAlchemy 2.1.9 + asyncpg 0.32, one worker, 30
//! clients on pool 5+10, `pg_sleep(0.005)`): its pool's waiters were overtaken 0.39 times per
//! wait, pool-bench's 0.37 in these iterations and none in tokio's own order, where the p99
//! came out at 0.4x the application's (0.93x here). asyncio hands a response to its coroutine
//! one iteration after reading it (the transport's callback resolves a future); modelling that
//! extra turn brought the overtaking down to 0.16 per wait and pool-bench's p99 from 32.6 to
//! 25.2 ms (the application's: 46 ms), so it is not modelled.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use tokio::sync::oneshot;

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One worker's event loop order: tasks submitted here run in asyncio's iterations.
#[derive(Clone, Default)]
pub(super) struct Iterations {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    /// Tasks woken, in the order they were woken (asyncio's `_ready`).
    ready: Mutex<VecDeque<Arc<LoopTask>>>,
    /// The task that runs the iterations, woken when a task becomes ready.
    driver: Mutex<Option<Waker>>,
}

struct LoopTask {
    shared: Arc<Shared>,
    future: Mutex<Option<Task>>,
    /// In `ready` already (a task is queued once however often it is woken).
    queued: AtomicBool,
    /// Its handle was dropped (the load was aborted): drop the future instead of polling it.
    cancelled: AtomicBool,
    done: Mutex<Option<oneshot::Sender<()>>>,
}

impl Wake for LoopTask {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            self.shared.ready_push(self.clone());
        }
    }
}

impl Shared {
    fn ready_push(&self, entry: Arc<LoopTask>) {
        self.ready
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(entry);
        let driver = self
            .driver
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(driver) = driver {
            driver.wake();
        }
    }
}

/// A submitted task: completes when the task has; dropping it cancels the task.
pub(super) struct Submitted {
    entry: Arc<LoopTask>,
    done: oneshot::Receiver<()>,
}

impl Future for Submitted {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.done).poll(cx).map(|_| ())
    }
}

impl Drop for Submitted {
    fn drop(&mut self) {
        let finished = self
            .entry
            .future
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none();
        if !finished && !self.entry.cancelled.swap(true, Ordering::AcqRel) {
            Wake::wake_by_ref(&self.entry);
        }
    }
}

impl Iterations {
    /// Runs `future` in this loop's order (its first step in the next iteration, as
    /// `asyncio.create_task` schedules it). Spawn the result on the loop's runtime.
    pub(super) fn submit(&self, future: impl Future<Output = ()> + Send + 'static) -> Submitted {
        let (done_tx, done) = oneshot::channel();
        let entry = Arc::new(LoopTask {
            shared: self.shared.clone(),
            future: Mutex::new(Some(Box::pin(future))),
            queued: AtomicBool::new(true),
            cancelled: AtomicBool::new(false),
            done: Mutex::new(Some(done_tx)),
        });
        self.shared.ready_push(entry.clone());
        Submitted { entry, done }
    }

    /// Runs the iterations, forever: run it on the loop's runtime (built with
    /// `event_interval(1)`, so I/O and timers are polled between two iterations).
    pub(super) async fn run(self) {
        std::future::poll_fn(|cx| {
            *self.shared.driver.lock().unwrap_or_else(|p| p.into_inner()) =
                Some(cx.waker().clone());
            let batch: Vec<Arc<LoopTask>> = self
                .shared
                .ready
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .drain(..)
                .collect();
            for entry in batch {
                entry.queued.store(false, Ordering::Release);
                step(&entry);
            }
            let more = !self
                .shared
                .ready
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_empty();
            if more {
                // The next iteration after the runtime's poll for I/O and timers.
                cx.waker().wake_by_ref();
            }
            Poll::<()>::Pending
        })
        .await
    }
}

/// Polls one task once (drops it when cancelled), and signals its end.
fn step(entry: &Arc<LoopTask>) {
    let mut slot = entry.future.lock().unwrap_or_else(|p| p.into_inner());
    let Some(future) = slot.as_mut() else {
        return;
    };
    let finished = entry.cancelled.load(Ordering::Acquire) || {
        let waker = Waker::from(entry.clone());
        future
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready()
    };
    if finished {
        *slot = None;
        drop(slot);
        if let Some(done) = entry.done.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = done.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worker loop's runtime, as `lanes` builds it.
    fn loop_runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .event_interval(1)
            .build()
            .unwrap()
    }

    /// A task woken during an iteration runs in the next one, in the order tasks were woken:
    /// b waits for a; a wakes b, then yields; b goes on before a does.
    #[test]
    fn tasks_run_in_iterations_in_wake_order() {
        let runtime = loop_runtime();
        let log = Arc::new(Mutex::new(Vec::new()));
        runtime.block_on(async {
            let iterations = Iterations::default();
            let driver = tokio::spawn(iterations.clone().run());
            let (wake_b, woken_b) = oneshot::channel::<()>();
            let b = {
                let log = log.clone();
                iterations.submit(async move {
                    log.lock().unwrap().push("b1");
                    let _ = woken_b.await;
                    log.lock().unwrap().push("b2");
                })
            };
            let a = {
                let log = log.clone();
                iterations.submit(async move {
                    log.lock().unwrap().push("a1");
                    let _ = wake_b.send(());
                    crate::driver::loop_turn().await;
                    log.lock().unwrap().push("a2");
                })
            };
            a.await;
            b.await;
            driver.abort();
        });
        assert_eq!(*log.lock().unwrap(), ["b1", "a1", "b2", "a2"]);
    }

    /// I/O is polled between two iterations: a response that arrives while a task keeps
    /// yielding is read in the next iteration, not after the yielding is over (tokio's own
    /// order polls for I/O only when nothing else is ready).
    #[test]
    fn io_is_polled_between_iterations() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let runtime = loop_runtime();
        let log = Arc::new(Mutex::new(Vec::new()));
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            let (mut client, accepted) = tokio::join!(
                async { tokio::net::TcpStream::connect(address).await.unwrap() },
                async { listener.accept().await.unwrap().0 }
            );
            let mut server = accepted;
            let iterations = Iterations::default();
            let driver = tokio::spawn(iterations.clone().run());
            let reader = {
                let log = log.clone();
                iterations.submit(async move {
                    let mut byte = [0u8; 1];
                    server.read_exact(&mut byte).await.unwrap();
                    log.lock().unwrap().push("read".to_string());
                })
            };
            let writer = {
                let log = log.clone();
                iterations.submit(async move {
                    client.write_all(b"x").await.unwrap();
                    for turn in 0..4 {
                        log.lock().unwrap().push(format!("turn {turn}"));
                        crate::driver::loop_turn().await;
                    }
                })
            };
            writer.await;
            reader.await;
            driver.abort();
        });
        assert_eq!(
            *log.lock().unwrap(),
            ["turn 0", "turn 1", "read", "turn 2", "turn 3"]
        );
    }

    #[test]
    fn a_dropped_handle_cancels_its_task() {
        let runtime = loop_runtime();
        let ran = Arc::new(AtomicBool::new(false));
        runtime.block_on(async {
            let iterations = Iterations::default();
            let driver = tokio::spawn(iterations.clone().run());
            let flag = ran.clone();
            let handle = iterations.submit(async move {
                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                flag.store(true, Ordering::Release);
            });
            tokio::task::yield_now().await;
            drop(handle);
            let entry_gone = iterations.submit(async {});
            entry_gone.await;
            driver.abort();
        });
        assert!(!ran.load(Ordering::Acquire));
    }
}
