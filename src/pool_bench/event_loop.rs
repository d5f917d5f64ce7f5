//! One worker's event loop, emulated without burning this machine's CPU.
//!
//! A worker of the application (a uvicorn or gunicorn process) runs all its requests on one
//! single-threaded asyncio loop: while SQLAlchemy and the driver build a statement or handle its
//! answer, no other request of that worker moves, and answers that arrived meanwhile wait in the
//! socket. pool-bench gives each worker one thread with a one-thread runtime that drives that
//! worker's requests and connections, and [`EventLoop`] blocks that thread for the
//! application's time — before each round trip (`--app-cpu-us`), for each connection it opens
//! (`--app-connect-ms`) and for the handler's own work (`--handler-ms`) — by sleeping, not spinning: the application does not run on the database's
//! machine in production, so its CPU must not be taken from the server here.
//!
//! Accuracy: a sleep overshoots by the timer's slack (the loop threads set it to 1 ns) and the
//! thread also spends real CPU driving the wire protocol, which is the application's loop time
//! too. Both are carried: each step sleeps for what the loop still owes (the modelled cost minus
//! the thread's own CPU since the last step, minus earlier oversleeping), so the loop's busy time
//! follows the model on average; [`LoopStats::accuracy`] reports how closely.
//!
//! `--app-cpus` below the number of workers makes the workers share that many cores, as the
//! kernel shares them: a loop with work takes a core (waiting for one if none is free) and keeps
//! it while it has work, until its loop goes idle (its runtime parks) or it has run a time slice
//! while another loop waits (EEVDF's base slice, 0.75 ms × (1 + log2 CPUs)). Handing the core
//! over at every step instead made two workers on one core answer far more evenly than two real
//! Python processes do.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::wire::Pace;

/// Cores shared by the workers' loops, when there are fewer than workers.
#[derive(Debug)]
pub(crate) struct Cores {
    free: Mutex<u32>,
    released: Condvar,
    /// Loops waiting for a core.
    waiting: AtomicU32,
    /// How long a loop keeps its core while others wait.
    slice: Duration,
}

impl Cores {
    pub(crate) fn new(count: u32) -> Arc<Cores> {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
        Arc::new(Cores {
            free: Mutex::new(count.max(1)),
            released: Condvar::new(),
            waiting: AtomicU32::new(0),
            slice: Duration::from_micros(750) * (1 + cpus.max(1).ilog2()),
        })
    }

    fn take(&self) {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        self.waiting.fetch_add(1, Ordering::Relaxed);
        while *free == 0 {
            free = self.released.wait(free).unwrap_or_else(|p| p.into_inner());
        }
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        *free -= 1;
    }

    fn give_back(&self) {
        *self.free.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.released.notify_one();
    }
}

/// The modelled application time of one worker, and what the emulation did with it.
#[derive(Debug)]
pub(crate) struct EventLoop {
    round_trip: Duration,
    handler: Duration,
    connect: Duration,
    /// `None`: every worker has a core of its own.
    cores: Option<Arc<Cores>>,
    clock: Mutex<Clock>,
    /// Itself, for the thread's park hook ([`on_park`]).
    this: Weak<EventLoop>,
}

thread_local! {
    /// The event loop whose thread this is, once it has taken a shared core.
    static CURRENT: RefCell<Option<Arc<EventLoop>>> = const { RefCell::new(None) };
}

/// The loop thread's runtime parks (its loop has nothing to do): a shared core it holds goes
/// back, as an idle process leaves the CPU.
pub(crate) fn on_park() {
    CURRENT.with(|current| {
        if let Some(event_loop) = current.borrow().as_ref() {
            event_loop.release_core();
        }
    });
}

#[derive(Debug, Default)]
struct Clock {
    /// What the loop still owes the model (negative: ahead of it), in nanoseconds.
    owed_ns: i64,
    /// Since when the loop has held a shared core, while it does.
    core_since: Option<Instant>,
    /// The thread's CPU time at the end of the previous step.
    last_cpu: Option<Duration>,
    stats: LoopStats,
}

/// One worker loop's accounting.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct LoopStats {
    /// The application's time the model asked for.
    pub(crate) modelled: Duration,
    /// Time the loop was blocked for it: slept, plus the thread's own CPU counted against it.
    pub(crate) busy: Duration,
    /// Time spent waiting for a shared core (`--app-cpus`).
    pub(crate) core_wait: Duration,
    pub(crate) steps: u64,
}

impl LoopStats {
    /// busy ÷ modelled: 1.0 when the emulation blocked the loop exactly as long as the model
    /// asked; `None` before any modelled time.
    pub(crate) fn accuracy(&self) -> Option<f64> {
        (!self.modelled.is_zero()).then(|| self.busy.as_secs_f64() / self.modelled.as_secs_f64())
    }

    pub(crate) fn add(&mut self, other: &LoopStats) {
        self.modelled += other.modelled;
        self.busy += other.busy;
        self.core_wait += other.core_wait;
        self.steps += other.steps;
    }
}

impl EventLoop {
    pub(crate) fn new(
        round_trip: Duration,
        handler: Duration,
        connect: Duration,
        cores: Option<Arc<Cores>>,
    ) -> Arc<EventLoop> {
        Arc::new_cyclic(|this| EventLoop {
            round_trip,
            handler,
            connect,
            cores,
            clock: Mutex::new(Clock::default()),
            this: this.clone(),
        })
    }

    pub(crate) fn stats(&self) -> LoopStats {
        self.clock.lock().unwrap_or_else(|p| p.into_inner()).stats
    }

    /// Blocks the calling (loop) thread for `cost` of the application's time, less what the
    /// thread already spent and what earlier sleeps overshot.
    fn block(&self, cost: Duration) {
        let mut clock = self.clock.lock().unwrap_or_else(|p| p.into_inner());
        let now_cpu = thread_cpu_time();
        let own = match (clock.last_cpu, now_cpu) {
            (Some(last), Some(now)) => now.saturating_sub(last),
            _ => Duration::ZERO,
        };
        clock.stats.modelled += cost;
        clock.stats.steps += 1;
        clock.stats.busy += own;
        clock.owed_ns += nanos(cost) - nanos(own);
        if clock.owed_ns <= 0 {
            // Nothing to sleep: the clock just read is the step's end.
            clock.last_cpu = now_cpu;
            return;
        }
        if let Some(cores) = &self.cores
            && clock.core_since.is_none()
        {
            if let Some(this) = self.this.upgrade() {
                CURRENT.with(|current| *current.borrow_mut() = Some(this));
            }
            let waiting = Instant::now();
            cores.take();
            clock.stats.core_wait += waiting.elapsed();
            clock.core_since = Some(Instant::now());
        }
        let started = Instant::now();
        std::thread::sleep(Duration::from_nanos(clock.owed_ns as u64));
        let slept = started.elapsed();
        clock.stats.busy += slept;
        clock.owed_ns -= nanos(slept);
        // Its slice is up and another loop waits: the scheduler hands the core over.
        if let (Some(cores), Some(since)) = (&self.cores, clock.core_since)
            && since.elapsed() >= cores.slice
            && cores.waiting.load(Ordering::Relaxed) > 0
        {
            cores.give_back();
            clock.core_since = None;
        }
        clock.last_cpu = thread_cpu_time();
    }

    /// Starts the accounting again; what the loop owes is kept.
    pub(crate) fn reset_stats(&self) {
        self.clock.lock().unwrap_or_else(|p| p.into_inner()).stats = LoopStats::default();
    }

    /// Gives a shared core back, if the loop holds one.
    pub(crate) fn release_core(&self) {
        let mut clock = self.clock.lock().unwrap_or_else(|p| p.into_inner());
        if let (Some(cores), Some(_)) = (&self.cores, clock.core_since.take()) {
            cores.give_back();
        }
    }
}

impl Pace for EventLoop {
    fn round_trip(&self) {
        self.block(self.round_trip);
    }

    fn handler(&self) {
        if !self.handler.is_zero() {
            self.block(self.handler);
        }
    }

    fn connect(&self) {
        if !self.connect.is_zero() {
            self.block(self.connect);
        }
    }
}

fn nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}

/// The calling thread's CPU time (user and system); `None` where the clock is unavailable.
fn thread_cpu_time() -> Option<Duration> {
    let mut time = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which `time` is.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut time) };
    (status == 0).then(|| Duration::new(time.tv_sec as u64, time.tv_nsec as u32))
}

/// Makes the calling thread's sleeps end as close to their deadline as the kernel can (Linux's
/// default timer slack adds up to 50 µs to each, a third of a typical round trip's cost).
pub(crate) fn tighten_timer_slack() {
    // SAFETY: PR_SET_TIMERSLACK takes an integer and affects only the calling thread.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loop_is_blocked_at_least_as_long_as_the_model_asks() {
        tighten_timer_slack();
        let event_loop = EventLoop::new(
            Duration::from_micros(150),
            Duration::ZERO,
            Duration::ZERO,
            None,
        );
        let started = Instant::now();
        for _ in 0..200 {
            event_loop.round_trip();
        }
        let stats = event_loop.stats();
        assert_eq!(stats.steps, 200);
        assert_eq!(stats.modelled, Duration::from_micros(30_000));
        // A sleep never ends early and what it overshot is taken off the next one, so the loop
        // owes nothing at the end: busy covers the model, and the wall clock does too.
        assert!(stats.busy >= stats.modelled, "{stats:?}");
        assert!(started.elapsed() >= Duration::from_micros(29_000));
    }

    #[test]
    fn a_handler_without_work_does_not_block() {
        let event_loop = EventLoop::new(
            Duration::from_micros(10),
            Duration::ZERO,
            Duration::ZERO,
            None,
        );
        event_loop.handler();
        assert_eq!(event_loop.stats().steps, 0);
        assert_eq!(event_loop.stats().accuracy(), None);
    }

    #[test]
    fn loops_sharing_one_core_take_turns() {
        let started = Instant::now();
        let cores = Cores::new(1);
        let loops: Vec<_> = (0..2)
            .map(|_| {
                EventLoop::new(
                    Duration::from_millis(2),
                    Duration::ZERO,
                    Duration::ZERO,
                    Some(cores.clone()),
                )
            })
            .collect();
        let threads: Vec<_> = loops
            .iter()
            .map(|event_loop| {
                let event_loop = event_loop.clone();
                std::thread::spawn(move || {
                    for _ in 0..10 {
                        event_loop.round_trip();
                    }
                    on_park();
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        // Each sleep holds the one core, so the 20 steps of 2 ms never overlapped.
        assert!(started.elapsed() >= Duration::from_millis(40));
        assert_eq!(loops.iter().map(|l| l.stats().steps).sum::<u64>(), 20);
    }
}
