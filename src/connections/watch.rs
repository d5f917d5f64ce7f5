//! `--watch`: pg_stat_activity sampled every [`INTERVAL`] for a while, and per application_name
//! the peaks and percentiles of its sessions (open, in use, idle in a transaction).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Result;
use tokio_postgres::Client;

use super::server::{self, SampleRow};

/// How often pg_stat_activity is read: a pool's checkouts last milliseconds, and one sample is
/// one round trip of a few grouped rows.
pub(crate) const INTERVAL: Duration = Duration::from_millis(50);

/// One application_name over the watch.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Watched {
    pub(crate) application_name: String,
    /// In the last sample.
    pub(crate) open: u64,
    pub(crate) in_use: u64,
    pub(crate) peak_open: u64,
    pub(crate) peak_in_use: u64,
    pub(crate) p50_in_use: u64,
    pub(crate) p99_in_use: u64,
    pub(crate) peak_idle_in_transaction: u64,
    /// Most sessions at once whose state this role could not see.
    pub(crate) peak_hidden: u64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Watch {
    pub(crate) seconds: f64,
    pub(crate) samples: u64,
    /// Most sessions first.
    pub(crate) applications: Vec<Watched>,
}

/// Samples for `duration`, one sample every [`INTERVAL`] (a late one is skipped, not bunched).
pub(crate) async fn watch(client: &Client, duration: Duration) -> Result<Watch> {
    let started = Instant::now();
    let mut ticks = tokio::time::interval(INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut samples = Vec::new();
    while started.elapsed() < duration {
        ticks.tick().await;
        samples.push(server::sample(client).await?);
    }
    Ok(summarize(&samples, started.elapsed().as_secs_f64()))
}

/// Per application_name over the samples; a sample it is absent from counts as 0.
pub(crate) fn summarize(samples: &[Vec<SampleRow>], seconds: f64) -> Watch {
    let mut series: BTreeMap<&str, Vec<&SampleRow>> = BTreeMap::new();
    let empty = SampleRow::default();
    for (index, sample) in samples.iter().enumerate() {
        for row in sample {
            let values = series.entry(&row.application_name).or_default();
            values.resize(index, &empty);
            values.push(row);
        }
    }
    let mut applications: Vec<Watched> = series
        .into_iter()
        .map(|(name, mut rows)| {
            rows.resize(samples.len(), &empty);
            let mut in_use: Vec<u64> = rows.iter().map(|r| r.in_use).collect();
            in_use.sort_unstable();
            let last = rows.last().copied().unwrap_or(&empty);
            Watched {
                application_name: name.to_string(),
                open: last.open,
                in_use: last.in_use,
                peak_open: rows.iter().map(|r| r.open).max().unwrap_or(0),
                peak_in_use: in_use.last().copied().unwrap_or(0),
                p50_in_use: nearest_rank(&in_use, 0.50),
                p99_in_use: nearest_rank(&in_use, 0.99),
                peak_idle_in_transaction: rows
                    .iter()
                    .map(|r| r.idle_in_transaction)
                    .max()
                    .unwrap_or(0),
                peak_hidden: rows.iter().map(|r| r.hidden).max().unwrap_or(0),
            }
        })
        .collect();
    applications.sort_by(|a, b| {
        b.peak_open
            .cmp(&a.peak_open)
            .then_with(|| a.application_name.cmp(&b.application_name))
    });
    Watch {
        seconds,
        samples: samples.len() as u64,
        applications,
    }
}

/// The nearest-rank percentile of sorted values.
fn nearest_rank(sorted: &[u64], fraction: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, open: u64, in_use: u64) -> SampleRow {
        SampleRow {
            application_name: name.into(),
            open,
            in_use,
            ..SampleRow::default()
        }
    }

    #[test]
    fn peaks_and_percentiles_count_absent_samples_as_zero() {
        let samples = vec![
            vec![row("web", 5, 1)],
            vec![row("web", 7, 7), row("cron", 1, 1)],
            vec![row("web", 6, 2)],
            vec![],
        ];
        let watch = summarize(&samples, 0.2);
        let web = &watch.applications[0];
        assert_eq!((web.peak_open, web.peak_in_use, web.open), (7, 7, 0));
        assert_eq!((web.p50_in_use, web.p99_in_use), (1, 7));
        let cron = &watch.applications[1];
        assert_eq!((cron.peak_open, cron.p50_in_use), (1, 0));
        assert_eq!(watch.samples, 4);
    }
}
