//! Cohort definitions: conditions on persons combined with `and` / `or`, each turned into a
//! statement selecting the matching persons (column `person`). Pure: every value bound,
//! relative days resolved at the given `now_ms`.

use numu_warehouse::{Sql, Value};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::QueryError;
use crate::filter::{self, PropertyFilter};
use crate::limits::Limits;
use crate::property::Needs;
use crate::range::{Window, Zone};
use crate::retention::EventSpec;
use crate::source::Source;

const DAY_MS: i64 = 86_400_000;
/// Deepest nesting of `and` / `or`.
pub const MAX_DEPTH: usize = 5;
/// Most conditions in one definition (all levels).
pub const MAX_CONDITIONS: usize = 30;
/// Longest look-back of behavioural and funnel conditions.
pub const MAX_DAYS: u32 = 3660;

/// One condition on persons.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum CohortCondition {
    /// Persons matching every condition.
    And {
        #[schema(no_recursion)]
        conditions: Vec<CohortCondition>,
    },
    /// Persons matching any condition.
    Or {
        #[schema(no_recursion)]
        conditions: Vec<CohortCondition>,
    },
    /// Persons who did (or, with `did: false`, did not) do the event at least `min_count`
    /// times in the last `days` days. "Did not" is among all persons with any event.
    Behavioral {
        /// The event name; absent means any event.
        #[serde(default)]
        event: Option<String>,
        #[serde(default = "yes")]
        did: bool,
        #[serde(default = "one")]
        min_count: u32,
        days: u32,
        #[serde(default)]
        filters: Vec<PropertyFilter>,
    },
    /// Persons with an event matching all the filters, at any time (person filters: persons
    /// whose properties match).
    Property { filters: Vec<PropertyFilter> },
    /// Persons who reached step `step` (1 = the first) of the funnel within `window_days`
    /// of its first step, among events of the last `days` days.
    FunnelStep {
        steps: Vec<EventSpec>,
        step: u32,
        #[serde(default = "fourteen")]
        window_days: u32,
        days: u32,
    },
}

fn yes() -> bool {
    true
}
fn one() -> u32 {
    1
}
fn fourteen() -> u32 {
    14
}

/// Builds statements for one project at one instant.
pub struct Builder<'a> {
    pub project: u64,
    pub now_ms: i64,
    pub limits: &'a Limits,
}

fn wrap(inner: Sql) -> Sql {
    Sql::new("SELECT person FROM (").append(inner).push(")")
}

impl CohortCondition {
    /// Checks shape limits (depth, count) before any SQL is built.
    pub fn check(&self, field: &str) -> Result<(), QueryError> {
        let count = self.count(field, 0)?;
        if count > MAX_CONDITIONS {
            return Err(QueryError::bad(field, format!("at most {MAX_CONDITIONS} conditions")));
        }
        Ok(())
    }

    fn count(&self, field: &str, depth: usize) -> Result<usize, QueryError> {
        match self {
            CohortCondition::And { conditions } | CohortCondition::Or { conditions } => {
                if depth >= MAX_DEPTH {
                    return Err(QueryError::bad(field, format!("nested deeper than {MAX_DEPTH}")));
                }
                if conditions.is_empty() {
                    return Err(QueryError::bad(field, "`and` / `or` need at least one condition"));
                }
                let mut total = 1;
                for (i, c) in conditions.iter().enumerate() {
                    total += c.count(&format!("{field}.conditions[{i}]"), depth + 1)?;
                }
                Ok(total)
            }
            _ => Ok(1),
        }
    }
}

impl Builder<'_> {
    fn source(&self, days: Option<u32>, field: &str) -> Result<Source, QueryError> {
        let window = match days {
            Some(d) if d == 0 || d > MAX_DAYS => {
                return Err(QueryError::bad(&format!("{field}.days"), format!("between 1 and {MAX_DAYS}")))
            }
            Some(d) => Some(Window {
                from_ms: self.now_ms - i64::from(d) * DAY_MS,
                to_ms: self.now_ms,
                zone: Zone::parse("timezone", None)?,
            }),
            None => None,
        };
        Ok(Source {
            project: self.project,
            window,
            include_bots: false,
            person: None,
            derived_sessions_only: false,
        })
    }

    /// Every person with any (non-bot) event.
    fn universe(&self) -> Result<Sql, QueryError> {
        let from = self.source(None, "")?.from(Needs::default());
        Ok(Sql::new("SELECT DISTINCT e.person AS person FROM ").append(from))
    }

    fn event_condition(
        &self,
        event: Option<&str>,
        filters: &[PropertyFilter],
        field: &str,
    ) -> Result<filter::Condition, QueryError> {
        let mut condition = filter::all(filters, &format!("{field}.filters"), self.limits)?;
        if let Some(event) = event {
            if event.is_empty() || event.chars().count() > 200 {
                return Err(QueryError::bad(
                    &format!("{field}.event"),
                    "an event name has 1 to 200 characters",
                ));
            }
            condition.sql = Sql::new("(").append(condition.sql).push(") AND e.event = ").bind(event);
        }
        Ok(condition)
    }

    /// A statement selecting the persons (column `person`) matching `condition`.
    pub fn persons(&self, condition: &CohortCondition, field: &str) -> Result<Sql, QueryError> {
        match condition {
            CohortCondition::And { conditions } => {
                let mut parts = conditions
                    .iter()
                    .enumerate()
                    .map(|(i, c)| self.persons(c, &format!("{field}.conditions[{i}]")).map(wrap));
                let first = parts.next().unwrap_or_else(|| self.universe())?;
                let mut sql = Sql::new("SELECT DISTINCT person FROM (").append(first).push(") WHERE 1");
                for part in parts {
                    sql = sql.push(" AND person IN (").append(part?).push(")");
                }
                Ok(sql)
            }
            CohortCondition::Or { conditions } => {
                let parts = conditions
                    .iter()
                    .enumerate()
                    .map(|(i, c)| self.persons(c, &format!("{field}.conditions[{i}]")).map(wrap))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Sql::new("SELECT DISTINCT person FROM (").join(parts, " UNION ALL ").push(")"))
            }
            CohortCondition::Behavioral { event, did, min_count, days, filters } => {
                self.behavioral(event.as_deref(), *did, *min_count, *days, filters, field)
            }
            CohortCondition::Property { filters } => {
                if filters.is_empty() {
                    return Err(QueryError::bad(&format!("{field}.filters"), "at least one filter"));
                }
                let condition = self.event_condition(None, filters, field)?;
                let from = self.source(None, field)?.from(condition.needs);
                Ok(Sql::new("SELECT DISTINCT e.person AS person FROM ")
                    .append(from)
                    .push(" WHERE ")
                    .append(condition.sql))
            }
            CohortCondition::FunnelStep { steps, step, window_days, days } => {
                self.funnel_step(steps, *step, *window_days, *days, field)
            }
        }
    }

    fn behavioral(
        &self,
        event: Option<&str>,
        did: bool,
        min_count: u32,
        days: u32,
        filters: &[PropertyFilter],
        field: &str,
    ) -> Result<Sql, QueryError> {
        if min_count == 0 {
            return Err(QueryError::bad(&format!("{field}.min_count"), "at least 1"));
        }
        let condition = self.event_condition(event, filters, field)?;
        let from = self.source(Some(days), field)?.from(condition.needs);
        let doers = Sql::new("SELECT e.person AS person FROM ")
            .append(from)
            .push(" WHERE ")
            .append(condition.sql)
            .push(" GROUP BY person HAVING count() >= ")
            .bind(u64::from(min_count));
        if did {
            return Ok(doers);
        }
        Ok(Sql::new("SELECT person FROM (")
            .append(self.universe()?)
            .push(") WHERE person NOT IN (")
            .append(doers)
            .push(")"))
    }

    fn funnel_step(
        &self,
        steps: &[EventSpec],
        step: u32,
        window_days: u32,
        days: u32,
        field: &str,
    ) -> Result<Sql, QueryError> {
        if steps.len() < 2 || steps.len() > 20 {
            return Err(QueryError::bad(&format!("{field}.steps"), "2 to 20 steps"));
        }
        if step == 0 || step as usize > steps.len() {
            return Err(QueryError::bad(&format!("{field}.step"), "a step number of the funnel (1 = first)"));
        }
        if window_days == 0 || window_days > MAX_DAYS {
            return Err(QueryError::bad(
                &format!("{field}.window_days"),
                format!("between 1 and {MAX_DAYS}"),
            ));
        }
        let mut needs = Needs::default();
        let mut conditions = Vec::new();
        for (i, spec) in steps.iter().enumerate() {
            let c =
                self.event_condition(spec.event.as_deref(), &spec.filters, &format!("{field}.steps[{i}]"))?;
            needs = needs.merge(c.needs);
            conditions.push(Sql::new("(").append(c.sql).push(")"));
        }
        let from = self.source(Some(days), field)?.from(needs);
        let window_ms = Value::UInt64(u64::from(window_days) * DAY_MS as u64);
        let level = Sql::new("SELECT e.person AS person, windowFunnel(")
            .bind(window_ms)
            .push(")(toUInt64(toUnixTimestamp64Milli(e.timestamp)), ")
            .join(conditions, ", ")
            .push(") AS level FROM ")
            .append(from)
            .push(" GROUP BY person");
        Ok(Sql::new("SELECT person FROM (").append(level).push(") WHERE level >= ").bind(u64::from(step)))
    }
}
