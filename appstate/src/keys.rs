//! Key generation and hashing. Write keys are public and stored in clear; secret keys are
//! shown once and only their SHA-256 is kept.

use rand::distr::{Alphanumeric, SampleString};
use sha2::{Digest, Sha256};

/// Prefix of a project's public write key.
pub const WRITE_PREFIX: &str = "nw_";
/// Prefix of a secret API key.
pub const SECRET_PREFIX: &str = "nsk_";

pub fn generate_write_key() -> String {
    format!("{WRITE_PREFIX}{}", Alphanumeric.sample_string(&mut rand::rng(), 32))
}

pub fn generate_secret_key() -> String {
    // 40 alphanumeric characters ≈ 238 bits of entropy.
    format!("{SECRET_PREFIX}{}", Alphanumeric.sample_string(&mut rand::rng(), 40))
}

/// The stored form of a secret key.
pub fn hash_secret(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_distinct_and_prefixed() {
        let (a, b) = (generate_secret_key(), generate_secret_key());
        assert_ne!(a, b);
        assert!(a.starts_with(SECRET_PREFIX) && a.len() == SECRET_PREFIX.len() + 40);
        assert!(generate_write_key().starts_with(WRITE_PREFIX));
        assert_eq!(hash_secret(&a), hash_secret(&a));
        assert_ne!(hash_secret(&a), hash_secret(&b));
        assert_eq!(hash_secret(&a).len(), 64);
    }
}
