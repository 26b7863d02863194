//! Paths: the most common sequences of events (or page paths) within sessions, after a start
//! event or before an end event, as nodes and weighted edges for a Sankey chart.
//!
//! [`plan`] checks the question and builds one statement that cuts every session's sequence
//! and counts the distinct paths; [`PathsPlan::fold`] turns the counted paths into nodes,
//! edges (the heaviest per step, the rest routed to `other`) and drop-offs. No IO here.

mod fold;

use arrow_array::RecordBatch;
use numu_warehouse::Sql;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::QueryError;
use crate::filter::{self, PropertyFilter, MAX_REGEX_LEN};
use crate::limits::Limits;
use crate::property::Needs;
use crate::range::{DateRange, Zone};
use crate::source::Source;
use crate::table;
use crate::template::{fill, value};

pub use fold::{PathEdge, PathNode, PathsAnswer};

/// Most steps of a path.
pub const MAX_PATH_STEPS: u32 = 10;
/// Most grouping rules.
pub const MAX_GROUPING_RULES: usize = 20;

/// A paths question (`"kind": "paths"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PathsQuery {
    pub date_range: DateRange,
    /// IANA zone of the date range (default `UTC`).
    #[serde(default)]
    pub timezone: Option<String>,
    /// `events` (event names, default) or `pages` (the `path` of `$pageview` events).
    #[serde(default)]
    pub path_type: PathType,
    /// Paths from the first occurrence of this event (or grouped page) in a session.
    #[serde(default)]
    pub start: Option<String>,
    /// Paths up to the first occurrence of this event (or grouped page) in a session.
    #[serde(default)]
    pub end: Option<String>,
    /// Nodes per path, 2 to 10 (default 5).
    #[serde(default)]
    pub steps: Option<u32>,
    /// Page paths only: regex → replacement rules applied in order.
    #[serde(default)]
    pub grouping: Vec<GroupingRule>,
    /// Heaviest edges kept per step (default 10); the rest go to an `other` node.
    #[serde(default)]
    pub edges_per_step: Option<u32>,
    #[serde(default)]
    pub filters: Vec<PropertyFilter>,
    #[serde(default)]
    pub include_bots: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PathType {
    #[default]
    Events,
    Pages,
}

/// `{"pattern": "/product/\\d+", "replacement": "/product/:id"}` (RE2; `\1` refers to a group).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupingRule {
    pub pattern: String,
    pub replacement: String,
}

/// A checked paths question.
#[derive(Clone, Debug)]
pub struct PathsPlan {
    statement: Sql,
    steps: usize,
    edges_per_step: usize,
    from_ms: i64,
    to_ms: i64,
}

/// Checks `query` and builds its statement (`now_ms` resolves relative dates).
pub fn plan(query: &PathsQuery, project: u64, now_ms: i64, limits: &Limits) -> Result<PathsPlan, QueryError> {
    let steps = query.steps.unwrap_or(5);
    if !(2..=MAX_PATH_STEPS).contains(&steps) {
        return Err(QueryError::bad("steps", format!("a path has 2 to {MAX_PATH_STEPS} steps")));
    }
    let edges = query.edges_per_step.unwrap_or(10);
    if edges == 0 || edges > limits.max_breakdown_values {
        return Err(QueryError::bad(
            "edges_per_step",
            format!("between 1 and {} (the configured limit)", limits.max_breakdown_values),
        ));
    }
    if query.start.is_some() && query.end.is_some() {
        return Err(QueryError::bad("end", "a path has a start or an end, not both"));
    }
    for (field, name) in [("start", &query.start), ("end", &query.end)] {
        if name.as_ref().is_some_and(|n| n.is_empty() || n.chars().count() > 2000) {
            return Err(QueryError::bad(field, "1 to 2000 characters"));
        }
    }
    Limits::at_most("filters", query.filters.len(), limits.max_filters, "filters")?;
    let zone = Zone::parse("timezone", query.timezone.as_deref())?;
    let window = query.date_range.resolve(zone, now_ms, limits)?;
    let global = filter::all(&query.filters, "filters", limits)?;
    let name = name_sql(query)?;
    let mut conditions = Sql::new("(").append(global.sql).push(")");
    if query.path_type == PathType::Pages {
        conditions = conditions.push(" AND e.event = '$pageview'");
    }
    let needs = global.needs.merge(Needs { session_ids: true, ..Needs::default() });
    let source = Source::new(project, window, query.include_bots);
    let statement = fill(
        include_str!("../../sql/paths_sequences.sql"),
        &[
            ("name", name),
            ("from", source.from(needs)),
            ("conditions", conditions),
            ("cut", cut_sql(query, steps)),
        ],
    );
    Ok(PathsPlan {
        statement,
        steps: steps as usize,
        edges_per_step: edges as usize,
        from_ms: window.from_ms,
        to_ms: window.to_ms,
    })
}

/// The node name of an event: its name, or its path with the grouping rules applied.
fn name_sql(query: &PathsQuery) -> Result<Sql, QueryError> {
    if query.path_type == PathType::Events {
        if !query.grouping.is_empty() {
            return Err(QueryError::bad("grouping", "grouping rules apply to `path_type: pages`"));
        }
        return Ok(Sql::new("e.event"));
    }
    if query.grouping.len() > MAX_GROUPING_RULES {
        return Err(QueryError::bad("grouping", format!("at most {MAX_GROUPING_RULES} rules")));
    }
    let mut sql = Sql::new("e.path");
    for (i, rule) in query.grouping.iter().enumerate() {
        let field = format!("grouping[{i}].pattern");
        if rule.pattern.is_empty() || rule.pattern.len() > MAX_REGEX_LEN {
            return Err(QueryError::bad(&field, format!("1 to {MAX_REGEX_LEN} bytes")));
        }
        regex_syntax::Parser::new()
            .parse(&rule.pattern)
            .map_err(|e| QueryError::bad(&field, format!("invalid regular expression: {e}")))?;
        if rule.replacement.len() > 2000 {
            return Err(QueryError::bad(&format!("grouping[{i}].replacement"), "at most 2000 bytes"));
        }
        sql = Sql::new("replaceRegexpAll(")
            .append(sql)
            .push(", ")
            .bind(rule.pattern.as_str())
            .push(", ")
            .bind(rule.replacement.as_str())
            .push(")");
    }
    Ok(sql)
}

/// The slice of a session's `names` that is its path (empty: the session has none).
fn cut_sql(query: &PathsQuery, steps: u32) -> Sql {
    let n = || value(u64::from(steps));
    if let Some(start) = &query.start {
        let at = Sql::new("indexOf(names, ").bind(start.as_str()).push(")");
        return Sql::new("if(")
            .append(at.clone())
            .push(" = 0, [], arraySlice(names, ")
            .append(at)
            .push(", ")
            .append(n())
            .push("))");
    }
    if let Some(end) = &query.end {
        let at = Sql::new("indexOf(names, ").bind(end.as_str()).push(")");
        return Sql::new("if(")
            .append(at.clone())
            .push(" = 0, [], arraySlice(names, greatest(1, toInt64(")
            .append(at.clone())
            .push(") - ")
            .append(n())
            .push(" + 1), least(toInt64(")
            .append(at)
            .push("), ")
            .append(n())
            .push(")))");
    }
    Sql::new("arraySlice(names, 1, ").append(n()).push(")")
}

impl PathsPlan {
    pub fn statements(&self) -> &[Sql] {
        std::slice::from_ref(&self.statement)
    }

    /// The answer from the statement's rows (`path`, `weight`).
    pub fn fold(&self, results: Vec<Vec<RecordBatch>>) -> Result<PathsAnswer, QueryError> {
        let rows = results.into_iter().next().unwrap_or_default();
        let paths = table::string_lists(&rows, "path")?;
        let weights = table::ints(&rows, "weight")?;
        let counted: Vec<(Vec<String>, u64)> =
            paths.into_iter().zip(weights).map(|(p, w)| (p, w.max(0) as u64)).collect();
        Ok(fold::sankey(counted, self.steps, self.edges_per_step, self.from_ms, self.to_ms))
    }
}
