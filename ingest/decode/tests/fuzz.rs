//! Stable-Rust randomized robustness tests for every decoder: a seeded byte mutator over
//! the committed corpora in `ingest/fuzz/corpus/` (the seeds the cargo-fuzz targets start
//! from, and any input that once crashed one), calling the same `fuzzing` entry points as
//! the fuzz targets, plus a proptest that builds arbitrary JSON events. Each target runs
//! for a bounded number of inputs and time, so the suite stays fast; a panic anywhere
//! fails the test. Coverage-guided fuzzing is `make fuzz-ci` (and longer by hand).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use numu_ingest_decode::fuzzing;
use proptest::prelude::*;

/// xorshift64*: deterministic, so a failure reproduces from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that matter to the decoders, inserted more often than random ones.
const INTERESTING: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"null",
    b"true",
    b"-1e999",
    b"1.5",
    b"\"type\":\"track\"",
    b"\\u0000",
    b"\\ud800",
    b"\xff",
    b"\xc3",
    b"%",
    b"%zz",
    b"&",
    b"=",
    b"\x1f\x8b\x08\x00",
    b"\"batch\":",
    b"\"t\":\"page\"",
    b"\"userId\":{}",
    b"9999999999999999999999",
];

fn mutate(rng: &mut Rng, input: &mut Vec<u8>) {
    for _ in 0..=rng.below(4) {
        let at = rng.below(input.len() + 1);
        match rng.below(6) {
            0 if !input.is_empty() => {
                let end = (at + rng.below(16)).min(input.len());
                input.drain(at.min(end)..end);
            }
            1 => input.insert(at, rng.next() as u8),
            2 if at < input.len() => input[at] ^= 1 << rng.below(8),
            3 => {
                let piece = INTERESTING[rng.below(INTERESTING.len())];
                input.splice(at..at, piece.iter().copied());
            }
            4 if !input.is_empty() => {
                // Duplicate a span: deep nesting and repeated keys.
                let start = rng.below(input.len());
                let end = (start + rng.below(64)).min(input.len());
                let span = input[start..end].to_vec();
                input.splice(at..at, span);
            }
            _ => input.truncate(at),
        }
    }
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let mut seeds: Vec<Vec<u8>> =
        std::fs::read_dir(&dir).unwrap().map(|e| std::fs::read(e.unwrap().path()).unwrap()).collect();
    seeds.push(Vec::new());
    seeds
}

/// Runs `target` on mutated seeds: at most `inputs` inputs or `budget` time.
fn run(name: &str, target: fn(&[u8]), inputs: usize, budget: Duration) -> usize {
    let seeds = seeds(name);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
    let started = Instant::now();
    let mut ran = 0;
    while ran < inputs && started.elapsed() < budget {
        let mut input = seeds[rng.below(seeds.len())].clone();
        // Mutate a few generations deep from the seed.
        for _ in 0..=rng.below(8) {
            mutate(&mut rng, &mut input);
            target(&input);
            ran += 1;
        }
    }
    // Seeds themselves too.
    seeds.iter().for_each(|s| target(s));
    eprintln!("{name}: {ran} mutated inputs in {:?}", started.elapsed());
    ran
}

const INPUTS: usize = 100_000;
const BUDGET: Duration = Duration::from_secs(3);

#[test]
fn segment_message_survives_mutation() {
    assert!(run("segment_message", fuzzing::segment_message, INPUTS, BUDGET) > 1000);
}

#[test]
fn segment_batch_survives_mutation() {
    assert!(run("segment_batch", fuzzing::segment_batch, INPUTS, BUDGET) > 1000);
}

#[test]
fn compact_body_survives_mutation() {
    assert!(run("compact_body", fuzzing::compact_body, INPUTS, BUDGET) > 1000);
}

#[test]
fn pixel_query_survives_mutation() {
    assert!(run("pixel_query", fuzzing::pixel_query, INPUTS, BUDGET) > 1000);
}

#[test]
fn gzip_body_survives_mutation() {
    assert!(run("gzip_body", fuzzing::gzip_body, INPUTS, BUDGET) > 1000);
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        "[a-z$_ ]{0,12}".prop_map(serde_json::Value::from),
        prop_oneof![
            Just("track"),
            Just("page"),
            Just("identify"),
            Just("alias"),
            Just("group"),
            Just("screen")
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("type".to_string()),
                    Just("t".to_string()),
                    Just("event".to_string()),
                    Just("userId".to_string()),
                    Just("anonymousId".to_string()),
                    Just("properties".to_string()),
                    Just("traits".to_string()),
                    Just("context".to_string()),
                    Just("timestamp".to_string()),
                    Just("p".to_string()),
                    Just("ts".to_string()),
                    Just("batch".to_string()),
                    "[a-z]{1,6}",
                ],
                inner,
                0..8,
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics_a_decoder(value in json_value()) {
        let text = value.to_string();
        fuzzing::segment_message(text.as_bytes());
        fuzzing::segment_batch(format!(r#"{{"batch":[{text}]}}"#).as_bytes());
        fuzzing::compact_body(text.as_bytes());
        fuzzing::compact_body(format!("[{text},{text}]").as_bytes());
        fuzzing::pixel_query(format!("k=nw_x&p={text}").as_bytes());
    }
}
