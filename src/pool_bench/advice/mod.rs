//! Sizing advice from a measurement: what the load *offered*, not what the pool let through.
//!
//! A pool that is too small caps the throughput it serves, so Little's law on the served
//! throughput says the pool is big enough exactly when it is not. The demand is therefore taken
//! from the load: in the open loop the arrival rate × the mean time a connection is held (Little's
//! law on λ), in the closed loop the clients that want a connection (all of them without think
//! time). Queueing in the pool (checkouts that waited for a connection to come back, timeouts, a
//! demand above the capacity) is the evidence that the pool was the limit, and is said first.
//!
//! Headroom for bursts comes from the distribution of the number of requests that want a
//! connection at the same moment, had none waited: Poisson with mean λ × mean hold in the open
//! loop (M/G/∞: whatever the spread of the hold times, for arrivals as independent as a Poisson
//! process's), binomial in the closed loop (each client independently holding a connection for
//! `hold / (hold + think)` of the time). The recommendation keeps `pool_size` at the mean and lets
//! `max_overflow` reach the p99.9; it is capped by the connections the server has free, shared by
//! `--workers` processes. Its assumption — hold times stay as measured when there are more
//! connections — is what `--verify` checks.

use std::time::Duration;

use crate::pool::PoolSettings;

mod quantile;

use quantile::{binomial_quantile, poisson_quantile};

/// The quantile of the concurrent demand the recommendation covers: about one checkout in a
/// thousand finds the pool full, so the p99 of the checkout wait stays at zero. (At the p99, one
/// in a hundred would wait and the wait's p99 would sit on that edge.) The connections beyond the
/// mean are overflow, opened only while a burst needs them.
const COVERED_QUANTILE: f64 = 0.999;

/// The share of checkouts that may wait at the pool's limit before it counts as the limit.
const QUEUEING_SHARE: f64 = 0.01;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Advice {
    /// Connections the offered load keeps busy on average (had none waited).
    pub(crate) connections_needed: f64,
    pub(crate) capacity: Option<u32>,
    /// What the load asked for; `None` when no request held a connection.
    pub(crate) demand: Option<Demand>,
    /// Queueing shows the pool, not the load, set the throughput.
    pub(crate) pool_was_limit: bool,
    pub(crate) recommended: Option<Recommended>,
    pub(crate) text: Vec<String>,
    /// What set the throughput (see [`Advice::settle_limit`]).
    pub(crate) limit: Limit,
}

/// What set a run's throughput.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    /// A worker's event loop was busy most of the time: more workers, not more connections.
    EventLoop,
    /// Requests queued in the pool for connections.
    Pool,
    /// The load wanted more than it got and neither the loops nor the pool held it back: the
    /// database's answers set the pace.
    Server,
    /// The load was served as offered.
    None,
}

impl Limit {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Limit::EventLoop => "event_loop",
            Limit::Pool => "pool",
            Limit::Server => "server",
            Limit::None => "none",
        }
    }
}

/// A worker loop busy more than this share of the run is the limit: a request that is ready
/// waits for the loop more often than not, and each further request waits longer.
pub(super) const LOOP_BUSY_LIMIT: f64 = 0.8;

/// What the application model saw, as the advice reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LoopLoad {
    /// The busiest worker loop's busy share of the run.
    pub(crate) busiest: f64,
    pub(crate) workers: u32,
    /// The application's own time per request on its loop, in ms.
    pub(crate) per_request_ms: f64,
    pub(crate) round_trips: f64,
    pub(crate) app_cpu_us: f64,
    pub(crate) handler_ms: f64,
}

/// What the load offered, and the connections it wants.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Demand {
    pub(crate) offered: Offered,
    pub(crate) hold_mean_ms: f64,
    pub(crate) hold_p99_ms: f64,
    /// Connections busy on average had none waited.
    pub(crate) mean: f64,
    /// Connections wanted at once at the p99.9 of the demand's distribution.
    pub(crate) p999: u32,
    /// The distribution's assumption, in words.
    pub(crate) assumption: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Offered {
    /// Open loop: arrivals per second.
    Rate(f64),
    /// Closed loop: clients, each thinking this long between requests.
    Clients { clients: u32, think: Duration },
}

/// The recommended pool settings, per worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Recommended {
    pub(crate) pool_size: u32,
    pub(crate) max_overflow: u32,
    /// The capacity the load wants, before the server's cap.
    pub(crate) wanted: u32,
    /// Connections per worker the server has free, when that lowered the recommendation.
    pub(crate) capped_by_server: Option<u32>,
}

impl Recommended {
    pub(crate) fn capacity(&self) -> u32 {
        self.pool_size + self.max_overflow
    }
}

/// What the run measured, as the advice reads it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Measured {
    pub(crate) tps: f64,
    pub(crate) hold_mean_ms: f64,
    pub(crate) hold_p99_ms: f64,
    /// Requests that held a connection.
    pub(crate) holds: u64,
    /// Checkouts attempted (handed a connection or timed out).
    pub(crate) checkouts: u64,
    /// Checkouts that waited at the pool's limit, and the p99 of that wait over all checkouts.
    pub(crate) queued: u64,
    pub(crate) queue_wait_p99_ms: f64,
    pub(crate) peak_waiting: u64,
    pub(crate) timeouts: u64,
    /// Open loop: arrivals that found every request slot taken and started late.
    pub(crate) held_back: u64,
}

/// The server's connections when the run started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ServerRoom {
    pub(crate) max_connections: i64,
    /// Connections free for the application: max_connections − reserved − in use.
    pub(crate) free: i64,
}

pub(super) fn advise(
    pool: &PoolSettings,
    offered: Offered,
    measured: &Measured,
    workers: u32,
    server: Option<ServerRoom>,
) -> Advice {
    let workers = workers.max(1);
    let capacity = pool.capacity();
    if measured.holds == 0 || !measured.hold_mean_ms.is_finite() {
        return Advice {
            connections_needed: 0.0,
            capacity,
            demand: None,
            pool_was_limit: measured.timeouts > 0,
            recommended: None,
            text: vec![
                "no request held a connection, so there is nothing to size the pool from".into(),
            ],
            limit: Limit::None,
        };
    }
    let demand = Demand::of(offered, measured);
    let pool_was_limit = measured.timeouts > 0
        || capacity.is_some_and(|c| demand.mean > f64::from(c))
        || measured.queued as f64 > QUEUEING_SHARE * measured.checkouts.max(1) as f64;
    let recommended = recommend(&demand, server, workers);
    let mut text = Vec::new();
    if pool_was_limit {
        text.push(limit_line(pool, &demand, measured));
    }
    if measured.held_back > 0
        && let Offered::Rate(_) = offered
    {
        text.push(format!(
            "{} arrivals found all request slots taken (--clients, the bound on requests in flight) and started late, \
             so fewer waited in the pool than in the application; raise --clients",
            measured.held_back
        ));
    }
    text.push(demand_line(&demand));
    text.push(recommendation_line(
        pool,
        &demand,
        &recommended,
        pool_was_limit,
        workers,
    ));
    text.extend(server_line(capacity, &recommended, server, workers));
    Advice {
        connections_needed: demand.mean,
        capacity,
        demand: Some(demand),
        pool_was_limit,
        recommended: Some(recommended),
        text,
        limit: Limit::None,
    }
}

impl Advice {
    /// Decides what set the throughput — a worker's event loop first (its figures said first,
    /// since more connections cannot help it), then the pool, then the server when the load
    /// was not served as offered (`saturated`) — and says so.
    pub(crate) fn settle_limit(&mut self, event_loop: Option<LoopLoad>, saturated: bool, tps: f64) {
        self.limit = match event_loop {
            Some(load) if load.busiest > LOOP_BUSY_LIMIT => Limit::EventLoop,
            _ if self.pool_was_limit => Limit::Pool,
            _ if saturated => Limit::Server,
            _ => Limit::None,
        };
        if let (Limit::EventLoop, Some(load)) = (self.limit, event_loop) {
            self.text.insert(0, event_loop_line(&load, tps));
        }
    }
}

fn event_loop_line(load: &LoopLoad, tps: f64) -> String {
    let handler = if load.handler_ms > 0.0 {
        format!(" + the handler's {:.2} ms", load.handler_ms)
    } else {
        String::new()
    };
    let ceiling = 1000.0 / load.per_request_ms.max(1e-9);
    let workers = load.workers;
    format!(
        "the event loop is the limit: the busiest of {workers} worker loop(s) was busy {:.0} % of the run; each request \
         costs the application {:.2} ms of its loop ({:.1} round trips × {:.0} µs{handler}), so one worker serves at most \
         about {ceiling:.0} requests/s ({tps:.0}/s measured across {workers}); more connections will not raise this — \
         run more workers (processes, each with its own pool) or make each request cheaper",
        load.busiest * 100.0,
        load.per_request_ms,
        load.round_trips,
        load.app_cpu_us,
    )
}

impl Demand {
    fn of(offered: Offered, measured: &Measured) -> Demand {
        let hold_ms = measured.hold_mean_ms;
        let (mean, p999, assumption) = match offered {
            Offered::Rate(rate) => {
                let mean = rate * hold_ms / 1000.0;
                (
                    mean,
                    poisson_quantile(mean, COVERED_QUANTILE),
                    "requests arrive independently (Poisson) at this rate, so the number wanting a connection at \
                     once is Poisson with mean rate × mean hold whatever the spread of hold times (this run's \
                     evenly paced arrivals need fewer, burstier traffic more)"
                        .to_string(),
                )
            }
            Offered::Clients { clients, think } if think.is_zero() => (
                f64::from(clients),
                clients,
                "every client wants a connection all the time (no think time)".to_string(),
            ),
            Offered::Clients { clients, think } => {
                let think_ms = think.as_secs_f64() * 1000.0;
                let share = hold_ms / (hold_ms + think_ms);
                (
                    f64::from(clients) * share,
                    binomial_quantile(clients, share, COVERED_QUANTILE),
                    format!(
                        "the clients act independently, each holding a connection {hold_ms:.1} ms of every {:.1} ms \
                         (binomial)",
                        hold_ms + think_ms
                    ),
                )
            }
        };
        Demand {
            offered,
            hold_mean_ms: hold_ms,
            hold_p99_ms: measured.hold_p99_ms,
            mean,
            p999,
            assumption,
        }
    }

    /// The load in words: "200/s arrivals" or "20 clients".
    fn offered_text(&self) -> String {
        match self.offered {
            Offered::Rate(rate) => format!("{}/s arrivals", crate::duration::format_number(rate)),
            Offered::Clients { clients, think } if think.is_zero() => format!("{clients} clients"),
            Offered::Clients { clients, think } => format!(
                "{clients} clients thinking {} ms between requests",
                crate::duration::format_number(think.as_secs_f64() * 1000.0)
            ),
        }
    }
}

/// pool_size at the mean, max_overflow up to the p99.9; the capacity within the server's free
/// connections shared by the workers.
fn recommend(demand: &Demand, server: Option<ServerRoom>, workers: u32) -> Recommended {
    let steady = (demand.mean - 1e-9).ceil().max(1.0) as u32;
    let wanted = demand.p999.max(steady);
    let room = server.map(|server| {
        (server.free.max(0) / i64::from(workers)).clamp(1, i64::from(u32::MAX)) as u32
    });
    let capacity = room.map_or(wanted, |room| wanted.min(room));
    let pool_size = steady.min(capacity);
    Recommended {
        pool_size,
        max_overflow: capacity - pool_size,
        wanted,
        capped_by_server: room.filter(|&room| room < wanted),
    }
}

fn limit_line(pool: &PoolSettings, demand: &Demand, measured: &Measured) -> String {
    let capacity = pool
        .capacity()
        .map_or("unlimited".to_string(), |c| c.to_string());
    let timeouts = if measured.timeouts > 0 {
        format!(
            ", and {} timed out after pool_timeout {} s",
            measured.timeouts,
            crate::duration::format_seconds(pool.pool_timeout)
        )
    } else {
        String::new()
    };
    format!(
        "the pool was the limit: {} wanted {:.1} connections on average and pool_size + max_overflow = {capacity}; \
         {} of {} checkouts waited for a connection to come back (p99 {:.1} ms, at most {} at once){timeouts}; \
         the {:.0} transactions/s measured are what the pool let through, not what the load asked for",
        demand.offered_text(),
        demand.mean,
        measured.queued,
        measured.checkouts,
        measured.queue_wait_p99_ms,
        measured.peak_waiting,
        measured.tps
    )
}

fn demand_line(demand: &Demand) -> String {
    format!(
        "demand: {} holding a connection {:.2} ms on average (p99 {:.2} ms) keep {:.1} busy on average and want {} at \
         once at the p99.9, assuming {}, and that hold times stay as measured with more connections (the server is not \
         the bottleneck)",
        demand.offered_text(),
        demand.hold_mean_ms,
        demand.hold_p99_ms,
        demand.mean,
        demand.p999,
        demand.assumption
    )
}

fn recommendation_line(
    pool: &PoolSettings,
    demand: &Demand,
    recommended: &Recommended,
    pool_was_limit: bool,
    workers: u32,
) -> String {
    let settings = format!(
        "DB_POOL_SIZE={} DB_MAX_OVERFLOW={}",
        recommended.pool_size, recommended.max_overflow
    );
    let why = format!(
        "pool_size covers the {:.1} busy on average, max_overflow the {} wanted at the p99.9",
        demand.mean, demand.p999
    );
    let Some(capacity) = pool.capacity() else {
        return format!(
            "max_overflow = -1: the pool is unbounded, so a burst can exhaust the server; set {settings} ({why})"
        );
    };
    let target = recommended.capacity();
    if pool_was_limit || capacity < target {
        let lead = if pool_was_limit {
            "the pool is too small"
        } else {
            "the pool covers the mean but not the bursts"
        };
        format!(
            "{lead}: set {settings} (capacity {target}: {why}); check it with --verify, which runs the same load again \
             with these settings"
        )
    } else if capacity > target {
        format!(
            "the pool is larger than this load needs: it may open {capacity} connections ({} kept) where {} are wanted \
             at once at the p99.9; {settings} would serve it with {} fewer server connections across {workers} \
             worker(s) ({why})",
            pool.pool_size,
            demand.p999,
            u64::from(capacity - target) * u64::from(workers)
        )
    } else if pool.pool_size < recommended.pool_size {
        format!(
            "pool_size {} is below the {:.1} connections busy on average, so overflow connections are opened and closed \
             all the time; set {settings} ({why})",
            pool.pool_size, demand.mean
        )
    } else {
        format!(
            "pool_size {} max_overflow {} fit this load: capacity {capacity} covers the {} wanted at the p99.9 ({settings} \
             is the same capacity: {why})",
            pool.pool_size,
            capacity - pool.pool_size,
            demand.p999
        )
    }
}

/// The server's connections against the workers' pools, and the cap on the recommendation.
fn server_line(
    capacity: Option<u32>,
    recommended: &Recommended,
    server: Option<ServerRoom>,
    workers: u32,
) -> Vec<String> {
    let Some(server) = server else {
        return Vec::new();
    };
    let max = server.max_connections;
    let mut lines = Vec::new();
    if let Some(capacity) = capacity {
        let total = i64::from(capacity) * i64::from(workers);
        lines.push(if total > max {
            format!(
                "{workers} worker(s) × capacity {capacity} = {total} connections, more than the server's max_connections \
                 {max}: lower DB_MAX_OVERFLOW or put PgBouncer in front"
            )
        } else {
            format!("{workers} worker(s) × capacity {capacity} = {total} of max_connections {max}")
        });
    }
    if let Some(room) = recommended.capped_by_server {
        lines.push(format!(
            "the server caps the recommendation: {} connections are free (max_connections {max}), {room} per worker for \
             {workers} worker(s), where this load wants {}; raise max_connections, run fewer workers or put PgBouncer \
             in front",
            server.free, recommended.wanted
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(size: u32, overflow: u32) -> PoolSettings {
        PoolSettings {
            pool_size: size,
            max_overflow: Some(overflow),
            pool_timeout: Duration::from_secs(1),
            pool_recycle: None,
            pre_ping: true,
            use_lifo: false,
        }
    }

    fn measured(tps: f64, hold_ms: f64) -> Measured {
        Measured {
            tps,
            hold_mean_ms: hold_ms,
            hold_p99_ms: hold_ms * 1.2,
            holds: 1000,
            checkouts: 1000,
            ..Measured::default()
        }
    }

    fn loop_load(busiest: f64) -> LoopLoad {
        LoopLoad {
            busiest,
            workers: 1,
            per_request_ms: 0.6,
            round_trips: 6.0,
            app_cpu_us: 100.0,
            handler_ms: 0.0,
        }
    }

    #[test]
    fn a_busy_event_loop_is_the_limit_before_the_pool_and_says_more_workers() {
        let clients = Offered::Clients {
            clients: 30,
            think: Duration::ZERO,
        };
        // The pool was also the limit (30 clients on 2 connections): the loop is said first.
        let mut advice = advise(&pool(2, 0), clients, &measured(1500.0, 1.0), 1, None);
        assert!(advice.pool_was_limit);
        advice.settle_limit(Some(loop_load(0.93)), true, 1500.0);
        assert_eq!(advice.limit, Limit::EventLoop);
        assert!(advice.text[0].contains("busy 93 %"), "{:?}", advice.text);
        assert!(advice.text[0].contains("at most about 1667 requests/s"));
        assert!(advice.text[0].contains("run more workers"));
        // The same loop at 70 %: the pool.
        let mut advice = advise(&pool(2, 0), clients, &measured(1500.0, 1.0), 1, None);
        advice.settle_limit(Some(loop_load(0.7)), true, 1500.0);
        assert_eq!(advice.limit, Limit::Pool);
        assert!(!advice.text[0].starts_with("the event loop"));
    }

    #[test]
    fn without_queueing_a_saturated_load_is_the_servers_and_a_light_one_has_no_limit() {
        let clients = Offered::Clients {
            clients: 4,
            think: Duration::ZERO,
        };
        let mut advice = advise(&pool(5, 10), clients, &measured(800.0, 5.0), 1, None);
        advice.settle_limit(Some(loop_load(0.3)), true, 800.0);
        assert_eq!(advice.limit, Limit::Server);
        let mut advice = advise(&pool(5, 10), clients, &measured(800.0, 5.0), 1, None);
        advice.settle_limit(None, false, 800.0);
        assert_eq!(advice.limit, Limit::None);
        assert_eq!(Limit::EventLoop.name(), "event_loop");
    }

    #[test]
    fn the_covered_quantile_of_the_demand() {
        // Poisson(4.1): P(X ≤ 11) = 0.9989, P(X ≤ 12) = 0.9997; Binomial(20, 0.2): P(X ≤ 10) =
        // 0.9994.
        assert_eq!(poisson_quantile(4.1, COVERED_QUANTILE), 12);
        assert_eq!(binomial_quantile(20, 0.2, COVERED_QUANTILE), 10);
    }

    #[test]
    fn a_closed_loop_starved_pool_is_sized_by_its_clients_not_its_throughput() {
        // The case: 20 clients, pool 2 + 0, 84 tps of 20 ms each (1.7 served).
        let m = Measured {
            queued: 900,
            queue_wait_p99_ms: 200.0,
            peak_waiting: 18,
            ..measured(84.0, 20.4)
        };
        let offered = Offered::Clients {
            clients: 20,
            think: Duration::ZERO,
        };
        let advice = advise(&pool(2, 0), offered, &m, 1, None);
        assert!(advice.pool_was_limit);
        assert!(
            advice.text[0].starts_with("the pool was the limit"),
            "{:?}",
            advice.text
        );
        let recommended = advice.recommended.unwrap();
        assert_eq!((recommended.pool_size, recommended.max_overflow), (20, 0));
        assert!(
            advice
                .text
                .iter()
                .any(|line| line.contains("DB_POOL_SIZE=20 DB_MAX_OVERFLOW=0")),
            "{:?}",
            advice.text
        );
    }

    #[test]
    fn an_open_loop_is_sized_by_its_rate() {
        // 200/s × 20.4 ms: 4.1 busy on average; served throughput is irrelevant.
        let m = Measured {
            timeouts: 466,
            ..measured(97.0, 20.4)
        };
        let advice = advise(&pool(2, 0), Offered::Rate(200.0), &m, 1, None);
        assert!(advice.pool_was_limit);
        assert!((advice.connections_needed - 4.08).abs() < 1e-9);
        let recommended = advice.recommended.unwrap();
        assert_eq!((recommended.pool_size, recommended.capacity()), (5, 12));
        assert!(
            advice.text[0].contains("466 timed out"),
            "{:?}",
            advice.text
        );
    }

    #[test]
    fn an_oversized_pool_is_told_to_shrink() {
        let advice = advise(
            &pool(20, 10),
            Offered::Rate(50.0),
            &measured(50.0, 20.0),
            4,
            None,
        );
        assert!(!advice.pool_was_limit);
        let recommended = advice.recommended.unwrap();
        // 1.0 busy on average, Poisson p99.9 5.
        assert_eq!((recommended.pool_size, recommended.max_overflow), (1, 4));
        let line = &advice.text[1];
        assert!(
            line.starts_with("the pool is larger than this load needs"),
            "{line}"
        );
        assert!(
            line.contains("100 fewer server connections across 4 worker(s)"),
            "{line}"
        );
    }

    #[test]
    fn thinking_clients_want_a_binomial_share_of_connections() {
        let offered = Offered::Clients {
            clients: 20,
            think: Duration::from_millis(80),
        };
        let advice = advise(&pool(5, 10), offered, &measured(160.0, 20.0), 1, None);
        assert!((advice.connections_needed - 4.0).abs() < 1e-9);
        let recommended = advice.recommended.unwrap();
        assert_eq!((recommended.pool_size, recommended.capacity()), (4, 10));
    }

    #[test]
    fn the_server_and_the_workers_cap_the_recommendation() {
        let server = ServerRoom {
            max_connections: 100,
            free: 40,
        };
        let offered = Offered::Clients {
            clients: 30,
            think: Duration::ZERO,
        };
        let advice = advise(
            &pool(5, 10),
            offered,
            &measured(1000.0, 20.0),
            4,
            Some(server),
        );
        let recommended = advice.recommended.unwrap();
        assert_eq!(recommended.capacity(), 10);
        assert_eq!(recommended.capped_by_server, Some(10));
        assert_eq!(recommended.wanted, 30);
        assert!(
            advice
                .text
                .iter()
                .any(|line| line.starts_with("the server caps the recommendation")),
            "{:?}",
            advice.text
        );
    }

    #[test]
    fn without_a_completed_hold_there_is_no_recommendation() {
        let m = Measured {
            timeouts: 5,
            ..Measured::default()
        };
        let advice = advise(&pool(5, 10), Offered::Rate(10.0), &m, 1, None);
        assert_eq!(advice.recommended, None);
        assert_eq!(advice.text.len(), 1);
    }
}
