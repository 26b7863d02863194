//! Server-side query parameters: `{name:Type}` placeholders in the query text, values sent
//! as `param_name` in ClickHouse's escaped text form. The embedded engine binds `?` only,
//! so each placeholder becomes a `?` bound to the value parsed by its type — the value never
//! becomes SQL text here either.

use std::collections::HashMap;

use numu_warehouse::{Sql, Value};

use crate::exception::{codes, Exception};

/// Rewrites `{name:Type}` placeholders (outside quotes and comments) into bound `?`s.
pub fn bind(text: &str, params: &HashMap<String, String>) -> Result<Sql, Exception> {
    let mut sql = Sql::new("");
    let mut literal = String::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let skip = skip_quoted_or_comment(text, i);
        if skip > i {
            literal.push_str(&text[i..skip]);
            i = skip;
            continue;
        }
        if bytes[i] == b'{' {
            if let Some((name, kind, end)) = placeholder(text, i) {
                let raw = params.get(name).ok_or_else(|| {
                    Exception::new(
                        codes::UNKNOWN_QUERY_PARAMETER,
                        format!("Substitution `{name}` is not set"),
                    )
                })?;
                sql.push_mut(std::mem::take(&mut literal));
                bind_value(&mut sql, name, kind, raw)?;
                i = end;
                continue;
            }
        }
        let ch = text[i..].chars().next().unwrap_or_default();
        literal.push(ch);
        i += ch.len_utf8().max(1);
    }
    sql.push_mut(literal);
    Ok(sql)
}

/// The end of a quoted string, quoted identifier or comment starting at `i`, else `i`.
fn skip_quoted_or_comment(text: &str, i: usize) -> usize {
    let bytes = text.as_bytes();
    match bytes[i] {
        quote @ (b'\'' | b'"' | b'`') => {
            let mut j = i + 1;
            while j < bytes.len() {
                match bytes[j] {
                    b'\\' => j += 2,
                    c if c == quote => return j + 1,
                    _ => j += 1,
                }
            }
            bytes.len()
        }
        b'-' if bytes.get(i + 1) == Some(&b'-') => text[i..].find('\n').map_or(bytes.len(), |n| i + n),
        b'/' if bytes.get(i + 1) == Some(&b'*') => {
            text[i + 2..].find("*/").map_or(bytes.len(), |n| i + 2 + n + 2)
        }
        _ => i,
    }
}

/// `{ name : Type }` at `i`: the name, the type and the index after the closing brace.
fn placeholder(text: &str, i: usize) -> Option<(&str, &str, usize)> {
    let inner_start = i + 1;
    let rest = &text[inner_start..];
    let colon = rest.find(':')?;
    let name = rest[..colon].trim();
    let mut chars = name.chars();
    let ident = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ident {
        return None;
    }
    // The type runs to the first `}` outside parentheses and quotes.
    let type_start = inner_start + colon + 1;
    let (mut depth, mut j) = (0i32, type_start);
    let bytes = text.as_bytes();
    while j < bytes.len() {
        let skip = skip_quoted_or_comment(text, j);
        if skip > j {
            j = skip;
            continue;
        }
        match bytes[j] {
            b'(' => depth += 1,
            b')' => depth -= 1,
            b'}' if depth == 0 => return Some((name, text[type_start..j].trim(), j + 1)),
            _ => {}
        }
        j += 1;
    }
    None
}

fn bad(name: &str, kind: &str, raw: &str) -> Exception {
    Exception::new(
        codes::BAD_QUERY_PARAMETER,
        format!("Value {raw} cannot be parsed as {kind} for query parameter '{name}'"),
    )
}

fn bind_value(sql: &mut Sql, name: &str, kind: &str, raw: &str) -> Result<(), Exception> {
    let value = match kind {
        "String" => Value::String(unescape(raw)),
        "Int64" => Value::Int64(raw.trim().parse().map_err(|_| bad(name, kind, raw))?),
        "UInt64" => Value::UInt64(raw.trim().parse().map_err(|_| bad(name, kind, raw))?),
        "Float64" => Value::Float64(parse_float(raw).ok_or_else(|| bad(name, kind, raw))?),
        "Bool" => Value::Bool(parse_bool(raw).ok_or_else(|| bad(name, kind, raw))?),
        _ => {
            // Any other type: the value's text, converted by the engine itself.
            sql.push_mut("CAST(").bind_mut(unescape(raw)).push_mut(format!(" AS {kind})"));
            return Ok(());
        }
    };
    sql.bind_mut(value);
    Ok(())
}

fn parse_float(raw: &str) -> Option<f64> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "nan" | "+nan" | "-nan" => Some(f64::NAN),
        "inf" | "+inf" | "infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        other => other.parse().ok(),
    }
}

fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" | "enable" | "enabled" | "t" | "y" => Some(true),
        "false" | "0" | "no" | "off" | "disable" | "disabled" | "f" | "n" => Some(false),
        _ => None,
    }
}

/// ClickHouse's escaped text form: `\\`, `\'`, `\t`, `\n`, `\xHH`, … ; an unknown escape
/// stands for the character itself.
pub fn unescape(raw: &str) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(raw.len());
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' || i + 1 == bytes.len() {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let escaped = bytes[i + 1];
        i += 2;
        let byte = match escaped {
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'0' => 0,
            b'a' => 0x07,
            b'v' => 0x0b,
            b'x' if i + 2 <= bytes.len() => match u8::from_str_radix(&raw[i..i + 2], 16) {
                Ok(value) => {
                    i += 2;
                    value
                }
                Err(_) => b'x',
            },
            other => other,
        };
        out.push(byte);
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use numu_warehouse::PlaceholderStyle;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn placeholders_become_bound_values_outside_quotes_only() {
        let text = "SELECT {p0:String}, '{p1:String}', `{x}`, {p1: UInt64} -- {p9:String}\n, {p2:DateTime64(3, 'UTC')}";
        let sql =
            bind(text, &params(&[("p0", "a\\'b"), ("p1", "7"), ("p2", "2025-01-01 00:00:00")])).unwrap();
        let (rendered, values) = sql.render(PlaceholderStyle::QuestionMark);
        assert_eq!(
            rendered,
            "SELECT ?, '{p1:String}', `{x}`, ? -- {p9:String}\n, CAST(? AS DateTime64(3, 'UTC'))"
        );
        assert_eq!(
            values,
            vec![Value::String("a'b".into()), Value::UInt64(7), Value::String("2025-01-01 00:00:00".into())]
        );
    }

    #[test]
    fn missing_and_malformed_values_are_clickhouse_errors() {
        assert_eq!(
            bind("SELECT {p0:String}", &params(&[])).unwrap_err().code,
            codes::UNKNOWN_QUERY_PARAMETER
        );
        assert_eq!(
            bind("SELECT {p0:Int64}", &params(&[("p0", "x")])).unwrap_err().code,
            codes::BAD_QUERY_PARAMETER
        );
        // Map literals are not placeholders.
        let sql = bind("SELECT {'a': 1}", &params(&[])).unwrap();
        assert_eq!(sql.render(PlaceholderStyle::QuestionMark).0, "SELECT {'a': 1}");
    }

    #[test]
    fn unescaping_reverses_the_clients_escaping() {
        for original in
            ["' OR 1=1 --", "\\' OR 1=1 --", "back\\slash", "new\nline", "tab\there", "`tick`", "سلام", "\\N"]
        {
            // The `clickhouse` crate escapes \, ', `, tab and newline with a backslash.
            let mut escaped = String::new();
            for c in original.chars() {
                if matches!(c, '\\' | '\'' | '`' | '\t' | '\n') {
                    escaped.push('\\');
                }
                escaped.push(c);
            }
            assert_eq!(unescape(&escaped), original);
        }
        assert_eq!(unescape("\\x41\\q"), "Aq");
    }
}
