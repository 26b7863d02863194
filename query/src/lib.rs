//! The query service: each analysis builds SQL (user values bound, always scoped to one
//! project) and folds the resulting rows; `http` exposes them. Analysis modules do no IO.

pub mod error;
pub mod events;
pub mod http;
pub mod json;

pub use error::{ErrorCode, QueryError};
