//! The NATS connections of the identities that call the gateway: one per identity, opened on its
//! first request with `<deployment dir>/<identity>.creds`, shared by every request and stream of
//! that identity, closed when idle.
//!
//! One connection per identity is enough: NATS multiplexes every request of a connection (each has
//! its own reply subject under `_INBOX.<identity>`), so more connections of one identity would add
//! sockets, not throughput. The pool is bounded ([`crate::config::Limits::max_connections`]): past
//! the bound the least recently used identity without a request in flight is closed, or the request
//! gets `unavailable`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hoinghi_client::{Api, Settings};
use hoinghi_shared::ApiError;
use tokio::sync::OnceCell;

/// The connections of the identities.
#[derive(Debug)]
pub struct Pool {
    base: Settings,
    dir: PathBuf,
    max: usize,
    idle: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

#[derive(Debug, Clone)]
struct Entry {
    cell: Arc<OnceCell<Api>>,
    last_used: Instant,
}

impl Pool {
    /// A pool connecting with `base` (URL, TLS, timeout) as the identities of `dir`.
    pub fn new(base: Settings, dir: PathBuf, max: usize, idle: Duration) -> Self {
        Self { base, dir, max, idle, entries: Mutex::new(HashMap::new()) }
    }

    /// The connection of `identity`, opened if need be.
    ///
    /// # Errors
    /// `unavailable`: NATS unreachable, the pool full of busy identities; `forbidden`: the server
    /// refused the identity's credentials (revoked).
    pub async fn get(&self, identity: &str) -> Result<Api, ApiError> {
        let cell = {
            let mut entries = self.entries.lock().map_err(|_| ApiError::unavailable("connection pool poisoned"))?;
            if let Some(entry) = entries.get_mut(identity) {
                entry.last_used = Instant::now();
                entry.cell.clone()
            } else {
                if entries.len() >= self.max {
                    evict_one(&mut entries).ok_or_else(|| {
                        ApiError::unavailable(format!(
                            "the gateway holds {} connections, all busy: retry shortly",
                            entries.len()
                        ))
                    })?;
                }
                let cell = Arc::new(OnceCell::new());
                entries.insert(identity.to_owned(), Entry { cell: cell.clone(), last_used: Instant::now() });
                cell
            }
        };
        let settings = self.base.as_identity(identity, hoinghi_credentials::creds_path(&self.dir, identity));
        let connected = cell.get_or_try_init(|| Api::connect_with(settings)).await;
        match connected {
            Ok(api) => Ok(api.clone()),
            Err(e) => {
                // Forget the failed attempt so that the next request tries again.
                if let Ok(mut entries) = self.entries.lock() {
                    if entries.get(identity).is_some_and(|en| Arc::ptr_eq(&en.cell, &cell)) {
                        entries.remove(identity);
                    }
                }
                let text = format!("{e:#}");
                tracing::warn!(identity, error = %text, "cannot connect as the identity");
                if text.to_ascii_lowercase().contains("authorization") {
                    Err(ApiError::forbidden(format!("the NATS server refused the identity {identity}")))
                } else {
                    Err(ApiError::unavailable(format!("cannot reach NATS as {identity}: {text}")))
                }
            }
        }
    }

    /// Closes the connections idle for longer than the pool's idle time; returns how many.
    pub fn sweep(&self) -> usize {
        let Ok(mut entries) = self.entries.lock() else { return 0 };
        let before = entries.len();
        let idle = self.idle;
        // An entry still referenced elsewhere (a request in flight, a live stream) is not idle.
        entries.retain(|_, e| Arc::strong_count(&e.cell) > 1 || e.last_used.elapsed() < idle);
        before - entries.len()
    }

    /// How many identities are connected (or connecting).
    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    /// Whether no identity is connected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Drops the least recently used entry that nobody else holds; `None` if every one is busy.
fn evict_one(entries: &mut HashMap<String, Entry>) -> Option<()> {
    let victim = entries
        .iter()
        .filter(|(_, e)| Arc::strong_count(&e.cell) == 1)
        .min_by_key(|(_, e)| e.last_used)
        .map(|(k, _)| k.clone())?;
    entries.remove(&victim);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(max: usize, idle: Duration) -> Pool {
        Pool::new(Settings::new("nats://127.0.0.1:1"), PathBuf::from("/nonexistent"), max, idle)
    }

    fn insert(pool: &Pool, identity: &str, age: Duration) -> Arc<OnceCell<Api>> {
        let cell = Arc::new(OnceCell::new());
        let last_used = Instant::now().checked_sub(age).unwrap_or_else(Instant::now);
        pool.entries.lock().unwrap().insert(identity.to_owned(), Entry { cell: cell.clone(), last_used });
        cell
    }

    #[test]
    fn idle_connections_are_closed_and_busy_ones_kept() {
        let pool = pool(10, Duration::from_secs(60));
        drop(insert(&pool, "site-idle", Duration::from_secs(120)));
        let busy = insert(&pool, "site-busy", Duration::from_secs(120));
        drop(insert(&pool, "site-recent", Duration::from_secs(1)));
        assert_eq!(pool.sweep(), 1);
        let left: Vec<String> = pool.entries.lock().unwrap().keys().cloned().collect();
        assert!(left.contains(&"site-busy".to_owned()) && left.contains(&"site-recent".to_owned()), "{left:?}");
        drop(busy);
    }

    #[test]
    fn a_full_pool_makes_room_from_the_least_recently_used_idle_identity_or_refuses() {
        let pool = pool(2, Duration::from_secs(60));
        drop(insert(&pool, "site-old", Duration::from_secs(30)));
        drop(insert(&pool, "site-new", Duration::from_secs(1)));
        let mut entries = pool.entries.lock().unwrap();
        assert_eq!(evict_one(&mut entries), Some(()));
        assert!(!entries.contains_key("site-old") && entries.contains_key("site-new"));
        let held = entries.get("site-new").unwrap().cell.clone();
        assert_eq!(evict_one(&mut entries), None, "a connection in use is never closed to make room");
        drop(held);
    }

    #[tokio::test]
    async fn an_unreachable_server_is_unavailable_and_not_remembered() {
        let pool = pool(2, Duration::from_secs(60));
        let e = pool.get("site-a").await.unwrap_err();
        assert_eq!(e.code, hoinghi_shared::ErrorCode::Unavailable, "{e}");
        assert!(pool.is_empty(), "the failed attempt is forgotten, the next request tries again");
    }
}
