//! Numu's transactional application state (projects, keys; later users, definitions,
//! campaigns): SQLite by default, written in portable SQL so PostgreSQL can serve later.

pub mod auth;
mod cohorts;
mod error;
mod keys;
mod store;
mod users;

pub use auth::{authorize, Credential, Denied, Principal, Scope};
pub use cohorts::{Cohort, CohortInput, CohortSize};
pub use error::{AppStateError, Result};
pub use keys::{generate_secret_key, generate_write_key, hash_secret, SECRET_PREFIX, WRITE_PREFIX};
pub use store::{ApiKey, AppState, NewProject, Project};
pub use users::{
    hash_password, verify_password, Member, Membership, NewSession, Role, Session, User, MIN_PASSWORD_LEN,
};
