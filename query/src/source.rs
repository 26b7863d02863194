//! The rows every analysis reads: a project's events in a window (bots excluded unless
//! asked), each with its `person` and, when needed, its `session`; joined to person
//! properties (`pp`) and session attributes (`ss`) when filters or breakdowns use them.
//! Always scoped by `project_id` first.

use numu_schemas::EVENT_COLUMNS;
use numu_warehouse::{Sql, Value};

use crate::identity;
use crate::property::Needs;
use crate::range::Window;
use crate::template::{fill, value};

/// Which events, and what to attach to them.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    pub project: u64,
    /// `None` reads all time.
    pub window: Option<Window>,
    pub include_bots: bool,
    /// Only this person's events (its id as an SQL expression); applied before sessions are
    /// derived, which is exact because sessions never span persons.
    pub person: Option<Sql>,
    /// Only events without a client session id (whose sessions are derived): applied where
    /// the events are read, so nothing else is read or sorted; and when the window has no
    /// such event, neither the events nor the identity mapping are read at all (a constant
    /// condition, checked once).
    pub derived_sessions_only: bool,
}

impl Source {
    pub fn new(project: u64, window: Window, include_bots: bool) -> Source {
        Source { project, window: Some(window), include_bots, person: None, derived_sessions_only: false }
    }

    /// The same events over another window.
    pub fn with_window(&self, window: Window) -> Source {
        Source { window: Some(window), ..self.clone() }
    }

    /// Events with `person` (all columns of `events` keep their names).
    pub fn events(&self) -> Sql {
        let mut conditions = self.window_conditions();
        if let Some(person) = &self.person {
            conditions = conditions
                .push(" AND if(m.mapped_person_id = '', ev.distinct_id, m.mapped_person_id) = ")
                .append(person.clone());
        }
        fill(
            include_str!("../sql/events_source.sql"),
            &[
                ("columns", event_columns()),
                ("mapping", self.mapping()),
                ("project", value(self.project)),
                ("conditions", conditions),
            ],
        )
    }

    /// The events without `person` (no identity mapping joined), not restricted to
    /// `self.person` (which needs the mapping): callers restrict them by a join.
    fn events_unmapped(&self) -> Sql {
        fill(
            include_str!("../sql/events_unmapped.sql"),
            &[
                ("columns", event_columns()),
                ("project", value(self.project)),
                ("conditions", self.window_conditions()),
            ],
        )
    }

    /// The window and bot conditions on `ev`, and the derived-sessions restriction.
    fn window_conditions(&self) -> Sql {
        let conditions = self.conditions_on("ev");
        if !self.derived_sessions_only {
            return conditions;
        }
        conditions.push(" AND ev.session_id = '' AND ").append(self.any_derived())
    }

    /// The window and bot conditions on the events aliased `alias`, for statements that read
    /// `events` themselves.
    pub fn conditions_on(&self, alias: &str) -> Sql {
        let mut parts: Vec<Sql> = Vec::new();
        if let Some(window) = &self.window {
            parts.push(Sql::new(format!("{alias}.timestamp >= ")).bind(window.from_sql()));
            parts.push(Sql::new(format!("{alias}.timestamp < ")).bind(window.to_sql()));
        }
        if !self.include_bots {
            parts.push(Sql::new(format!("NOT {alias}.is_bot")));
        }
        if parts.is_empty() {
            return Sql::new("1");
        }
        Sql::new("").join(parts, " AND ")
    }

    /// The identity mapping; with `derived_sessions_only`, empty when there is nothing to map.
    fn mapping(&self) -> Sql {
        let condition = if self.derived_sessions_only { self.any_derived() } else { Sql::new("1") };
        identity::mapping_sql_where(self.project, condition)
    }

    /// Whether the window has an event without a client session id, as a constant condition.
    fn any_derived(&self) -> Sql {
        let only = Source { derived_sessions_only: false, ..self.clone() };
        Sql::new("(SELECT count() FROM events AS ev WHERE ev.project_id = ")
            .bind(self.project)
            .push(" AND ")
            .append(only.window_conditions())
            .push(" AND ev.session_id = '') > 0")
    }

    /// Events with `person` and `session`.
    pub fn sessionized(&self) -> Sql {
        self.sessionize(self.events(), true)
    }

    /// Events with `session` but without `person` (sessions with a client session id take
    /// their person from their first event once grouped).
    fn sessionized_unmapped(&self) -> Sql {
        self.sessionize(self.events_unmapped(), false)
    }

    /// `client_events` for events with a client session id, derived sessions for the others
    /// (see `sessionize.sql`); the derived events carry `person` when `with_person`.
    fn sessionize(&self, client_events: Sql, with_person: bool) -> Sql {
        let person_condition = match &self.person {
            Some(person) => Sql::new("person = ").append(person.clone()),
            None => Sql::new("1"),
        };
        fill(
            include_str!("../sql/sessionize.sql"),
            &[
                ("client_events", client_events),
                ("events", self.events_unmapped()),
                ("mapping", self.mapping()),
                ("person", Sql::new(if with_person { "\n    p.person AS person," } else { "" })),
                ("person_condition", person_condition),
            ],
        )
    }

    /// `(events) AS e` with the joins `needs` asks for.
    pub fn from(&self, needs: Needs) -> Sql {
        let events = if needs.sessions || needs.session_ids { self.sessionized() } else { self.events() };
        let mut from = Sql::new("(").append(events).push(") AS e");
        if needs.person_props {
            from = from
                .push(" LEFT JOIN (")
                .append(identity::person_properties_sql(self.project, self.person.clone()))
                .push(") AS pp ON pp.person = e.person");
        }
        if needs.sessions {
            let sessions = self.sessions(Needs::default(), Sql::new("1"));
            from = from.push(" LEFT JOIN (").append(sessions).push(") AS ss ON ss.session = e.session");
        }
        from
    }

    /// As [`Source::from`], without the identity mapping when nothing in `needs` asks for a
    /// person (`e.person` is then absent): counting or summing events needs no persons, and
    /// the mapping is the largest cost of a small query.
    pub fn from_needing(&self, needs: Needs) -> Sql {
        let mapped = needs.person || needs.person_props || needs.sessions || needs.session_ids;
        if mapped || self.person.is_some() {
            return self.from(needs);
        }
        Sql::new("(").append(self.events_unmapped()).push(") AS e")
    }

    /// One row per session of the events matching `conditions` (which may use the joins in
    /// `needs`, but not `ss`), with every session column.
    pub fn sessions(&self, needs: Needs, conditions: Sql) -> Sql {
        self.sessions_with(needs, conditions, None, Sql::new(""))
    }

    /// As [`Source::sessions`], with only the session columns in `wanted` (of
    /// [`FIRST_EVENT`] and `entry_path`, `exit_path`; `None` = all) besides the cheap ones
    /// (`person`, `started`, durations, `pageviews`, `is_bounce`) — each costs a pass over
    /// every event — and more aggregates of the session's events (`extra`: select items over
    /// `e`, each starting with a comma).
    ///
    /// A session's person is that of its first event. When nothing else needs the person of
    /// each event (no person or cohort filter, no single person), sessions are grouped from
    /// the events without the identity mapping, carrying their first event's distinct id, and
    /// only the session rows are joined to the mapping.
    pub fn sessions_with(&self, needs: Needs, conditions: Sql, wanted: Option<&[&str]>, extra: Sql) -> Sql {
        let needs = Needs { sessions: false, session_ids: true, ..needs };
        let by_first = !needs.person_props && !needs.person && self.person.is_none();
        let wants = |name: &str| wanted.is_none_or(|w| w.contains(&name));
        let first: Vec<(&str, &str)> = FIRST_EVENT
            .iter()
            .copied()
            .filter(|(name, _)| *name == "person" || wants(name))
            .map(|(name, expr)| match name {
                "person" if by_first => ("first_distinct_id", "e.distinct_id"),
                _ => (name, expr),
            })
            .collect();
        let values = first.iter().map(|(_, expr)| *expr).collect::<Vec<_>>().join(",\n            ");
        let mut columns: Vec<String> = (1..)
            .zip(&first)
            .map(|(i, (name, _))| format!("tupleElement(first_event, {i}) AS {name}"))
            .collect();
        for (name, head) in [("entry_path", "argMinIf"), ("exit_path", "argMaxIf")] {
            if wants(name) {
                columns.push(format!("{head}(e.path, event_order, e.event = '$pageview') AS {name}"));
            }
        }
        let from = if by_first {
            Sql::new("(").append(self.sessionized_unmapped()).push(") AS e")
        } else {
            self.from(needs)
        };
        let sessions = fill(
            include_str!("../sql/sessions.sql"),
            &[
                ("first_values", Sql::new(values)),
                ("order_key", Sql::new(EVENT_ORDER_KEY)),
                ("columns", Sql::new(columns.join(",\n    "))),
                ("extra", extra),
                ("from", from),
                ("conditions", conditions),
            ],
        );
        if !by_first {
            return sessions;
        }
        fill(
            include_str!("../sql/sessions_person.sql"),
            &[("sessions", sessions), ("mapping", self.mapping())],
        )
    }
}

/// Every column of `events`, keeping its name.
fn event_columns() -> Sql {
    let columns: Vec<String> = EVENT_COLUMNS.iter().map(|c| format!("ev.{0} AS {0}", c.name)).collect();
    Sql::new(columns.join(",\n    "))
}

/// The order of events within a session, as one string: the time as 8 big-endian bytes with
/// the sign flipped, then the message id (argMin over a string is cheaper than over a
/// tuple). `session_hours` (migration 0007) keeps the same key for its first events.
pub const EVENT_ORDER_KEY: &str = "concat(reverse(reinterpretAsFixedString(bitXor(reinterpretAsUInt64(\
    toUnixTimestamp64Milli(e.timestamp)), 9223372036854775808))), e.message_id)";

/// The session columns besides the cheap ones: those of [`FIRST_EVENT`] but `person`, then
/// the entry and exit pages.
pub fn session_columns() -> Vec<&'static str> {
    FIRST_EVENT.iter().skip(1).map(|(name, _)| *name).chain(["entry_path", "exit_path"]).collect()
}

/// The session columns taken from its first event (where the visit came from): name and
/// expression over the events `e`.
pub const FIRST_EVENT: [(&str, &str); 13] = [
    ("person", "e.person"),
    ("channel", "toString(e.channel)"),
    (
        "referrer_source",
        "if(toString(e.referrer_source) != '', toString(e.referrer_source), e.referrer_host)",
    ),
    ("referrer_host", "e.referrer_host"),
    ("utm_source", "e.utm_source"),
    ("utm_medium", "e.utm_medium"),
    ("utm_campaign", "e.utm_campaign"),
    ("utm_term", "e.utm_term"),
    ("utm_content", "e.utm_content"),
    ("device_type", "toString(e.device_type)"),
    ("browser", "toString(e.browser)"),
    ("os", "toString(e.os)"),
    ("country", "toString(e.country)"),
];

/// `e.timestamp >= from` as a flag, for folding two periods read in one pass.
pub fn in_current(window: &Window) -> Sql {
    Sql::new("e.timestamp >= ").bind(Value::TimestampMs(window.from_ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;
    use crate::range::{DateRange, Zone};
    use numu_warehouse::PlaceholderStyle;

    #[test]
    fn scoped_to_the_project_first_and_bots_out_by_default() {
        let window = DateRange { from: "2024-01-01".into(), to: Some("2024-01-02".into()) }
            .resolve(Zone::parse("tz", None).unwrap(), 0, &Limits::default())
            .unwrap();
        let source = Source::new(9, window, false);
        let (text, values) = source.events().render(PlaceholderStyle::QuestionMark);
        assert!(text.contains("WHERE ev.project_id = ? AND ev.timestamp >= "), "{text}");
        assert!(text.contains("NOT ev.is_bot"));
        assert!(
            values.iter().filter(|v| **v == Value::UInt64(9)).count() == 2,
            "events and mapping both scoped"
        );
        let with_bots = Source { include_bots: true, ..source.clone() };
        assert!(!with_bots.events().to_string().contains("NOT ev.is_bot"));
        let joined =
            source.from(Needs { person_props: true, sessions: true, ..Needs::default() }).to_string();
        assert!(joined.contains(") AS pp ON pp.person = e.person"));
        assert!(joined.contains(") AS ss ON ss.session = e.session"));
    }

    #[test]
    fn session_hours_orders_first_events_by_the_same_key() {
        let migration = numu_schemas::MIGRATIONS.iter().find(|m| m.name == "session_hours").unwrap();
        let squeeze = |text: &str| text.split_whitespace().collect::<String>();
        let key = squeeze(&EVENT_ORDER_KEY.replace("e.", ""));
        // The first event, the entry and the exit page; in the fill and in the view.
        assert_eq!(squeeze(migration.sql).matches(&key).count(), 6, "{key}");
    }

    #[test]
    fn sessions_join_the_mapping_once_per_session_unless_events_need_their_person() {
        let window = DateRange { from: "2024-01-01".into(), to: Some("2024-01-02".into()) }
            .resolve(Zone::parse("tz", None).unwrap(), 0, &Limits::default())
            .unwrap();
        let source = Source::new(9, window, false);
        let joins = |text: &str| text.matches("FROM person_distinct_ids").count();
        let fast = source.sessions(Needs::default(), Sql::new("1")).to_string();
        assert!(fast.contains("ON m.distinct_id = s.first_distinct_id"), "{fast}");
        // Once for the sessions, once for the events without a client session id.
        assert_eq!(joins(&fast), 2, "{fast}");
        for needs in
            [Needs { person: true, ..Needs::default() }, Needs { person_props: true, ..Needs::default() }]
        {
            let slow = source.sessions(needs, Sql::new("1")).to_string();
            assert!(!slow.contains("first_distinct_id"), "{slow}");
        }
        let one = Source { person: Some(Sql::new("'p'")), ..source };
        assert!(!one.sessions(Needs::default(), Sql::new("1")).to_string().contains("first_distinct_id"));
    }
}
