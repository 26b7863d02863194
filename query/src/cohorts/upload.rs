//! Static cohort uploads: a CSV of distinct ids, one per row, with an optional header
//! (`distinct_id`, `id` or `person_id`). A single column; quoted values follow RFC 4180 (`""`
//! is a quote). Duplicates collapse; blank lines are skipped. Refusals are 400s on `csv`
//! naming the line.

use std::collections::BTreeSet;

use crate::error::QueryError;

/// Most ids one upload may hold.
pub const MAX_IDS: usize = 100_000;
/// Largest upload body.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// Longest id.
pub const MAX_ID_CHARS: usize = 200;

fn bad(line: usize, message: &str) -> QueryError {
    QueryError::bad("csv", format!("line {line}: {message}"))
}

/// One CSV field of a single-column row.
fn field(row: &str, line: usize) -> Result<String, QueryError> {
    let Some(quoted) = row.strip_prefix('"') else {
        if row.contains(',') {
            return Err(bad(line, "one column expected (a distinct id per line)"));
        }
        if row.contains('"') {
            return Err(bad(line, "a quote inside an unquoted value"));
        }
        return Ok(row.to_string());
    };
    let inner = quoted.strip_suffix('"').ok_or_else(|| bad(line, "unterminated quoted value"))?;
    let mut value = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' && chars.next() != Some('"') {
            return Err(bad(line, "one column expected, or a stray quote"));
        }
        value.push(c);
    }
    Ok(value)
}

/// The distinct ids of an upload, in order of first appearance.
pub fn parse(body: &[u8]) -> Result<Vec<String>, QueryError> {
    if body.len() > MAX_BYTES {
        return Err(QueryError::bad("csv", format!("larger than {MAX_BYTES} bytes")));
    }
    let text = std::str::from_utf8(body).map_err(|_| QueryError::bad("csv", "not UTF-8 text"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut seen = BTreeSet::new();
    let mut ids = Vec::new();
    for (i, row) in text.lines().enumerate() {
        let line = i + 1;
        let row = row.trim_end_matches('\r');
        if row.trim().is_empty() {
            continue;
        }
        let id = field(row, line)?;
        let id = id.trim().to_string();
        if ids.is_empty() && seen.is_empty() && ["distinct_id", "id", "person_id"].contains(&id.as_str()) {
            continue;
        }
        if id.is_empty() || id.chars().count() > MAX_ID_CHARS || id.chars().any(char::is_control) {
            return Err(bad(line, "an id has 1 to 200 characters and no control characters"));
        }
        if seen.insert(id.clone()) {
            ids.push(id);
            if ids.len() > MAX_IDS {
                return Err(QueryError::bad("csv", format!("more than {MAX_IDS} ids")));
            }
        }
    }
    if ids.is_empty() {
        return Err(QueryError::bad("csv", "no ids"));
    }
    Ok(ids)
}

/// Members as CSV: a `person_id` header and one id per line, quoted when needed.
pub fn to_csv(ids: &[String]) -> String {
    let mut out = String::from("person_id\n");
    for id in ids {
        if id.contains([',', '"', '\n', '\r']) || id.starts_with(' ') || id.ends_with(' ') {
            out.push('"');
            out.push_str(&id.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(id);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &str) -> String {
        match parse(body.as_bytes()) {
            Err(QueryError::BadRequest { field, message }) => format!("{field}: {message}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ids_parse_with_header_quotes_and_duplicates() {
        let ids =
            parse("distinct_id\r\nu-1\n\"a,b\"\n\n\"say \"\"hi\"\"\"\nu-1\nمستخدم\n".as_bytes()).unwrap();
        assert_eq!(ids, vec!["u-1", "a,b", "say \"hi\"", "مستخدم"]);
        assert_eq!(parse(to_csv(&ids).as_bytes()).unwrap(), ids, "export round-trips");
    }

    #[test]
    fn bad_csv_is_a_clear_400() {
        assert!(message("id\nu-1,u-2\n").contains("line 2: one column"));
        assert!(message("\"open\n").contains("line 1: unterminated"));
        assert!(message("a\"b\n").contains("line 1: a quote"));
        assert!(message("id\n\n").contains("no ids"));
        assert!(message("x\u{1}y\n").contains("control"));
        assert_eq!(
            parse(&[0xff, 0xfe]).err().map(|e| e.to_string()),
            Some("invalid `csv`: not UTF-8 text".into())
        );
        let many: String = (0..=MAX_IDS).map(|i| format!("id-{i}\n")).collect();
        assert!(message(&many).contains("more than"));
    }
}
