//! Write-key resolution with a short-lived cache (the application database is not asked
//! on every request), and the budget for dead letters whose project is unknown.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use numu_appstate::{AppState, Credential, Project};
use quick_cache::sync::Cache;

use super::FrontError;

/// Keys remembered, known or not; bounds memory under a flood of random keys.
const CACHE_ENTRIES: usize = 10_000;

/// Resolves write keys to projects.
pub struct KeyResolver {
    app: AppState,
    ttl: Duration,
    cache: Cache<String, (Instant, Option<Arc<Project>>)>,
}

impl std::fmt::Debug for KeyResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyResolver").field("ttl", &self.ttl).finish()
    }
}

impl KeyResolver {
    pub fn new(app: AppState, ttl: Duration) -> KeyResolver {
        KeyResolver { app, ttl, cache: Cache::new(CACHE_ENTRIES) }
    }

    /// The enabled project of `key`. Keys that are not even shaped like write keys are
    /// refused without a lookup.
    pub async fn resolve(&self, key: Option<&str>) -> Result<Arc<Project>, FrontError> {
        let key = key.map(str::trim).filter(|k| !k.is_empty()).ok_or(FrontError::MissingWriteKey)?;
        if !matches!(Credential::from_key(key), Credential::Write(_)) {
            return Err(FrontError::UnknownWriteKey);
        }
        let project = self.lookup(key).await?.ok_or(FrontError::UnknownWriteKey)?;
        if project.write_key_disabled {
            return Err(FrontError::DisabledWriteKey);
        }
        Ok(project)
    }

    async fn lookup(&self, key: &str) -> Result<Option<Arc<Project>>, FrontError> {
        if !self.ttl.is_zero() {
            if let Some((at, project)) = self.cache.get(key) {
                if at.elapsed() < self.ttl {
                    return Ok(project);
                }
            }
        }
        let project = self
            .app
            .project_by_write_key(key)
            .await
            .map_err(|e| FrontError::Internal(format!("write key lookup: {e}")))?
            .map(Arc::new);
        if !self.ttl.is_zero() {
            self.cache.insert(key.to_string(), (Instant::now(), project.clone()));
        }
        Ok(project)
    }
}

/// Allows `per_minute` events per wall-clock minute (a fixed window: cheap, and precise
/// enough for a storage bound).
#[derive(Debug)]
pub struct MinuteBudget {
    per_minute: u64,
    /// Minute number in the high 32 bits, count in the low 32.
    state: AtomicU64,
}

impl MinuteBudget {
    pub fn new(per_minute: u32) -> MinuteBudget {
        MinuteBudget { per_minute: u64::from(per_minute), state: AtomicU64::new(0) }
    }

    /// Takes one unit at `now_ms`; false when this minute's budget is spent.
    pub fn take(&self, now_ms: i64) -> bool {
        let minute = (now_ms.max(0) / 60_000) as u64 & 0xffff_ffff;
        let mut current = self.state.load(Ordering::Relaxed);
        loop {
            let (window, used) = (current >> 32, current & 0xffff_ffff);
            let used = if window == minute { used } else { 0 };
            if used >= self.per_minute {
                return false;
            }
            let next = (minute << 32) | (used + 1);
            match self.state.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(actual) => current = actual,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_refills_each_minute() {
        let budget = MinuteBudget::new(2);
        assert!(budget.take(60_000) && budget.take(60_001));
        assert!(!budget.take(119_999));
        assert!(budget.take(120_000));
        assert!(!MinuteBudget::new(0).take(1));
    }
}
