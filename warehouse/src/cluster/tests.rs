//! Tests of the cluster DDL generator: placements, each statement kind, the whole migrations.

use super::*;
use numu_schemas::MIGRATIONS;

fn layout() -> ClusterLayout {
    ClusterLayout::new("numu_2x2", "numu").unwrap()
}

/// The cluster statements of every statement of one migration, in order.
fn migration(name: &str) -> Vec<String> {
    let m = MIGRATIONS.iter().find(|m| m.name == name).unwrap();
    m.statements().iter().flat_map(|s| statements(s, &layout()).unwrap()).collect()
}

#[test]
fn events_become_a_replicated_local_table_and_a_distributed_table() {
    let out = migration("events");
    assert_eq!(out.len(), 2, "{out:#?}");
    assert!(out[0].starts_with("CREATE TABLE IF NOT EXISTS `numu`.`events_local` ON CLUSTER `numu_2x2` ("));
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
    let out = migration("person_mapping");
    assert_eq!(out.len(), 1, "person_distinct_ids lives on every node: {out:#?}");
    assert!(out[0].contains(
        "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}', version)"
    ));
    assert!(
        out[0].starts_with("CREATE TABLE IF NOT EXISTS `numu`.`person_distinct_ids` ON CLUSTER `numu_2x2`")
    );
}

#[test]
fn every_migration_and_the_ledger_have_a_cluster_variant() {
    for m in MIGRATIONS {
        for statement in m.statements() {
            let out = statements(&statement, &layout()).unwrap();
            // A backfill runs once, through the Distributed table; everything else ON CLUSTER.
            let once = statement.starts_with("INSERT INTO ");
            assert!(out.iter().all(|s| s.contains(" ON CLUSTER `numu_2x2`") != once), "{}", m.name);
        }
    }
    let placements: Vec<Placement> =
        ["events", "identity_links", "person_distinct_ids", "person_property_updates", "dead_letters"]
            .iter()
            .map(|t| placement(t, ""))
            .chain([placement("cohort_members", ""), placement("session_hours", &session_hours_columns())])
            .collect();
    assert_eq!(
        placements,
        vec![
            Placement::Sharded(EVENTS_SHARDING_KEY),
            Placement::Everywhere,
            Placement::Everywhere,
            Placement::Sharded(PERSON_SHARDING_KEY),
            Placement::Sharded("rand()"),
            Placement::Everywhere,
            Placement::Sharded("rand()"),
        ]
    );
}

/// The real column list: its `distinct_id` is inside the `first` tuple, not a column.
fn session_hours_columns() -> String {
    let create = &MIGRATIONS.iter().find(|m| m.name == "session_hours").unwrap().statements()[0];
    let columns = parse_create(create).unwrap().columns;
    assert!(columns.contains("distinct_id String"));
    columns.to_string()
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
    let out = statements("ALTER TABLE events MODIFY TTL toDateTime(timestamp) + INTERVAL 1 YEAR", &layout())
        .unwrap();
    assert_eq!(out.len(), 1);
    let out = statements("ALTER TABLE identity_links ADD COLUMN y String", &layout()).unwrap();
    assert_eq!(out, vec!["ALTER TABLE `numu`.`identity_links` ON CLUSTER `numu_2x2` ADD COLUMN y String"]);
}

#[test]
fn unsupported_statements_are_refused_clearly() {
    for sql in [
        "CREATE MATERIALIZED VIEW IF NOT EXISTS mv ENGINE = MergeTree ORDER BY a AS SELECT a FROM t",
        "CREATE MATERIALIZED VIEW IF NOT EXISTS mv AS SELECT a FROM t",
        "CREATE MATERIALIZED VIEW mv TO t AS SELECT a FROM events",
        "CREATE VIEW IF NOT EXISTS v AS SELECT a FROM events",
        "DROP TABLE IF EXISTS t",
        "CREATE TABLE IF NOT EXISTS t (a UInt8) ENGINE = Memory",
        "CREATE TABLE IF NOT EXISTS t (a UInt8) ENGINE = ReplicatedMergeTree ORDER BY a",
        "CREATE TABLE IF NOT EXISTS `a-b` (a UInt8) ENGINE = MergeTree ORDER BY a",
    ] {
        let err = statements(sql, &layout()).unwrap_err().to_string();
        assert!(err.contains("cluster variant"), "{sql}: {err}");
    }
}

#[test]
fn truncate_empties_the_tables_that_hold_the_rows() {
    assert_eq!(
        statements("TRUNCATE TABLE session_hours", &layout()).unwrap(),
        vec!["TRUNCATE TABLE `numu`.`session_hours_local` ON CLUSTER `numu_2x2`"]
    );
    assert_eq!(
        statements("truncate table IF EXISTS identity_links;", &layout()).unwrap(),
        vec!["TRUNCATE TABLE IF EXISTS `numu`.`identity_links` ON CLUSTER `numu_2x2`"]
    );
    for sql in ["TRUNCATE TABLE numu.session_hours", "TRUNCATE TABLE", "TRUNCATE TABLE IF EXISTS"] {
        let err = statements(sql, &layout()).unwrap_err().to_string();
        assert!(err.contains("cluster variant"), "{sql}: {err}");
    }
}

#[test]
fn a_backfill_runs_once_into_the_distributed_table() {
    assert_eq!(
        statements(
            "INSERT INTO session_hours SELECT project_id, count() FROM events WHERE session_id != '' \
             GROUP BY project_id",
            &layout()
        )
        .unwrap(),
        vec![
            "INSERT INTO `numu`.`session_hours` SETTINGS insert_distributed_sync = 1 SELECT project_id, \
             count() FROM events WHERE session_id != '' GROUP BY project_id"
        ]
    );
    assert_eq!(
        statements("INSERT INTO cohort_members (project_id, cohort_id) SELECT 1, 2", &layout()).unwrap(),
        vec![
            "INSERT INTO `numu`.`cohort_members` (project_id, cohort_id) \
             SETTINGS insert_distributed_sync = 1 SELECT 1, 2"
        ]
    );
    for sql in [
        "INSERT INTO session_hours VALUES (1)",
        "INSERT INTO session_hours FORMAT JSONEachRow",
        "INSERT INTO numu.session_hours SELECT 1",
        "INSERT INTO FUNCTION remote('h', numu.t) SELECT 1",
    ] {
        let err = statements(sql, &layout()).unwrap_err().to_string();
        assert!(err.contains("cluster variant"), "{sql}: {err}");
    }
}

#[test]
fn a_view_reads_and_writes_the_local_tables_of_each_node() {
    let sql = "CREATE MATERIALIZED VIEW IF NOT EXISTS v TO session_hours AS \
               SELECT project_id, trim(BOTH ' ' FROM path) AS events, 'FROM x' AS s \
               FROM events WHERE event = '$pageview' GROUP BY project_id";
    assert_eq!(
        statements(sql, &layout()).unwrap(),
        vec![
            "CREATE MATERIALIZED VIEW IF NOT EXISTS `numu`.`v` ON CLUSTER `numu_2x2` \
             TO `numu`.`session_hours_local` AS \
             SELECT project_id, trim(BOTH ' ' FROM path) AS events, 'FROM x' AS s \
             FROM `numu`.`events_local` WHERE event = '$pageview' GROUP BY project_id"
        ]
    );
    // Tables on every node are used as they are.
    assert_eq!(
        statements(
            "CREATE MATERIALIZED VIEW IF NOT EXISTS v TO cohort_members AS SELECT a FROM identity_links",
            &layout()
        )
        .unwrap(),
        vec![
            "CREATE MATERIALIZED VIEW IF NOT EXISTS `numu`.`v` ON CLUSTER `numu_2x2` \
             TO `numu`.`cohort_members` AS SELECT a FROM `numu`.`identity_links`"
        ]
    );
}

#[test]
fn views_that_cannot_be_rewritten_safely_are_refused() {
    let head = "CREATE MATERIALIZED VIEW IF NOT EXISTS v TO session_hours AS ";
    for query in [
        "SELECT a FROM events JOIN identity_links USING (distinct_id)",
        "SELECT a FROM events ARRAY JOIN xs AS x",
        "SELECT a FROM (SELECT a FROM events)",
        "SELECT a FROM events WHERE distinct_id IN (SELECT distinct_id FROM identity_links)",
        "SELECT a FROM events UNION ALL SELECT a FROM dead_letters",
        "WITH 1 AS x SELECT a FROM events",
        "SELECT 1",
        "SELECT a FROM numu.events",
        "SELECT a FROM numbers(10)",
        "SELECT a FROM events WHERE b = 'unclosed",
        "SELECT a FROM events WHERE (b",
    ] {
        let err = statements(&format!("{head}{query}"), &layout()).unwrap_err().to_string();
        assert!(err.contains("cluster variant"), "{query}: {err}");
    }
    for sql in [
        "CREATE MATERIALIZED VIEW IF NOT EXISTS v TO numu.session_hours AS SELECT a FROM events",
        "CREATE MATERIALIZED VIEW IF NOT EXISTS v TO session_hours (a UInt8) AS SELECT a FROM events",
        "CREATE MATERIALIZED VIEW IF NOT EXISTS v TO session_hours POPULATE AS SELECT a FROM events",
    ] {
        let err = statements(sql, &layout()).unwrap_err().to_string();
        assert!(err.contains("cluster variant"), "{sql}: {err}");
    }
}

/// The session_hours migration: the table, emptied on every shard, backfilled once through
/// the Distributed table, then a view between the local tables; the queries themselves
/// are unchanged apart from the names.
#[test]
fn session_hours_migration_on_a_cluster() {
    let source = MIGRATIONS.iter().find(|m| m.name == "session_hours").unwrap().statements();
    let out = migration("session_hours");
    assert_eq!(out.len(), 5, "{out:#?}");
    assert!(
        out[0].starts_with("CREATE TABLE IF NOT EXISTS `numu`.`session_hours_local` ON CLUSTER `numu_2x2` (")
    );
    assert!(out[0].contains("ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/"));
    assert_eq!(
        out[1],
        "CREATE TABLE IF NOT EXISTS `numu`.`session_hours` ON CLUSTER `numu_2x2` AS \
         `numu`.`session_hours_local` \
         ENGINE = Distributed(`numu_2x2`, `numu`, `session_hours_local`, rand())"
    );
    assert_eq!(out[2], "TRUNCATE TABLE `numu`.`session_hours_local` ON CLUSTER `numu_2x2`");
    assert_eq!(
        out[3],
        source[2].replacen(
            "INSERT INTO session_hours\n",
            "INSERT INTO `numu`.`session_hours` SETTINGS insert_distributed_sync = 1 ",
            1
        )
    );
    let view = source[3]
        .replacen(
            "CREATE MATERIALIZED VIEW IF NOT EXISTS session_hours_view TO session_hours AS\n",
            "CREATE MATERIALIZED VIEW IF NOT EXISTS `numu`.`session_hours_view` ON CLUSTER `numu_2x2` \
             TO `numu`.`session_hours_local` AS ",
            1,
        )
        .replacen("\nFROM events\n", "\nFROM `numu`.`events_local`\n", 1);
    assert_eq!(out[4], view);
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
        for statement in m.statements() {
            out.extend(statements(&statement, &layout()).unwrap());
        }
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
