//! Independent answers: plain-Rust folds over the same rows the warehouse holds, written
//! without the crate's code (its own graph search, calendar arithmetic with chrono-tz,
//! sessionization and percentiles), so a shared mistake cannot pass unnoticed.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use chrono::{Datelike, Duration, NaiveDate, TimeZone};
use chrono_tz::Tz;
use numu_schemas::EventRow;

use super::Link;

/// Each linked id → the smallest id reachable from it (breadth-first search).
pub fn persons(links: &[Link]) -> HashMap<String, String> {
    let mut neighbours: HashMap<&str, Vec<&str>> = HashMap::new();
    for l in links {
        neighbours.entry(&l.from).or_default().push(&l.to);
        neighbours.entry(&l.to).or_default().push(&l.from);
    }
    let mut person = HashMap::new();
    for start in neighbours.keys() {
        let mut seen = BTreeSet::from([*start]);
        let mut queue = VecDeque::from([*start]);
        while let Some(id) = queue.pop_front() {
            for next in &neighbours[id] {
                if seen.insert(next) {
                    queue.push_back(next);
                }
            }
        }
        person.insert(start.to_string(), seen.iter().next().unwrap().to_string());
    }
    person
}

pub fn person_of(persons: &HashMap<String, String>, id: &str) -> String {
    persons.get(id).cloned().unwrap_or_else(|| id.to_string())
}

pub fn tz(name: &str) -> Tz {
    name.parse().unwrap()
}

/// Local midnight of a date (all test dates have one).
pub fn midnight(zone: &str, y: i32, m: u32, d: u32) -> i64 {
    tz(zone).with_ymd_and_hms(y, m, d, 0, 0, 0).single().unwrap().timestamp_millis()
}

pub fn local_date(ms: i64, zone: &str) -> NaiveDate {
    tz(zone).timestamp_millis_opt(ms).unwrap().date_naive()
}

pub fn day_label(ms: i64, zone: &str) -> String {
    local_date(ms, zone).to_string()
}

pub fn week_label(ms: i64, zone: &str) -> String {
    let d = local_date(ms, zone);
    (d - Duration::days(d.weekday().num_days_from_monday() as i64)).to_string()
}

pub fn month_label(ms: i64, zone: &str) -> String {
    let d = local_date(ms, zone);
    format!("{:04}-{:02}-01", d.year(), d.month())
}

pub fn hour_label(ms: i64, zone: &str) -> String {
    tz(zone).timestamp_millis_opt(ms).unwrap().format("%Y-%m-%dT%H:00%z").to_string()
}

/// Every local date from `first` to `last` as labels.
pub fn days(first: NaiveDate, last: NaiveDate) -> Vec<String> {
    first.iter_days().take_while(|d| *d <= last).map(|d| d.to_string()).collect()
}

/// The session key of each event: the client's id, else a new session after 30 minutes
/// without an event of the same person (events of one millisecond ordered by message id).
pub fn sessions(events: &[EventRow], persons: &HashMap<String, String>) -> Vec<String> {
    let mut keys = vec![String::new(); events.len()];
    let mut by_person: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        if e.session_id.is_empty() {
            by_person.entry(person_of(persons, &e.distinct_id)).or_default().push(i);
        } else {
            keys[i] = format!("client:{}", e.session_id);
        }
    }
    for (person, mut indices) in by_person {
        indices.sort_by(|a, b| {
            (events[*a].timestamp, &events[*a].message_id)
                .cmp(&(events[*b].timestamp, &events[*b].message_id))
        });
        let (mut n, mut last) = (0, i64::MIN);
        for i in indices {
            if last == i64::MIN || events[i].timestamp - last > 30 * 60 * 1000 {
                n += 1;
            }
            last = events[i].timestamp;
            keys[i] = format!("derived:{person}:{n}");
        }
    }
    keys
}

/// Linear interpolation between the closest ranks (NumPy's default percentile).
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let position = p * (sorted.len() - 1) as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    Some(sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64))
}

/// Counts per label in `labels` order (0 where none).
pub fn per_label<T>(
    labels: &[String],
    items: &[(String, T)],
    fold: impl Fn(&[&T]) -> Option<f64>,
) -> Vec<Option<f64>> {
    labels
        .iter()
        .map(|label| {
            let group: Vec<&T> = items.iter().filter(|(l, _)| l == label).map(|(_, t)| t).collect();
            fold(&group)
        })
        .collect()
}

/// Distinct values.
pub fn distinct<T: Ord + Clone>(items: &[&T]) -> f64 {
    items.iter().cloned().collect::<BTreeSet<_>>().len() as f64
}

/// Folded person properties: per person and key, the latest `$set`, else the earliest
/// `$set_once` (ties in time by message id).
pub fn person_properties(
    updates: &[super::Update],
    persons: &HashMap<String, String>,
) -> HashMap<String, BTreeMap<String, String>> {
    let mut sets: HashMap<(String, String), (i64, String, String)> = HashMap::new();
    let mut onces: HashMap<(String, String), (i64, String, String)> = HashMap::new();
    for u in updates {
        let person = person_of(persons, &u.distinct_id);
        for (k, v) in &u.set {
            let entry =
                sets.entry((person.clone(), k.clone())).or_insert((i64::MIN, String::new(), String::new()));
            if (u.at, &u.message_id) > (entry.0, &entry.1) {
                *entry = (u.at, u.message_id.clone(), v.clone());
            }
        }
        for (k, v) in &u.set_once {
            let entry =
                onces.entry((person.clone(), k.clone())).or_insert((i64::MAX, String::new(), String::new()));
            if (u.at, &u.message_id) < (entry.0, &entry.1) {
                *entry = (u.at, u.message_id.clone(), v.clone());
            }
        }
    }
    let mut out: HashMap<String, BTreeMap<String, String>> = HashMap::new();
    for ((person, key), (_, _, value)) in onces {
        out.entry(person).or_default().insert(key, value);
    }
    for ((person, key), (_, _, value)) in sets {
        out.entry(person).or_default().insert(key, value);
    }
    out
}

/// Per session key: (first time, last time, pageviews).
pub fn session_stats(events: &[EventRow], keys: &[String]) -> HashMap<String, (i64, i64, usize)> {
    let mut stats: HashMap<String, (i64, i64, usize)> = HashMap::new();
    for (e, key) in events.iter().zip(keys) {
        let s = stats.entry(key.clone()).or_insert((i64::MAX, i64::MIN, 0));
        s.0 = s.0.min(e.timestamp);
        s.1 = s.1.max(e.timestamp);
        s.2 += usize::from(e.event == "$pageview");
    }
    stats
}
