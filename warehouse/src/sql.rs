//! SQL text with bound parameters, rendered in each engine's placeholder style.
//!
//! User values never become SQL text: a [`Sql`] keeps literal fragments written by Numu's
//! own code apart from [`Value`]s, and [`Sql::render`] turns each value into a server-side
//! placeholder (`?` for the embedded engine, `{pN:Type}` for a ClickHouse server).

use std::fmt;

/// A value bound to a query.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    String(String),
    Int64(i64),
    UInt64(u64),
    Float64(f64),
    Bool(bool),
    /// Milliseconds since the Unix epoch, used as a `DateTime64(3, 'UTC')`.
    TimestampMs(i64),
}

impl Value {
    /// The ClickHouse type of the placeholder this value binds to.
    pub fn clickhouse_type(&self) -> &'static str {
        match self {
            Value::String(_) => "String",
            Value::Int64(_) | Value::TimestampMs(_) => "Int64",
            Value::UInt64(_) => "UInt64",
            Value::Float64(_) => "Float64",
            Value::Bool(_) => "Bool",
        }
    }
}

macro_rules! value_from {
    ($($t:ty => $variant:ident as $as:ty),* $(,)?) => {
        $(impl From<$t> for Value {
            fn from(v: $t) -> Self { Value::$variant(v as $as) }
        })*
    };
}
value_from!(i64 => Int64 as i64, i32 => Int64 as i64, u64 => UInt64 as u64, u32 => UInt64 as u64,
    f64 => Float64 as f64, bool => Bool as bool);

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_string())
    }
}

/// How an engine wants parameters written into the SQL text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlaceholderStyle {
    /// `?`, bound positionally server-side (chDB through ADBC).
    QuestionMark,
    /// `{p0:String}`, sent as `param_p0` server-side (ClickHouse HTTP).
    Named,
}

#[derive(Clone, Debug, PartialEq)]
enum Part {
    Text(String),
    Param(Value),
}

/// A statement under construction: trusted SQL fragments and bound values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sql {
    parts: Vec<Part>,
}

impl Sql {
    /// Starts a statement from trusted SQL text (never from user input).
    pub fn new(text: impl Into<String>) -> Sql {
        Sql { parts: vec![Part::Text(text.into())] }
    }

    /// Appends trusted SQL text.
    pub fn push(mut self, text: impl AsRef<str>) -> Sql {
        self.push_mut(text);
        self
    }

    pub fn push_mut(&mut self, text: impl AsRef<str>) -> &mut Sql {
        self.parts.push(Part::Text(text.as_ref().to_string()));
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind(mut self, value: impl Into<Value>) -> Sql {
        self.bind_mut(value);
        self
    }

    pub fn bind_mut(&mut self, value: impl Into<Value>) -> &mut Sql {
        self.parts.push(Part::Param(value.into()));
        self
    }

    /// Appends another statement fragment with its parameters.
    pub fn append(mut self, other: Sql) -> Sql {
        self.parts.extend(other.parts);
        self
    }

    /// Appends the fragments joined by `separator`.
    pub fn join(mut self, fragments: impl IntoIterator<Item = Sql>, separator: &str) -> Sql {
        for (i, fragment) in fragments.into_iter().enumerate() {
            if i > 0 {
                self.push_mut(separator);
            }
            self.parts.extend(fragment.parts);
        }
        self
    }

    /// The bound values in order.
    pub fn params(&self) -> Vec<&Value> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Param(v) => Some(v),
                Part::Text(_) => None,
            })
            .collect()
    }

    /// The SQL text with placeholders in `style`, and the values to bind in order.
    pub fn render(&self, style: PlaceholderStyle) -> (String, Vec<Value>) {
        let mut text = String::new();
        let mut values = Vec::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => text.push_str(t),
                Part::Param(v) => {
                    let placeholder = match style {
                        PlaceholderStyle::QuestionMark => "?".to_string(),
                        PlaceholderStyle::Named => {
                            format!("{{p{}:{}}}", values.len(), v.clickhouse_type())
                        }
                    };
                    if matches!(v, Value::TimestampMs(_)) {
                        // Zoned timestamps cannot be bound through ADBC: bind epoch millis.
                        text.push_str(&format!("fromUnixTimestamp64Milli({placeholder}, 'UTC')"));
                    } else {
                        text.push_str(&placeholder);
                    }
                    values.push(v.clone());
                }
            }
        }
        (text, values)
    }
}

impl fmt::Display for Sql {
    /// Shows the statement with `?` placeholders, for logs (values are not printed).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(PlaceholderStyle::QuestionMark).0)
    }
}

/// A checked SQL identifier (database, table or column name) that is safe to splice.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ident(String);

impl Ident {
    /// Accepts `[A-Za-z_][A-Za-z0-9_]{0,63}` only.
    pub fn new(name: &str) -> Option<Ident> {
        let mut chars = name.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        (first_ok && rest_ok && name.len() <= 64).then(|| Ident(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_both_styles_from_one_parameter_list() {
        let sql = Sql::new("SELECT count() FROM events WHERE project_id = ")
            .bind(7u64)
            .push(" AND event = ")
            .bind("' OR 1=1 --")
            .push(" AND timestamp >= ")
            .bind(Value::TimestampMs(1_000));
        let (q, values) = sql.render(PlaceholderStyle::QuestionMark);
        assert_eq!(
            q,
            "SELECT count() FROM events WHERE project_id = ? AND event = ? AND timestamp >= \
             fromUnixTimestamp64Milli(?, 'UTC')"
        );
        assert_eq!(values.len(), 3);
        let (named, _) = sql.render(PlaceholderStyle::Named);
        assert_eq!(
            named,
            "SELECT count() FROM events WHERE project_id = {p0:UInt64} AND event = {p1:String} \
             AND timestamp >= fromUnixTimestamp64Milli({p2:Int64}, 'UTC')"
        );
        assert!(!named.contains("OR 1=1"));
    }

    #[test]
    fn identifiers_reject_anything_but_plain_names() {
        assert!(Ident::new("events").is_some());
        assert!(Ident::new("test_db_1").is_some());
        for bad in ["", "1abc", "a-b", "a b", "a`b", "x;DROP", "é"] {
            assert!(Ident::new(bad).is_none(), "{bad}");
        }
    }
}
