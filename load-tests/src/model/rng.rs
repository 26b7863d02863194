//! The model's randomness: a seeded ChaCha8 stream per purpose (one per visitor, one per day),
//! read only through `next_u64`, so the generated data depends on nothing but the seed and
//! the algorithms in this crate (not on how a `rand` release maps bits to ranges).

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// SplitMix64's finaliser: a cheap, well-mixed 64-bit hash step.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash of several words, for ids and per-purpose seeds.
pub fn hash(words: &[u64]) -> u64 {
    words.iter().fold(0x6E75_6D75_u64, |acc, w| mix(acc ^ mix(*w)))
}

/// Seeded random numbers with the handful of distributions the model uses.
#[derive(Clone, Debug)]
pub struct Rand {
    inner: ChaCha8Rng,
}

impl Rand {
    /// A stream for one purpose: `seed` is the model's seed, `stream` names the purpose
    /// (e.g. a visitor's index), so streams never overlap and can be made in any order.
    pub fn new(seed: u64, purpose: u64, stream: u64) -> Rand {
        Rand { inner: ChaCha8Rng::seed_from_u64(hash(&[seed, purpose, stream])) }
    }

    pub fn u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// Uniform in `[0, 1)` with 53 bits.
    pub fn f64(&mut self) -> f64 {
        (self.u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[0, n)` (`0` when `n == 0`), by multiply-shift.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `[low, high]`.
    pub fn between(&mut self, low: i64, high: i64) -> i64 {
        low + self.below((high - low + 1).max(0) as u64) as i64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// Exponential with the given mean.
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.f64()).ln()
    }

    /// Standard normal (Box–Muller, one value per call).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.f64();
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Geometric count of further trials: each continues with probability `p`, at most `cap`.
    pub fn geometric(&mut self, p: f64, cap: u32) -> u32 {
        let mut n = 0;
        while n < cap && self.chance(p) {
            n += 1;
        }
        n
    }

    /// An index drawn by weight (`0` for an empty or all-zero list).
    pub fn weighted(&mut self, weights: impl IntoIterator<Item = f64> + Clone) -> usize {
        let total: f64 = weights.clone().into_iter().sum();
        if total <= 0.0 {
            return 0;
        }
        let mut target = self.f64() * total;
        let mut last = 0;
        for (i, w) in weights.into_iter().enumerate() {
            if w > 0.0 {
                last = i;
                if target < w {
                    return i;
                }
                target -= w;
            }
        }
        last
    }

    /// An item of a non-empty slice drawn by the weight `weight` gives it.
    pub fn pick<'a, T>(&mut self, items: &'a [T], weight: impl Fn(&T) -> f64) -> &'a T {
        let index = self.weighted(items.iter().map(&weight));
        &items[index]
    }

    /// `n` characters from `alphabet`.
    pub fn token(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n).map(|_| alphabet[self.below(alphabet.len() as u64) as usize] as char).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Rand::new(7, 1, 2).u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rand::new(7, 1, 2).u64(), Rand::new(7, 1, 3).u64());
        assert_ne!(Rand::new(7, 1, 2).u64(), Rand::new(8, 1, 2).u64());
    }

    #[test]
    fn distributions_have_their_means() {
        let mut rng = Rand::new(1, 0, 0);
        let n = 20_000;
        let mean_exp = (0..n).map(|_| rng.exp(3.0)).sum::<f64>() / n as f64;
        assert!((mean_exp - 3.0).abs() < 0.15, "{mean_exp}");
        let mean_normal = (0..n).map(|_| rng.normal()).sum::<f64>() / n as f64;
        assert!(mean_normal.abs() < 0.05, "{mean_normal}");
        let hits = (0..n).filter(|_| rng.weighted([1.0, 0.0, 3.0]) == 2).count();
        assert!((hits as f64 / n as f64 - 0.75).abs() < 0.02);
        assert!((0..1000).all(|_| rng.below(7) < 7));
        assert!((0..1000).map(|_| rng.between(-2, 2)).all(|v| (-2..=2).contains(&v)));
    }
}
