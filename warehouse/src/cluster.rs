//! Cluster mode: the `ON CLUSTER` variant of each migration, generated from the same files.
//!
//! Every `CREATE TABLE … ENGINE = *MergeTree` becomes, on a cluster with `{shard}` and
//! `{replica}` macros, either
//!
//! - **sharded**: a `<name>_local` table with the `Replicated*` engine (one replica set per
//!   shard) plus a `Distributed` table under the original name, which services read and write
//!   without knowing about the cluster; or
//! - **on every node**: one `Replicated*` table under the original name, replicated to every
//!   host of every shard (small tables that each shard must see whole; see [`placement`]).
//!
//! `ALTER TABLE` is sent `ON CLUSTER` to the local table and, for column changes, to the
//! Distributed table too. `TRUNCATE TABLE` is sent `ON CLUSTER` to the local table (where the
//! rows are). `INSERT INTO … SELECT` (a backfill) runs once, through the Distributed table,
//! not `ON CLUSTER` (see [`insert_select`]). `CREATE MATERIALIZED VIEW … TO target AS SELECT
//! … FROM source` is created `ON CLUSTER` between the local tables, so on every node it fires
//! on the inserts that land there (see [`materialized_view`]). Other statement kinds, and
//! views whose query cannot be rewritten safely, are refused with a clear error rather than
//! guessed at.

use crate::error::{Result, WarehouseError};
use crate::sql::Ident;

/// The cluster DDL is distributed over and the database the tables live in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterLayout {
    pub cluster: Ident,
    pub database: Ident,
}

impl ClusterLayout {
    /// Checks both names (they are spliced into DDL as identifiers).
    pub fn new(cluster: &str, database: &str) -> Result<ClusterLayout> {
        let ident =
            |name: &str| Ident::new(name).ok_or_else(|| WarehouseError::InvalidIdentifier(name.into()));
        Ok(ClusterLayout { cluster: ident(cluster)?, database: ident(database)? })
    }
}

/// Where a table's rows live on the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Split over the shards by the given sharding-key expression (an integer).
    Sharded(&'static str),
    /// Whole on every node: one replica set spanning all shards.
    Everywhere,
}

/// Events are sharded by the device's anonymous id, falling back to the distinct id.
///
/// A person is the connected component of ids linked by `identify`/`alias`, resolved at
/// query time and applied retroactively, so the person an event belongs to is not known
/// when it is written and may change later. No sharding key of an event row can therefore
/// put all of a person's events on one shard: `cityHash64(distinct_id)` only looks as if it
/// did, and splits a visitor's anonymous history from their history after signing in.
/// Correctness therefore never relies on co-location: the identity tables are kept whole
/// on every node ([`Placement::Everywhere`]), so each shard maps its own events to persons
/// locally, and per-person results (funnels, retention, uniques) merge partial aggregation
/// states across shards through the Distributed table. The key is then chosen for locality
/// of the merge that happens most: the anonymous id is the one id a browser or app keeps
/// before and after `identify` (Segment clients send it on every event), so one device's
/// whole history — the visitor-to-user funnel, its sessions and paths — stays on one shard,
/// while the hash still spreads devices evenly. Server-side events without an anonymous id
/// fall back to the distinct id. `project_id` is part of the hash so equal ids of different
/// projects do not pile up on one shard.
pub const EVENTS_SHARDING_KEY: &str =
    "cityHash64(project_id, if(anonymous_id != '', anonymous_id, distinct_id))";

/// Person-level tables keyed by distinct id are sharded by it, consistently with events
/// that carry no anonymous id; their per-person folds merge across shards like events.
pub const PERSON_SHARDING_KEY: &str = "cityHash64(project_id, distinct_id)";

/// Where each table lives. Identity tables, cohort memberships (small, and read inside `IN`
/// subqueries of sharded queries, which must find them locally) and the migrations ledger
/// are on every node (see [`EVENTS_SHARDING_KEY`]); tables without a person dimension are
/// spread evenly.
///
/// `session_hours` and `page_hours` (filled by materialized views on `events`) have no
/// top-level `distinct_id` column, so they are spread evenly too, and that is all they need: their views run on every node
/// and writes each insert's rows into that node's local table, so the sharding key only
/// routes the migration's one-off backfill, and queries merge the rows of one key from
/// different shards through the Distributed table with the same functions that merge them
/// within a shard (their columns are `SimpleAggregateFunction`s).
pub fn placement(table: &str, columns: &str) -> Placement {
    match table {
        "events" => Placement::Sharded(EVENTS_SHARDING_KEY),
        "identity_links" | "person_distinct_ids" | "cohort_members" | "numu_migrations" => {
            Placement::Everywhere
        }
        "person_property_updates" => Placement::Sharded(PERSON_SHARDING_KEY),
        _ if has_column(columns, "distinct_id") => Placement::Sharded(PERSON_SHARDING_KEY),
        _ => Placement::Sharded("rand()"),
    }
}

fn has_column(columns: &str, name: &str) -> bool {
    split_top_level(columns, ',').iter().any(|c| c.split_whitespace().next() == Some(name))
}

/// `CREATE DATABASE IF NOT EXISTS db ON CLUSTER c`.
pub fn create_database(layout: &ClusterLayout) -> String {
    format!("CREATE DATABASE IF NOT EXISTS {} ON CLUSTER {}", layout.database, layout.cluster)
}

/// The cluster statements for one migration statement (as written for a single server).
pub fn statements(statement: &str, layout: &ClusterLayout) -> Result<Vec<String>> {
    let text = statement.trim().trim_end_matches(';').trim();
    let words: Vec<String> = text.split_whitespace().take(6).map(str::to_ascii_uppercase).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["CREATE", "TABLE", "IF", "NOT", "EXISTS", ..] => create_table(text, layout),
        ["ALTER", "TABLE", ..] => alter_table(text, layout),
        ["TRUNCATE", "TABLE", ..] => truncate_table(text, layout),
        ["INSERT", "INTO", ..] => insert_select(text, layout),
        ["CREATE", "MATERIALIZED", "VIEW", "IF", "NOT", "EXISTS"] => materialized_view(text, layout),
        _ => Err(unsupported(
            text,
            "only CREATE TABLE IF NOT EXISTS, ALTER TABLE, TRUNCATE TABLE, INSERT INTO … SELECT and \
             CREATE MATERIALIZED VIEW IF NOT EXISTS … TO are generated for clusters",
        )),
    }
}

fn unsupported(statement: &str, why: &str) -> WarehouseError {
    let head: String = statement.split_whitespace().take(6).collect::<Vec<_>>().join(" ");
    WarehouseError::Internal(format!("cannot generate the cluster variant of `{head} …`: {why}"))
}

/// The parts of `CREATE TABLE IF NOT EXISTS name (columns) ENGINE = Engine(args) tail`.
struct CreateTable<'a> {
    name: Ident,
    columns: &'a str,
    engine: &'a str,
    args: Option<&'a str>,
    tail: &'a str,
}

fn parse_create(text: &str) -> Result<CreateTable<'_>> {
    let bad = |why: &str| unsupported(text, why);
    let after_exists = skip_words(text, 5).ok_or_else(|| bad("no table name"))?;
    let (name, rest) =
        take_ident(after_exists).ok_or_else(|| bad("the table name must be a plain identifier"))?;
    let rest = rest.trim_start();
    if !rest.starts_with('(') {
        return Err(bad("expected a column list after the table name"));
    }
    let close = matching_paren(rest, 0).ok_or_else(|| bad("unbalanced parentheses in the column list"))?;
    let columns = rest[1..close].trim();
    let rest = rest[close + 1..].trim_start();
    let rest = strip_keyword(rest, "ENGINE").ok_or_else(|| bad("expected ENGINE after the column list"))?;
    let rest = rest.trim_start().strip_prefix('=').unwrap_or(rest).trim_start();
    let engine_len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
    let (engine, rest) = rest.split_at(engine_len);
    let (args, tail) = if rest.starts_with('(') {
        let close = matching_paren(rest, 0).ok_or_else(|| bad("unbalanced parentheses in the engine"))?;
        (Some(rest[1..close].trim()), &rest[close + 1..])
    } else {
        (None, rest)
    };
    if !engine.ends_with("MergeTree") || engine.starts_with("Replicated") {
        return Err(bad("only non-replicated *MergeTree engines have a cluster variant"));
    }
    Ok(CreateTable { name, columns, engine, args, tail: tail.trim() })
}

fn create_table(text: &str, layout: &ClusterLayout) -> Result<Vec<String>> {
    let table = parse_create(text)?;
    let (db, cluster) = (&layout.database, &layout.cluster);
    let args = table.args.filter(|a| !a.is_empty()).map(|a| format!(", {a}")).unwrap_or_default();
    let tail = if table.tail.is_empty() { String::new() } else { format!(" {}", table.tail) };
    match placement(table.name.as_str(), table.columns) {
        Placement::Everywhere => {
            // One replica set over all hosts: a path without {shard}, replicas named per host.
            let engine = format!(
                "Replicated{}('/clickhouse/tables/all/{{database}}/{{table}}', '{{shard}}-{{replica}}'{args})",
                table.engine
            );
            Ok(vec![format!(
                "CREATE TABLE IF NOT EXISTS {db}.{} ON CLUSTER {cluster} ({}) ENGINE = {engine}{tail}",
                table.name, table.columns
            )])
        }
        Placement::Sharded(key) => {
            let local = local_name(&table.name)?;
            let engine = format!(
                "Replicated{}('/clickhouse/tables/{{shard}}/{{database}}/{{table}}', '{{replica}}'{args})",
                table.engine
            );
            Ok(vec![
                format!(
                    "CREATE TABLE IF NOT EXISTS {db}.{local} ON CLUSTER {cluster} ({}) ENGINE = {engine}{tail}",
                    table.columns
                ),
                format!(
                    "CREATE TABLE IF NOT EXISTS {db}.{} ON CLUSTER {cluster} AS {db}.{local} \
                     ENGINE = Distributed({cluster}, {db}, {local}, {key})",
                    table.name
                ),
            ])
        }
    }
}

fn local_name(table: &Ident) -> Result<Ident> {
    let name = format!("{}_local", table.as_str());
    Ident::new(&name).ok_or(WarehouseError::InvalidIdentifier(name))
}

fn alter_table(text: &str, layout: &ClusterLayout) -> Result<Vec<String>> {
    let after_table = skip_words(text, 2).ok_or_else(|| unsupported(text, "no table name"))?;
    let (name, rest) = take_ident(after_table)
        .ok_or_else(|| unsupported(text, "the table name must be a plain identifier"))?;
    let rest = rest.trim();
    let (db, cluster) = (&layout.database, &layout.cluster);
    // Placement by name only: ALTER does not repeat the columns.
    match placement(name.as_str(), "") {
        Placement::Everywhere => Ok(vec![format!("ALTER TABLE {db}.{name} ON CLUSTER {cluster} {rest}")]),
        Placement::Sharded(_) => {
            let local = local_name(&name)?;
            let mut out = vec![format!("ALTER TABLE {db}.{local} ON CLUSTER {cluster} {rest}")];
            let upper = rest.to_ascii_uppercase();
            let column_change =
                ["ADD COLUMN", "DROP COLUMN", "MODIFY COLUMN", "RENAME COLUMN", "COMMENT COLUMN"]
                    .iter()
                    .any(|kind| upper.starts_with(kind));
            if column_change {
                // The Distributed table must show the same columns as its local tables.
                out.push(format!("ALTER TABLE {db}.{name} ON CLUSTER {cluster} {rest}"));
            }
            Ok(out)
        }
    }
}

/// The table a statement names where its rows are: the local table of a sharded table, the
/// table itself for one on every node. By name only, like `ALTER` (only the placement kind
/// matters here, and that depends on the name alone).
fn table_with_rows(name: &Ident) -> Result<Ident> {
    match placement(name.as_str(), "") {
        Placement::Everywhere => Ok(name.clone()),
        Placement::Sharded(_) => local_name(name),
    }
}

/// A plain table name (not `db.table`, not a table function) and the text after it.
fn take_table<'a>(text: &'a str, statement: &str, what: &str) -> Result<(Ident, &'a str)> {
    let bad = || unsupported(statement, &format!("the {what} must be a plain identifier"));
    let (name, rest) = take_ident(text).ok_or_else(bad)?;
    if rest.starts_with(['.', '(']) {
        return Err(bad());
    }
    Ok((name, rest))
}

/// `TRUNCATE TABLE [IF EXISTS] name …` → `TRUNCATE TABLE [IF EXISTS] db.<table with the rows>
/// ON CLUSTER c …`: the local tables hold the rows (a Distributed table holds none).
fn truncate_table(text: &str, layout: &ClusterLayout) -> Result<Vec<String>> {
    let after_table = skip_words(text, 2).ok_or_else(|| unsupported(text, "no table name"))?;
    let (if_exists, after) = if upper_words(after_table, 2) == ["IF", "EXISTS"] {
        (" IF EXISTS", skip_words(after_table, 2).ok_or_else(|| unsupported(text, "no table name"))?)
    } else {
        ("", after_table)
    };
    let (name, rest) = take_table(after, text, "table name")?;
    let table = table_with_rows(&name)?;
    let rest = rest.trim();
    let rest = if rest.is_empty() { String::new() } else { format!(" {rest}") };
    let (db, cluster) = (&layout.database, &layout.cluster);
    Ok(vec![format!("TRUNCATE TABLE{if_exists} {db}.{table} ON CLUSTER {cluster}{rest}")])
}

/// `INSERT INTO name [(columns)] SELECT …` → the same statement, run once, with the target
/// qualified `db.name` and `insert_distributed_sync = 1`.
///
/// Not `ON CLUSTER`: that would run the whole `INSERT … SELECT` on every node, each reading
/// all rows through the Distributed tables and writing them again, so the target would get
/// every row once per node. Run once, the insert goes into the Distributed table under the
/// original name (or, for a table on every node, one replica that replicates it), which
/// routes each row to its shard by the sharding key; the tables the `SELECT` reads resolve
/// to the Distributed tables of the connection's database, which see every shard, as a
/// one-off backfill should. `insert_distributed_sync = 1` makes the statement return only
/// once the shards hold the rows, as the collector's inserts do: otherwise the migration
/// would be recorded while the rows still wait in the node's queue, and a rerun after an
/// interruption could truncate the target before rows of the first run arrive.
fn insert_select(text: &str, layout: &ClusterLayout) -> Result<Vec<String>> {
    let after_into = skip_words(text, 2).ok_or_else(|| unsupported(text, "no table name"))?;
    let (name, rest) = take_table(after_into, text, "target table")?;
    let rest = rest.trim_start();
    let (columns, query) = if rest.starts_with('(') {
        let close = matching_paren(rest, 0)
            .ok_or_else(|| unsupported(text, "unbalanced parentheses in the column list"))?;
        (format!(" {}", &rest[..=close]), rest[close + 1..].trim_start())
    } else {
        (String::new(), rest)
    };
    if !matches!(upper_words(query, 1).as_slice(), [w] if w == "SELECT" || w == "WITH") {
        return Err(unsupported(text, "only INSERT INTO … SELECT is generated for clusters"));
    }
    let db = &layout.database;
    Ok(vec![format!("INSERT INTO {db}.{name}{columns} SETTINGS insert_distributed_sync = 1 {query}")])
}

/// `CREATE MATERIALIZED VIEW IF NOT EXISTS name TO target AS SELECT … FROM source …` →
/// `CREATE MATERIALIZED VIEW IF NOT EXISTS db.name ON CLUSTER c TO db.<target with the rows>
/// AS SELECT … FROM db.<source with the rows> …`.
///
/// A materialized view fires on the inserts into its source table on the node where they
/// are written, and inserts through a Distributed table are written into the shards' local
/// tables: so on every node the view reads the local source table and writes into the local
/// target table (tables on every node are used as they are). Replicas fetch the target's
/// rows like any other replicated insert; the view does not fire again on them.
///
/// Only the `SELECT`'s single top-level `FROM <table>` is rewritten, so views with joins or
/// subqueries (which name other tables) are refused, as are views without `TO` (their inner
/// table has no cluster variant). Tables named elsewhere in the query (`IN table`,
/// `dictGet`, `joinGet`) are not rewritten.
fn materialized_view(text: &str, layout: &ClusterLayout) -> Result<Vec<String>> {
    let bad = |why: &str| unsupported(text, why);
    let after_exists = skip_words(text, 6).ok_or_else(|| bad("no view name"))?;
    let (name, rest) = take_table(after_exists, text, "view name")?;
    if upper_words(rest, 1) != ["TO"] {
        return Err(bad(
            "a view without TO keeps its rows in an inner table, which has no cluster variant; \
             name a target table with TO",
        ));
    }
    let after_to = skip_words(rest, 1).ok_or_else(|| bad("no target table after TO"))?;
    let (target, rest) = take_table(after_to, text, "target table")?;
    if upper_words(rest, 1) != ["AS"] {
        return Err(bad("expected AS SELECT right after the target table"));
    }
    let query = skip_words(rest, 1).ok_or_else(|| bad("no query after AS"))?;
    let words = sql_words(query).ok_or_else(|| bad("unbalanced quotes or parentheses in the query"))?;
    let is = |w: &SqlWord, keyword: &str| query[w.start..w.end].eq_ignore_ascii_case(keyword);
    if !words.first().is_some_and(|w| w.start == 0 && is(w, "SELECT")) {
        return Err(bad("the query must start with SELECT"));
    }
    if words.iter().filter(|w| is(w, "SELECT")).count() > 1 {
        return Err(bad("subqueries and unions in a view's query are not rewritten for clusters"));
    }
    if words.iter().any(|w| is(w, "JOIN")) {
        return Err(bad("joins in a view's query are not rewritten for clusters"));
    }
    let froms: Vec<&SqlWord> = words.iter().filter(|w| w.depth == 0 && is(w, "FROM")).collect();
    let [from] = froms.as_slice() else {
        return Err(bad("the view's query must have exactly one top-level FROM"));
    };
    let after_from = &query[from.end..];
    let source_at = from.end + (after_from.len() - after_from.trim_start().len());
    let (source, rest) = take_table(&query[source_at..], text, "table after FROM")?;
    let (db, cluster) = (&layout.database, &layout.cluster);
    let (target, source) = (table_with_rows(&target)?, table_with_rows(&source)?);
    let select = &query[..source_at];
    Ok(vec![format!(
        "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{name} ON CLUSTER {cluster} TO {db}.{target} \
         AS {select}{db}.{source}{rest}"
    )])
}

/// A word (keyword or unquoted identifier) of SQL text, outside quotes and comments, with
/// its byte range and parenthesis depth.
struct SqlWord {
    start: usize,
    end: usize,
    depth: usize,
}

/// The words of `text` outside quoted text and comments; `None` if a quote, comment or
/// parenthesis is left open (or closed without opening).
fn sql_words(text: &str) -> Option<Vec<SqlWord>> {
    let bytes = text.as_bytes();
    let mut words = Vec::new();
    let (mut depth, mut i) = (0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            q @ (b'\'' | b'"' | b'`') => {
                i += 1;
                loop {
                    match *bytes.get(i)? {
                        b'\\' => i += 2,
                        c if c == q => break,
                        _ => i += 1,
                    }
                }
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..].find("*/").map(|n| i + 2 + n + 2)?;
            }
            b'(' => {
                depth += 1;
                i += 1;
            }
            b')' => {
                depth = depth.checked_sub(1)?;
                i += 1;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                if !c.is_ascii_digit() {
                    words.push(SqlWord { start, end: i, depth });
                }
            }
            _ => i += 1,
        }
    }
    (depth == 0).then_some(words)
}

/// The first `n` whitespace-separated words of `text`, upper-cased.
fn upper_words(text: &str, n: usize) -> Vec<String> {
    text.split_whitespace().take(n).map(str::to_ascii_uppercase).collect()
}

/// The text after the first `n` whitespace-separated words.
fn skip_words(text: &str, n: usize) -> Option<&str> {
    let mut rest = text.trim_start();
    for _ in 0..n {
        let end = rest.find(char::is_whitespace)?;
        rest = rest[end..].trim_start();
    }
    Some(rest)
}

/// A leading plain or backquoted identifier and the text after it.
fn take_ident(text: &str) -> Option<(Ident, &str)> {
    let text = text.trim_start();
    if let Some(quoted) = text.strip_prefix('`') {
        let end = quoted.find('`')?;
        return Some((Ident::new(&quoted[..end])?, &quoted[end + 1..]));
    }
    let end = text.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(text.len());
    Some((Ident::new(&text[..end])?, &text[end..]))
}

fn strip_keyword<'a>(text: &'a str, keyword: &str) -> Option<&'a str> {
    let head = text.get(..keyword.len())?;
    head.eq_ignore_ascii_case(keyword).then(|| &text[keyword.len()..])
}

/// The index of the parenthesis closing the one at `open`, skipping quoted text.
fn matching_paren(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in text.char_indices().skip_while(|(i, _)| *i < open) {
        if let Some(q) = quote {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                _ if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => quote = Some(c),
            '(' => depth += 1,
            ')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits on `separator` outside parentheses and quotes.
fn split_top_level(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start, mut quote) = (0i32, 0usize, None::<char>);
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, _) if c == separator && depth == 0 => {
                parts.push(text[start..i].trim());
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(text[start..].trim());
    parts
}

#[cfg(test)]
mod tests;
