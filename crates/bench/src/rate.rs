//! An open-loop load: requests started at a fixed rate whatever the answers do.

use std::future::Future;
use std::time::Duration;

/// Starts `make(i)` for i = 0, 1, … at `rate` per second for `duration` (each on a task
/// of its own, not waiting for the ones before), then waits for all and returns their
/// results in no particular order.
pub async fn at_rate<F, Fut, T>(rate: f64, duration: Duration, mut make: F) -> Vec<T>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let n = (rate * duration.as_secs_f64()).round() as usize;
    let start = tokio::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        tokio::time::sleep_until(start + Duration::from_secs_f64(i as f64 / rate)).await;
        tasks.spawn(make(i));
    }
    let mut out = Vec::with_capacity(n);
    while let Some(result) = tasks.join_next().await {
        if let Ok(value) = result {
            out.push(value);
        }
    }
    out
}
