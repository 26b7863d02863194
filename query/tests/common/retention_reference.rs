//! An independent retention fold: plain Rust over the same rows, with chrono-tz calendar
//! arithmetic of its own (no code of the crate), for the retention golden tests.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, Duration, NaiveDate, TimeZone};
use chrono_tz::Tz;
use numu_schemas::EventRow;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
    Month,
}

/// The question, as the reference understands it.
pub struct Spec<'a> {
    pub zone: &'a str,
    pub period: Period,
    pub from_ms: i64,
    pub to_ms: i64,
    pub periods: usize,
    pub recurring: bool,
    pub start: &'a dyn Fn(&EventRow) -> bool,
    pub returns: &'a dyn Fn(&EventRow) -> bool,
}

/// Per cohort label: (size, bracket counts, unbounded counts).
pub type Grid = BTreeMap<String, (u64, Vec<u64>, Vec<u64>)>;

fn local(ms: i64, zone: &str) -> NaiveDate {
    let tz: Tz = zone.parse().unwrap();
    tz.timestamp_millis_opt(ms).unwrap().date_naive()
}

/// The first day of the period holding `date`.
pub fn first_day(date: NaiveDate, period: Period) -> NaiveDate {
    match period {
        Period::Day => date,
        Period::Week => date - Duration::days(date.weekday().num_days_from_monday() as i64),
        Period::Month => NaiveDate::from_ymd_opt(date.year(), date.month(), 1).unwrap(),
    }
}

/// Whole periods from the one starting `a` to the one starting `b`.
fn between(a: NaiveDate, b: NaiveDate, period: Period) -> i64 {
    match period {
        Period::Day => (b - a).num_days(),
        Period::Week => (b - a).num_days() / 7,
        Period::Month => (b.year() * 12 + b.month() as i32 - a.year() * 12 - a.month() as i32) as i64,
    }
}

/// The retention grid of `events` (non-bot events of the project) with persons resolved by
/// `person`.
pub fn grid(events: &[EventRow], person: &dyn Fn(&str) -> String, spec: &Spec) -> Grid {
    // (person, cohort first day) → earliest start in it.
    let mut cohorts: BTreeMap<(String, NaiveDate), i64> = BTreeMap::new();
    if spec.recurring {
        for e in events
            .iter()
            .filter(|e| (spec.start)(e) && e.timestamp >= spec.from_ms && e.timestamp < spec.to_ms)
        {
            let key = (person(&e.distinct_id), first_day(local(e.timestamp, spec.zone), spec.period));
            let at = cohorts.entry(key).or_insert(i64::MAX);
            *at = (*at).min(e.timestamp);
        }
    } else {
        let mut first: HashMap<String, i64> = HashMap::new();
        for e in events.iter().filter(|e| (spec.start)(e) && e.timestamp < spec.to_ms) {
            let at = first.entry(person(&e.distinct_id)).or_insert(i64::MAX);
            *at = (*at).min(e.timestamp);
        }
        for (p, at) in first.into_iter().filter(|(_, at)| *at >= spec.from_ms) {
            cohorts.insert((p, first_day(local(at, spec.zone), spec.period)), at);
        }
    }
    let mut out = Grid::new();
    for ((p, cohort), start_ts) in cohorts {
        let mut ks = BTreeSet::new();
        for e in events.iter().filter(|e| (spec.returns)(e) && person(&e.distinct_id) == p) {
            let k = between(cohort, first_day(local(e.timestamp, spec.zone), spec.period), spec.period);
            if k >= 0 && (k as usize) < spec.periods && (k > 0 || e.timestamp >= start_ts) {
                ks.insert(k as usize);
            }
        }
        let cell = out
            .entry(cohort.to_string())
            .or_insert_with(|| (0, vec![0; spec.periods], vec![0; spec.periods]));
        cell.0 += 1;
        for k in 0..spec.periods {
            cell.1[k] += u64::from(ks.contains(&k));
            cell.2[k] += u64::from(ks.iter().any(|x| *x >= k));
        }
    }
    out
}
