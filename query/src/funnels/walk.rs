//! One person's funnel: their matching events put in order, every attempt walked, the best
//! one chosen. Pure functions over `(time, step bitmask)` pairs.
//!
//! - Events are ordered by time, then by the lowest step they match, so steps taken in the
//!   same millisecond count as taken in order.
//! - An attempt starts at an event of the first step (`any_order`: of any step) inside the
//!   date range; its steps lie within `[start, deadline]`, the deadline included.
//! - `ordered`: step `j` is reached by an event after the one that reached an earlier step
//!   `i` when every step between them is optional (the earliest such event — reaching a step
//!   earlier never shortens what can follow, so this finds the furthest step).
//! - `strict`: the same, except that every later event matching a funnel step must move the
//!   attempt on (or repeat the step just reached); the first that does not ends it.
//! - `any_order`: the most steps matched to distinct events of the window (a bipartite
//!   matching, grown event by event).
//! - Exclusions: an attempt that reached `to_step` is void when an exclusion event lies
//!   strictly between the times it first reached `from_step` (or the last step before it it
//!   reached) and `to_step`.
//! - Best attempt: the furthest step; ties go to the earliest start.

use super::types::{FunnelMode, WindowRule};
use super::MAX_STEPS;

/// The shape of a funnel as the walk needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    pub steps: usize,
    pub optional: Vec<bool>,
    pub mode: FunnelMode,
    /// `(from_step, to_step)` per exclusion (bit `MAX_STEPS + j`).
    pub exclusions: Vec<(usize, usize)>,
    pub window: WindowRule,
    /// Attempts start in `[from, to)`.
    pub starts: (i64, i64),
}

/// An event of the person: its time and what it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub ts: i64,
    pub mask: u64,
}

/// One attempt: indexes into the ordered events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub start: usize,
    /// The furthest step reached (0 = first).
    pub reached: usize,
    /// The event that (first) reached each step; `None` for steps not reached or skipped.
    pub at: Vec<Option<usize>>,
    /// The event that reached `reached`.
    pub last: usize,
}

const STEP_BITS: u64 = (1 << MAX_STEPS) - 1;

/// The order the walk reads events in: time, then the lowest step matched.
pub fn order(events: &[Event]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..events.len()).collect();
    let key = |e: &Event| (e.ts, (e.mask & STEP_BITS).trailing_zeros());
    order.sort_by_key(|&i| key(&events[i]));
    order
}

/// Every attempt that is not void, earliest start first; `events` already ordered.
pub fn attempts(spec: &Spec, events: &[Event]) -> Vec<Attempt> {
    let first = if spec.mode == FunnelMode::AnyOrder { STEP_BITS } else { 1 };
    (0..events.len())
        .filter(|&s| events[s].mask & first != 0)
        .filter(|&s| events[s].ts >= spec.starts.0 && events[s].ts < spec.starts.1)
        .map(|s| match spec.mode {
            FunnelMode::AnyOrder => any_order(spec, events, s),
            _ => in_order(spec, events, s),
        })
        .filter(|a| !void(spec, events, a))
        .collect()
}

/// The furthest attempt, the earliest of equals.
pub fn best(attempts: &[Attempt]) -> Option<&Attempt> {
    let mut best: Option<&Attempt> = None;
    for attempt in attempts {
        if best.is_none_or(|b| attempt.reached > b.reached) {
            best = Some(attempt);
        }
    }
    best
}

/// The best attempt alone, as [`best`] of [`attempts`] finds it, with less work: an attempt
/// that cannot go further than the best so far is not walked (it reaches no step that no event
/// it may use matches), and none is after one that reached the last step.
pub fn best_only(spec: &Spec, events: &[Event]) -> Option<Attempt> {
    let first = if spec.mode == FunnelMode::AnyOrder { STEP_BITS } else { 1 };
    let bounds = bounds(spec, events);
    let mut best: Option<Attempt> = None;
    for (s, event) in events.iter().enumerate() {
        if event.mask & first == 0 || event.ts < spec.starts.0 || event.ts >= spec.starts.1 {
            continue;
        }
        if best.as_ref().is_some_and(|b| bounds[s] <= b.reached) {
            continue;
        }
        let attempt = match spec.mode {
            FunnelMode::AnyOrder => any_order(spec, events, s),
            _ => in_order(spec, events, s),
        };
        if void(spec, events, &attempt) || best.as_ref().is_some_and(|b| attempt.reached <= b.reached) {
            continue;
        }
        let last = attempt.reached + 1 == spec.steps;
        best = Some(attempt);
        if last {
            break;
        }
    }
    best
}

/// Per event, the furthest step an attempt starting there could reach: in order, the highest
/// step matched by a later event; in any order, the number of steps matched from it on, less
/// one.
fn bounds(spec: &Spec, events: &[Event]) -> Vec<usize> {
    let mut bounds = vec![0; events.len()];
    let (mut highest, mut matched) = (0, 0u64);
    for (s, event) in events.iter().enumerate().rev() {
        let mask = event.mask & STEP_BITS;
        if spec.mode == FunnelMode::AnyOrder {
            matched |= mask;
            bounds[s] = (matched.count_ones() as usize).saturating_sub(1);
        } else {
            bounds[s] = highest;
            if mask != 0 {
                highest = highest.max(63 - mask.leading_zeros() as usize);
            }
        }
    }
    bounds
}

fn bit(mask: u64, step: usize) -> bool {
    mask & (1 << step) != 0
}

/// Step `j` may follow the reached steps when an earlier step is reached and all steps
/// between are optional.
fn can_follow(spec: &Spec, reached: &[bool], j: usize) -> bool {
    for i in (0..j).rev() {
        if reached[i] {
            return true;
        }
        if !spec.optional[i] {
            return false;
        }
    }
    false
}

fn in_order(spec: &Spec, events: &[Event], s: usize) -> Attempt {
    let n = spec.steps;
    let deadline = spec.window.deadline(events[s].ts);
    let mut at = vec![None; n];
    at[0] = Some(s);
    // Ordered: every step reached so far; strict: the steps the attempt may be at now.
    let mut live = vec![false; n];
    live[0] = true;
    for (e, event) in events.iter().enumerate().skip(s + 1) {
        if event.ts > deadline {
            break;
        }
        let mask = event.mask & STEP_BITS;
        if mask == 0 {
            continue;
        }
        if spec.mode == FunnelMode::Ordered {
            for j in (1..n).rev() {
                if at[j].is_none() && bit(mask, j) && can_follow(spec, &live, j) {
                    at[j] = Some(e);
                    live[j] = true;
                }
            }
            continue;
        }
        let next: Vec<bool> =
            (0..n).map(|j| bit(mask, j) && (live[j] || can_follow(spec, &live, j))).collect();
        if !next.contains(&true) {
            break;
        }
        for j in 0..n {
            if next[j] && at[j].is_none() {
                at[j] = Some(e);
            }
        }
        live = next;
    }
    let reached = (0..n).rev().find(|&j| at[j].is_some()).unwrap_or(0);
    Attempt { start: s, reached, last: at[reached].unwrap_or(s), at }
}

fn any_order(spec: &Spec, events: &[Event], s: usize) -> Attempt {
    let n = spec.steps;
    let deadline = spec.window.deadline(events[s].ts);
    let mut owner: Vec<Option<usize>> = vec![None; n];
    let (mut size, mut last) = (0, s);
    for (e, event) in events.iter().enumerate().skip(s) {
        if event.ts > deadline || size == n {
            break;
        }
        if event.mask & STEP_BITS == 0 {
            continue;
        }
        let mut seen = vec![false; n];
        if augment(events, e, &mut owner, &mut seen) {
            size += 1;
            last = e;
        }
    }
    Attempt { start: s, reached: size.saturating_sub(1), at: owner, last }
}

/// Kuhn's augmenting path from event `e` to a free step.
fn augment(events: &[Event], e: usize, owner: &mut [Option<usize>], seen: &mut [bool]) -> bool {
    for j in 0..owner.len() {
        if !bit(events[e].mask, j) || seen[j] {
            continue;
        }
        seen[j] = true;
        if owner[j].is_none_or(|o| augment(events, o, owner, seen)) {
            owner[j] = Some(e);
            return true;
        }
    }
    false
}

fn void(spec: &Spec, events: &[Event], attempt: &Attempt) -> bool {
    spec.exclusions.iter().enumerate().any(|(x, &(from, to))| {
        let Some(end) = attempt.at[to] else { return false };
        let begin = (0..=from).rev().find_map(|i| attempt.at[i]).unwrap_or(attempt.start);
        let (after, before) = (events[begin].ts, events[end].ts);
        events.iter().any(|e| bit(e.mask, MAX_STEPS + x) && e.ts > after && e.ts < before)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(mode: FunnelMode, steps: usize) -> Spec {
        Spec {
            steps,
            optional: vec![false; steps],
            mode,
            exclusions: Vec::new(),
            window: WindowRule::Millis(100),
            starts: (0, 1000),
        }
    }

    fn walk(spec: &Spec, raw: &[(i64, u64)]) -> Option<usize> {
        let events: Vec<Event> = raw.iter().map(|&(ts, mask)| Event { ts, mask }).collect();
        let ordered: Vec<Event> = order(&events).into_iter().map(|i| events[i]).collect();
        best(&attempts(spec, &ordered)).map(|a| a.reached)
    }

    #[test]
    fn modes_differ_on_interleaved_steps() {
        // A, C, B, C: ordered completes; strict breaks at the first C; any order completes.
        let raw = [(1, 1), (2, 4), (3, 2), (4, 4)];
        assert_eq!(walk(&spec(FunnelMode::Ordered, 3), &raw), Some(2));
        assert_eq!(walk(&spec(FunnelMode::Strict, 3), &raw), Some(0));
        assert_eq!(walk(&spec(FunnelMode::AnyOrder, 3), &raw), Some(2));
        // The window's end is included, one ms later is not.
        assert_eq!(walk(&spec(FunnelMode::Ordered, 2), &[(0, 1), (100, 2)]), Some(1));
        assert_eq!(walk(&spec(FunnelMode::Ordered, 2), &[(0, 1), (101, 2)]), Some(0));
        // Same millisecond, stored in reverse: in order.
        assert_eq!(walk(&spec(FunnelMode::Strict, 2), &[(5, 2), (5, 1)]), Some(1));
        assert_eq!(walk(&spec(FunnelMode::Ordered, 2), &[(5, 2)]), None);
    }

    #[test]
    fn best_only_is_the_best_attempt() {
        // Every short history of three steps and an exclusion, in every mode, the middle step
        // optional or not.
        let masks = [1, 2, 4, 1 << MAX_STEPS, 3];
        let modes = [FunnelMode::Ordered, FunnelMode::Strict, FunnelMode::AnyOrder];
        for (mode, optional) in modes.into_iter().flat_map(|m| [(m, false), (m, true)]) {
            let mut s = spec(mode, 3);
            if mode != FunnelMode::AnyOrder {
                s.exclusions.push((0, 1));
                s.optional[1] = optional;
            }
            for code in 0..masks.len().pow(5) {
                let raw: Vec<Event> = (0..5)
                    .map(|i| Event {
                        ts: 40 * i as i64,
                        mask: masks[code / masks.len().pow(i) % masks.len()],
                    })
                    .collect();
                let all = attempts(&s, &raw);
                assert_eq!(best_only(&s, &raw).as_ref(), best(&all), "{mode:?} {raw:?}");
            }
        }
    }

    #[test]
    fn optional_steps_and_exclusions() {
        let mut s = spec(FunnelMode::Ordered, 3);
        s.optional[1] = true;
        assert_eq!(walk(&s, &[(1, 1), (2, 4)]), Some(2));
        s.exclusions.push((0, 2));
        assert_eq!(walk(&s, &[(1, 1), (2, 1 << MAX_STEPS), (3, 4)]), None);
        assert_eq!(walk(&s, &[(1, 1), (1, 1 << MAX_STEPS), (3, 4)]), Some(2), "not strictly between");
    }
}
