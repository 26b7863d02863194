//! Property names as queries give them, resolved to SQL expressions.
//!
//! - **Event** properties: a typed column of `events` (whitelisted from
//!   `numu_schemas::EVENT_COLUMNS`, by name or `$name`, plus a few PostHog-style aliases such
//!   as `$current_url`), otherwise a key of the event's `properties` map, bound as a parameter
//!   (`e.properties[?]`). A `$`-prefixed name that is no known column is an *unknown
//!   property* (400): `$` names are Numu's own, so a miss is a typo, never a custom key.
//! - **Person** properties: any key of the person's folded `$set` / `$set_once` properties.
//! - **Session** properties: a fixed list of derived session attributes; anything else is
//!   unknown.
//!
//! Expressions refer to the aliases every analysis uses: `e` (events with `person` and
//! `session`), `pp` (person properties, column `props`) and `ss` (sessions).

use numu_schemas::{ColumnType, EVENT_COLUMNS};
use numu_warehouse::Sql;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::QueryError;

/// Where a property lives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PropertyType {
    /// A property of the event (typed column or custom key).
    #[default]
    Event,
    /// A property of the person (latest `$set`, else earliest `$set_once`).
    Person,
    /// A derived attribute of the event's session (`$session_duration`, `$entry_path`, …).
    Session,
}

/// How a property's values compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Number,
    Bool,
}

/// What a property name refers to.
#[derive(Clone, Debug, PartialEq)]
pub enum Property {
    /// A typed column of `events`.
    Column { column: &'static str, kind: Kind },
    /// A key of the event's `properties` map.
    EventKey(String),
    /// A key of the person's properties.
    PersonKey(String),
    /// A column of the derived sessions table.
    Session { column: &'static str, kind: Kind },
}

/// Which joins an expression needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// Person properties joined as `pp`.
    pub person_props: bool,
    /// Session attributes joined as `ss` (implies `session_ids`).
    pub sessions: bool,
    /// The `session` column on events.
    pub session_ids: bool,
    /// The `person` column on events (the identity mapping joined to each event); implied by
    /// `person_props`. Without it, sessions join the mapping to their first event only.
    pub person: bool,
}

impl Needs {
    pub fn merge(self, other: Needs) -> Needs {
        Needs {
            person_props: self.person_props || other.person_props,
            sessions: self.sessions || other.sessions,
            session_ids: self.session_ids || other.session_ids,
            person: self.person || other.person,
        }
    }
}

/// Columns a query may not name: the scope, the clock columns (use the date range) and the map.
const HIDDEN_COLUMNS: [&str; 4] = ["project_id", "timestamp", "received_at", "properties"];

/// PostHog-style names of typed columns.
const ALIASES: [(&str, &str); 8] = [
    ("$current_url", "url"),
    ("$pathname", "path"),
    ("$referring_domain", "referrer_host"),
    ("$geoip_country_code", "country"),
    ("$geoip_city_name", "city"),
    ("$screen_width", "screen_width"),
    ("$lib", "library"),
    ("$session_id", "session_id"),
];

/// Derived session attributes: name (with or without `$`), column of the sessions table, kind.
pub const SESSION_PROPERTIES: [(&str, &str, Kind); 17] = [
    ("session_duration", "duration", Kind::Number),
    ("pageviews", "pageviews", Kind::Number),
    ("is_bounce", "is_bounce", Kind::Bool),
    ("entry_path", "entry_path", Kind::Text),
    ("exit_path", "exit_path", Kind::Text),
    ("channel", "channel", Kind::Text),
    ("referrer_source", "referrer_source", Kind::Text),
    ("referrer_host", "referrer_host", Kind::Text),
    ("utm_source", "utm_source", Kind::Text),
    ("utm_medium", "utm_medium", Kind::Text),
    ("utm_campaign", "utm_campaign", Kind::Text),
    ("utm_term", "utm_term", Kind::Text),
    ("utm_content", "utm_content", Kind::Text),
    ("device_type", "device_type", Kind::Text),
    ("browser", "browser", Kind::Text),
    ("os", "os", Kind::Text),
    ("country", "country", Kind::Text),
];

fn column_kind(kind: ColumnType) -> Kind {
    match kind {
        ColumnType::UInt16 | ColumnType::UInt64 | ColumnType::Float64 => Kind::Number,
        ColumnType::Bool => Kind::Bool,
        _ => Kind::Text,
    }
}

/// The typed event column called `name` (or `$name`, or an alias), if queries may use it.
pub fn event_column(name: &str) -> Option<(&'static str, Kind)> {
    let aliased = ALIASES.iter().find(|(alias, _)| *alias == name).map(|(_, column)| *column);
    let plain = aliased.unwrap_or_else(|| name.strip_prefix('$').unwrap_or(name));
    EVENT_COLUMNS
        .iter()
        .find(|c| c.name == plain && !HIDDEN_COLUMNS.contains(&c.name))
        .map(|c| (c.name, column_kind(c.kind)))
}

fn check_name(field: &str, name: &str) -> Result<(), QueryError> {
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(QueryError::bad(
            field,
            "a property name has 1 to 200 characters and no control characters",
        ));
    }
    Ok(())
}

impl Property {
    /// Resolves `name` of type `kind`; `field` names the request field in errors.
    pub fn resolve(field: &str, name: &str, kind: PropertyType) -> Result<Property, QueryError> {
        check_name(field, name)?;
        match kind {
            PropertyType::Event => match event_column(name) {
                Some((column, kind)) => Ok(Property::Column { column, kind }),
                None if name.starts_with('$') => Err(QueryError::bad(
                    field,
                    format!("unknown property {name:?}: `$` names are reserved for Numu's columns"),
                )),
                None => Ok(Property::EventKey(name.to_string())),
            },
            PropertyType::Person => Ok(Property::PersonKey(name.to_string())),
            PropertyType::Session => {
                let plain = name.strip_prefix('$').unwrap_or(name);
                SESSION_PROPERTIES
                    .iter()
                    .find(|(n, _, _)| *n == plain)
                    .map(|(_, column, kind)| Property::Session { column, kind: *kind })
                    .ok_or_else(|| {
                        let known: Vec<String> =
                            SESSION_PROPERTIES.iter().map(|(n, _, _)| format!("${n}")).collect();
                        QueryError::bad(
                            field,
                            format!("unknown session property {name:?}; known: {}", known.join(", ")),
                        )
                    })
            }
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Property::Column { kind, .. } | Property::Session { kind, .. } => *kind,
            Property::EventKey(_) | Property::PersonKey(_) => Kind::Text,
        }
    }

    pub fn needs(&self) -> Needs {
        match self {
            Property::PersonKey(_) => Needs { person_props: true, ..Needs::default() },
            Property::Session { .. } => Needs { sessions: true, ..Needs::default() },
            _ => Needs::default(),
        }
    }

    /// The value as stored (`String`, a number or `Bool`).
    pub fn expr(&self) -> Sql {
        match self {
            Property::Column { column, .. } => Sql::new(format!("e.{column}")),
            Property::Session { column, .. } => Sql::new(format!("ss.{column}")),
            Property::EventKey(key) => Sql::new("e.properties[").bind(key.as_str()).push("]"),
            Property::PersonKey(key) => Sql::new("pp.props[").bind(key.as_str()).push("]"),
        }
    }

    /// The value as text (breakdowns, text operators on numbers).
    pub fn text_expr(&self) -> Sql {
        match self.kind() {
            Kind::Text => self.expr(),
            Kind::Number | Kind::Bool => Sql::new("toString(").append(self.expr()).push(")"),
        }
    }

    /// The value as `Nullable(Float64)`: NULL where a text value is not a number.
    pub fn number_expr(&self) -> Sql {
        match self.kind() {
            Kind::Text => Sql::new("toFloat64OrNull(").append(self.expr()).push(")"),
            Kind::Number | Kind::Bool => Sql::new("toNullable(toFloat64(").append(self.expr()).push("))"),
        }
    }

    /// True where the property has a value: the key is present, or the column is not empty / zero.
    pub fn is_set(&self) -> Sql {
        match self {
            Property::EventKey(key) => Sql::new("mapContains(e.properties, ").bind(key.as_str()).push(")"),
            Property::PersonKey(key) => Sql::new("mapContains(pp.props, ").bind(key.as_str()).push(")"),
            _ => match self.kind() {
                Kind::Text => self.expr().push(" != ''"),
                Kind::Number => self.expr().push(" != 0"),
                Kind::Bool => Sql::new("1"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use numu_warehouse::PlaceholderStyle;

    fn resolve(name: &str, kind: PropertyType) -> Result<Property, QueryError> {
        Property::resolve("p", name, kind)
    }

    #[test]
    fn columns_aliases_and_custom_keys() {
        assert_eq!(
            resolve("browser", PropertyType::Event).unwrap(),
            Property::Column { column: "browser", kind: Kind::Text }
        );
        assert_eq!(
            resolve("$browser", PropertyType::Event).unwrap(),
            Property::Column { column: "browser", kind: Kind::Text }
        );
        assert_eq!(
            resolve("$pathname", PropertyType::Event).unwrap(),
            Property::Column { column: "path", kind: Kind::Text }
        );
        assert_eq!(resolve("revenue", PropertyType::Event).unwrap().kind(), Kind::Number);
        assert_eq!(resolve("is_bot", PropertyType::Event).unwrap().kind(), Kind::Bool);
        assert_eq!(resolve("plan", PropertyType::Event).unwrap(), Property::EventKey("plan".into()));
        assert_eq!(resolve("الخطة", PropertyType::Person).unwrap(), Property::PersonKey("الخطة".into()));
        assert_eq!(resolve("$session_duration", PropertyType::Session).unwrap().kind(), Kind::Number);
    }

    #[test]
    fn unknown_and_hidden_names_are_refused() {
        for (name, kind) in [
            ("$nonsense", PropertyType::Event),
            ("$project_id", PropertyType::Event),
            ("$properties", PropertyType::Event),
            ("nonsense", PropertyType::Session),
            ("", PropertyType::Event),
            ("a\u{0}b", PropertyType::Person),
        ] {
            assert!(
                matches!(resolve(name, kind), Err(QueryError::BadRequest { field, .. }) if field == "p"),
                "{name}"
            );
        }
        // A custom key that looks like a hidden column is just a key of the map.
        assert_eq!(
            resolve("project_id", PropertyType::Event).unwrap(),
            Property::EventKey("project_id".into())
        );
    }

    #[test]
    fn keys_are_bound_never_spliced() {
        let hostile = "x'] OR 1=1 --";
        let (text, values) =
            resolve(hostile, PropertyType::Event).unwrap().expr().render(PlaceholderStyle::QuestionMark);
        assert_eq!(text, "e.properties[?]");
        assert_eq!(values, vec![numu_warehouse::Value::from(hostile)]);
    }
}
