//! The query service: each analysis builds SQL (user values bound, always scoped to one
//! project) and folds the resulting rows; `run` executes them against the warehouse within
//! the configured limits; `http` exposes them. Analysis modules do no IO.

pub mod cohorts;
pub mod error;
pub mod events;
pub mod filter;
pub mod formula;
pub mod funnels;
pub mod http;
pub mod identity;
pub mod json;
pub mod limits;
pub mod paths;
pub mod people;
pub mod property;
pub mod range;
pub mod retention;
pub mod run;
pub mod source;
pub mod table;
pub mod template;
pub mod trends;
pub mod web;

pub use error::{ErrorCode, QueryError};
pub use limits::Limits;
pub use run::Runner;
