//! Load generator, demo-data generator and benchmarks (filled by later issues).
