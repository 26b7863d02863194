//! The traffic model: a deterministic, streaming generator of realistic Segment messages —
//! visitors arriving with daily and weekly rhythm through channels and campaigns of
//! different quality, sessions of page views with clicks and scroll depth, a signup →
//! activation → purchase funnel, identity across devices, returning users, an experiment
//! with a known lift — and the [`Truths`] it realised, plus daily ad spend per campaign.
//!
//! ```
//! use numu_load_tests::model::{Generator, ModelConfig};
//! let config = ModelConfig { days: 2, visitors_per_day: 20.0, ..ModelConfig::default() };
//! let mut generator = Generator::new(config).unwrap();
//! let messages: Vec<_> = generator.by_ref().collect();
//! assert_eq!(generator.truths().messages, messages.len() as u64);
//! ```

pub mod adspend;
pub mod agents;
pub mod clock;
mod config;
mod defaults;
mod expected;
mod generator;
mod message;
pub mod pages;
mod person;
pub mod rng;
pub mod rows;
mod session;
mod truths;

pub use adspend::{ad_spend, AdSpend};
pub use config::{
    CampaignConfig, ChannelConfig, ExperimentConfig, FunnelConfig, ModelConfig, ModelError, Plan,
    ReturnConfig, SessionConfig, VariantConfig, Weighted, DEFAULT_NOW_MS,
};
pub use expected::Expected;
pub use generator::{arrivals, mean_arrivals, truths_of, Generator};
pub use message::{uuid_like, LIBRARY};
pub use rows::{received_at, simple_records, simple_row};
pub use truths::{ChannelTruth, DayTruth, Reach, StepTruth, Truths, VariantTruth};
