//! A connection pool with SQLAlchemy's QueuePool semantics, over connections the application's
//! driver model opens (`driver`: its startup parameters, its pre-ping, its statement cache):
//!
//! - up to `pool_size` idle connections are kept; under load up to `max_overflow` more are opened
//!   (`None`: no limit), and a connection returned while `pool_size` already sit idle is closed;
//! - a checkout that finds the pool at its limit waits at most `pool_timeout`, then fails with
//!   SQLAlchemy's message ("QueuePool limit of size 5 overflow 10 reached, ...");
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

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::conn::connect::Target;
use crate::driver::{Connection, Driver};

/// QueuePool's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoolSettings {
    pub pool_size: u32,
    /// `None`: no overflow limit (`max_overflow = -1`).
    pub max_overflow: Option<u32>,
    pub pool_timeout: Duration,
    /// `None`: never recycled.
    pub pool_recycle: Option<Duration>,
    pub pre_ping: bool,
    pub use_lifo: bool,
}

impl PoolSettings {
    /// pool_size + max_overflow, `None` without a limit.
    pub fn capacity(&self) -> Option<u32> {
        self.max_overflow
            .map(|overflow| self.pool_size.saturating_add(overflow))
    }
}

/// Why a checkout failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckoutError {
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
pub struct PoolCounters {
    pub created: u64,
    pub closed_overflow: u64,
    pub closed_recycle: u64,
    pub closed_pre_ping: u64,
    pub closed_broken: u64,
    pub peak_open: u64,
    pub peak_in_use: u64,
    pub peak_waiting: u64,
    /// Checkouts that found the pool at its limit and waited for a connection to come back.
    pub queued: u64,
    pub timeouts: u64,
}

/// The pool's state at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStatus {
    pub pool_size: u32,
    pub idle: u64,
    pub in_use: u64,
    pub open: u64,
    pub waiting: u64,
}

impl PoolStatus {
    /// SQLAlchemy's `_overflow`: open connections beyond pool_size (negative while below it).
    pub fn overflow(&self) -> i64 {
        self.open as i64 - i64::from(self.pool_size)
    }

    /// `QueuePool.status()`.
    pub fn sqlalchemy_line(&self) -> String {
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

struct State {
    /// One idle list per lane.
    idle: Vec<VecDeque<Idle>>,
    open: u64,
    in_use: u64,
    waiting: u64,
    counters: PoolCounters,
    /// Connections opened before this are replaced at checkout (after a failed pre-ping).
    invalidated_before: Option<Instant>,
}

pub struct QueuePool {
    target: Arc<Target>,
    driver: Driver,
    settings: PoolSettings,
    /// One permit per connection that may be checked out; absent without an overflow limit.
    permits: Option<Arc<Semaphore>>,
    state: Mutex<State>,
    /// Whether the engine's first connection (with the dialect's initialisation) was opened.
    initialized: AtomicBool,
}

/// A checked-out connection; give it back with [`QueuePool::checkin`].
pub struct PooledConnection {
    pub connection: Connection,
    /// Round trips the checkout itself cost on this connection (the pre-ping), and its time.
    pub checkout_round_trips: u64,
    pub checkout_ping: Duration,
    /// How long the checkout waited for the pool's limit (zero when a connection was free).
    pub queued: Duration,
    created: Instant,
    lane: usize,
    _permit: Option<OwnedSemaphorePermit>,
}

impl QueuePool {
    /// A pool whose connections the driver opens (with its connect-time settings) on the target.
    pub fn new(
        target: Arc<Target>,
        settings: PoolSettings,
        driver: Driver,
        lanes: usize,
    ) -> QueuePool {
        QueuePool {
            target,
            driver,
            settings,
            permits: settings
                .capacity()
                .map(|n| Arc::new(Semaphore::new(n as usize))),
            state: Mutex::new(State {
                idle: (0..lanes.max(1)).map(|_| VecDeque::new()).collect(),
                open: 0,
                in_use: 0,
                waiting: 0,
                counters: PoolCounters::default(),
                invalidated_before: None,
            }),
            initialized: AtomicBool::new(false),
        }
    }

    pub fn settings(&self) -> PoolSettings {
        self.settings
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn status(&self) -> PoolStatus {
        let state = self.lock();
        PoolStatus {
            pool_size: self.settings.pool_size,
            idle: state.idle_count(),
            in_use: state.in_use,
            open: state.open,
            waiting: state.waiting,
        }
    }

    pub fn counters(&self) -> PoolCounters {
        self.lock().counters
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
    pub async fn checkout(&self, lane: usize) -> Result<PooledConnection, CheckoutError> {
        let (permit, queued) = self.permit().await?;
        loop {
            let Some((idle, invalidated_before)) = self.take_idle(lane) else {
                return self.open(permit, lane).await.map(|mut connection| {
                    connection.queued = queued;
                    connection
                });
            };
            let mut idle = idle;
            if let Some(reason) = self.unusable(&idle, invalidated_before) {
                self.discard(reason);
                continue;
            }
            let before = idle.connection.session.round_trips;
            let mut checkout_ping = Duration::ZERO;
            if self.settings.pre_ping {
                let ping_started = Instant::now();
                if self.driver.pre_ping(&mut idle.connection).await.is_err() {
                    self.lock().invalidated_before = Some(Instant::now());
                    self.discard(Reason::PrePing);
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
                _permit: permit,
            });
        }
    }

    /// A permit for one more checked-out connection (`None` without an overflow limit); at the
    /// limit, waits for one at most pool_timeout, counted as waiting, and times out with
    /// SQLAlchemy's message. Says how long it waited.
    async fn permit(&self) -> Result<(Option<OwnedSemaphorePermit>, Duration), CheckoutError> {
        let Some(permits) = &self.permits else {
            return Ok((None, Duration::ZERO));
        };
        let wait = permits.clone().acquire_owned();
        if let Ok(permit) = permits.clone().try_acquire_owned() {
            return Ok((Some(permit), Duration::ZERO));
        }
        let started = Instant::now();
        {
            let mut state = self.lock();
            state.waiting += 1;
            state.counters.queued += 1;
            state.counters.peak_waiting = state.counters.peak_waiting.max(state.waiting);
        }
        let result = tokio::time::timeout(self.settings.pool_timeout, wait).await;
        self.lock().waiting -= 1;
        match result {
            Ok(Ok(permit)) => Ok((Some(permit), started.elapsed())),
            _ => {
                self.lock().counters.timeouts += 1;
                Err(CheckoutError::Timeout(self.timeout_message()))
            }
        }
    }

    /// The next idle connection (FIFO, or LIFO with `use_lifo`), counted as in use, with the
    /// instant before which connections are invalid (a failed pre-ping); `None` when
    /// a new one must be opened, which is then counted as open and in use already, so the limit
    /// holds while connecting.
    fn take_idle(&self, lane: usize) -> Option<(Idle, Option<Instant>)> {
        let mut state = self.lock();
        let lanes = state.idle.len();
        let lifo = self.settings.use_lifo;
        let idle = (0..lanes)
            .map(|offset| (lane + offset) % lanes)
            .find_map(|lane| {
                let list = &mut state.idle[lane];
                if lifo {
                    list.pop_back()
                } else {
                    list.pop_front()
                }
            });
        if idle.is_some() {
            state.in_use += 1;
        } else {
            state.open += 1;
            state.in_use += 1;
            state.counters.peak_open = state.counters.peak_open.max(state.open);
        }
        state.counters.peak_in_use = state.counters.peak_in_use.max(state.in_use);
        idle.map(|idle| (idle, state.invalidated_before))
    }

    /// Opens the connection [`take_idle`](Self::take_idle) already counted; a failure uncounts it.
    async fn open(
        &self,
        permit: Option<OwnedSemaphorePermit>,
        lane: usize,
    ) -> Result<PooledConnection, CheckoutError> {
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
                    _permit: permit,
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

    /// Returns a connection: kept while fewer than pool_size sit idle, else closed (overflow).
    /// A broken connection is closed and counted.
    pub fn checkin(&self, connection: PooledConnection, broken: bool) {
        let PooledConnection {
            connection,
            created,
            lane,
            _permit,
            ..
        } = connection;
        if broken || connection.session.is_closed() {
            self.discard(Reason::Broken);
            return;
        }
        let mut state = self.lock();
        state.in_use -= 1;
        let keep =
            self.settings.pool_size == 0 || state.idle_count() < u64::from(self.settings.pool_size);
        if keep {
            state.idle[lane].push_back(Idle {
                connection,
                created,
                lane,
            });
        } else {
            state.open -= 1;
            state.counters.closed_overflow += 1;
        }
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
    pub fn dispose(&self) {
        let mut state = self.lock();
        let closed = state.idle_count();
        state.idle.iter_mut().for_each(VecDeque::clear);
        state.open -= closed;
    }
}

impl State {
    fn idle_count(&self) -> u64 {
        self.idle.iter().map(|list| list.len() as u64).sum()
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
