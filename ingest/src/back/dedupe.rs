//! Message ids seen recently, so an event a client sends again (its acknowledgement was
//! lost, or an offline queue replays it) is stored once. Segment deduplicates by
//! `messageId` the same way.
//!
//! Ids are kept as 64-bit hashes of (project, message id) in two generations of at most
//! `capacity` each: when the current one is full it becomes the previous one and the oldest
//! is forgotten, so memory stays bounded (≈ 20 bytes per id) and the window is the last
//! `capacity` to `2 × capacity` events. Ids are claimed before the log append and released
//! if the append fails, so a refused request can be retried without being taken for a
//! duplicate; concurrent requests carrying the same id cannot both pass.

use std::collections::HashSet;
use std::sync::Mutex;

use twox_hash::XxHash3_64;

use crate::record::Record;

#[derive(Debug, Default)]
struct Generations {
    current: HashSet<u64>,
    previous: HashSet<u64>,
}

/// The recently seen event ids of one collector.
#[derive(Debug)]
pub(crate) struct RecentIds {
    capacity: usize,
    generations: Mutex<Generations>,
}

/// The hash of an event's (project, message id); `None` for records that are not events.
fn key(record: &Record) -> Option<u64> {
    let Record::Event(row) = record else { return None };
    // One-shot with the project in the seed: a streaming hasher allocates its secret per call.
    Some(XxHash3_64::oneshot_with_seed(0x6e75_6d75 ^ row.project_id, row.message_id.as_bytes()))
}

impl RecentIds {
    /// `capacity` ids per generation; 0 turns deduplication off.
    pub(crate) fn new(capacity: usize) -> RecentIds {
        RecentIds { capacity, generations: Mutex::new(Generations::default()) }
    }

    fn remember(&self, generations: &mut Generations, key: u64) {
        if generations.current.len() >= self.capacity {
            generations.previous = std::mem::take(&mut generations.current);
        }
        generations.current.insert(key);
    }

    /// Removes events already seen (in earlier appends or earlier in `records`) and claims
    /// the ids of the rest. Returns the keys claimed, to [`release`](Self::release) if the
    /// append fails, and how many duplicates were dropped.
    pub(crate) fn claim(&self, records: &mut Vec<Record>) -> (Vec<u64>, usize) {
        if self.capacity == 0 {
            return (Vec::new(), 0);
        }
        let Ok(mut generations) = self.generations.lock() else { return (Vec::new(), 0) };
        let (mut claimed, before) = (Vec::new(), records.len());
        records.retain(|record| match key(record) {
            None => true,
            Some(k) if generations.current.contains(&k) || generations.previous.contains(&k) => false,
            Some(k) => {
                self.remember(&mut generations, k);
                claimed.push(k);
                true
            }
        });
        (claimed, before - records.len())
    }

    /// Forgets ids claimed by an append that failed.
    pub(crate) fn release(&self, keys: &[u64]) {
        if let Ok(mut generations) = self.generations.lock() {
            for k in keys {
                generations.current.remove(k);
                generations.previous.remove(k);
            }
        }
    }

    /// Remembers the events of records recovered from the log at start, so a client retrying
    /// a request whose acknowledgement the crash swallowed is not stored twice.
    pub(crate) fn seed<'a>(&self, records: impl IntoIterator<Item = &'a Record>) -> usize {
        if self.capacity == 0 {
            return 0;
        }
        let Ok(mut generations) = self.generations.lock() else { return 0 };
        let mut seeded = 0;
        for k in records.into_iter().filter_map(key) {
            self.remember(&mut generations, k);
            seeded += 1;
        }
        seeded
    }
}

#[cfg(test)]
mod tests {
    use numu_schemas::EventRow;

    use super::*;
    use crate::record::IdentityLink;

    fn event(project_id: u64, id: &str) -> Record {
        Record::Event(Box::new(EventRow { project_id, message_id: id.into(), ..EventRow::default() }))
    }

    fn ids(records: &[Record]) -> Vec<String> {
        records
            .iter()
            .map(|r| match r {
                Record::Event(row) => format!("{}/{}", row.project_id, row.message_id),
                _ => "link".into(),
            })
            .collect()
    }

    #[test]
    fn events_seen_before_or_twice_in_one_append_are_dropped_per_project() {
        let recent = RecentIds::new(100);
        let mut first = vec![event(1, "a"), event(1, "b"), event(1, "a"), event(2, "a")];
        assert_eq!(recent.claim(&mut first).1, 1);
        assert_eq!(ids(&first), ["1/a", "1/b", "2/a"]);
        let link = Record::Link(IdentityLink { message_id: "a".into(), ..IdentityLink::default() });
        let mut again = vec![event(1, "b"), link, event(1, "c")];
        assert_eq!(recent.claim(&mut again).1, 1);
        assert_eq!(ids(&again), ["link", "1/c"]);
    }

    #[test]
    fn a_failed_append_releases_its_ids_for_the_retry() {
        let recent = RecentIds::new(100);
        let mut records = vec![event(1, "a"), event(1, "b")];
        let (claimed, _) = recent.claim(&mut records);
        recent.release(&claimed);
        let mut retry = vec![event(1, "a"), event(1, "b")];
        assert_eq!(recent.claim(&mut retry).1, 0);
        assert_eq!(retry.len(), 2);
    }

    #[test]
    fn memory_is_two_generations_and_the_oldest_is_forgotten() {
        let recent = RecentIds::new(2);
        for id in ["a", "b", "c", "d", "e"] {
            let mut records = vec![event(1, id)];
            recent.claim(&mut records);
        }
        // Generations: previous {c, d}, current {e}; a and b are forgotten.
        let mut old = vec![event(1, "a"), event(1, "c"), event(1, "e")];
        assert_eq!(recent.claim(&mut old).1, 2);
        assert_eq!(ids(&old), ["1/a"]);
        let generations = recent.generations.lock().unwrap();
        assert!(generations.current.len() <= 2 && generations.previous.len() <= 2);
    }

    #[test]
    fn seeded_ids_count_as_seen_and_capacity_zero_turns_it_off() {
        let recent = RecentIds::new(10);
        assert_eq!(recent.seed(&[event(1, "a"), event(1, "b")]), 2);
        let mut retry = vec![event(1, "a"), event(1, "z")];
        assert_eq!(recent.claim(&mut retry).1, 1);
        let off = RecentIds::new(0);
        let mut twice = vec![event(1, "a"), event(1, "a")];
        assert_eq!(off.claim(&mut twice), (Vec::new(), 0));
        assert_eq!(twice.len(), 2);
    }
}
