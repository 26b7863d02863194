//! Bounded counters of keys (pages, sources, event names): a Space-Saving summary per
//! minute (Metwally et al.), and mergeable summaries with per-key bounds.
//!
//! A minute counts at most `capacity` keys. When a new key arrives and the table is full,
//! it takes the slot of the smallest count `min`, starting at `min + 1` with error `min`:
//! every listed count is an upper bound, `count − error` a lower bound, and any key not
//! listed occurred at most `min` times. Summing bounds over minutes and collectors keeps
//! them bounds ([`TopSummary::merge`]).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Keys longer than this are cut (at a character boundary).
pub const MAX_KEY_BYTES: usize = 256;

#[derive(Clone, Debug)]
struct Slot {
    hash: u64,
    key: Box<str>,
    count: u32,
    error: u32,
}

/// One minute's counts of one kind of key.
#[derive(Clone, Debug, Default)]
pub struct TopK {
    slots: Vec<Slot>,
    total: u64,
}

fn cut(key: &str) -> &str {
    if key.len() <= MAX_KEY_BYTES {
        return key;
    }
    let mut end = MAX_KEY_BYTES;
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    &key[..end]
}

impl TopK {
    /// Counts one occurrence of `key`, keeping at most `capacity` keys. Allocates only when
    /// a key enters the table.
    pub fn observe(&mut self, key: &str, capacity: usize) {
        let key = cut(key);
        let hash = twox_hash::XxHash3_64::oneshot(key.as_bytes());
        self.total += 1;
        if let Some(slot) = self.slots.iter_mut().find(|s| s.hash == hash && &*s.key == key) {
            slot.count = slot.count.saturating_add(1);
            return;
        }
        if self.slots.len() < capacity {
            self.slots.push(Slot { hash, key: key.into(), count: 1, error: 0 });
            return;
        }
        if let Some(smallest) = self.slots.iter_mut().min_by_key(|s| s.count) {
            let min = smallest.count;
            *smallest = Slot { hash, key: key.into(), count: min.saturating_add(1), error: min };
        }
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    /// This minute as a summary (`capacity` as given to [`TopK::observe`]).
    pub fn summary(&self, capacity: usize) -> TopSummary {
        let full = self.slots.len() >= capacity;
        let absent_upper =
            if full { self.slots.iter().map(|s| u64::from(s.count)).min().unwrap_or(0) } else { 0 };
        TopSummary {
            total: self.total,
            absent_upper,
            entries: self
                .slots
                .iter()
                .map(|s| TopEntry {
                    key: s.key.to_string(),
                    lower: u64::from(s.count - s.error),
                    upper: u64::from(s.count),
                })
                .collect(),
        }
    }
}

/// A key's occurrences are between `lower` and `upper`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopEntry {
    pub key: String,
    pub lower: u64,
    pub upper: u64,
}

/// Counts of the most frequent keys of a stretch of time: `total` occurrences of all keys;
/// a key not in `entries` occurred at most `absent_upper` times.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopSummary {
    pub total: u64,
    pub entries: Vec<TopEntry>,
    pub absent_upper: u64,
}

#[derive(Default)]
struct Bounds {
    lower: u64,
    upper: u64,
    covered_absent: u64,
}

impl TopSummary {
    /// The summary of all `parts` together (minutes or collectors), keeping the `keep`
    /// keys of largest upper bound, ordered by it (then by key).
    pub fn merge(parts: &[TopSummary], keep: usize) -> TopSummary {
        let absent_total: u64 = parts.iter().map(|p| p.absent_upper).sum();
        let mut keys: HashMap<&str, Bounds> = HashMap::new();
        for part in parts {
            for entry in &part.entries {
                let bounds = keys.entry(entry.key.as_str()).or_default();
                bounds.lower += entry.lower;
                bounds.upper += entry.upper;
                bounds.covered_absent += part.absent_upper;
            }
        }
        // A key missing from a part may still have occurred up to that part's `absent_upper`.
        let mut entries: Vec<TopEntry> = keys
            .into_iter()
            .map(|(key, b)| TopEntry {
                key: key.to_string(),
                lower: b.lower,
                upper: b.upper + absent_total.saturating_sub(b.covered_absent),
            })
            .collect();
        entries.sort_by(|a, b| b.upper.cmp(&a.upper).then(b.lower.cmp(&a.lower)).then(a.key.cmp(&b.key)));
        let dropped_upper = entries.get(keep).map_or(0, |e| e.upper);
        entries.truncate(keep);
        TopSummary {
            total: parts.iter().map(|p| p.total).sum(),
            entries,
            absent_upper: absent_total.max(dropped_upper),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn true_counts(stream: &[&str]) -> HashMap<String, u64> {
        let mut counts = HashMap::new();
        for key in stream {
            *counts.entry(key.to_string()).or_insert(0) += 1;
        }
        counts
    }

    fn assert_bounds_hold(summary: &TopSummary, truth: &HashMap<String, u64>) {
        for entry in &summary.entries {
            let real = truth.get(&entry.key).copied().unwrap_or(0);
            assert!(entry.lower <= real && real <= entry.upper, "{entry:?} real {real}");
        }
        for (key, real) in truth {
            if !summary.entries.iter().any(|e| &e.key == key) {
                assert!(*real <= summary.absent_upper, "{key} {real} > {}", summary.absent_upper);
            }
        }
        assert_eq!(summary.total, truth.values().sum::<u64>());
    }

    #[test]
    fn small_key_sets_are_exact() {
        let mut top = TopK::default();
        for key in ["/a", "/b", "/a", "/c", "/a"] {
            top.observe(key, 8);
        }
        let summary = TopSummary::merge(&[top.summary(8)], 10);
        assert_eq!(summary.entries[0], TopEntry { key: "/a".into(), lower: 3, upper: 3 });
        assert_eq!(summary.absent_upper, 0);
        assert_eq!(summary.total, 5);
    }

    #[test]
    fn bounds_hold_when_keys_overflow_and_parts_merge() {
        // A skewed stream: key i occurs about 1000/(i+1) times, in a shuffled order.
        let mut stream = Vec::new();
        for i in 0..200usize {
            for _ in 0..(1000 / (i + 1)).max(1) {
                stream.push(format!("/page/{i}"));
            }
        }
        let mut state = 7u64;
        for i in (1..stream.len()).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            stream.swap(i, (state >> 33) as usize % (i + 1));
        }
        let refs: Vec<&str> = stream.iter().map(String::as_str).collect();
        let (first, second) = refs.split_at(refs.len() / 3);
        let parts: Vec<TopSummary> = [first, second]
            .iter()
            .map(|half| {
                let mut top = TopK::default();
                half.iter().for_each(|k| top.observe(k, 16));
                top.summary(16)
            })
            .collect();
        let cases: [(&[TopSummary], &[&str]); 3] =
            [(&parts[..1], first), (&parts[1..], second), (&parts[..], &refs)];
        for (part, keys) in cases {
            assert_bounds_hold(&TopSummary::merge(part, 10), &true_counts(keys));
        }
        let merged = TopSummary::merge(&parts, 5);
        assert_eq!(merged.entries[0].key, "/page/0");
    }

    #[test]
    fn long_keys_are_cut_on_a_char_boundary() {
        let mut top = TopK::default();
        top.observe(&"é".repeat(300), 4);
        let key = &top.summary(4).entries[0].key;
        assert!(key.len() <= MAX_KEY_BYTES && key.chars().all(|c| c == 'é'));
    }
}
