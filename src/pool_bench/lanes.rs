//! The threads the simulated clients run on, as pgbench's `-j`: lane 0 is the calling runtime's
//! thread (which also runs the monitor), each further lane a thread with a one-thread runtime of
//! its own. A client stays on its lane; connections it opens are driven by that lane's reactor.
//! On a machine whose cores the server shares, one client thread leaves a core idle while it
//! waits (measured: one lane ~0.7x of `pgbench -j 2`, as `pgbench -j 1` is).
//!
//! Under the application model every lane is a thread of its own, one per worker: its runtime
//! is that worker's event loop, which the model blocks (`event_loop`), so the calling runtime
//! (the monitor's) is never one of them. Its tasks run in asyncio's order (`asyncio_order`).

use std::thread::JoinHandle;

use std::future::Future;
use std::pin::Pin;

use tokio::runtime::Handle;
use tokio::sync::oneshot;

use super::asyncio_order::Iterations;

pub(super) struct Lanes {
    handles: Vec<Handle>,
    /// Per lane, under the application model: the order its event loop runs tasks in.
    iterations: Vec<Option<Iterations>>,
    threads: Vec<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl Lanes {
    /// `count` lanes (at least one); call inside the runtime that becomes lane 0, or, with
    /// `event_loops`, each lane a worker's loop on a thread of its own.
    pub(super) fn start(count: usize, event_loops: bool) -> std::io::Result<Lanes> {
        let mut lanes = Lanes {
            handles: Vec::new(),
            iterations: Vec::new(),
            threads: Vec::new(),
        };
        let first = if event_loops {
            0
        } else {
            lanes.handles.push(Handle::current());
            lanes.iterations.push(None);
            1
        };
        for lane in first..count.max(1) {
            // The runtime is built and dropped on its own thread: dropping one inside this
            // (async) thread would panic if the thread could not be started.
            let (handle_sender, handle_receiver) = std::sync::mpsc::channel();
            let (stop, stopped) = oneshot::channel::<()>();
            let iterations = event_loops.then(Iterations::default);
            lanes.iterations.push(iterations.clone());
            let thread = std::thread::Builder::new()
                .name(format!("dbtool-lane-{lane}"))
                .spawn(move || {
                    if event_loops {
                        super::event_loop::tighten_timer_slack();
                    }
                    let mut builder = tokio::runtime::Builder::new_current_thread();
                    builder.enable_all();
                    if event_loops {
                        // I/O and timers are polled between two of the loop's iterations.
                        builder
                            .on_thread_park(super::event_loop::on_park)
                            .event_interval(1);
                    }
                    let runtime = match builder.build() {
                        Ok(runtime) => runtime,
                        Err(error) => {
                            let _ = handle_sender.send(Err(error));
                            return;
                        }
                    };
                    let _ = handle_sender.send(Ok(runtime.handle().clone()));
                    runtime.block_on(async {
                        if let Some(iterations) = iterations {
                            tokio::spawn(iterations.run());
                        }
                        let _ = stopped.await;
                    });
                    if event_loops {
                        // A loop that stops holding a shared core must not keep the others
                        // from stopping.
                        super::event_loop::on_park();
                    }
                    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
                })?;
            let handle = handle_receiver
                .recv()
                .map_err(|_| std::io::Error::other("a client thread ended before starting"))??;
            lanes.handles.push(handle);
            lanes.threads.push((stop, thread));
        }
        Ok(lanes)
    }

    pub(super) fn len(&self) -> usize {
        self.handles.len()
    }

    /// Lane `lane`, to start tasks on.
    pub(super) fn lane(&self, lane: usize) -> Lane {
        let index = lane % self.handles.len();
        Lane {
            handle: self.handles[index].clone(),
            iterations: self.iterations[index].clone(),
        }
    }

    /// Stops the extra lanes' runtimes and waits for their threads.
    pub(super) fn stop(self) {
        for (stop, thread) in self.threads {
            let _ = stop.send(());
            let _ = thread.join();
        }
    }
}

/// One lane, to start tasks on: on its runtime and, under the application model, in its event
/// loop's order.
#[derive(Clone)]
pub(super) struct Lane {
    handle: Handle,
    iterations: Option<Iterations>,
}

impl Lane {
    fn wrap(
        &self,
        future: impl Future<Output = ()> + Send + 'static,
    ) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        match &self.iterations {
            Some(iterations) => Box::pin(iterations.submit(future)),
            None => Box::pin(future),
        }
    }

    /// Starts `future`; aborting the task cancels it.
    pub(super) fn spawn(
        &self,
        future: impl Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        self.handle.spawn(self.wrap(future))
    }

    /// Starts `future` in `set`.
    pub(super) fn spawn_in(
        &self,
        set: &mut tokio::task::JoinSet<()>,
        future: impl Future<Output = ()> + Send + 'static,
    ) {
        set.spawn_on(self.wrap(future), &self.handle);
    }
}
