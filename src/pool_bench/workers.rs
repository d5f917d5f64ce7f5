//! The application's workers: under the application model, one pool and one event loop per
//! worker (a uvicorn or gunicorn process), each on a lane of its own; for the raw path, one pool
//! shared by every lane. The monitor and the report read them summed.

use std::sync::Arc;

use super::event_loop::{EventLoop, LoopStats};
use crate::pool::{PoolCounters, PoolStatus, QueuePool};

pub(super) struct Workers {
    pools: Vec<Arc<QueuePool>>,
    /// One per pool under the application model; empty for the raw path.
    loops: Vec<Arc<EventLoop>>,
}

impl Workers {
    pub(super) fn new(pools: Vec<Arc<QueuePool>>, loops: Vec<Arc<EventLoop>>) -> Workers {
        Workers { pools, loops }
    }

    /// The pool a request on `lane` checks out from, and the lane within that pool.
    pub(super) fn pool(&self, lane: usize) -> (&QueuePool, usize) {
        match self.pools.as_slice() {
            [shared] => (shared, lane),
            pools => (&pools[lane % pools.len()], 0),
        }
    }

    /// The pools' states summed (pool_size too, so the overflow is the workers' total).
    pub(super) fn status(&self) -> PoolStatus {
        let mut total = PoolStatus::default();
        for status in self.pools.iter().map(|pool| pool.status()) {
            total.pool_size += status.pool_size;
            total.idle += status.idle;
            total.in_use += status.in_use;
            total.open += status.open;
            total.waiting += status.waiting;
        }
        total
    }

    /// The pools' counters summed; a peak is the sum of the workers' peaks.
    pub(super) fn counters(&self) -> PoolCounters {
        let mut total = PoolCounters::default();
        for counters in self.pools.iter().map(|pool| pool.counters()) {
            total.created += counters.created;
            total.closed_overflow += counters.closed_overflow;
            total.closed_recycle += counters.closed_recycle;
            total.closed_pre_ping += counters.closed_pre_ping;
            total.closed_broken += counters.closed_broken;
            total.peak_open += counters.peak_open;
            total.peak_in_use += counters.peak_in_use;
            total.peak_waiting += counters.peak_waiting;
            total.queued += counters.queued;
            total.overtaken += counters.overtaken;
            total.timeouts += counters.timeouts;
        }
        total
    }

    /// Each worker loop's accounting (empty for the raw path).
    pub(super) fn loop_stats(&self) -> Vec<LoopStats> {
        self.loops.iter().map(|l| l.stats()).collect()
    }

    /// Starts each loop's accounting and each pool's counters again (after the warm-up).
    pub(super) fn reset_stats(&self) {
        for event_loop in &self.loops {
            event_loop.reset_stats();
        }
        for pool in &self.pools {
            pool.reset_counters();
        }
    }

    pub(super) fn dispose(&self) {
        for pool in &self.pools {
            pool.dispose();
        }
    }
}
