//! Cluster mode's generated statements are valid ClickHouse SQL: every statement for the
//! two-shard, two-replica example cluster of docs/remote.md (the `ON CLUSTER` DDL, and the
//! backfills that run once) parses, and round-trips, through the embedded engine's
//! `formatQuery` (the statement bound as a parameter); and `migrate` on a cluster applies
//! exactly those statements, in order.

use numu_schemas::MIGRATIONS;
use numu_warehouse::cluster::{self, ClusterLayout};
use numu_warehouse::testing::migrated_warehouse;
use numu_warehouse::{first_cell, Sql, Warehouse};

/// The example cluster: `numu_2x2`, shards 01 and 02 of two replicas each.
fn example() -> ClusterLayout {
    ClusterLayout::new("numu_2x2", "numu").unwrap()
}

fn every_statement() -> Vec<String> {
    let layout = example();
    let mut all = vec![cluster::create_database(&layout)];
    let ledger = "CREATE TABLE IF NOT EXISTS numu_migrations (version UInt32, name String, checksum String, \
                  applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = MergeTree ORDER BY version";
    all.extend(cluster::statements(ledger, &layout).unwrap());
    for migration in MIGRATIONS {
        all.extend(variant(migration));
    }
    all
}

/// The cluster statements of one migration, in order.
fn variant(migration: &numu_schemas::Migration) -> Vec<String> {
    let statements = migration.statements();
    statements.iter().flat_map(|s| cluster::statements(s, &example()).unwrap()).collect()
}

async fn format(warehouse: &Warehouse, statement: &str) -> String {
    let batches = warehouse.query_all(&Sql::new("SELECT formatQuery(").bind(statement).push(")")).await;
    let batches = batches.unwrap_or_else(|e| panic!("not valid ClickHouse SQL: {e}\n{statement}"));
    first_cell(&batches).unwrap()
}

#[tokio::test]
async fn every_on_cluster_statement_round_trips_through_format_query() {
    let warehouse = migrated_warehouse("cluster").await.expect("embedded warehouse (run `make setup` first)");
    let statements = every_statement();
    // Database, ledger, events (local + Distributed), 3 everywhere tables, 2 sharded ones,
    // session_hours and page_hours (each local + Distributed, truncate, backfill, view).
    assert_eq!(statements.len(), 1 + 1 + 2 + 1 + 1 + 1 + 2 + 2 + 5 + 5, "{statements:#?}");
    for statement in &statements {
        let formatted = format(&warehouse, statement).await;
        // The backfill runs once, through the Distributed table; all else on every node.
        let once = statement.starts_with("INSERT INTO ");
        assert_eq!(formatted.contains("ON CLUSTER numu_2x2"), !once, "{formatted}");
        if once {
            // ... and returns only once the shards hold the rows.
            assert!(formatted.contains("SETTINGS insert_distributed_sync = 1"), "{formatted}");
        }
        // Formatting the formatted text changes nothing: the engine read what we meant.
        assert_eq!(format(&warehouse, &formatted).await, formatted);
        if statement.contains("Replicated") {
            assert!(formatted.contains("{replica}')") || formatted.contains("{replica}', "), "{formatted}");
        }
    }
    let distributed: Vec<&String> = statements.iter().filter(|s| s.contains("Distributed(")).collect();
    assert_eq!(
        distributed.len(),
        5,
        "events, person_property_updates, dead_letters, session_hours, page_hours"
    );
    for (table, end) in [("session_hours", statements.len() - 5), ("page_hours", statements.len())] {
        let kinds: Vec<&str> =
            statements[end - 3..end].iter().map(|s| s.split_whitespace().next().unwrap()).collect();
        assert_eq!(kinds, ["TRUNCATE", "INSERT", "CREATE"], "{table}");
        let view = &statements[end - 1];
        assert!(view.contains(&format!("TO `numu`.`{table}_local` AS")), "{view}");
        assert!(view.contains("FROM `numu`.`events_local`"), "{view}");
    }
    // A broken statement is caught by the same check.
    let bad = warehouse
        .query_all(&Sql::new("SELECT formatQuery(").bind("CREATE TABLE x ON CLUSTER").push(")"))
        .await;
    assert!(bad.is_err());
}

/// An engine that records what the migration runner sends it, serving a cluster.
struct Recorder {
    layout: ClusterLayout,
    log: std::sync::Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl numu_warehouse::Engine for Recorder {
    fn kind(&self) -> numu_warehouse::EngineKind {
        numu_warehouse::EngineKind::Remote
    }

    fn placeholder_style(&self) -> numu_warehouse::PlaceholderStyle {
        numu_warehouse::PlaceholderStyle::Named
    }

    fn cluster(&self) -> Option<&ClusterLayout> {
        Some(&self.layout)
    }

    async fn create_database(&self) -> numu_warehouse::Result<()> {
        self.log.lock().unwrap().push(cluster::create_database(&self.layout));
        Ok(())
    }

    async fn query(&self, sql: &Sql) -> numu_warehouse::Result<numu_warehouse::BatchStream> {
        use arrow_array::{ArrayRef, RecordBatch, StringArray, UInt32Array, UInt64Array};
        use std::sync::Arc;
        let text = sql.to_string();
        let batch = if text.contains("system.tables") {
            RecordBatch::try_from_iter([("c", Arc::new(UInt64Array::from(vec![0u64])) as ArrayRef)])
        } else {
            RecordBatch::try_from_iter([
                ("version", Arc::new(UInt32Array::from(Vec::<u32>::new())) as ArrayRef),
                ("checksum", Arc::new(StringArray::from(Vec::<String>::new())) as ArrayRef),
            ])
        };
        Ok(Box::pin(futures::stream::iter([Ok(batch.unwrap())])))
    }

    async fn execute(&self, sql: &Sql) -> numu_warehouse::Result<()> {
        self.log.lock().unwrap().push(sql.to_string());
        Ok(())
    }

    async fn insert(&self, table: &str, batch: arrow_array::RecordBatch) -> numu_warehouse::Result<u64> {
        self.log.lock().unwrap().push(format!("insert into {table}"));
        Ok(batch.num_rows() as u64)
    }

    async fn insert_deduplicated(
        &self,
        table: &str,
        batch: arrow_array::RecordBatch,
        _: &str,
    ) -> numu_warehouse::Result<u64> {
        self.insert(table, batch).await
    }

    async fn version(&self) -> numu_warehouse::Result<String> {
        Ok("test".into())
    }
}

#[tokio::test]
async fn migrate_applies_the_cluster_variant_in_order_on_a_cluster() {
    let recorder = std::sync::Arc::new(Recorder { layout: example(), log: Default::default() });
    let warehouse = Warehouse::from_engine(recorder.clone());
    let report = warehouse.migrate().await.unwrap();
    assert_eq!(report.applied.len(), MIGRATIONS.len());
    let log = recorder.log.lock().unwrap().clone();
    let mut expected = every_statement();
    // After each migration's statements, its ledger row.
    let mut at = 2;
    for migration in MIGRATIONS {
        at += variant(migration).len();
        expected.insert(at, "insert into numu_migrations".into());
        at += 1;
    }
    assert_eq!(log, expected);
}
