//! The statements of a trends question. A series reads both periods of a comparison in one
//! statement, and series without a breakdown share one, each an `-If` aggregate over its own
//! conditions — unless the window read changes its rows: sessions are cut and weekly or
//! monthly active people reach back within the window, so those read each period alone.

use numu_warehouse::Sql;

use super::{Math, Series};
use crate::error::QueryError;
use crate::filter;
use crate::limits::Limits;
use crate::property::{Kind, Needs, Property, PropertyType};
use crate::range::{day_start, Interval, Window};
use crate::source::{in_current, Source};
use crate::template::{fill, value};

/// Which period(s) a statement's rows belong to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Periods {
    Current,
    Previous,
    /// Both, told apart by the rows' `previous` column.
    Both,
}

/// Where a statement's rows go: per value column, its series; and the period(s).
#[derive(Clone, Debug)]
pub(super) struct Slot {
    pub columns: Vec<(usize, String)>,
    pub periods: Periods,
}

pub(super) struct Scope<'a> {
    pub source: Source,
    pub window: Window,
    pub interval: Interval,
    pub breakdown: Option<(Property, u32)>,
    pub limits: &'a Limits,
}

/// A checked series: which rows, and what it computes of them.
pub(super) struct Part {
    index: usize,
    math: Math,
    conditions: Sql,
    aggregate: Aggregate,
    needs: Needs,
}

impl Part {
    /// Whether its rows are the same whatever window is read around its period.
    fn window_free(&self) -> bool {
        self.math.active_days().is_none() && !self.needs.sessions && !self.needs.session_ids
    }
}

/// An aggregate function of a series: its name, parameters and argument; a sum reads 0 when
/// nothing is summed.
struct Aggregate {
    name: &'static str,
    parameters: &'static str,
    argument: Option<Sql>,
    sum: bool,
}

impl Aggregate {
    /// `name(argument)`, or with `only` the `-If` form counting only rows matching it.
    fn sql(&self, only: Option<&Sql>) -> Sql {
        let mut sql = Sql::new(if self.sum { "ifNull(" } else { "(" }).push(self.name);
        sql = sql.push(if only.is_some() { "If" } else { "" }).push(self.parameters).push("(");
        let mut arguments: Vec<Sql> = self.argument.iter().cloned().collect();
        arguments.extend(only.map(|c| Sql::new("(").append(c.clone()).push(")")));
        sql.join(arguments, ", ").push(if self.sum { "), 0)" } else { "))" })
    }
}

impl Scope<'_> {
    /// Checks series `i` (its event name, filters and math).
    pub fn part(&self, i: usize, series: &Series, global: &filter::Condition) -> Result<Part, QueryError> {
        let field = format!("series[{i}]");
        let own = filter::all(&series.filters, &format!("{field}.filters"), self.limits)?;
        let mut needs = global.needs.merge(own.needs);
        if let Some((property, _)) = &self.breakdown {
            needs = needs.merge(property.needs());
        }
        let mut conditions =
            Sql::new("(").append(global.sql.clone()).push(") AND (").append(own.sql).push(")");
        if let Some(event) = &series.event {
            if event.is_empty() || event.chars().count() > 200 {
                return Err(QueryError::bad(
                    &format!("{field}.event"),
                    "an event name has 1 to 200 characters",
                ));
            }
            conditions = conditions.push(" AND e.event = ").bind(event.as_str());
        }
        let aggregate = aggregate(&field, series, &mut needs)?;
        if series.math.active_days().is_some() && self.interval == Interval::Hour {
            return Err(QueryError::bad(
                "interval",
                "weekly and monthly active people need a day, week or month interval",
            ));
        }
        // Unique and active people count persons; the other math reads no person.
        let persons = series.math == Math::UniquePeople || series.math.active_days().is_some();
        needs.person |= persons;
        Ok(Part { index: i, math: series.math, conditions, aggregate, needs })
    }

    /// The statements and where their rows go: the window-free series that need the same
    /// joins together (without a breakdown, whose top values are ranked per series; and not
    /// a count joined to the identity mapping only because a unique-people series is beside
    /// it), every other one alone.
    pub fn statements(&self, parts: &[Part], compare: bool) -> Vec<(Sql, Slot)> {
        let mut groups: Vec<Vec<&Part>> = Vec::new();
        for part in parts {
            let shares = part.window_free() && self.breakdown.is_none();
            match groups.iter_mut().find(|g| shares && g[0].window_free() && g[0].needs == part.needs) {
                Some(group) => group.push(part),
                None => groups.push(vec![part]),
            }
        }
        groups
            .into_iter()
            .flat_map(|group| match group.as_slice() {
                [part] => self.alone(part, compare),
                _ => vec![self.shared(&group, compare)],
            })
            .collect()
    }

    /// One statement for several window-free series: the rows matching any of them, each
    /// series' value an `-If` aggregate of its own conditions (`value_0`, `value_1`, …).
    fn shared(&self, parts: &[&Part], compare: bool) -> (Sql, Slot) {
        let conditions = Sql::new("(").join(parts.iter().map(|p| p.conditions.clone()), ") OR (").push(")");
        // A group's series need the same joins (see `statements`).
        let needs = parts[0].needs;
        let aggregates = parts
            .iter()
            .enumerate()
            .map(|(k, p)| p.aggregate.sql(Some(&p.conditions)).push(format!(" AS value_{k}")));
        let columns = parts.iter().enumerate().map(|(k, p)| (p.index, format!("value_{k}"))).collect();
        let periods = if compare { Periods::Both } else { Periods::Current };
        let window = self.read(periods);
        let statement = self.series_statement(
            Sql::new("").join(aggregates, ",\n    "),
            needs,
            &conditions,
            &window,
            compare,
        );
        (statement, Slot { columns, periods })
    }

    /// The statements of one series: both periods at once when it is window-free.
    fn alone(&self, part: &Part, compare: bool) -> Vec<(Sql, Slot)> {
        let slot = |periods| Slot { columns: vec![(part.index, "value".to_string())], periods };
        let statement = |periods: Periods| {
            let window = self.read(periods);
            if let Some(days) = part.math.active_days() {
                return self.active_statement(days, part.needs, &part.conditions, &window);
            }
            let aggregate = part.aggregate.sql(None).push(" AS value");
            self.series_statement(aggregate, part.needs, &part.conditions, &window, periods == Periods::Both)
        };
        if !compare {
            vec![(statement(Periods::Current), slot(Periods::Current))]
        } else if part.window_free() {
            vec![(statement(Periods::Both), slot(Periods::Both))]
        } else {
            [Periods::Current, Periods::Previous].into_iter().map(|p| (statement(p), slot(p))).collect()
        }
    }

    /// The window a statement of `periods` reads.
    fn read(&self, periods: Periods) -> Window {
        match periods {
            Periods::Current => self.window,
            Periods::Previous => self.window.previous(),
            Periods::Both => Window { from_ms: self.window.previous().from_ms, ..self.window },
        }
    }

    /// The `bd_other, bd_value` select items (top N of the current period, or none).
    fn breakdown_items(&self, needs: Needs, conditions: &Sql) -> Sql {
        let Some((property, limit)) = &self.breakdown else {
            return Sql::new("0 AS bd_other, '' AS bd_value");
        };
        let value = property.text_expr();
        let top = fill(
            include_str!("../../sql/breakdown_top.sql"),
            &[
                ("value", value.clone()),
                ("from", self.source.from_needing(needs)),
                ("conditions", conditions.clone()),
                ("limit", crate::template::value(u64::from(*limit))),
            ],
        );
        Sql::new("(")
            .append(value.clone())
            .push(" NOT IN (")
            .append(top)
            .push(")) AS bd_other, if(bd_other, '', ")
            .append(value)
            .push(") AS bd_value")
    }

    /// Values per bucket and over the whole window; with `split`, per period.
    fn series_statement(
        &self,
        aggregates: Sql,
        needs: Needs,
        conditions: &Sql,
        window: &Window,
        split: bool,
    ) -> Sql {
        let previous = if split {
            Sql::new("toUInt8(NOT (").append(in_current(&self.window)).push("))")
        } else {
            Sql::new("toUInt8(0)")
        };
        fill(
            include_str!("../../sql/trends_series.sql"),
            &[
                ("bucket", self.interval.bucket_sql("e.timestamp", window.zone)),
                ("previous", previous),
                ("breakdown", self.breakdown_items(needs, conditions)),
                ("aggregates", aggregates),
                ("from", self.source.with_window(*window).from_needing(needs)),
                ("conditions", conditions.clone()),
            ],
        )
    }

    /// Weekly or monthly active people of one period.
    fn active_statement(&self, days: u64, needs: Needs, conditions: &Sql, window: &Window) -> Sql {
        let (first, last) = window.days();
        let reach = Window {
            from_ms: day_start(first - chrono::Duration::days(days as i64 - 1), window.zone),
            ..*window
        };
        fill(
            include_str!("../../sql/trends_active.sql"),
            &[
                ("bucket", self.interval.date_bucket_sql("covered")),
                ("breakdown", self.breakdown_items(needs, conditions)),
                ("zone", window.zone.sql()),
                ("from", self.source.with_window(reach).from_needing(needs)),
                ("conditions", conditions.clone()),
                ("days", value(days)),
                ("first_day", value(first.to_string())),
                ("last_day", value(last.to_string())),
                ("bucket_last_day", self.interval.last_day_sql("covered")),
            ],
        )
    }
}

/// What series `field` computes, checking its property.
fn aggregate(field: &str, series: &Series, needs: &mut Needs) -> Result<Aggregate, QueryError> {
    let math = series.math;
    let plain = |name, argument: Option<&str>| Aggregate {
        name,
        parameters: "",
        argument: argument.map(Sql::new),
        sum: false,
    };
    if !math.needs_property() {
        if series.property.is_some() {
            return Err(QueryError::bad(
                &format!("{field}.property"),
                format!("`{}` takes no property", math.name()),
            ));
        }
        return Ok(match math {
            Math::UniquePeople => plain("uniqExact", Some("e.person")),
            Math::UniqueSessions => {
                needs.session_ids = true;
                plain("uniqExact", Some("e.session"))
            }
            _ => plain("count", None),
        });
    }
    let name = series.property.as_deref().ok_or_else(|| {
        QueryError::bad(&format!("{field}.property"), format!("`{}` needs a numeric property", math.name()))
    })?;
    let property = Property::resolve(&format!("{field}.property"), name, PropertyType::Event)?;
    if property.kind() == Kind::Bool {
        return Err(QueryError::bad(&format!("{field}.property"), "a true/false property is not a number"));
    }
    let (name, parameters) = match math {
        Math::Sum => ("sum", ""),
        Math::Avg => ("avg", ""),
        Math::Min => ("min", ""),
        Math::Max => ("max", ""),
        Math::P50 => ("quantileExactInclusive", "(0.5)"),
        Math::P90 => ("quantileExactInclusive", "(0.9)"),
        _ => ("quantileExactInclusive", "(0.99)"),
    };
    Ok(Aggregate { name, parameters, argument: Some(property.number_expr()), sum: math == Math::Sum })
}
