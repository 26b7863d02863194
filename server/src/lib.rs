//! The `numu` binary's parts: configuration, command line, telemetry, and the HTTP server
//! that composes the services.

pub mod abandon;
pub mod assets;
pub mod cli;
pub mod compose;
pub mod config;
pub mod dashboard;
pub mod demo;
pub mod serve;
pub mod telemetry;
