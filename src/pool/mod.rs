//! A connection pool with SQLAlchemy's QueuePool semantics, over connections the application's
//! driver model opens (`driver`: its startup parameters, its pre-ping, its statement cache):
//!
//! - up to `pool_size` idle connections are kept; under load up to `max_overflow` more are opened
//!   (`None`: no limit), and a connection returned while `pool_size` already sit idle is closed;
//! - a checkout that finds the pool at its limit waits at most `pool_timeout`, then fails with
//!   SQLAlchemy's message ("QueuePool limit of size 5 overflow 10 reached, ...");
//! - waiting is SQLAlchemy's queue (`asyncio.Queue`, or `queue.Queue` with its condition): a
//!   returned connection goes into the idle list and wakes the first waiter, and a checkout that
//!   runs before the woken waiter does takes it; the waiter then finds the list empty and queues
//!   again, at the back. Measured in the real SQLAlchemy 2.1.9 + asyncpg application at 30
//!   clients on 15 connections: a fifth of the waits are overtaken like this, some five times,
//!   which is what stretches its latency's tail (a first-come, first-served queue does not);
//! - a checkout waiting in that queue waits for a connection to come back and nothing else: a
//!   connection closed at its checkin because pool_size already sit idle (the queue is full)
//!   wakes nobody, and the room it leaves goes to the next new checkout, which opens a
//!   connection (`QueuePool._do_return_conn` and `_do_get` in SQLAlchemy 2.1);
//! - a connection older than `pool_recycle` is replaced at checkout;
//! - with `pre_ping`, a reused connection gets the driver's ping at checkout; a dead one is replaced
//!   transparently, and, as SQLAlchemy does, every connection opened before it is then replaced
//!   on its next checkout (the server probably restarted);
//! - idle connections are handed out FIFO, or LIFO with `use_lifo`.
//!
//! Checkouts name the lane (the thread) they run on: a connection lives on the lane that opened
//! it and goes back to that lane's idle list, and a checkout takes from its own lane first, then
//! from the others. Limits, waiting and counts are the pool's, across lanes; only which idle
//! connection is handed out prefers the lane, so a connection's socket is mostly driven by the
//! thread whose reactor it is registered with.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::conn::plan::ConnectionPlan;
use crate::driver::{Connection, DriverModel};

/// QueuePool's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PoolSettings {
    pub(crate) pool_size: u32,
    /// `None`: no overflow limit (`max_overflow = -1`).
    pub(crate) max_overflow: Option<u32>,
    pub(crate) pool_timeout: Duration,
    /// `None`: never recycled.
    pub(crate) pool_recycle: Option<Duration>,
    pub(crate) pre_ping: bool,
    pub(crate) use_lifo: bool,
}

impl PoolSettings {
    /// pool_size + max_overflow, `None` without a limit.
    pub(crate) fn capacity(&self) -> Option<u32> {
        self.max_overflow
            .map(|overflow| self.pool_size.saturating_add(overflow))
    }
}

/// Why a checkout failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CheckoutError {
    /// No connection within pool_timeout.
    Timeout(String),
    /// Opening a connection failed (SQLSTATE when the server said why).
    Connect {
        code: Option<String>,
        message: String,
    },
}

/// Counters the report is made of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PoolCounters {
    pub(crate) created: u64,
    pub(crate) closed_overflow: u64,
    pub(crate) closed_recycle: u64,
    pub(crate) closed_pre_ping: u64,
    pub(crate) closed_broken: u64,
    pub(crate) peak_open: u64,
    pub(crate) peak_in_use: u64,
    pub(crate) peak_waiting: u64,
    /// Checkouts that found the pool at its limit and waited for a connection to come back.
    pub(crate) queued: u64,
    /// Times a woken waiter found its connection taken by a checkout that ran first, and
    /// queued again at the back.
    pub(crate) overtaken: u64,
    pub(crate) timeouts: u64,
}

/// The pool's state at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PoolStatus {
    pub(crate) pool_size: u32,
    pub(crate) idle: u64,
    pub(crate) in_use: u64,
    pub(crate) open: u64,
    pub(crate) waiting: u64,
}

impl PoolStatus {
    /// SQLAlchemy's `_overflow`: open connections beyond pool_size (negative while below it).
    pub(crate) fn overflow(&self) -> i64 {
        self.open as i64 - i64::from(self.pool_size)
    }

    /// `QueuePool.status()`.
    pub(crate) fn sqlalchemy_line(&self) -> String {
        format!(
            "Pool size: {}  Connections in pool: {} Current Overflow: {} Current Checked out connections: {}",
            self.pool_size,
            self.idle,
            self.overflow(),
            self.in_use
        )
    }
}

struct Idle {
    connection: Connection,
    created: Instant,
    /// The lane that opened it.
    lane: usize,
}

/// The pool's bookkeeping, over its idle connections (`I`: [`Idle`]; plain numbers in tests).
struct State<I = Idle> {
    /// One idle list per lane.
    idle: Vec<VecDeque<I>>,
    open: u64,
    in_use: u64,
    waiting: u64,
    /// The waiters, first come first; each is woken once, by a connection coming back.
    getters: VecDeque<oneshot::Sender<Wake>>,
    counters: PoolCounters,
    /// Connections opened before this are replaced at checkout (after a failed pre-ping).
    invalidated_before: Option<Instant>,
}

pub(crate) struct QueuePool {
    target: Arc<ConnectionPlan>,
    driver: DriverModel,
    settings: PoolSettings,
    state: Mutex<State>,
    /// Whether the engine's first connection (with the dialect's initialisation) was opened.
    initialized: AtomicBool,
}

/// A checked-out connection; give it back with [`QueuePool::checkin`].
pub(crate) struct PooledConnection {
    pub(crate) connection: Connection,
    /// Round trips the checkout itself cost on this connection (the pre-ping), and its time.
    pub(crate) checkout_round_trips: u64,
    pub(crate) checkout_ping: Duration,
    /// How long the checkout waited for the pool's limit (zero when a connection was free).
    pub(crate) queued: Duration,
    created: Instant,
    lane: usize,
}

/// What the pool offers a checkout.
// Returned and matched at once, never stored: boxing the connection would cost an allocation
// per checkout for nothing.
#[allow(clippy::large_enum_variant)]
enum Offer<I = Idle> {
    /// An idle connection, counted as in use, with the instant before which connections are
    /// invalid (a failed pre-ping).
    Idle(I, Option<Instant>),
    /// Room for a new connection, counted as open and in use already, so the limit holds while
    /// connecting.
    Room,
    /// The pool is at its limit: wait to be woken by a connection coming back.
    Full(oneshot::Receiver<Wake>),
}

/// Why a waiter was woken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wake {
    /// A connection was put back into the queue: take it if it is still there.
    Returned,
    /// A broken connection came back: SQLAlchemy puts its invalidated record back into the
    /// queue and the waiter that takes it reconnects, so the woken waiter may open one.
    Reopen,
}

impl QueuePool {
    /// A pool whose connections the driver opens (with its connect-time settings) on the target.
    pub(crate) fn new(
        target: Arc<ConnectionPlan>,
        settings: PoolSettings,
        driver: DriverModel,
        lanes: usize,
    ) -> QueuePool {
        QueuePool {
            target,
            driver,
            settings,
            state: Mutex::new(State::new(lanes)),
            initialized: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn status(&self) -> PoolStatus {
        let state = self.lock();
        PoolStatus {
            pool_size: self.settings.pool_size,
            idle: state.idle_count(),
            in_use: state.in_use,
            open: state.open,
            waiting: state.waiting,
        }
    }

    pub(crate) fn counters(&self) -> PoolCounters {
        self.lock().counters
    }

    /// Starts the counters again (after a warm-up): the peaks from the current state.
    pub(crate) fn reset_counters(&self) {
        let mut state = self.lock();
        state.counters = PoolCounters {
            peak_open: state.open,
            peak_in_use: state.in_use,
            peak_waiting: state.waiting,
            ..PoolCounters::default()
        };
    }

    fn timeout_message(&self) -> String {
        let overflow = self.settings.max_overflow.map_or(-1, i64::from);
        format!(
            "QueuePool limit of size {} overflow {overflow} reached, connection timed out, timeout {:.2}",
            self.settings.pool_size,
            self.settings.pool_timeout.as_secs_f64()
        )
    }

    /// Checks a connection out for `lane`, waiting at most pool_timeout for one.
    ///
    /// As SQLAlchemy's `QueuePool._do_get`: a checkout that finds the pool at its limit waits
    /// in the queue until a connection is put back, and keeps waiting there — it does not
    /// open one when room appears meanwhile (an overflow connection closed at its checkin
    /// wakes nobody); the checkouts that come after it do.
    pub(crate) async fn checkout(&self, lane: usize) -> Result<PooledConnection, CheckoutError> {
        let mut waited: Option<Instant> = None;
        // Whether this checkout may open a connection: not while it waits in the queue,
        // unless it replaces a connection found unusable or broken.
        let mut may_open = true;
        loop {
            let (idle, invalidated_before) = match self.find(lane, may_open) {
                Offer::Idle(idle, invalidated_before) => (idle, invalidated_before),
                Offer::Room => {
                    let queued = waited.map_or(Duration::ZERO, |started| started.elapsed());
                    return self.open(lane).await.map(|mut connection| {
                        connection.queued = queued;
                        connection
                    });
                }
                Offer::Full(woken) => {
                    let started = match waited {
                        Some(started) => {
                            self.lock().counters.overtaken += 1;
                            started
                        }
                        None => {
                            self.lock().counters.queued += 1;
                            *waited.insert(Instant::now())
                        }
                    };
                    may_open = self.wait(woken, started).await? == Wake::Reopen;
                    continue;
                }
            };
            let queued = waited.map_or(Duration::ZERO, |started| started.elapsed());
            let mut idle = idle;
            if let Some(reason) = self.unusable(&idle, invalidated_before) {
                self.discard(reason);
                may_open = true;
                continue;
            }
            let before = idle.connection.session.round_trips;
            let mut checkout_ping = Duration::ZERO;
            if self.settings.pre_ping {
                let ping_started = Instant::now();
                if self.driver.pre_ping(&mut idle.connection).await.is_err() {
                    self.lock().invalidated_before = Some(Instant::now());
                    self.discard(Reason::PrePing);
                    may_open = true;
                    continue;
                }
                checkout_ping = ping_started.elapsed();
            }
            return Ok(PooledConnection {
                checkout_round_trips: idle.connection.session.round_trips - before,
                checkout_ping,
                queued,
                connection: idle.connection,
                created: idle.created,
                lane: idle.lane,
            });
        }
    }

    /// Waits, counted as waiting, until woken or until pool_timeout after `started` (the first
    /// time this checkout found the pool full), then fails with SQLAlchemy's message.
    async fn wait(
        &self,
        woken: oneshot::Receiver<Wake>,
        started: Instant,
    ) -> Result<Wake, CheckoutError> {
        {
            let mut state = self.lock();
            state.waiting += 1;
            state.counters.peak_waiting = state.counters.peak_waiting.max(state.waiting);
        }
        let deadline = tokio::time::Instant::from_std(started + self.settings.pool_timeout);
        let result = tokio::time::timeout_at(deadline, woken).await;
        let mut state = self.lock();
        state.waiting -= 1;
        match result {
            Ok(Ok(wake)) => Ok(wake),
            // Its waker was dropped unsent (the pool is going away): let it look again.
            Ok(Err(_)) => Ok(Wake::Reopen),
            Err(_) => {
                state.counters.timeouts += 1;
                drop(state);
                Err(CheckoutError::Timeout(self.timeout_message()))
            }
        }
    }

    /// The next idle connection (FIFO, or LIFO with `use_lifo`) from `lane` first, else room for
    /// a new one below the limit (if `may_open`), else a place at the back of the waiters' queue.
    fn find(&self, lane: usize, may_open: bool) -> Offer {
        self.lock().offer(&self.settings, lane, may_open)
    }

    /// Opens the connection [`find`](Self::find) made room for; a failure uncounts it (and, as
    /// SQLAlchemy's `_dec_overflow`, wakes nobody).
    async fn open(&self, lane: usize) -> Result<PooledConnection, CheckoutError> {
        let first = !self.initialized.swap(true, Ordering::AcqRel);
        match self.driver.connect(&self.target, first).await {
            Ok(connection) => {
                self.lock().counters.created += 1;
                Ok(PooledConnection {
                    connection,
                    checkout_round_trips: 0,
                    checkout_ping: Duration::ZERO,
                    queued: Duration::ZERO,
                    created: Instant::now(),
                    lane: lane % self.lock().idle.len(),
                })
            }
            Err(error) => {
                if first {
                    // SQLAlchemy runs the first-connect hook again until it succeeds once.
                    self.initialized.store(false, Ordering::Release);
                }
                let mut state = self.lock();
                state.open -= 1;
                state.in_use -= 1;
                drop(state);
                Err(CheckoutError::Connect {
                    code: error.code().map(str::to_string),
                    message: error.to_string(),
                })
            }
        }
    }

    /// Why an idle connection must be replaced before any ping: older than pool_recycle
    /// (recycle), opened before a failed pre-ping, or closed (pre-ping).
    /// `invalidated_before` is read under the same lock that took the connection.
    fn unusable(&self, idle: &Idle, invalidated_before: Option<Instant>) -> Option<Reason> {
        let stale = self
            .settings
            .pool_recycle
            .is_some_and(|recycle| idle.created.elapsed() >= recycle);
        let invalidated = invalidated_before.is_some_and(|before| idle.created < before);
        if stale || invalidated || idle.connection.session.is_closed() {
            Some(if stale {
                Reason::Recycle
            } else {
                Reason::PrePing
            })
        } else {
            None
        }
    }

    /// Returns a connection: kept while fewer than pool_size sit idle, waking the first waiter,
    /// else closed (overflow), waking nobody (`asyncio.Queue.put_nowait` raised `QueueFull`:
    /// SQLAlchemy closes the connection and only lowers its overflow count). A broken connection is closed and counted, and still wakes
    /// the first waiter, who opens a new one in its place (SQLAlchemy puts the invalidated
    /// record back, and the waiter that takes it reconnects).
    pub(crate) fn checkin(&self, connection: PooledConnection, broken: bool) {
        let PooledConnection {
            connection,
            created,
            lane,
            ..
        } = connection;
        if broken || connection.session.is_closed() {
            self.discard(Reason::Broken);
            self.lock().wake_next(Wake::Reopen);
            return;
        }
        let idle = Idle {
            connection,
            created,
            lane,
        };
        // Closed outside the lock, when dropped.
        let _closed = self.lock().put_back(&self.settings, idle, lane);
    }

    /// Counts a connection closed; the caller has dropped it (which closes its socket).
    fn discard(&self, reason: Reason) {
        let mut state = self.lock();
        state.in_use -= 1;
        state.open -= 1;
        match reason {
            Reason::Recycle => state.counters.closed_recycle += 1,
            Reason::PrePing => state.counters.closed_pre_ping += 1,
            Reason::Broken => state.counters.closed_broken += 1,
        }
    }

    /// Closes every idle connection (the pool's `dispose()`).
    pub(crate) fn dispose(&self) {
        let mut state = self.lock();
        let closed = state.idle_count();
        state.idle.iter_mut().for_each(VecDeque::clear);
        state.open -= closed;
    }
}

impl<I> State<I> {
    fn new(lanes: usize) -> State<I> {
        State {
            idle: (0..lanes.max(1)).map(|_| VecDeque::new()).collect(),
            open: 0,
            in_use: 0,
            waiting: 0,
            getters: VecDeque::new(),
            counters: PoolCounters::default(),
            invalidated_before: None,
        }
    }

    fn idle_count(&self) -> u64 {
        self.idle.iter().map(|list| list.len() as u64).sum()
    }

    /// What a checkout on `lane` gets: see [`QueuePool::find`].
    fn offer(&mut self, settings: &PoolSettings, lane: usize, may_open: bool) -> Offer<I> {
        let lanes = self.idle.len();
        let lifo = settings.use_lifo;
        let idle = (0..lanes)
            .map(|offset| (lane + offset) % lanes)
            .find_map(|lane| {
                let list = &mut self.idle[lane];
                if lifo {
                    list.pop_back()
                } else {
                    list.pop_front()
                }
            });
        let offer = match idle {
            Some(idle) => {
                self.in_use += 1;
                Offer::Idle(idle, self.invalidated_before)
            }
            None if may_open
                && settings
                    .capacity()
                    .is_none_or(|capacity| self.open < u64::from(capacity)) =>
            {
                self.open += 1;
                self.in_use += 1;
                self.counters.peak_open = self.counters.peak_open.max(self.open);
                Offer::Room
            }
            None => {
                let (wake, woken) = oneshot::channel();
                self.getters.push_back(wake);
                return Offer::Full(woken);
            }
        };
        self.counters.peak_in_use = self.counters.peak_in_use.max(self.in_use);
        offer
    }

    /// A connection comes back to `lane`: kept while fewer than pool_size sit idle, waking the
    /// first waiter; else closed (returned, to be dropped), waking nobody.
    fn put_back(&mut self, settings: &PoolSettings, idle: I, lane: usize) -> Option<I> {
        self.in_use -= 1;
        if settings.pool_size == 0 || self.idle_count() < u64::from(settings.pool_size) {
            self.idle[lane].push_back(idle);
            self.wake_next(Wake::Returned);
            None
        } else {
            self.open -= 1;
            self.counters.closed_overflow += 1;
            Some(idle)
        }
    }

    /// Wakes the first waiter still waiting (`asyncio.Queue._wakeup_next`).
    fn wake_next(&mut self, why: Wake) {
        while let Some(wake) = self.getters.pop_front() {
            if wake.send(why).is_ok() {
                break;
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Reason {
    Recycle,
    PrePing,
    Broken,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pool 1 + 1 (capacity 2), pool_timeout 30 s.
    fn one_plus_one() -> PoolSettings {
        PoolSettings {
            pool_size: 1,
            max_overflow: Some(1),
            pool_timeout: Duration::from_secs(30),
            pool_recycle: None,
            pre_ping: false,
            use_lifo: false,
        }
    }

    fn woken(offer: Offer<u32>) -> oneshot::Receiver<Wake> {
        match offer {
            Offer::Full(woken) => woken,
            Offer::Idle(..) => panic!("expected to wait, got an idle connection"),
            Offer::Room => panic!("expected to wait, got room to open one"),
        }
    }

    /// SQLAlchemy's `QueuePool._do_return_conn`: a connection that finds pool_size idle is
    /// closed and `_dec_overflow` wakes nobody, so a checkout already waiting keeps waiting
    /// (it never opens one itself), and the next new checkout opens one in the room made.
    #[test]
    fn an_overflow_closed_at_checkin_wakes_no_waiter() {
        let settings = one_plus_one();
        let mut state = State::<u32>::new(1);
        assert!(matches!(state.offer(&settings, 0, true), Offer::Room));
        assert!(matches!(state.offer(&settings, 0, true), Offer::Room));
        let mut waiter = woken(state.offer(&settings, 0, true));
        let mut second = woken(state.offer(&settings, 0, true));
        assert_eq!(state.put_back(&settings, 1, 0), None, "pool_size 1: kept");
        assert_eq!(waiter.try_recv(), Ok(Wake::Returned));
        // Before the woken waiter runs, the second connection comes back: one sits idle
        // already, so it is closed, and nobody else is woken.
        assert_eq!(
            state.put_back(&settings, 2, 0),
            Some(2),
            "closed as overflow"
        );
        assert!(
            second.try_recv().is_err(),
            "a closed overflow woke a waiter"
        );
        assert_eq!(state.counters.closed_overflow, 1);
        // The woken waiter takes the idle one; the other, still waiting, may not open one
        // although there is room now; a new checkout may.
        assert!(matches!(
            state.offer(&settings, 0, false),
            Offer::Idle(1, None)
        ));
        let _again = woken(state.offer(&settings, 0, false));
        assert!(matches!(state.offer(&settings, 0, true), Offer::Room));
        assert_eq!((state.open, state.in_use), (2, 2));
    }

    /// asyncio.Queue: a returned connection wakes the first waiter, and a checkout that runs
    /// first takes it; the woken waiter then waits again, at the back.
    #[test]
    fn a_checkout_running_before_the_woken_waiter_takes_its_connection() {
        let settings = PoolSettings {
            max_overflow: Some(0),
            ..one_plus_one()
        };
        let mut state = State::<u32>::new(1);
        assert!(matches!(state.offer(&settings, 0, true), Offer::Room));
        let mut first = woken(state.offer(&settings, 0, true));
        let mut second = woken(state.offer(&settings, 0, true));
        assert_eq!(state.put_back(&settings, 7, 0), None);
        assert_eq!(first.try_recv(), Ok(Wake::Returned));
        assert!(second.try_recv().is_err(), "only the first waiter is woken");
        assert!(
            matches!(state.offer(&settings, 0, true), Offer::Idle(7, None)),
            "overtaken"
        );
        let mut first_again = woken(state.offer(&settings, 0, false));
        assert_eq!(state.put_back(&settings, 7, 0), None);
        assert_eq!(second.try_recv(), Ok(Wake::Returned), "now at the front");
        assert!(first_again.try_recv().is_err());
    }

    #[test]
    fn the_status_line_is_sqlalchemys() {
        let status = PoolStatus {
            pool_size: 5,
            idle: 3,
            in_use: 0,
            open: 3,
            waiting: 0,
        };
        assert_eq!(
            status.sqlalchemy_line(),
            "Pool size: 5  Connections in pool: 3 Current Overflow: -2 Current Checked out connections: 0"
        );
        let busy = PoolStatus {
            pool_size: 5,
            idle: 0,
            in_use: 15,
            open: 15,
            waiting: 4,
        };
        assert_eq!(busy.overflow(), 10);
    }
}
