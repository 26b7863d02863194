//! Unique visitors of a stretch of time: an exact set of 64-bit visitor hashes while it is
//! small, a HyperLogLog++ sketch (the `hyperloglogplus` crate) beyond; unions, estimates
//! and their error bounds.
//!
//! Every collector hashes a visitor id with XXH3-64 (seed 0, a published, stable function)
//! and feeds the sketch the hash itself through [`PreHashed`], so sketches built on
//! different collectors and releases merge into exact unions.

use std::hash::{BuildHasher, Hasher};

use hyperloglogplus::{HyperLogLog, HyperLogLogPlus};
use serde::{Deserialize, Serialize};

/// Exact unions are kept up to this many hashes (32 KiB); larger ones become sketches.
pub const EXACT_UNION_LIMIT: usize = 4096;
/// Precision of the crate's sparse representation (fixed by the crate).
const SPARSE_PRECISION: i32 = 25;

/// The stable 64-bit hash of a visitor id.
pub fn visitor_hash(id: &str) -> u64 {
    twox_hash::XxHash3_64::oneshot(id.as_bytes())
}

/// A `BuildHasher` whose hasher returns the `u64` it is given: values fed to the sketch
/// are already [`visitor_hash`]es.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreHashed;

/// The hasher of [`PreHashed`].
#[derive(Debug, Default)]
pub struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; anything else is still hashed properly.
        self.0 = twox_hash::XxHash3_64::oneshot_with_seed(self.0, bytes);
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

impl BuildHasher for PreHashed {
    type Hasher = PassThrough;

    fn build_hasher(&self) -> PassThrough {
        PassThrough(0)
    }
}

/// A HyperLogLog++ sketch over visitor hashes.
pub type Sketch = HyperLogLogPlus<u64, PreHashed>;

/// An empty sketch. `precision` is checked by `Config::validate` (4..=18).
pub fn new_sketch(precision: u8) -> Sketch {
    HyperLogLogPlus::new(precision, PreHashed).expect("precision checked by Config::validate")
}

/// Visitors as an exact, sorted set of hashes or as a sketch.
#[derive(Clone, Debug)]
pub enum VisitorSet {
    Exact(Vec<u64>),
    Sketch(Box<Sketch>),
}

impl Default for VisitorSet {
    fn default() -> Self {
        VisitorSet::Exact(Vec::new())
    }
}

/// A count of visitors with its bound: the true count is within `estimate ± error_bound`
/// (three standard errors, ~99.7 %); `exact` when it came from exact sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Estimate {
    pub estimate: u64,
    pub error_bound: u64,
    pub exact: bool,
}

fn sketch_of(hashes: &[u64], precision: u8) -> Box<Sketch> {
    let mut sketch = Box::new(new_sketch(precision));
    for hash in hashes {
        sketch.insert(hash);
    }
    sketch
}

impl VisitorSet {
    /// Adds one visitor; an exact set longer than `exact_threshold` becomes a sketch.
    pub fn insert(&mut self, hash: u64, precision: u8, exact_threshold: usize) {
        match self {
            VisitorSet::Exact(hashes) => {
                if let Err(at) = hashes.binary_search(&hash) {
                    hashes.insert(at, hash);
                    if hashes.len() > exact_threshold {
                        *self = VisitorSet::Sketch(sketch_of(hashes, precision));
                    }
                }
            }
            VisitorSet::Sketch(sketch) => sketch.insert(&hash),
        }
    }

    /// Adds `other`'s visitors. Sketches must have this set's precision.
    pub fn union_with(
        &mut self,
        other: &VisitorSet,
        precision: u8,
    ) -> Result<(), hyperloglogplus::HyperLogLogError> {
        match (&mut *self, other) {
            (VisitorSet::Exact(mine), VisitorSet::Exact(theirs)) => {
                let merged = sorted_union(mine, theirs);
                *self = if merged.len() > EXACT_UNION_LIMIT {
                    VisitorSet::Sketch(sketch_of(&merged, precision))
                } else {
                    VisitorSet::Exact(merged)
                };
            }
            (VisitorSet::Exact(mine), VisitorSet::Sketch(theirs)) => {
                let mut sketch = theirs.clone();
                for hash in mine.iter() {
                    sketch.insert(hash);
                }
                *self = VisitorSet::Sketch(sketch);
            }
            (VisitorSet::Sketch(mine), VisitorSet::Exact(theirs)) => {
                for hash in theirs {
                    mine.insert(hash);
                }
            }
            (VisitorSet::Sketch(mine), VisitorSet::Sketch(theirs)) => mine.merge(theirs.as_ref())?,
        }
        Ok(())
    }

    /// The number of visitors with its error bound.
    pub fn estimate(&mut self, precision: u8) -> Estimate {
        match self {
            VisitorSet::Exact(hashes) => {
                Estimate { estimate: hashes.len() as u64, error_bound: 0, exact: true }
            }
            VisitorSet::Sketch(sketch) => {
                let raw = sketch.count().max(0.0);
                Estimate {
                    estimate: raw.round() as u64,
                    error_bound: error_bound(raw, precision),
                    exact: false,
                }
            }
        }
    }

    /// Releases spare capacity once a minute is closed. The crate keeps the capacity of its
    /// temporary set and sparse list after converting to registers (up to ~2× a dense
    /// sketch); a serialization round trip drops it.
    pub fn compact(&mut self) {
        match self {
            VisitorSet::Exact(hashes) => hashes.shrink_to_fit(),
            VisitorSet::Sketch(sketch) => {
                sketch.count(); // folds the temporary set into the sparse list
                let fresh = postcard::to_allocvec(sketch.as_ref())
                    .ok()
                    .and_then(|bytes| postcard::from_bytes::<Sketch>(&bytes).ok());
                if let Some(fresh) = fresh {
                    **sketch = fresh;
                }
            }
        }
    }
}

fn sorted_union(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// The relative standard error of a dense sketch of `precision`: 1.04/√2^p.
pub fn relative_standard_error(precision: u8) -> f64 {
    1.04 / f64::from(1u32 << precision).sqrt()
}

/// Three standard errors of a sketch's estimate `n`.
///
/// Dense sketches: 1.04/√m relative (HLL's bound; linear counting below its threshold is
/// tighter). Small estimates come from the sparse representation — linear counting over
/// 2^25 slots, whose standard deviation is √(m'(e^t − t − 1)), t = n/m' (Whang et al.) —
/// almost exact. A result can only be sparse if every sketch merged into it was, and a
/// sketch turns dense only after its sparse list outgrew the dense registers (m/5 words,
/// ≥ one byte per entry, at most five), so below a tenth of the dense byte size the
/// estimate is surely sparse.
pub fn error_bound(n: f64, precision: u8) -> u64 {
    let m = f64::from(1u32 << precision);
    let dense_bytes = (m / 5.0).ceil() * 4.0;
    let sigma = if n < dense_bytes / 10.0 {
        let slots = 2f64.powi(SPARSE_PRECISION);
        let t = n / slots;
        (slots * (t.exp_m1() - t)).max(0.0).sqrt()
    } else {
        n * relative_standard_error(precision)
    };
    (3.0 * sigma).ceil() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_sets_are_exact_then_become_sketches() {
        let mut set = VisitorSet::default();
        for i in 0..100u64 {
            set.insert(visitor_hash(&format!("v{i}")), 14, 128);
            set.insert(visitor_hash(&format!("v{i}")), 14, 128);
        }
        assert_eq!(set.estimate(14), Estimate { estimate: 100, error_bound: 0, exact: true });
        for i in 100..1000u64 {
            set.insert(visitor_hash(&format!("v{i}")), 14, 128);
        }
        assert!(matches!(set, VisitorSet::Sketch(_)));
        let estimate = set.estimate(14);
        assert!(!estimate.exact);
        assert!(estimate.estimate.abs_diff(1000) <= estimate.error_bound, "{estimate:?}");
        assert!(estimate.error_bound <= 2, "sparse sketches are almost exact: {estimate:?}");
    }

    #[test]
    fn unions_of_any_kinds_agree() {
        let ids =
            |range: std::ops::Range<u32>| range.map(|i| visitor_hash(&i.to_string())).collect::<Vec<_>>();
        let build = |hashes: &[u64], threshold| {
            let mut set = VisitorSet::default();
            hashes.iter().for_each(|h| set.insert(*h, 12, threshold));
            set
        };
        for (ta, tb) in [(10_000, 10_000), (10_000, 0), (0, 10_000), (0, 0)] {
            let mut a = build(&ids(0..300), ta);
            let b = build(&ids(200..500), tb);
            a.union_with(&b, 12).unwrap();
            let estimate = a.estimate(12);
            assert!(estimate.estimate.abs_diff(500) <= estimate.error_bound, "{ta} {tb}: {estimate:?}");
            assert_eq!(estimate.exact, ta > 0 && tb > 0);
        }
        let mut wrong = build(&ids(0..10), 0);
        let other = VisitorSet::Sketch(sketch_of(&ids(0..10), 13));
        assert!(wrong.union_with(&other, 12).is_err());
    }

    #[test]
    fn compaction_keeps_the_count() {
        let mut set = VisitorSet::default();
        for i in 0..20_000u32 {
            set.insert(visitor_hash(&i.to_string()), 14, 0);
        }
        let before = set.estimate(14);
        set.compact();
        assert_eq!(set.estimate(14), before);
    }

    #[test]
    fn bounds_grow_with_the_estimate() {
        assert_eq!(error_bound(0.0, 14), 0);
        assert_eq!(error_bound(100.0, 14), 1);
        assert!(error_bound(1_000_000.0, 14) >= 24_000);
        assert!((relative_standard_error(14) - 0.008125).abs() < 1e-6);
    }
}
