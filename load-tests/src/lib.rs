//! Load generator, demo-data generator and benchmarks (filled by later issues).

pub mod demo;
pub mod ingest_load;
pub mod model;
