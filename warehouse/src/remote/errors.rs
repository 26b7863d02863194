//! Turns the `clickhouse` crate's errors into Numu's: ClickHouse's own code and message are
//! kept, and the failures an operator can fix (credentials, database, reachability,
//! time limits) get one-line messages that say what to change.

use std::time::Duration;

use crate::error::WarehouseError;

/// What a message needs to name the server and the setting involved.
#[derive(Clone, Debug)]
pub(crate) struct ErrorContext {
    pub(crate) origin: String,
    pub(crate) user: String,
    pub(crate) database: String,
}

/// ClickHouse error codes Numu treats specially.
pub(crate) mod codes {
    pub const UNKNOWN_DATABASE: i32 = 81;
    pub const TIMEOUT_EXCEEDED: i32 = 159;
    pub const UNKNOWN_USER: i32 = 192;
    pub const WRONG_PASSWORD: i32 = 193;
    pub const REQUIRED_PASSWORD: i32 = 194;
    pub const AUTHENTICATION_FAILED: i32 = 516;
    pub const TOO_MANY_SIMULTANEOUS_QUERIES: i32 = 202;
    pub const SOCKET_TIMEOUT: i32 = 209;
    pub const NETWORK_ERROR: i32 = 210;
    pub const ALL_CONNECTION_TRIES_FAILED: i32 = 279;
    pub const KEEPER_EXCEPTION: i32 = 999;
}

/// `Code: 60. DB::Exception: Unknown table … (UNKNOWN_TABLE) (version 25.3.1.1)` →
/// `(60, "Unknown table … (UNKNOWN_TABLE)")`; `None` when the text is not an exception.
pub fn parse_exception(text: &str) -> Option<(i32, String)> {
    let start = text.find("Code: ")?;
    let rest = &text[start + "Code: ".len()..];
    let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    let code: i32 = rest[..digits].parse().ok()?;
    let mut message = rest[digits..].trim_start_matches('.').trim_start();
    if let Some(after) = message.find("Exception: ").filter(|i| message[..*i].starts_with("DB::")) {
        message = &message[after + "Exception: ".len()..];
    }
    let mut message = message.lines().next().unwrap_or_default().trim().to_string();
    if let Some(version) = message.rfind(" (version ") {
        message.truncate(version);
    }
    Some((code, message))
}

/// Maps an error from a request to `ctx`'s server; `limit` is the time limit in force.
pub(crate) fn map(error: clickhouse::error::Error, ctx: &ErrorContext, limit: Duration) -> WarehouseError {
    use clickhouse::error::Error;
    match error {
        Error::BadResponse(text) => from_response(&text, ctx, limit),
        Error::TimedOut => WarehouseError::Timeout(limit),
        Error::Network(source) => unreachable(ctx, &*source),
        Error::Unsupported(message) => {
            WarehouseError::Config(format!("ClickHouse at {}: {message}", ctx.origin))
        }
        other => WarehouseError::Internal(format!(
            "ClickHouse at {}: {}",
            ctx.origin,
            one_line(&other.to_string())
        )),
    }
}

/// A server's error response as Numu's error.
pub(crate) fn from_response(text: &str, ctx: &ErrorContext, limit: Duration) -> WarehouseError {
    let Some((code, message)) = parse_exception(text) else {
        // Not ClickHouse speaking: a proxy or load balancer, e.g. `502 Bad Gateway`.
        return WarehouseError::Connection(format!(
            "ClickHouse at {} answered {:?}; check warehouse.remote.url and any proxy in front of the server",
            ctx.origin,
            one_line(text)
        ));
    };
    match code {
        codes::UNKNOWN_USER
        | codes::WRONG_PASSWORD
        | codes::REQUIRED_PASSWORD
        | codes::AUTHENTICATION_FAILED => {
            WarehouseError::Authentication { url: ctx.origin.clone(), user: ctx.user.clone(), code, message }
        }
        codes::UNKNOWN_DATABASE if message.contains(&ctx.database) => {
            WarehouseError::UnknownDatabase { url: ctx.origin.clone(), database: ctx.database.clone() }
        }
        codes::TIMEOUT_EXCEEDED => WarehouseError::Timeout(limit),
        codes::TOO_MANY_SIMULTANEOUS_QUERIES
        | codes::SOCKET_TIMEOUT
        | codes::NETWORK_ERROR
        | codes::ALL_CONNECTION_TRIES_FAILED
        | codes::KEEPER_EXCEPTION => WarehouseError::Connection(format!(
            "ClickHouse at {} is unavailable (code {code}): {message}",
            ctx.origin
        )),
        _ => WarehouseError::Sql { code: Some(code), message },
    }
}

fn unreachable(ctx: &ErrorContext, source: &(dyn std::error::Error + 'static)) -> WarehouseError {
    // The innermost cause says what happened ("Connection refused", "dns error: …").
    let mut cause: &dyn std::error::Error = source;
    let mut chain = vec![source.to_string()];
    while let Some(next) = cause.source() {
        chain.push(next.to_string());
        cause = next;
    }
    chain.dedup();
    let detail = chain.into_iter().rfind(|s| !s.is_empty()).unwrap_or_default();
    let timed_out = detail.to_ascii_lowercase().contains("timed out") || detail.contains("deadline");
    let hint = if timed_out {
        "the connection timed out (warehouse.remote.timeouts.connect_secs)"
    } else {
        "is the server running and warehouse.remote.url right?"
    };
    WarehouseError::Connection(format!(
        "cannot reach ClickHouse at {}: {}; {hint}",
        ctx.origin,
        one_line(&detail)
    ))
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ErrorContext {
        ErrorContext { origin: "http://ch:8123".into(), user: "numu".into(), database: "analytics".into() }
    }

    #[test]
    fn exceptions_keep_code_and_message_without_the_version() {
        let text = "Code: 60. DB::Exception: Unknown table expression identifier 'no_such_table' in scope \
                    SELECT * FROM no_such_table. (UNKNOWN_TABLE) (version 25.3.2.39 (official build))";
        let (code, message) = parse_exception(text).unwrap();
        assert_eq!(code, 60);
        assert!(message.starts_with("Unknown table expression identifier 'no_such_table'"), "{message}");
        assert!(message.ends_with("(UNKNOWN_TABLE)"), "{message}");
        let err = from_response(text, &ctx(), Duration::from_secs(1));
        assert!(matches!(err, WarehouseError::Sql { code: Some(60), .. }), "{err:?}");
        assert!(parse_exception("502 Bad Gateway").is_none());
    }

    #[test]
    fn operator_fixable_failures_name_the_fix() {
        let auth = "Code: 516. DB::Exception: numu: Authentication failed: password is incorrect, or there \
                    is no user with such name. (AUTHENTICATION_FAILED) (version 24.8.1.1)";
        let text = from_response(auth, &ctx(), Duration::from_secs(1)).to_string();
        assert!(text.contains("warehouse.remote.password") && text.contains("\"numu\""), "{text}");
        let db = "Code: 81. DB::Exception: Database analytics does not exist. (UNKNOWN_DATABASE) (version 24.8.1.1)";
        let text = from_response(db, &ctx(), Duration::from_secs(1)).to_string();
        assert!(text.contains("database \"analytics\" does not exist"), "{text}");
        let slow =
            "Code: 159. DB::Exception: Timeout exceeded: elapsed 1.0 seconds, maximum: 1. (TIMEOUT_EXCEEDED)";
        let err = from_response(slow, &ctx(), Duration::from_secs(1));
        assert!(matches!(err, WarehouseError::Timeout(_)) && err.is_transient());
        let proxy = from_response("<html>502 Bad Gateway</html>", &ctx(), Duration::from_secs(1));
        assert!(proxy.is_transient(), "{proxy}");
        for err in [auth, db, slow] {
            assert!(!from_response(err, &ctx(), Duration::from_secs(1)).to_string().contains('\n'));
        }
    }
}
