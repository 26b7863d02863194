//! Whole statements live in `query/sql/*.sql` with `{{slot}}` markers; [`fill`] replaces each
//! marker with a [`Sql`] fragment (trusted text and bound values), so a file never carries a
//! placeholder of one engine's style and values are still bound, never spliced.

use numu_warehouse::{Sql, Value};

/// `template` with every `{{name}}` replaced by the fragment given for `name`.
///
/// Panics when a marker has no fragment: templates are compiled into the binary, so a missing
/// slot is a programming error that every test of the statement catches.
pub fn fill(template: &str, slots: &[(&str, Sql)]) -> Sql {
    let template = uncommented(template);
    let mut sql = Sql::new("");
    let mut rest = template.trim_end().trim_end_matches(';');
    while let Some(start) = rest.find("{{") {
        let end = rest[start..].find("}}").map(|e| start + e).expect("unclosed {{ in a SQL template");
        let name = &rest[start + 2..end];
        let fragment = slots
            .iter()
            .find(|(slot, _)| *slot == name)
            .unwrap_or_else(|| panic!("SQL template slot {{{{{name}}}}} has no value"))
            .1
            .clone();
        sql = sql.push(&rest[..start]).append(fragment);
        rest = &rest[end + 2..];
    }
    sql.push(rest)
}

/// `template` without its whole-line `--` comments: a comment may then name a slot or hold an
/// apostrophe (the embedded engine counts `?` placeholders outside what it takes for quotes).
fn uncommented(template: &str) -> String {
    template.lines().filter(|line| !line.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n")
}

/// A fragment that is one bound value.
pub fn value(value: impl Into<Value>) -> Sql {
    Sql::new("").bind(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use numu_warehouse::PlaceholderStyle;

    #[test]
    fn slots_become_fragments_with_their_values() {
        let sql = fill(
            "SELECT {{a}} FROM t WHERE x = {{b}} AND y = {{b}};\n",
            &[("a", Sql::new("count()")), ("b", value("' OR 1=1"))],
        );
        let (text, values) = sql.render(PlaceholderStyle::QuestionMark);
        assert_eq!(text, "SELECT count() FROM t WHERE x = ? AND y = ?");
        assert_eq!(values, vec![Value::from("' OR 1=1"), Value::from("' OR 1=1")]);
    }

    #[test]
    fn comment_lines_are_dropped_with_the_slots_they_name() {
        let sql = fill(
            "-- the {{a}}'s comment\nSELECT {{a}}\n  -- indented\nFROM t -- kept",
            &[("a", value(1u64))],
        );
        let (text, values) = sql.render(PlaceholderStyle::QuestionMark);
        assert_eq!(text, "SELECT ?\nFROM t -- kept");
        assert_eq!(values, vec![Value::UInt64(1)]);
    }

    #[test]
    #[should_panic(expected = "has no value")]
    fn a_missing_slot_is_a_programming_error() {
        fill("SELECT {{nope}}", &[]);
    }
}
