//! Fuzzes gzip removal with its size cap, then UTF-8 and the batch decoder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use numu_ingest_decode::fuzzing;

fuzz_target!(|data: &[u8]| fuzzing::gzip_body(data));
