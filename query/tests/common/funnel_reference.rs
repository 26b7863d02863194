//! A plain-Rust reference for funnels, written apart from the service's walk: brute-force
//! searches over every chain (ordered), every run of funnel events (strict) and every
//! assignment of steps to events (any order), for the small datasets of the golden tests.

use std::collections::{BTreeMap, HashMap};

use numu_schemas::EventRow;

use super::reference::person_of;

pub type Matcher = Box<dyn Fn(&EventRow) -> bool>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Ordered,
    Strict,
    AnyOrder,
}

pub struct Funnel {
    pub steps: Vec<(Matcher, bool)>,
    /// (matcher, from_step, to_step)
    pub exclusions: Vec<(Matcher, usize, usize)>,
    pub mode: Mode,
    pub window_ms: i64,
    pub from: i64,
    pub to: i64,
}

/// A person's best attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub reached: usize,
    pub start_ms: i64,
    pub convert_ms: Option<i64>,
    /// The row of the first step, of the furthest step, and (first) of each step.
    pub first: EventRow,
    pub last: EventRow,
    pub at: Vec<Option<EventRow>>,
}

pub fn matches(f: &Funnel, row: &EventRow, step: usize) -> bool {
    (f.steps[step].0)(row)
}

/// Every person's best attempt (persons with none left out).
pub fn funnel(f: &Funnel, rows: &[EventRow], persons: &HashMap<String, String>) -> BTreeMap<String, Outcome> {
    let mut by_person: BTreeMap<String, Vec<EventRow>> = BTreeMap::new();
    for row in rows.iter().filter(|r| !r.is_bot && r.project_id == super::PROJECT) {
        by_person.entry(person_of(persons, &row.distinct_id)).or_default().push(row.clone());
    }
    let mut out = BTreeMap::new();
    for (person, mut events) in by_person {
        let n = f.steps.len();
        let lowest = |r: &EventRow| (0..n).find(|&k| matches(f, r, k)).unwrap_or(n);
        events.retain(|r| lowest(r) < n || f.exclusions.iter().any(|x| (x.0)(r)));
        events.sort_by_key(|r| (r.timestamp, lowest(r)));
        let mut best: Option<Outcome> = None;
        for s in 0..events.len() {
            let e = &events[s];
            let starts = if f.mode == Mode::AnyOrder { lowest(e) < n } else { matches(f, e, 0) };
            if !starts || e.timestamp < f.from || e.timestamp >= f.to {
                continue;
            }
            let Some(attempt) = attempt(f, &events, s) else { continue };
            if best.as_ref().is_none_or(|b| attempt.reached > b.reached) {
                best = Some(attempt);
            }
        }
        if let Some(best) = best {
            out.insert(person, best);
        }
    }
    out
}

/// Per step, the earliest time a chain reaches it (index of the event), over all chains.
fn attempt(f: &Funnel, events: &[EventRow], s: usize) -> Option<Outcome> {
    let n = f.steps.len();
    let deadline = events[s].timestamp + f.window_ms;
    let mut first: Vec<Option<usize>> = vec![None; n];
    match f.mode {
        Mode::Ordered => {
            let mut used = vec![s];
            chains(f, events, deadline, 0, &mut used, &mut first);
        }
        Mode::Strict => strict(f, events, deadline, s + 1, 0, s, &mut first),
        Mode::AnyOrder => any_order(f, events, s, deadline, &mut first),
    }
    let reached = match f.mode {
        Mode::AnyOrder => first.iter().flatten().count().checked_sub(1)?,
        _ => (0..n).rev().find(|&k| first[k].is_some())?,
    };
    // Exclusions: strictly between the first reach of from_step (or the last reached before)
    // and the first reach of to_step.
    for (x, from, to) in &f.exclusions {
        let Some(end) = first[*to] else { continue };
        let begin = (0..=*from).rev().find_map(|k| first[k]).unwrap_or(s);
        let (a, b) = (events[begin].timestamp, events[end].timestamp);
        if events.iter().any(|r| x(r) && r.timestamp > a && r.timestamp < b) {
            return None;
        }
    }
    let last = if f.mode == Mode::AnyOrder {
        *first.iter().flatten().max_by_key(|&&i| (events[i].timestamp, i)).unwrap()
    } else {
        first[reached].unwrap()
    };
    Some(Outcome {
        reached,
        start_ms: events[s].timestamp,
        convert_ms: (reached == n - 1).then(|| events[last].timestamp - events[s].timestamp),
        first: events[s].clone(),
        last: events[last].clone(),
        at: first.iter().map(|i| i.map(|i| events[i].clone())).collect(),
    })
}

fn note(first: &mut [Option<usize>], events: &[EventRow], step: usize, e: usize) {
    if first[step].is_none_or(|i| (events[e].timestamp, e) < (events[i].timestamp, i)) {
        first[step] = Some(e);
    }
}

/// Ordered: every chain of distinct events in time (same ms: either order), steps skipping
/// only optional ones.
fn chains(
    f: &Funnel,
    events: &[EventRow],
    deadline: i64,
    step: usize,
    used: &mut Vec<usize>,
    first: &mut [Option<usize>],
) {
    let here = *used.last().unwrap();
    note(first, events, step, here);
    for next in step + 1..f.steps.len() {
        for e in 0..events.len() {
            let t = events[e].timestamp;
            if used.contains(&e)
                || t < events[here].timestamp
                || t > deadline
                || !matches(f, &events[e], next)
            {
                continue;
            }
            used.push(e);
            chains(f, events, deadline, next, used, first);
            used.pop();
        }
        if !f.steps[next].1 {
            break;
        }
    }
}

/// Strict: walk the funnel events after the start one by one; each must repeat the current
/// step or move to a step allowed next, else the run ends.
fn strict(
    f: &Funnel,
    events: &[EventRow],
    deadline: i64,
    pos: usize,
    step: usize,
    at: usize,
    first: &mut [Option<usize>],
) {
    note(first, events, step, at);
    let n = f.steps.len();
    let Some(e) = (pos..events.len()).find(|&e| (0..n).any(|k| matches(f, &events[e], k))) else { return };
    if events[e].timestamp > deadline {
        return;
    }
    if matches(f, &events[e], step) {
        strict(f, events, deadline, e + 1, step, at, first);
    }
    for next in step + 1..n {
        if matches(f, &events[e], next) {
            strict(f, events, deadline, e + 1, next, e, first);
        }
        if !f.steps[next].1 {
            break;
        }
    }
}

/// Any order: the largest assignment of steps to distinct events of the window; among the
/// largest, the one whose latest event is earliest.
fn any_order(f: &Funnel, events: &[EventRow], s: usize, deadline: i64, first: &mut [Option<usize>]) {
    let window: Vec<usize> = (s..events.len()).filter(|&e| events[e].timestamp <= deadline).collect();
    let mut best: (usize, i64, Vec<Option<usize>>) = (0, i64::MAX, Vec::new());
    let mut current = vec![None; f.steps.len()];
    assign(f, events, &window, 0, &mut current, &mut best);
    first.clone_from_slice(&best.2);
}

fn assign(
    f: &Funnel,
    events: &[EventRow],
    window: &[usize],
    step: usize,
    current: &mut Vec<Option<usize>>,
    best: &mut (usize, i64, Vec<Option<usize>>),
) {
    if step == f.steps.len() {
        let size = current.iter().flatten().count();
        let latest = current.iter().flatten().map(|&i| events[i].timestamp).max().unwrap_or(i64::MAX);
        if size > best.0 || (size == best.0 && latest < best.1) {
            *best = (size, latest, current.clone());
        }
        return;
    }
    current[step] = None;
    assign(f, events, window, step + 1, current, best);
    for &e in window {
        if matches(f, &events[e], step) && !current.contains(&Some(e)) {
            current[step] = Some(e);
            assign(f, events, window, step + 1, current, best);
            current[step] = None;
        }
    }
}
