//! Cookieless visitor ids: `v_` + hash(daily salt, project, IP, user agent), for events
//! that carry neither a user id nor an anonymous id. The salt changes every UTC day, so
//! an id cannot be followed across days nor reversed to an IP once the salt is gone.
//!
//! Salts are derived from `visitor_salt_secret` and the day when it is configured (every
//! collector then agrees), else random per process (ids then differ between collectors
//! and restarts). Today's and yesterday's salts are kept so an event that arrives late
//! but happened yesterday gets the id its siblings got yesterday.

use std::sync::RwLock;

use sha2::{Digest, Sha256};

const DAY_MS: i64 = 86_400_000;

/// The UTC day number of an epoch-ms time.
pub fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

#[derive(Debug)]
struct Salts {
    today: i64,
    current: [u8; 32],
    previous: [u8; 32],
}

/// Hashes visitors with a rotating salt.
#[derive(Debug)]
pub struct VisitorHasher {
    secret: Option<Vec<u8>>,
    salts: RwLock<Salts>,
}

impl VisitorHasher {
    pub fn new(secret: Option<&str>, now_ms: i64) -> VisitorHasher {
        let secret = secret.map(|s| s.as_bytes().to_vec());
        let today = day_of(now_ms);
        let salts = Salts {
            today,
            current: salt(secret.as_deref(), today),
            previous: salt(secret.as_deref(), today - 1),
        };
        VisitorHasher { secret, salts: RwLock::new(salts) }
    }

    /// The salt for an event received at `received_ms` that happened at `event_ms`.
    fn salt_for(&self, received_ms: i64, event_ms: i64) -> [u8; 32] {
        let received_day = day_of(received_ms);
        let event_day = day_of(event_ms);
        {
            let salts = self.salts.read().unwrap_or_else(|e| e.into_inner());
            if received_day <= salts.today {
                return if event_day == salts.today - 1 { salts.previous } else { salts.current };
            }
        }
        let mut salts = self.salts.write().unwrap_or_else(|e| e.into_inner());
        if received_day > salts.today {
            // A gap of several days means yesterday's salt was never made: make it now.
            salts.previous = if received_day == salts.today + 1 {
                salts.current
            } else {
                salt(self.secret.as_deref(), received_day - 1)
            };
            salts.current = salt(self.secret.as_deref(), received_day);
            salts.today = received_day;
        }
        if event_day == salts.today - 1 {
            salts.previous
        } else {
            salts.current
        }
    }

    /// The visitor id.
    pub fn visitor_id(
        &self,
        received_ms: i64,
        event_ms: i64,
        project_id: u64,
        ip: &str,
        user_agent: &str,
    ) -> String {
        let salt = self.salt_for(received_ms, event_ms);
        let mut hasher = Sha256::new();
        hasher.update(salt);
        hasher.update(project_id.to_le_bytes());
        // Length-prefixed so ("ab","c") and ("a","bc") differ.
        hasher.update((ip.len() as u64).to_le_bytes());
        hasher.update(ip.as_bytes());
        hasher.update(user_agent.as_bytes());
        let digest = hasher.finalize();
        format!("v_{}", hex::encode(&digest[..16]))
    }
}

fn salt(secret: Option<&[u8]>, day: i64) -> [u8; 32] {
    match secret {
        Some(secret) => {
            let mut hasher = Sha256::new();
            hasher.update(b"numu visitor salt\0");
            hasher.update(secret);
            hasher.update(day.to_le_bytes());
            hasher.finalize().into()
        }
        None => rand::random(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

    #[test]
    fn ids_are_stable_within_a_day_and_rotate_across_days() {
        let hasher = VisitorHasher::new(None, T0);
        let morning = hasher.visitor_id(T0 + 1000, T0 + 1000, 1, "1.2.3.4", "UA");
        assert!(morning.starts_with("v_") && morning.len() == 34);
        assert_eq!(hasher.visitor_id(T0 + 3_600_000, T0 + 3_600_000, 1, "1.2.3.4", "UA"), morning);
        assert_ne!(hasher.visitor_id(T0 + 1000, T0 + 1000, 2, "1.2.3.4", "UA"), morning, "projects differ");
        assert_ne!(hasher.visitor_id(T0 + 1000, T0 + 1000, 1, "1.2.3.5", "UA"), morning, "IPs differ");
        let next_day = hasher.visitor_id(T0 + DAY_MS + 5, T0 + DAY_MS + 5, 1, "1.2.3.4", "UA");
        assert_ne!(next_day, morning, "the salt rotates");
        // A late event from yesterday still gets yesterday's id.
        assert_eq!(hasher.visitor_id(T0 + DAY_MS + 10, T0 + 2000, 1, "1.2.3.4", "UA"), morning);
        // Two days later yesterday's salt is new too.
        assert_ne!(hasher.visitor_id(T0 + 3 * DAY_MS, T0 + 2 * DAY_MS, 1, "1.2.3.4", "UA"), next_day);
    }

    #[test]
    fn a_configured_secret_makes_collectors_agree() {
        let a = VisitorHasher::new(Some("s3cret"), T0);
        let b = VisitorHasher::new(Some("s3cret"), T0 + 5 * DAY_MS);
        let c = VisitorHasher::new(Some("other"), T0);
        let later = T0 + 5 * DAY_MS + 9;
        assert_eq!(a.visitor_id(later, later, 1, "ip", "ua"), b.visitor_id(later, later, 1, "ip", "ua"));
        assert_ne!(a.visitor_id(T0, T0, 1, "ip", "ua"), c.visitor_id(T0, T0, 1, "ip", "ua"));
        // Random salts (no secret) differ between processes.
        let (x, y) = (VisitorHasher::new(None, T0), VisitorHasher::new(None, T0));
        assert_ne!(x.visitor_id(T0, T0, 1, "ip", "ua"), y.visitor_id(T0, T0, 1, "ip", "ua"));
    }
}
