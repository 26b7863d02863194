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
//! Distributed table too. Other statement kinds are refused with a clear error rather than
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
    let words: Vec<String> = text.split_whitespace().take(5).map(str::to_ascii_uppercase).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["CREATE", "TABLE", "IF", "NOT", "EXISTS"] => create_table(text, layout),
        ["ALTER", "TABLE", ..] => alter_table(text, layout),
        _ => Err(unsupported(
            text,
            "only CREATE TABLE IF NOT EXISTS and ALTER TABLE are generated for clusters",
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
mod tests {
    use super::*;
    use numu_schemas::MIGRATIONS;

    fn layout() -> ClusterLayout {
        ClusterLayout::new("numu_2x2", "numu").unwrap()
    }

    fn migration(name: &str) -> String {
        MIGRATIONS.iter().find(|m| m.name == name).unwrap().statement()
    }

    #[test]
    fn events_become_a_replicated_local_table_and_a_distributed_table() {
        let out = statements(&migration("events"), &layout()).unwrap();
        assert_eq!(out.len(), 2, "{out:#?}");
        assert!(
            out[0].starts_with("CREATE TABLE IF NOT EXISTS `numu`.`events_local` ON CLUSTER `numu_2x2` (")
        );
        assert!(out[0].contains(
            "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}') PARTITION BY"
        ));
        assert!(out[0].contains("ORDER BY (project_id, toDate(timestamp), event, distinct_id, timestamp)"));
        assert!(out[0].contains("properties Map(String, String)"));
        assert_eq!(
            out[1],
            format!(
                "CREATE TABLE IF NOT EXISTS `numu`.`events` ON CLUSTER `numu_2x2` AS `numu`.`events_local` \
                 ENGINE = Distributed(`numu_2x2`, `numu`, `events_local`, {EVENTS_SHARDING_KEY})"
            )
        );
    }

    #[test]
    fn replacing_engines_keep_their_arguments_after_the_replication_ones() {
        let out = statements(&migration("person_mapping"), &layout()).unwrap();
        assert_eq!(out.len(), 1, "person_distinct_ids lives on every node: {out:#?}");
        assert!(out[0].contains(
            "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}', version)"
        ));
        assert!(out[0]
            .starts_with("CREATE TABLE IF NOT EXISTS `numu`.`person_distinct_ids` ON CLUSTER `numu_2x2`"));
    }

    #[test]
    fn every_migration_and_the_ledger_have_a_cluster_variant() {
        for m in MIGRATIONS {
            let out = statements(&m.statement(), &layout()).unwrap();
            assert!(out.iter().all(|s| s.contains(" ON CLUSTER `numu_2x2`")), "{}", m.name);
        }
        let placements: Vec<Placement> =
            ["events", "identity_links", "person_distinct_ids", "person_property_updates", "dead_letters"]
                .iter()
                .map(|t| placement(t, ""))
                .collect();
        assert_eq!(
            placements,
            vec![
                Placement::Sharded(EVENTS_SHARDING_KEY),
                Placement::Everywhere,
                Placement::Everywhere,
                Placement::Sharded(PERSON_SHARDING_KEY),
                Placement::Sharded("rand()"),
            ]
        );
    }

    #[test]
    fn alter_goes_to_local_and_distributed_tables_for_column_changes() {
        let out = statements("ALTER TABLE events ADD COLUMN IF NOT EXISTS x String", &layout()).unwrap();
        assert_eq!(
            out,
            vec![
                "ALTER TABLE `numu`.`events_local` ON CLUSTER `numu_2x2` ADD COLUMN IF NOT EXISTS x String",
                "ALTER TABLE `numu`.`events` ON CLUSTER `numu_2x2` ADD COLUMN IF NOT EXISTS x String",
            ]
        );
        let out =
            statements("ALTER TABLE events MODIFY TTL toDateTime(timestamp) + INTERVAL 1 YEAR", &layout())
                .unwrap();
        assert_eq!(out.len(), 1);
        let out = statements("ALTER TABLE identity_links ADD COLUMN y String", &layout()).unwrap();
        assert_eq!(
            out,
            vec!["ALTER TABLE `numu`.`identity_links` ON CLUSTER `numu_2x2` ADD COLUMN y String"]
        );
    }

    #[test]
    fn unsupported_statements_are_refused_clearly() {
        for sql in [
            "CREATE MATERIALIZED VIEW IF NOT EXISTS mv TO t AS SELECT 1",
            "CREATE TABLE IF NOT EXISTS t (a UInt8) ENGINE = Memory",
            "CREATE TABLE IF NOT EXISTS t (a UInt8) ENGINE = ReplicatedMergeTree ORDER BY a",
            "CREATE TABLE IF NOT EXISTS `a-b` (a UInt8) ENGINE = MergeTree ORDER BY a",
        ] {
            let err = statements(sql, &layout()).unwrap_err().to_string();
            assert!(err.contains("cluster variant"), "{sql}: {err}");
        }
    }

    #[test]
    fn quoted_parentheses_do_not_confuse_the_parser() {
        let sql = "CREATE TABLE IF NOT EXISTS t (a String DEFAULT ')(', b UInt8 COMMENT 'it''s (x') \
                   ENGINE = MergeTree ORDER BY a";
        let out = statements(sql, &layout()).unwrap();
        assert!(out[0].contains("(a String DEFAULT ')(', b UInt8 COMMENT 'it''s (x')"), "{}", out[0]);
        assert!(out[1].ends_with("rand())"));
    }

    /// The example cluster of docs/remote.md: two shards of two replicas. Expanding each
    /// host's macros shows every host gets its own replica of the right replica set.
    #[test]
    fn two_shards_of_two_replicas_get_distinct_replicas_per_replica_set() {
        let hosts = [("01", "ch-1a"), ("01", "ch-1b"), ("02", "ch-2a"), ("02", "ch-2b")];
        let mut out: Vec<String> = Vec::new();
        for m in MIGRATIONS {
            out.extend(statements(&m.statement(), &layout()).unwrap());
        }
        for statement in out.iter().filter(|s| s.contains("Replicated")) {
            let table = statement.split('`').nth(3).unwrap();
            let mut seen = std::collections::HashSet::new();
            let mut paths = std::collections::HashSet::new();
            for (shard, replica) in hosts {
                let expanded = statement
                    .replace("{shard}", shard)
                    .replace("{replica}", replica)
                    .replace("{database}", "numu")
                    .replace("{table}", table);
                let engine = expanded.split("ENGINE = ").nth(1).unwrap();
                let args: Vec<&str> = engine.split('\'').collect();
                let (path, name) = (args[1].to_string(), args[3].to_string());
                assert!(seen.insert((path.clone(), name)), "two hosts share a replica: {statement}");
                paths.insert(path);
            }
            let expected = if statement.contains("/tables/all/") { 1 } else { 2 };
            assert_eq!(paths.len(), expected, "{statement}");
        }
    }
}
