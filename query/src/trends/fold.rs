//! Folding series rows (`bucket, bd_other, bd_value, value`) into the trends answer: every
//! bucket of the range present (empty ones filled), breakdown values ordered by total, the
//! previous period aligned by position, formulas evaluated per bucket.

use std::collections::{BTreeSet, HashMap};

use arrow_array::RecordBatch;
use serde::Serialize;
use utoipa::ToSchema;

use super::statements::Periods;
use super::{Math, TrendsPlan};
use crate::error::QueryError;
use crate::range::Interval;
use crate::table;

/// The answer to a trends question.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct TrendsAnswer {
    pub interval: Interval,
    pub timezone: String,
    /// Resolved range, epoch milliseconds, `[from, to)`.
    pub from_ms: i64,
    pub to_ms: i64,
    /// Bucket labels: `2024-03-31` (day, week = its Monday, month = its 1st) or
    /// `2024-03-31T03:00+0200` (hour, with the zone's offset).
    pub buckets: Vec<String>,
    /// Labels of the previous period's buckets, when comparing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_buckets: Option<Vec<String>>,
    /// One entry per series (per series and breakdown value with a breakdown).
    pub series: Vec<SeriesAnswer>,
    /// The formula's values, when one was given (per breakdown value with a breakdown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formula: Option<Vec<SeriesAnswer>>,
}

/// One line of the chart.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct SeriesAnswer {
    pub label: String,
    /// The series' position in the question (absent for formulas).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series: Option<usize>,
    /// The breakdown value (`""` when the property is not set); absent without a breakdown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breakdown_value: Option<String>,
    /// True for the row folding every value beyond the top N.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub breakdown_other: bool,
    /// One value per bucket (`null` where nothing can be computed, e.g. an average of nothing).
    pub data: Vec<Option<f64>>,
    /// Over the whole range, computed as a whole (unique people are not a sum of days);
    /// absent for weekly/monthly active people.
    pub total: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<PeriodAnswer>,
}

/// The same line over the previous period.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct PeriodAnswer {
    pub data: Vec<Option<f64>>,
    pub total: Option<f64>,
}

/// (is other, value) of a breakdown row.
type Key = (bool, String);

/// One key's values by bucket label, and its whole-range total.
type Values = (HashMap<String, Option<f64>>, Option<f64>);

/// Values by bucket and the whole-range total of each breakdown key.
#[derive(Default)]
struct Rows {
    by_key: HashMap<Key, Values>,
}

impl Rows {
    /// The values in `column` for the current period and for the previous one (by the
    /// `previous` column).
    fn read(batches: &[RecordBatch], column: &str) -> Result<[Rows; 2], QueryError> {
        let buckets = table::strings(batches, "bucket")?;
        let periods = table::ints(batches, "previous")?;
        let others = table::ints(batches, "bd_other")?;
        let values = table::strings(batches, "bd_value")?;
        let numbers = table::floats(batches, column)?;
        let mut rows = [Rows::default(), Rows::default()];
        let columns = buckets.into_iter().zip(periods).zip(others).zip(values).zip(numbers);
        for ((((bucket, previous), other), value), number) in columns {
            let entry = rows[usize::from(previous != 0)].by_key.entry((other != 0, value)).or_default();
            if bucket.is_empty() {
                entry.1 = number;
            } else {
                entry.0.insert(bucket, number);
            }
        }
        Ok(rows)
    }

    fn period(&self, key: &Key, buckets: &[String], math: Math) -> PeriodAnswer {
        let Some((values, total)) = self.by_key.get(key) else {
            let total = if math.active_days().is_some() { None } else { math.empty_value() };
            return PeriodAnswer { data: vec![math.empty_value(); buckets.len()], total };
        };
        let data = buckets.iter().map(|b| values.get(b).copied().unwrap_or(math.empty_value())).collect();
        let total = if math.active_days().is_some() { None } else { total.or(math.empty_value()) };
        PeriodAnswer { data, total }
    }
}

impl TrendsPlan {
    /// Folds the rows of [`TrendsPlan::statements`], in order.
    pub fn fold(&self, results: Vec<Vec<RecordBatch>>) -> Result<TrendsAnswer, QueryError> {
        if results.len() != self.statements.len() {
            return Err(QueryError::Internal("a trends statement has no result".into()));
        }
        let mut current: Vec<Rows> = (0..self.series.len()).map(|_| Rows::default()).collect();
        let mut previous: Vec<Option<Rows>> = (0..self.series.len()).map(|_| None).collect();
        for (batches, slot) in results.iter().zip(&self.slots) {
            for (series, column) in &slot.columns {
                let [now, before] = Rows::read(batches, column)?;
                match slot.periods {
                    Periods::Current => current[*series] = now,
                    // A statement of the previous period alone marks none of its rows.
                    Periods::Previous => previous[*series] = Some(now),
                    Periods::Both => (current[*series], previous[*series]) = (now, Some(before)),
                }
            }
        }
        let mut answers = Vec::new();
        for (i, (label, math)) in self.series.iter().enumerate() {
            for key in self.keys(&current[i]) {
                let now = current[i].period(&key, &self.buckets, *math);
                let before = match (&previous[i], &self.previous_buckets) {
                    (Some(rows), Some(buckets)) => Some(rows.period(&key, buckets, *math)),
                    _ => None,
                };
                answers.push(self.answer(label.clone(), Some(i), &key, now, before));
            }
        }
        let formula = self.formula.as_ref().map(|(text, formula)| self.evaluate(text, formula, &answers));
        Ok(TrendsAnswer {
            interval: self.interval,
            timezone: self.window.zone.name().to_string(),
            from_ms: self.window.from_ms,
            to_ms: self.window.to_ms,
            buckets: self.buckets.clone(),
            previous_buckets: self.previous_buckets.clone(),
            series: answers,
            formula,
        })
    }

    /// Breakdown keys ordered by total (then by their values' sum), "other" last; the one
    /// key `(false, "")` without a breakdown.
    fn keys(&self, rows: &Rows) -> Vec<Key> {
        if !self.breakdown {
            return vec![(false, String::new())];
        }
        let mut keys: Vec<(Key, f64)> = rows
            .by_key
            .iter()
            .map(|(key, (values, total))| {
                let weight = total.unwrap_or_else(|| values.values().flatten().sum());
                (key.clone(), weight)
            })
            .collect();
        keys.sort_by(|(a, wa), (b, wb)| a.0.cmp(&b.0).then(wb.total_cmp(wa)).then(a.1.cmp(&b.1)));
        keys.into_iter().map(|(key, _)| key).collect()
    }

    fn answer(
        &self,
        label: String,
        series: Option<usize>,
        key: &Key,
        now: PeriodAnswer,
        before: Option<PeriodAnswer>,
    ) -> SeriesAnswer {
        SeriesAnswer {
            label,
            series,
            breakdown_value: self.breakdown.then(|| key.1.clone()),
            breakdown_other: key.0,
            data: now.data,
            total: now.total,
            previous: before,
        }
    }

    /// The formula per breakdown key, over the series answers of that key.
    fn evaluate(
        &self,
        text: &str,
        formula: &crate::formula::Formula,
        answers: &[SeriesAnswer],
    ) -> Vec<SeriesAnswer> {
        let mut keys: Vec<Key> = Vec::new();
        let mut seen = BTreeSet::new();
        for answer in answers {
            let key = (answer.breakdown_other, answer.breakdown_value.clone().unwrap_or_default());
            if seen.insert(key.clone()) {
                keys.push(key);
            }
        }
        let line = |key: &Key, i: usize| {
            answers.iter().find(|a| {
                a.series == Some(i)
                    && a.breakdown_other == key.0
                    && a.breakdown_value.clone().unwrap_or_default() == key.1
            })
        };
        let period = |key: &Key, pick: &dyn Fn(&SeriesAnswer) -> Option<PeriodAnswer>, len: usize| {
            let lines: Vec<Option<PeriodAnswer>> =
                (0..self.series.len()).map(|i| line(key, i).and_then(pick)).collect();
            let value = |i: usize, b: Option<usize>| {
                let empty = self.series[i].1.empty_value();
                match (&lines[i], b) {
                    (Some(p), Some(b)) => p.data.get(b).copied().flatten(),
                    (Some(p), None) => p.total,
                    (None, _) => empty,
                }
            };
            PeriodAnswer {
                data: (0..len).map(|b| formula.eval(&|i| value(i, Some(b)))).collect(),
                total: formula.eval(&|i| value(i, None)),
            }
        };
        keys.iter()
            .map(|key| {
                let now = period(
                    key,
                    &|a| Some(PeriodAnswer { data: a.data.clone(), total: a.total }),
                    self.buckets.len(),
                );
                let before =
                    self.previous_buckets.as_ref().map(|b| period(key, &|a| a.previous.clone(), b.len()));
                self.answer(text.to_string(), None, key, now, before)
            })
            .collect()
    }
}
