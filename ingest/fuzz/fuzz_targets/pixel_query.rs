//! Fuzzes the pixel's query-string decoder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use numu_ingest_decode::fuzzing;

fuzz_target!(|data: &[u8]| fuzzing::pixel_query(data));
