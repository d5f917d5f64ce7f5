//! The open loop (`rate`): requests arrive on a fixed schedule, each started at its scheduled
//! time whatever the others are doing, as an application's concurrent requests are. A request
//! that finds the pool at its limit waits in the pool (and times out there), never in the load
//! generator; its latency counts from its scheduled time, so a stall is not hidden.
//!
//! The only bound is on memory: at most `clients` requests are in flight at once. An arrival
//! that finds them all taken waits for one to end and starts late (its latency still counts from
//! the schedule); the recorder counts these, and the report says the bound was hit.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::{JoinHandle, JoinSet};

use super::config::BenchConfig;
use super::lanes::Lanes;
use super::request::Requests;

/// With `rate`, starts the schedule; the task ends when the schedule has ended (the deadline,
/// the transaction budget or a stop) and every request it started has ended. Aborting it aborts
/// those requests too. `None` without `rate`.
pub(super) fn spawn(
    config: &BenchConfig,
    requests: &Requests,
    deadline: Option<Instant>,
    lanes: &Lanes,
) -> Option<JoinHandle<()>> {
    let rate = config.rate?;
    // `rate` was checked at the edge: 1/rate is a representable, non-zero interval.
    let interval = Duration::from_secs_f64(1.0 / rate);
    let slots = Arc::new(Semaphore::new(config.clients.max(1) as usize));
    let arrivals = config.transactions;
    let requests = requests.clone();
    let handles: Vec<_> = (0..lanes.len()).map(|lane| lanes.lane(lane)).collect();
    Some(tokio::spawn(async move {
        let mut running = JoinSet::new();
        let mut next = Instant::now();
        let mut arrived: u64 = 0;
        loop {
            if arrivals.is_some_and(|n| arrived >= n) || deadline.is_some_and(|d| next >= d) {
                break;
            }
            tokio::time::sleep_until(next.into()).await;
            if requests.recorder.stop.load(Ordering::Relaxed) {
                break;
            }
            let slot = match slots.clone().try_acquire_owned() {
                Ok(slot) => slot,
                Err(_) => {
                    requests.recorder.arrival_held_back();
                    let Ok(slot) = slots.clone().acquire_owned().await else {
                        break;
                    };
                    slot
                }
            };
            let lane = (arrived % handles.len() as u64) as usize;
            let request = requests.clone();
            let intended = next;
            handles[lane].spawn_in(&mut running, async move {
                request.run(lane, intended, Instant::now()).await;
                drop(slot);
            });
            // Ended requests are reaped as the schedule goes, so memory stays bounded.
            while running.try_join_next().is_some() {}
            arrived += 1;
            next += interval;
        }
        while running.join_next().await.is_some() {}
    }))
}
