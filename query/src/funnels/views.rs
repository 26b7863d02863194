//! Folding the per-person rows of a funnel into its views. Rows arrive batch by batch; each
//! person is walked at once and only a small outcome kept (memory grows with persons, not
//! events).

use std::collections::HashMap;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field};
use serde::Serialize;
use utoipa::ToSchema;

use super::types::*;
use super::walk::{self, Event, Spec};
use super::FunnelPlan;
use crate::error::QueryError;
use crate::range::{date_bucket, hour_label, local_date, Interval, Zone};
use crate::table;

/// One bin of the time-to-convert histogram: `[from_ms, to_ms)`.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct TimeBin {
    pub from_ms: i64,
    pub to_ms: i64,
    pub count: u64,
}

/// What is kept of one person.
#[derive(Clone, Debug, PartialEq)]
struct Outcome {
    /// Empty unless the view lists persons.
    person: String,
    reached: usize,
    start_ms: i64,
    /// Time from the first to the last step, when the last was reached.
    convert_ms: Option<i64>,
    /// The attributed breakdown value.
    value: String,
    /// Trends view: per bucket index, the furthest step of attempts starting in it.
    buckets: Vec<(usize, usize)>,
}

/// Accumulates a funnel's rows; [`FunnelFolder::finish`] gives the answer.
#[derive(Debug)]
pub struct FunnelFolder {
    spec: Spec,
    query: FunnelQuery,
    from_ms: i64,
    to_ms: i64,
    zone: Zone,
    buckets: HashMap<String, usize>,
    labels: Vec<String>,
    outcomes: Vec<Outcome>,
}

/// A list column as lists of `Int64`: one slice of the flat values per row.
struct IntLists {
    values: Vec<i64>,
    offsets: Vec<usize>,
}

impl IntLists {
    fn read(batch: &RecordBatch, name: &str) -> Result<IntLists, QueryError> {
        let column =
            batch.column_by_name(name).ok_or_else(|| QueryError::Internal(format!("no column {name}")))?;
        let to = DataType::List(std::sync::Arc::new(Field::new("item", DataType::Int64, true)));
        let cast = arrow_cast::cast(column, &to).map_err(|e| QueryError::Internal(format!("{name}: {e}")))?;
        let lists = cast.as_list::<i32>();
        let values = lists.values().as_primitive::<Int64Type>().values().to_vec();
        let offsets = lists.value_offsets().iter().map(|&o| o as usize).collect();
        Ok(IntLists { values, offsets })
    }

    fn row(&self, i: usize) -> &[i64] {
        &self.values[self.offsets[i]..self.offsets[i + 1]]
    }
}

impl FunnelFolder {
    pub(crate) fn new(plan: &FunnelPlan) -> FunnelFolder {
        FunnelFolder {
            spec: plan.spec.clone(),
            query: plan.query.clone(),
            from_ms: plan.window.from_ms,
            to_ms: plan.window.to_ms,
            zone: plan.window.zone,
            buckets: plan.buckets.iter().enumerate().map(|(i, b)| (b.clone(), i)).collect(),
            labels: plan.buckets.clone(),
            outcomes: Vec::new(),
        }
    }

    /// Folds one batch of the statement's rows (`values` only with a breakdown).
    pub fn add(&mut self, batch: &RecordBatch) -> Result<(), QueryError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let batches = std::slice::from_ref(batch);
        // Only the persons view shows who they are.
        let mut persons = match self.query.view {
            FunnelView::Persons => table::strings(batches, "person")?,
            _ => Vec::new(),
        }
        .into_iter();
        let values = match self.query.breakdown {
            Some(_) => table::string_lists(batches, "values")?,
            None => Vec::new(),
        };
        let (times, masks) = (IntLists::read(batch, "times")?, IntLists::read(batch, "masks")?);
        let (mut raw, mut events) = (Vec::new(), Vec::new());
        for i in 0..batch.num_rows() {
            raw.clear();
            raw.extend(
                times.row(i).iter().zip(masks.row(i)).map(|(&ts, &mask)| Event { ts, mask: mask as u64 }),
            );
            let order = walk::order(&raw);
            events.clear();
            events.extend(order.iter().map(|&k| raw[k]));
            let values: Vec<&str> = match values.get(i) {
                Some(row) => order.iter().map(|&k| row.get(k).map_or("", String::as_str)).collect(),
                None => Vec::new(),
            };
            let person = persons.next().unwrap_or_default();
            if let Some(outcome) = self.person(person, &events, &values) {
                self.outcomes.push(outcome);
            }
        }
        Ok(())
    }

    fn person(&self, person: String, events: &[Event], values: &[&str]) -> Option<Outcome> {
        // Only conversion over time needs every attempt.
        let attempts = match self.query.view {
            FunnelView::Trends => walk::attempts(&self.spec, events),
            _ => Vec::new(),
        };
        let only = match self.query.view {
            FunnelView::Trends => None,
            _ => walk::best_only(&self.spec, events),
        };
        let best = only.as_ref().or_else(|| walk::best(&attempts))?;
        let last_step = self.spec.steps - 1;
        let value_at = |i: Option<usize>| i.map_or(String::new(), |i| values[i].to_string());
        let value = match &self.query.breakdown {
            None => String::new(),
            Some(b) => match b.attribution {
                Attribution::FirstTouch => value_at(Some(best.start)),
                Attribution::LastTouch => value_at(Some(best.last)),
                Attribution::Step => value_at(b.attribution_step.and_then(|s| best.at[s])),
            },
        };
        let mut buckets: Vec<(usize, usize)> = Vec::new();
        if self.query.view == FunnelView::Trends {
            for attempt in &attempts {
                let Some(&b) = self.buckets.get(&self.bucket(events[attempt.start].ts)) else { continue };
                match buckets.iter_mut().find(|(i, _)| *i == b) {
                    Some(entry) => entry.1 = entry.1.max(attempt.reached),
                    None => buckets.push((b, attempt.reached)),
                }
            }
        }
        let start_ms = events[best.start].ts;
        Some(Outcome {
            person,
            reached: best.reached,
            start_ms,
            convert_ms: (best.reached == last_step).then(|| events[best.last].ts - start_ms),
            value,
            buckets,
        })
    }

    fn bucket(&self, ms: i64) -> String {
        match self.query.interval {
            Interval::Hour => hour_label(ms, self.zone),
            interval => date_bucket(local_date(ms, self.zone), interval).to_string(),
        }
    }

    /// The answer of the asked view.
    pub fn finish(mut self) -> Result<FunnelAnswer, QueryError> {
        // Only the persons view depends on the order (a person has one row, so one outcome).
        if self.query.view == FunnelView::Persons {
            self.outcomes.sort_unstable_by(|a, b| a.person.cmp(&b.person));
        }
        let mut answer = FunnelAnswer {
            view: self.query.view,
            mode: self.query.mode,
            from_ms: self.from_ms,
            to_ms: self.to_ms,
            steps: None,
            time_to_convert: None,
            trends: None,
            persons: None,
        };
        match self.query.view {
            FunnelView::Steps => answer.steps = Some(self.steps()),
            FunnelView::TimeToConvert => answer.time_to_convert = Some(self.times()),
            FunnelView::Trends => answer.trends = Some(self.trends()),
            FunnelView::Persons => answer.persons = Some(self.persons()),
        }
        Ok(answer)
    }

    /// Breakdown groups: `(value, other, members)`; one group of all without a breakdown.
    fn groups(&self) -> Vec<(Option<String>, bool, Vec<&Outcome>)> {
        let Some(b) = &self.query.breakdown else {
            return vec![(None, false, self.outcomes.iter().collect())];
        };
        let mut by_value: HashMap<&str, Vec<&Outcome>> = HashMap::new();
        for o in &self.outcomes {
            by_value.entry(o.value.as_str()).or_default().push(o);
        }
        let mut groups: Vec<(&str, Vec<&Outcome>)> = by_value.into_iter().collect();
        groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
        let limit = b.limit.unwrap_or(10) as usize;
        let rest: Vec<&Outcome> = groups.iter().skip(limit).flat_map(|g| g.1.iter().copied()).collect();
        let mut out: Vec<_> = groups
            .into_iter()
            .take(limit)
            .map(|(v, members)| (Some(v.to_string()), false, members))
            .collect();
        if !rest.is_empty() {
            out.push((Some(String::new()), true, rest));
        }
        out
    }

    fn steps(&self) -> Vec<StepsGroup> {
        let rate = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
        self.groups()
            .into_iter()
            .map(|(breakdown_value, breakdown_other, members)| {
                let counts: Vec<u64> = (0..self.spec.steps)
                    .map(|k| members.iter().filter(|o| o.reached >= k).count() as u64)
                    .collect();
                let steps = self
                    .query
                    .steps
                    .iter()
                    .enumerate()
                    .map(|(k, step)| StepCount {
                        step: k,
                        event: step.event.clone(),
                        label: step.label.clone().unwrap_or_else(|| step.event.clone()),
                        optional: step.optional,
                        count: counts[k],
                        conversion_rate: rate(counts[k], counts[0]),
                        step_conversion_rate: rate(counts[k], counts[k.saturating_sub(1)]),
                        dropped: if k == 0 { 0 } else { counts[k - 1] - counts[k] },
                    })
                    .collect();
                StepsGroup { breakdown_value, breakdown_other, steps }
            })
            .collect()
    }

    fn times(&self) -> Vec<TimeGroup> {
        let bins = self.query.bins.unwrap_or(10) as i64;
        self.groups()
            .into_iter()
            .map(|(breakdown_value, breakdown_other, members)| {
                let mut times: Vec<i64> = members.iter().filter_map(|o| o.convert_ms).collect();
                times.sort_unstable();
                let n = times.len();
                let median = match n {
                    0 => None,
                    _ if n % 2 == 1 => Some(times[n / 2] as f64),
                    _ => Some((times[n / 2 - 1] + times[n / 2]) as f64 / 2.0),
                };
                let average = (n > 0).then(|| times.iter().sum::<i64>() as f64 / n as f64);
                TimeGroup {
                    breakdown_value,
                    breakdown_other,
                    converted: n as u64,
                    median_ms: median,
                    average_ms: average,
                    bins: histogram(&times, bins),
                }
            })
            .collect()
    }

    fn trends(&self) -> FunnelTrends {
        let last = self.spec.steps - 1;
        let (mut entered, mut converted) = (vec![0u64; self.labels.len()], vec![0u64; self.labels.len()]);
        for o in &self.outcomes {
            for &(b, reached) in &o.buckets {
                entered[b] += 1;
                converted[b] += u64::from(reached == last);
            }
        }
        let conversion_rate =
            entered.iter().zip(&converted).map(|(&e, &c)| (e > 0).then(|| c as f64 / e as f64)).collect();
        FunnelTrends {
            interval: self.query.interval,
            buckets: self.labels.clone(),
            entered,
            converted,
            conversion_rate,
        }
    }

    fn persons(&self) -> FunnelPersons {
        let at = self.query.persons.clone().unwrap_or(PersonsAtStep {
            step: 0,
            status: StepStatus::Converted,
            breakdown_value: None,
            limit: None,
            offset: 0,
        });
        let limit = at.limit.unwrap_or(100);
        let chosen: Vec<&Outcome> = self
            .outcomes
            .iter()
            .filter(|o| match at.status {
                StepStatus::Converted => o.reached >= at.step,
                StepStatus::Dropped => o.reached + 1 == at.step,
            })
            .filter(|o| at.breakdown_value.as_ref().is_none_or(|v| *v == o.value))
            .collect();
        let persons = chosen
            .iter()
            .skip(usize::try_from(at.offset).unwrap_or(usize::MAX))
            .take(limit as usize)
            .map(|o| FunnelPerson {
                person_id: o.person.clone(),
                reached_step: o.reached,
                first_step_ms: o.start_ms,
            })
            .collect();
        FunnelPersons {
            step: at.step,
            status: at.status,
            total: chosen.len() as u64,
            offset: at.offset,
            limit,
            persons,
        }
    }
}

/// Equal-width bins from the fastest to the slowest time, `[from, to)`.
fn histogram(sorted: &[i64], bins: i64) -> Vec<TimeBin> {
    let (Some(&min), Some(&max)) = (sorted.first(), sorted.last()) else { return Vec::new() };
    let width = ((max - min + 1) + bins - 1) / bins;
    let count = (max - min) / width + 1;
    (0..count)
        .map(|i| {
            let (from_ms, to_ms) = (min + i * width, min + (i + 1) * width);
            let count = sorted.iter().filter(|&&t| t >= from_ms && t < to_ms).count() as u64;
            TimeBin { from_ms, to_ms, count }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_covers_every_time() {
        let bins = histogram(&[0, 5, 9, 10], 2);
        assert_eq!(bins.iter().map(|b| b.count).sum::<u64>(), 4);
        assert_eq!((bins[0].from_ms, bins[0].to_ms), (0, 6));
        assert!(histogram(&[], 3).is_empty());
        assert_eq!(histogram(&[7, 7], 10), vec![TimeBin { from_ms: 7, to_ms: 8, count: 2 }]);
    }
}
