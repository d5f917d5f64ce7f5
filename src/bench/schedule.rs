//! The open loop (`rate`): a schedule of intended start times at a fixed interval, shared by the
//! clients, so that latency is measured from when a transaction should have started.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::config::BenchConfig;
use super::recorder::Recorder;

/// With `rate`, starts the schedule and returns its receiving end; until the run stops, it sends
/// one start time per interval, waiting while `clients * 4` are unclaimed. `None` without `rate`.
pub(super) fn start(config: &BenchConfig, recorder: &Arc<Recorder>) -> Option<ScheduleReceiver> {
    config.rate.map(|rate| {
        let (sender, receiver) = async_channel(config.clients as usize * 4);
        // `rate` was checked at the edge: 1/rate is a representable, non-zero interval.
        let interval = Duration::from_secs_f64(1.0 / rate);
        let recorder = recorder.clone();
        tokio::spawn(async move {
            let mut next = Instant::now();
            while !recorder.stop.load(Ordering::Relaxed) {
                if sender.send(next).await.is_err() {
                    break;
                }
                next += interval;
                tokio::time::sleep_until(next.into()).await;
            }
        });
        receiver
    })
}

/// A bounded multi-consumer channel of scheduled start times.
fn async_channel(capacity: usize) -> (ScheduleSender, ScheduleReceiver) {
    let (sender, receiver) = tokio::sync::mpsc::channel(capacity.max(1));
    (
        ScheduleSender(sender),
        ScheduleReceiver(Arc::new(tokio::sync::Mutex::new(receiver))),
    )
}

struct ScheduleSender(tokio::sync::mpsc::Sender<Instant>);

impl ScheduleSender {
    async fn send(&self, at: Instant) -> Result<(), ()> {
        self.0.send(at).await.map_err(|_| ())
    }
}

#[derive(Clone)]
pub(super) struct ScheduleReceiver(Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<Instant>>>);

impl ScheduleReceiver {
    pub(super) async fn recv(&self) -> Option<Instant> {
        self.0.lock().await.recv().await
    }
}
