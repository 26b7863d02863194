//! Fuzzes the `/v1/batch` decoder and per-event validation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use numu_ingest_decode::fuzzing;

fuzz_target!(|data: &[u8]| fuzzing::segment_batch(data));
