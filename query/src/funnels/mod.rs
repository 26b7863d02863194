//! Funnels: 2–20 steps (events with filters) a person takes within a conversion window, in
//! one of three modes (`ordered`, `strict`, `any_order`), with exclusion and optional steps,
//! a breakdown with attribution, and four views (steps, time to convert, conversion over
//! time, persons at a step).
//!
//! [`plan`] checks the question and builds one statement returning, per person, the events
//! that match any step or exclusion (time, bitmask of matched steps, breakdown value) — when
//! no filter or breakdown needs the person, it reads only the events the steps name before
//! joining the identity mapping;
//! [`FunnelFolder`] folds those rows batch by batch (`walk` decides each person's best
//! attempt, `views` aggregates). No IO here.

mod types;
mod views;
pub mod walk;

use numu_warehouse::Sql;

use crate::error::QueryError;
use crate::filter::{self, Condition};
use crate::identity;
use crate::limits::Limits;
use crate::property::{Needs, Property};
use crate::range::{Window, Zone};
use crate::source::Source;
use crate::template::{fill, value};

pub use types::*;
pub use views::{FunnelFolder, TimeBin};

/// Most steps of a funnel.
pub const MAX_STEPS: usize = 20;
/// Most exclusion steps (their bits follow the steps' in the event mask).
pub const MAX_EXCLUSIONS: usize = 10;

/// A checked funnel question: its statement and what folding it needs.
#[derive(Clone, Debug)]
pub struct FunnelPlan {
    statement: Sql,
    pub(crate) spec: walk::Spec,
    pub(crate) query: FunnelQuery,
    pub(crate) window: Window,
    pub(crate) buckets: Vec<String>,
}

impl FunnelPlan {
    /// The one statement; its rows go to [`FunnelPlan::folder`].
    pub fn statement(&self) -> &Sql {
        &self.statement
    }

    pub fn folder(&self) -> FunnelFolder {
        FunnelFolder::new(self)
    }
}

/// Checks `query` and builds its statement (`now_ms` resolves relative dates).
pub fn plan(
    query: &FunnelQuery,
    project: u64,
    now_ms: i64,
    limits: &Limits,
) -> Result<FunnelPlan, QueryError> {
    let steps = &query.steps;
    if steps.len() < 2 || steps.len() > MAX_STEPS {
        return Err(QueryError::bad("steps", format!("a funnel has 2 to {MAX_STEPS} steps")));
    }
    if query.exclusions.len() > MAX_EXCLUSIONS {
        return Err(QueryError::bad("exclusions", format!("at most {MAX_EXCLUSIONS} exclusion steps")));
    }
    let filter_count = query.filters.len()
        + steps.iter().map(|s| s.filters.len()).sum::<usize>()
        + query.exclusions.iter().map(|s| s.filters.len()).sum::<usize>();
    Limits::at_most("filters", filter_count, limits.max_filters, "filters")?;
    let window_ms = query.window()?;
    check_steps(query)?;
    let zone = Zone::parse("timezone", query.timezone.as_deref())?;
    let window = query.date_range.resolve(zone, now_ms, limits)?;
    let buckets = match query.view {
        FunnelView::Trends => window.buckets(query.interval, limits)?,
        _ => Vec::new(),
    };
    query.check_view(limits)?;
    let global = filter::all(&query.filters, "filters", limits)?;
    let mut needs = global.needs;
    let mut mask = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let c = event_condition(&format!("steps[{i}]"), &step.event, &step.filters, limits)?;
        needs = needs.merge(c.needs);
        mask.push((i, c.sql));
    }
    for (j, exclusion) in query.exclusions.iter().enumerate() {
        let c = event_condition(&format!("exclusions[{j}]"), &exclusion.event, &exclusion.filters, limits)?;
        needs = needs.merge(c.needs);
        mask.push((MAX_STEPS + j, c.sql));
    }
    let breakdown = match &query.breakdown {
        Some(b) => {
            b.check(steps.len(), limits)?;
            let property = Property::resolve("breakdown.property", &b.property, b.kind)?;
            needs = needs.merge(property.needs());
            property.text_expr()
        }
        None => Sql::new("''"),
    };
    // Attempts start inside the range; their later steps may run past its end.
    let read = Window { to_ms: window.to_ms.saturating_add(window_ms.max_ms()), ..window };
    let source = Source::new(project, read, query.include_bots);
    let mut names: Vec<&str> = steps.iter().map(|s| s.event.as_str()).collect();
    names.extend(query.exclusions.iter().map(|e| e.event.as_str()));
    let parts = Parts { mask: mask_sql(&mask), breakdown, with_values: query.breakdown.is_some() };
    let statement = if needs == Needs::default() {
        fast_statement(&source, &names, &global, parts)
    } else {
        statement(&source, needs, &global, parts)
    };
    let spec = walk::Spec {
        steps: steps.len(),
        optional: steps.iter().map(|s| s.optional).collect(),
        mode: query.mode,
        exclusions: query.exclusions.iter().map(|e| (e.from_step, e.to_step)).collect(),
        window: window_ms,
        starts: (window.from_ms, window.to_ms),
    };
    Ok(FunnelPlan { statement, spec, query: query.clone(), window, buckets })
}

/// What every funnel statement selects per event: the step bitmask, the breakdown value, and
/// whether the rows carry the values (only a breakdown reads them).
struct Parts {
    mask: Sql,
    breakdown: Sql,
    with_values: bool,
}

impl Parts {
    /// The per-person statement over `rows` (a template taking `mask` and `breakdown`, filled
    /// with `slots` too).
    fn statement(self, rows: &str, slots: Vec<(&'static str, Sql)>) -> Sql {
        let mut all = vec![("mask", self.mask), ("breakdown", self.breakdown)];
        all.extend(slots);
        let values = if self.with_values { ",\n    groupArray(bd) AS values" } else { "" };
        fill(
            include_str!("../../sql/funnel_persons.sql"),
            &[("rows", fill(rows, &all)), ("values", Sql::new(values))],
        )
    }
}

/// `bit * (condition) + …` over every step and exclusion.
fn mask_sql(mask: &[(usize, Sql)]) -> Sql {
    Sql::new("").join(
        mask.iter()
            .map(|(bit, c)| Sql::new(format!("({}::UInt64 * (", 1u64 << bit)).append(c.clone()).push("))")),
        " + ",
    )
}

/// The general statement: every event of the range with its person (and the joins `needs`
/// asks for), then the ones matching a step or an exclusion.
fn statement(source: &Source, needs: Needs, global: &Condition, parts: Parts) -> Sql {
    parts.statement(
        include_str!("../../sql/funnel_rows.sql"),
        vec![("from", source.from(needs)), ("conditions", global.sql.clone())],
    )
}

/// The statement when nothing needs a person, a session or person properties before the
/// events are chosen: only the events named by a step or an exclusion are read (the primary
/// key prunes by event name), and only they are joined to the identity mapping.
fn fast_statement(source: &Source, names: &[&str], global: &Condition, parts: Parts) -> Sql {
    let mut unique: Vec<&str> = Vec::new();
    for name in names {
        if !unique.contains(name) {
            unique.push(name);
        }
    }
    let conditions = Sql::new("e.event IN (")
        .join(unique.iter().map(|name| value(*name)), ", ")
        .push(") AND ")
        .append(source.conditions_on("e"));
    parts.statement(
        include_str!("../../sql/funnel_steps.sql"),
        vec![
            ("project", value(source.project)),
            ("window", conditions),
            ("conditions", global.sql.clone()),
            ("mapping", identity::mapping_sql(source.project)),
        ],
    )
}

/// `e.event = ?` and the step's own filters.
fn event_condition(
    field: &str,
    event: &str,
    filters: &[filter::PropertyFilter],
    limits: &Limits,
) -> Result<Condition, QueryError> {
    if event.is_empty() || event.chars().count() > 200 {
        return Err(QueryError::bad(&format!("{field}.event"), "an event name has 1 to 200 characters"));
    }
    let own = filter::all(filters, &format!("{field}.filters"), limits)?;
    let sql = Sql::new("e.event = ").bind(event).push(" AND (").append(own.sql).push(")");
    Ok(Condition { sql, needs: own.needs })
}

fn check_steps(query: &FunnelQuery) -> Result<(), QueryError> {
    let n = query.steps.len();
    for (i, step) in query.steps.iter().enumerate() {
        if step.optional && (i == 0 || i == n - 1) {
            return Err(QueryError::bad(
                &format!("steps[{i}].optional"),
                "the first and last steps are required",
            ));
        }
        if step.optional && query.mode == FunnelMode::AnyOrder {
            return Err(QueryError::bad(
                &format!("steps[{i}].optional"),
                "`any_order` funnels have no optional steps",
            ));
        }
    }
    if !query.exclusions.is_empty() && query.mode == FunnelMode::AnyOrder {
        return Err(QueryError::bad("exclusions", "`any_order` funnels have no exclusion steps"));
    }
    for (j, e) in query.exclusions.iter().enumerate() {
        if e.from_step >= e.to_step || e.to_step >= n {
            return Err(QueryError::bad(
                &format!("exclusions[{j}].to_step"),
                "an exclusion lies between two steps: from_step < to_step < number of steps",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use numu_warehouse::PlaceholderStyle;

    fn query(json: serde_json::Value) -> FunnelQuery {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn names_are_bound_and_months_are_calendar_months() {
        let q = query(serde_json::json!({
            "date_range": {"from": "2024-01-01", "to": "2024-01-31"},
            "steps": [{"event": "a' OR 1=1"}, {"event": "b"}],
            "conversion_window": {"value": 1, "unit": "month"},
            "exclusions": [{"event": "x", "from_step": 0, "to_step": 1}]
        }));
        let plan = plan(&q, 7, 0, &Limits::default()).unwrap();
        let (text, values) = plan.statement().render(PlaceholderStyle::QuestionMark);
        assert!(!text.contains("a' OR 1=1"), "{text}");
        assert!(values.contains(&numu_warehouse::Value::from("a' OR 1=1")));
        assert!(text.contains("1048576::UInt64"), "the exclusion's bit follows the 20 step bits");
        let jan31 = chrono::DateTime::parse_from_rfc3339("2024-01-31T12:00:00Z").unwrap().timestamp_millis();
        let feb29 = chrono::DateTime::parse_from_rfc3339("2024-02-29T12:00:00Z").unwrap().timestamp_millis();
        assert_eq!(plan.spec.window.deadline(jan31), feb29);
    }

    #[test]
    fn only_the_steps_events_are_read_unless_a_filter_needs_the_person() {
        let mut q = query(serde_json::json!({
            "date_range": {"from": "2024-01-01", "to": "2024-01-31"},
            "steps": [{"event": "a"}, {"event": "b", "filters": [{"property": "utm_source", "operator": "equals", "value": "x"}]}, {"event": "a"}]
        }));
        let (text, values) =
            plan(&q, 7, 0, &Limits::default()).unwrap().statement().render(PlaceholderStyle::QuestionMark);
        assert!(text.contains("WHERE e.project_id = ? AND e.event IN (?, ?) AND e.timestamp >= "), "{text}");
        assert_eq!(
            values.iter().filter(|v| **v == numu_warehouse::Value::UInt64(7)).count(),
            2,
            "events and mapping"
        );
        assert!(!text.contains("AS values"), "no breakdown, no values: {text}");
        for filter in [
            serde_json::json!({"property": "plan", "type": "person", "operator": "equals", "value": "pro"}),
            serde_json::json!({"cohort": 3}),
            serde_json::json!({"property": "$session_duration", "type": "session", "operator": "gt", "value": 5}),
        ] {
            q.filters = vec![serde_json::from_value(filter).unwrap()];
            let text = plan(&q, 7, 0, &Limits::default()).unwrap().statement().to_string();
            assert!(!text.contains("e.event IN ("), "{text}");
            assert!(text.contains("AS person\nFROM events AS ev"), "every event gets its person: {text}");
        }
    }
}
