//! How far the projection has applied the stream, and who is waiting for which sequence.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::oneshot;

/// The last sequence applied, readable without the state's lock, and the tasks waiting for a
/// sequence to be applied.
///
/// Each waiter is woken once, when its sequence is applied (not on every event, which under a storm
/// of thousands of requests in flight would cost millions of wake-ups).
#[derive(Default)]
pub(super) struct Progress {
    applied: AtomicU64,
    waiters: Mutex<BTreeMap<u64, Vec<oneshot::Sender<()>>>>,
}

impl Progress {
    /// The last sequence applied.
    pub(super) fn applied(&self) -> u64 {
        self.applied.load(Ordering::Acquire)
    }

    /// Reports that everything up to `seq` is applied, waking whoever waits for it.
    pub(super) fn advance(&self, seq: u64) {
        // Callers report after releasing the state's lock, so reports may arrive out of order:
        // the sequence only ever moves forward.
        let seq = self.applied.fetch_max(seq, Ordering::AcqRel).max(seq);
        let ready = {
            let mut waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
            match waiters.first_key_value() {
                Some((first, _)) if *first <= seq => {
                    let later = waiters.split_off(&(seq + 1));
                    std::mem::replace(&mut *waiters, later)
                }
                _ => return,
            }
        };
        for sender in ready.into_values().flatten() {
            let _ = sender.send(());
        }
    }

    /// Waits until `seq` is applied; false after `timeout`.
    pub(super) async fn wait(&self, seq: u64, timeout: Duration) -> bool {
        let receiver = {
            let mut waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
            if self.applied() >= seq {
                return true;
            }
            let (sender, receiver) = oneshot::channel();
            waiters.entry(seq).or_default().push(sender);
            receiver
        };
        matches!(tokio::time::timeout(timeout, receiver).await, Ok(Ok(())))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn progress_never_moves_back_and_wakes_each_waiter_once() {
        let progress = Arc::new(Progress::default());
        let waiter = {
            let progress = progress.clone();
            tokio::spawn(async move { progress.wait(5, Duration::from_secs(5)).await })
        };
        tokio::task::yield_now().await;
        progress.advance(6);
        progress.advance(4);
        assert_eq!(progress.applied(), 6);
        assert!(waiter.await.unwrap());
        assert!(!progress.wait(7, Duration::from_millis(10)).await);
    }
}
