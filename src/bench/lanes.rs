//! The threads the simulated clients run on, as pgbench's `-j`: lane 0 is the calling runtime's
//! thread (which also runs the monitor), each further lane a thread with a one-thread runtime of
//! its own. A client stays on its lane; connections it opens are driven by that lane's reactor.
//! On a machine whose cores the server shares, one client thread leaves a core idle while it
//! waits (measured: one lane ~0.7x of `pgbench -j 2`, as `pgbench -j 1` is).
//!
//! Under the application model every lane is a thread of its own, one per worker: its runtime
//! is that worker's event loop, which the model blocks (`event_loop`), so the calling runtime
//! (the monitor's) is never one of them.

use std::thread::JoinHandle;

use tokio::runtime::Handle;
use tokio::sync::oneshot;

pub(super) struct Lanes {
    handles: Vec<Handle>,
    threads: Vec<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl Lanes {
    /// `count` lanes (at least one); call inside the runtime that becomes lane 0, or, with
    /// `event_loops`, each lane a worker's loop on a thread of its own.
    pub(super) fn start(count: usize, event_loops: bool) -> std::io::Result<Lanes> {
        let mut lanes = Lanes {
            handles: Vec::new(),
            threads: Vec::new(),
        };
        let first = if event_loops {
            0
        } else {
            lanes.handles.push(Handle::current());
            1
        };
        for lane in first..count.max(1) {
            // The runtime is built and dropped on its own thread: dropping one inside this
            // (async) thread would panic if the thread could not be started.
            let (handle_sender, handle_receiver) = std::sync::mpsc::channel();
            let (stop, stopped) = oneshot::channel::<()>();
            let thread = std::thread::Builder::new()
                .name(format!("dbtool-lane-{lane}"))
                .spawn(move || {
                    if event_loops {
                        super::event_loop::tighten_timer_slack();
                    }
                    let mut builder = tokio::runtime::Builder::new_current_thread();
                    builder.enable_all();
                    if event_loops {
                        builder.on_thread_park(super::event_loop::on_park);
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

    pub(super) fn handle(&self, lane: usize) -> &Handle {
        &self.handles[lane % self.handles.len()]
    }

    /// Stops the extra lanes' runtimes and waits for their threads.
    pub(super) fn stop(self) {
        for (stop, thread) in self.threads {
            let _ = stop.send(());
            let _ = thread.join();
        }
    }
}
