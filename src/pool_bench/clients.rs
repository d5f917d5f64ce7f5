//! The closed loop's simulated clients: each loops request → think time until the run stops,
//! its deadline passes or the transaction budget is spent; a request starts as soon as the
//! previous one (and its think time) ended. With a think time the clients' first requests are
//! spread over one think time, as independent users' are: started all at once, clients whose
//! requests take about as long stay in step, and every burst is all of them at once (measured:
//! 20 clients thinking 80 ms on 20 ms requests kept 15 connections busy at once where 4 are
//! busy on average).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use super::config::BenchConfig;
use super::lanes::Lanes;
use super::monitor::Ending;
use super::recorder::Recorder;
use super::request::{CONNECT_FAILURE_PAUSE, RequestEnd, Requests};

/// Starts `config.clients` clients sharing the requests' context and the transaction budget
/// (`config.transactions`).
pub(super) fn spawn(
    config: &BenchConfig,
    requests: &Requests,
    deadline: Option<Instant>,
    lanes: &Lanes,
) -> Vec<JoinHandle<()>> {
    let budget = config.transactions.map(|n| Arc::new(AtomicU64::new(n)));
    (0..config.clients)
        .map(|index| {
            let lane = index as usize % lanes.len();
            let client = Client {
                lane,
                first_start: config
                    .think
                    .mul_f64(f64::from(index) / f64::from(config.clients)),
                requests: requests.clone(),
                budget: budget.clone(),
                think: config.think,
                deadline,
            };
            lanes.lane(lane).spawn(client.run())
        })
        .collect()
}

/// Stops the load (the closed loop's clients or the open loop's schedule) and waits for it.
/// After Ctrl-C or a stuck server it is aborted rather than left to finish its requests; says
/// how many requests were abandoned then.
pub(super) async fn stop(load: Vec<JoinHandle<()>>, recorder: &Recorder, ending: Ending) -> u64 {
    recorder.stop.store(true, Ordering::Relaxed);
    let abandoned = match ending {
        Ending::Finished => 0,
        _ => recorder.in_flight(),
    };
    for task in load {
        if ending != Ending::Finished {
            // Stop promptly: in-flight statements are dropped, which closes their connections.
            task.abort();
        }
        let _ = task.await;
    }
    abandoned
}

/// One simulated client of the application.
struct Client {
    /// The lane (thread) this client runs on.
    lane: usize,
    /// How long after the run's start its first request starts.
    first_start: Duration,
    requests: Requests,
    /// Transactions left to start, shared by all clients; `None`: no limit.
    budget: Option<Arc<AtomicU64>>,
    think: Duration,
    deadline: Option<Instant>,
}

impl Client {
    /// The loop. Clock reads are few and reused (each costs a visible share of a `SELECT 1`
    /// round trip on a virtual machine): the end of one transaction is the start of the next.
    async fn run(self) {
        if !self.first_start.is_zero() {
            tokio::time::sleep(self.first_start).await;
        }
        let mut now = Instant::now();
        while self.may_start(now) {
            match self.requests.run(self.lane, now, now).await {
                RequestEnd::Ran(ended) => now = ended,
                RequestEnd::TimedOut => {
                    now = Instant::now();
                    continue;
                }
                RequestEnd::ConnectFailed => {
                    tokio::time::sleep(CONNECT_FAILURE_PAUSE).await;
                    now = Instant::now();
                    continue;
                }
            }
            if !self.think.is_zero() {
                tokio::time::sleep(self.think).await;
                now = Instant::now();
            }
        }
    }

    /// Whether another transaction may start at `now`: the run goes on, the deadline has not
    /// passed, and the budget had one left (now taken).
    fn may_start(&self, now: Instant) -> bool {
        if self.requests.recorder.stop.load(Ordering::Relaxed)
            || self.deadline.is_some_and(|d| now >= d)
        {
            return false;
        }
        match &self.budget {
            Some(budget) => budget
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
            None => true,
        }
    }
}
