//! Sizing advice from a measurement, by Little's law: connections needed = throughput × mean time
//! a connection is held.

use crate::pool::PoolSettings;

#[derive(Debug, Clone, PartialEq)]
pub struct Advice {
    /// Connections this load keeps busy on average.
    pub connections_needed: f64,
    pub capacity: Option<u32>,
    pub text: Vec<String>,
}

pub fn advise(
    tps: f64,
    mean_hold_ms: f64,
    pool: &PoolSettings,
    workers: u32,
    server_max_connections: Option<i64>,
    timeouts: u64,
) -> Advice {
    let needed = tps * mean_hold_ms / 1000.0;
    let capacity = pool.capacity();
    let mut text = vec![format!(
        "this load keeps {needed:.1} connections busy on average ({tps:.0} transactions/s × {mean_hold_ms:.2} ms held each)"
    )];
    let suggested_size = (needed * 1.2).ceil().max(1.0) as u32;
    match capacity {
        Some(capacity) if f64::from(capacity) < needed || timeouts > 0 => text.push(format!(
            "the pool is too small: pool_size + max_overflow = {capacity}{}; set DB_POOL_SIZE={suggested_size} (20% headroom)",
            if timeouts > 0 { format!(" and {timeouts} checkouts timed out") } else { String::new() }
        )),
        Some(capacity) if f64::from(pool.pool_size) < needed => text.push(format!(
            "pool_size {} is below the steady need, so overflow connections are opened and closed all the time; set \
             DB_POOL_SIZE={suggested_size} and keep DB_MAX_OVERFLOW for bursts (capacity {capacity})",
            pool.pool_size
        )),
        Some(capacity) => text.push(format!(
            "pool_size {} covers this load with room to spare (capacity {capacity}); DB_POOL_SIZE={suggested_size} would do",
            pool.pool_size
        )),
        None => text.push("max_overflow = -1: the pool is unbounded; set a limit so a burst cannot exhaust the server".into()),
    }
    if let (Some(capacity), Some(max)) = (capacity, server_max_connections) {
        let total = i64::from(capacity) * i64::from(workers.max(1));
        if total > max {
            text.push(format!(
                "{} worker(s) × capacity {capacity} = {total} connections, more than the server's max_connections {max}: \
                 lower DB_MAX_OVERFLOW or put PgBouncer in front",
                workers.max(1)
            ));
        } else {
            text.push(format!(
                "{} worker(s) × capacity {capacity} = {total} of max_connections {max}",
                workers.max(1)
            ));
        }
    }
    Advice {
        connections_needed: needed,
        capacity,
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn pool(size: u32, overflow: u32) -> PoolSettings {
        PoolSettings {
            pool_size: size,
            max_overflow: Some(overflow),
            pool_timeout: Duration::from_secs(30),
            pool_recycle: None,
            pre_ping: true,
            use_lifo: false,
        }
    }

    #[test]
    fn littles_law_sizes_the_pool() {
        let advice = advise(1000.0, 20.0, &pool(5, 10), 1, Some(100), 0);
        assert!((advice.connections_needed - 20.0).abs() < 1e-9);
        assert!(
            advice.text[1].contains("too small") && advice.text[1].contains("DB_POOL_SIZE=24"),
            "{:?}",
            advice.text
        );
        let advice = advise(100.0, 10.0, &pool(5, 10), 20, Some(100), 0);
        assert!(
            advice.text[1].contains("room to spare"),
            "{:?}",
            advice.text
        );
        assert!(
            advice.text[2].contains("more than the server's max_connections"),
            "{:?}",
            advice.text
        );
    }
}
