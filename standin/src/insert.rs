//! `INSERT INTO t (columns) FORMAT ArrowStream` with an Arrow IPC stream as data: the
//! batches are inserted by column name through the embedded engine, with the request's
//! `insert_deduplication_token` when there is one.

use std::io::Cursor;

use arrow_ipc::reader::StreamReader;
use numu_warehouse::{Ident, Warehouse};

use crate::exception::{codes, Exception};

/// The target and column list of an insert with data.
#[derive(Debug, PartialEq, Eq)]
pub struct Insert {
    pub database: Option<String>,
    pub table: String,
    pub columns: Option<Vec<String>>,
}

fn syntax(query: &str, why: &str) -> Exception {
    Exception::new(
        codes::SYNTAX_ERROR,
        format!("Syntax error: {why} in `{}`", query.chars().take(120).collect::<String>()),
    )
}

/// `Some` for `INSERT … FORMAT <name>` (the data follows in the body), `None` for any
/// other statement (including `INSERT … SELECT`, which the engine runs itself).
pub fn parse_insert(query: &str) -> Result<Option<Insert>, Exception> {
    let text = query.trim().trim_end_matches(';').trim();
    let upper = text.to_ascii_uppercase();
    if !upper.starts_with("INSERT") {
        return Ok(None);
    }
    let Some(format_at) = upper.rfind(" FORMAT ") else { return Ok(None) };
    let format = text[format_at + " FORMAT ".len()..].trim();
    if format.contains(char::is_whitespace) {
        return Ok(None);
    }
    if format != "ArrowStream" {
        return Err(Exception::new(
            codes::UNKNOWN_FORMAT,
            format!("the stand-in reads inserts only as ArrowStream, not {format}"),
        ));
    }
    let head = text[..format_at].trim();
    let rest = head["INSERT".len()..].trim_start();
    let rest = strip_word(rest, "INTO").ok_or_else(|| syntax(query, "expected INTO"))?;
    let rest = strip_word(rest, "TABLE").unwrap_or(rest);
    let (first, rest) = identifier(rest).ok_or_else(|| syntax(query, "expected a table name"))?;
    let (database, table, rest) = match rest.strip_prefix('.') {
        Some(after) => {
            let (table, rest) = identifier(after).ok_or_else(|| syntax(query, "expected a table name"))?;
            (Some(first), table, rest)
        }
        None => (None, first, rest),
    };
    let rest = rest.trim();
    let columns = if rest.is_empty() {
        None
    } else {
        let inner = rest
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .ok_or_else(|| syntax(query, "expected a column list"))?;
        let mut columns = Vec::new();
        for column in inner.split(',') {
            let (name, tail) =
                identifier(column.trim()).ok_or_else(|| syntax(query, "expected a column name"))?;
            if !tail.trim().is_empty() {
                return Err(syntax(query, "expected a column name"));
            }
            columns.push(name);
        }
        Some(columns)
    };
    Ok(Some(Insert { database, table, columns }))
}

fn strip_word<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let head = text.get(..word.len())?;
    let rest = &text[word.len()..];
    (head.eq_ignore_ascii_case(word) && rest.starts_with(char::is_whitespace)).then(|| rest.trim_start())
}

/// A plain or backquoted identifier and the text after it.
fn identifier(text: &str) -> Option<(String, &str)> {
    if let Some(quoted) = text.strip_prefix('`') {
        let end = quoted.find('`')?;
        return Some((quoted[..end].to_string(), &quoted[end + 1..]));
    }
    let end = text.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(text.len());
    (end > 0).then(|| (text[..end].to_string(), &text[end..]))
}

/// Reads the Arrow stream in `data` and inserts its batches; returns the rows written.
pub async fn insert(
    warehouse: &Warehouse,
    insert: &Insert,
    data: &[u8],
    token: Option<&str>,
) -> Result<u64, Exception> {
    if data.is_empty() {
        return Ok(0);
    }
    let table =
        Ident::new(&insert.table).ok_or_else(|| Exception::new(codes::SYNTAX_ERROR, "invalid table name"))?;
    let reader = StreamReader::try_new(Cursor::new(data), None)?;
    let mut written = 0;
    for (i, batch) in reader.enumerate() {
        let batch = batch?;
        if let Some(columns) = &insert.columns {
            let fields = batch.schema();
            if let Some(extra) = fields.fields().iter().find(|f| !columns.contains(f.name())) {
                return Err(Exception::new(
                    codes::NO_SUCH_COLUMN_IN_TABLE,
                    format!("Column {} of the data is not in the column list of the INSERT", extra.name()),
                ));
            }
        }
        written += match token {
            // ClickHouse suffixes the token per block of one insert.
            Some(token) if i == 0 => warehouse.insert_deduplicated(table.as_str(), batch, token).await?,
            Some(token) => {
                warehouse.insert_deduplicated(table.as_str(), batch, &format!("{token}:{i}")).await?
            }
            None => warehouse.insert(table.as_str(), batch).await?,
        };
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_with_data_are_recognised() {
        let parsed = parse_insert("INSERT INTO `events` (`a`, `b`) FORMAT ArrowStream").unwrap().unwrap();
        assert_eq!(
            parsed,
            Insert { database: None, table: "events".into(), columns: Some(vec!["a".into(), "b".into()]) }
        );
        let parsed = parse_insert("insert into db.t format ArrowStream").unwrap().unwrap();
        assert_eq!(
            (parsed.database.as_deref(), parsed.table.as_str(), parsed.columns),
            (Some("db"), "t", None)
        );
        assert_eq!(parse_insert("INSERT INTO t SELECT 1").unwrap(), None);
        assert_eq!(parse_insert("SELECT 1 FORMAT ArrowStream").unwrap(), None);
        assert_eq!(parse_insert("INSERT INTO t FORMAT CSV").unwrap_err().code, codes::UNKNOWN_FORMAT);
    }
}
