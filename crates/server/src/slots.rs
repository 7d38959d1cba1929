//! Admission control for inference: at most `max_concurrent` blocking jobs at once, at most
//! `max_queue` requests waiting for one, each for at most `queue_wait`; the rest are answered
//! 503 with `Retry-After`.
//!
//! A request is admitted ([`Slots::admit`], which counts it) before its upload is read, so a
//! full server refuses at once; it then waits for a slot ([`Ticket::run`]) and runs its job on
//! tokio's blocking pool. The slot's permit moves into the job, so a client that hangs up
//! does not free the slot before the CPU work it started is done.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::config::Limits;
use crate::error::ApiError;

/// The inference slots and their queue.
#[derive(Debug)]
pub struct Slots {
    running: Arc<Semaphore>,
    max_concurrent: usize,
    /// Requests admitted and not finished (running or waiting).
    admitted: AtomicUsize,
    max_admitted: usize,
    queue_wait: Duration,
    /// The last job's duration, for `Retry-After`.
    last_job_ms: AtomicU64,
}

/// An admitted request; dropping it leaves the queue.
#[derive(Debug)]
pub struct Ticket {
    slots: Arc<Slots>,
}

impl Slots {
    /// Slots for `limits`.
    pub fn new(limits: &Limits) -> Arc<Self> {
        Arc::new(Self {
            running: Arc::new(Semaphore::new(limits.max_concurrent)),
            max_concurrent: limits.max_concurrent,
            admitted: AtomicUsize::new(0),
            max_admitted: limits.max_concurrent + limits.max_queue,
            queue_wait: limits.queue_wait,
            last_job_ms: AtomicU64::new(1000),
        })
    }

    /// Admits one more request, or refuses it when `max_concurrent + max_queue` are admitted.
    ///
    /// # Errors
    /// 503 with `Retry-After`.
    pub fn admit(self: &Arc<Self>) -> Result<Ticket, ApiError> {
        let taken = self
            .admitted
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_admitted).then_some(n + 1)
            });
        match taken {
            Ok(_) => Ok(Ticket {
                slots: Arc::clone(self),
            }),
            Err(n) => Err(ApiError::busy(
                format!(
                    "the server is busy: {n} requests are running or waiting for one of its {} \
                     inference slots; retry later",
                    self.max_concurrent
                ),
                self.retry_after_s(n),
            )),
        }
    }

    /// Requests running now.
    pub fn running(&self) -> usize {
        self.max_concurrent - self.running.available_permits()
    }

    /// Requests admitted (running or waiting).
    pub fn admitted(&self) -> usize {
        self.admitted.load(Ordering::Acquire)
    }

    /// A guess at when a slot will be free: the last job's duration times the jobs ahead per
    /// slot, between 1 and 60 seconds.
    fn retry_after_s(&self, ahead: usize) -> u64 {
        let job_ms = self.last_job_ms.load(Ordering::Relaxed);
        let rounds = ahead.div_ceil(self.max_concurrent).max(1) as u64;
        (job_ms.saturating_mul(rounds) / 1000).clamp(1, 60)
    }
}

impl Ticket {
    /// Waits for a slot (at most the queue wait) and runs `job` on the blocking pool.
    ///
    /// # Errors
    /// 503 when no slot came free in time; 500 when the job panicked (the server goes on).
    pub async fn run<T: Send + 'static>(
        self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let slots = &self.slots;
        let permit = match tokio::time::timeout(
            slots.queue_wait,
            Arc::clone(&slots.running).acquire_owned(),
        )
        .await
        {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) | Err(_) => {
                return Err(ApiError::busy(
                    format!(
                        "the server is busy: no inference slot came free within {} s; retry \
                         later",
                        slots.queue_wait.as_secs_f64()
                    ),
                    slots.retry_after_s(slots.admitted()),
                ));
            }
        };
        let started = Instant::now();
        let result = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job()
        })
        .await;
        slots
            .last_job_ms
            .store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
        result.map_err(|e| ApiError::internal(format!("the inference job failed: {e}")))
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.slots.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_concurrent: usize, max_queue: usize, wait_ms: u64) -> Limits {
        Limits {
            max_concurrent,
            max_queue,
            queue_wait: Duration::from_millis(wait_ms),
            ..Limits::default()
        }
    }

    /// One slot and one queue place admit two requests; the third gets 503 with a
    /// Retry-After; dropping a ticket makes room again.
    #[test]
    fn admission_is_bounded_by_slots_plus_queue() {
        let slots = Slots::new(&limits(1, 1, 10));
        let a = slots.admit().expect("first");
        let _b = slots.admit().expect("second");
        let refused = slots.admit().expect_err("third");
        assert_eq!(refused.status.as_u16(), 503);
        assert!(refused.retry_after_s.is_some_and(|s| (1..=60).contains(&s)));
        drop(a);
        assert!(slots.admit().is_ok());
    }

    /// A request whose slot does not come free within the queue wait gets 503; a panicking
    /// job is a 500 and frees its slot.
    #[test]
    fn waiting_times_out_and_panics_are_contained() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let slots = Slots::new(&limits(1, 4, 50));
            let held = Arc::clone(&slots.running)
                .acquire_owned()
                .await
                .expect("permit");
            let waited = slots.admit().expect("admitted").run(|| 1).await;
            assert_eq!(waited.expect_err("timed out").status.as_u16(), 503);
            drop(held);
            let panicked = slots
                .admit()
                .expect("admitted")
                .run(|| -> i32 { panic!("boom") })
                .await;
            assert_eq!(panicked.expect_err("panicked").status.as_u16(), 500);
            let ok = slots.admit().expect("admitted").run(|| 7).await;
            assert_eq!(ok, Ok(7));
            assert_eq!((slots.running(), slots.admitted()), (0, 0));
        });
    }
}
