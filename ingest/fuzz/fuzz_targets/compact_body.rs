//! Fuzzes the snippet's compact body decoder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use numu_ingest_decode::fuzzing;

fuzz_target!(|data: &[u8]| fuzzing::compact_body(data));
