//! The migration runner: applies `schemas/migrations/*.sql` in order and records each in
//! `numu_migrations`, so a second run is a no-op and an edited migration is caught. On a
//! cluster, each file's `ON CLUSTER` variant is applied instead (see `cluster.rs`).

use arrow_array::cast::AsArray;
use arrow_array::types::UInt32Type;
use arrow_array::{RecordBatch, StringArray, UInt32Array};
use numu_schemas::{Migration, MIGRATIONS};
use serde::Serialize;

use crate::error::{Result, WarehouseError};
use crate::{Sql, Warehouse};

/// What one `migrate` run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MigrationReport {
    pub applied: Vec<String>,
    pub already_applied: usize,
}

const LEDGER: &str = "CREATE TABLE IF NOT EXISTS numu_migrations \
    (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) \
    ENGINE = MergeTree ORDER BY version";

/// The statements that apply `statements` on this warehouse: themselves, or on a cluster
/// their generated `ON CLUSTER` variants.
fn variant(warehouse: &Warehouse, statements: &[String]) -> Result<Vec<String>> {
    match warehouse.engine.cluster() {
        Some(layout) => {
            let mut out = Vec::new();
            for statement in statements {
                out.extend(crate::cluster::statements(statement, layout)?);
            }
            Ok(out)
        }
        None => Ok(statements.to_vec()),
    }
}

/// Creates the ledger if needed. On a cluster only when it is missing: `ON CLUSTER` DDL goes
/// through Keeper's queue, and readiness checks read the ledger often.
async fn ensure_ledger(warehouse: &Warehouse) -> Result<()> {
    if warehouse.engine.cluster().is_some() {
        let exists = Sql::new(
            "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'numu_migrations'",
        );
        if crate::first_cell(&warehouse.query_all(&exists).await?).as_deref() == Some("1") {
            return Ok(());
        }
    }
    for statement in variant(warehouse, &[LEDGER.to_string()])? {
        warehouse.execute(&Sql::new(statement)).await?;
    }
    Ok(())
}

async fn recorded(warehouse: &Warehouse) -> Result<Vec<(u32, String)>> {
    ensure_ledger(warehouse).await?;
    let batches = warehouse
        .query_all(&Sql::new("SELECT version, checksum FROM numu_migrations ORDER BY version"))
        .await?;
    let mut rows = Vec::new();
    for batch in &batches {
        let versions = batch.column(0).as_primitive::<UInt32Type>();
        let checksums = batch.column(1).as_string::<i32>();
        for i in 0..batch.num_rows() {
            rows.push((versions.value(i), checksums.value(i).to_string()));
        }
    }
    Ok(rows)
}

/// Migrations not yet recorded; errors if a recorded one was edited since.
pub(crate) async fn pending(warehouse: &Warehouse) -> Result<Vec<&'static Migration>> {
    let recorded = recorded(warehouse).await?;
    let mut pending = Vec::new();
    for migration in MIGRATIONS {
        match recorded.iter().find(|(v, _)| *v == migration.version) {
            Some((_, checksum)) if *checksum != migration.checksum() => {
                return Err(WarehouseError::MigrationEdited {
                    version: migration.version,
                    name: migration.name.to_string(),
                    recorded: checksum.clone(),
                    current: migration.checksum(),
                });
            }
            Some(_) => {}
            None => pending.push(migration),
        }
    }
    Ok(pending)
}

pub(crate) async fn apply(warehouse: &Warehouse) -> Result<MigrationReport> {
    warehouse.engine.create_database().await?;
    let pending = pending(warehouse).await?;
    let mut report =
        MigrationReport { already_applied: MIGRATIONS.len() - pending.len(), ..Default::default() };
    for migration in pending {
        let failed = |e: WarehouseError| WarehouseError::Migration {
            version: migration.version,
            name: migration.name.to_string(),
            message: e.to_string(),
        };
        for statement in variant(warehouse, &migration.statements()).map_err(failed)? {
            warehouse.execute(&Sql::new(statement)).await.map_err(failed)?;
        }
        warehouse.insert("numu_migrations", ledger_row(migration)?).await?;
        tracing::info!(version = migration.version, name = migration.name, "applied migration");
        report.applied.push(format!("{:04}_{}", migration.version, migration.name));
    }
    Ok(report)
}

fn ledger_row(migration: &Migration) -> Result<RecordBatch> {
    Ok(RecordBatch::try_from_iter([
        ("version", std::sync::Arc::new(UInt32Array::from(vec![migration.version])) as _),
        ("name", std::sync::Arc::new(StringArray::from(vec![migration.name])) as _),
        ("checksum", std::sync::Arc::new(StringArray::from(vec![migration.checksum()])) as _),
    ])?)
}
