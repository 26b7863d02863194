//! Fuzzes the single-message decoder and validation of the Segment endpoints.
#![no_main]

use libfuzzer_sys::fuzz_target;
use numu_ingest_decode::fuzzing;

fuzz_target!(|data: &[u8]| fuzzing::segment_message(data));
