//! The warehouse suite (the same bodies as `warehouse/tests/suite.rs`) on the remote engine,
//! configured exactly as for production, against the ClickHouse-HTTP-compatible stand-in
//! served by this test process over the embedded engine. The stand-in is not ClickHouse:
//! it checks the remote engine's wire behaviour (HTTP, auth, server-side parameters,
//! ArrowStream, LZ4 both ways, ClickHouse errors) with the embedded engine's semantics.

mod common;

/// Remote engine → ClickHouse-HTTP-compatible stand-in → embedded engine.
mod remote_engine_via_clickhouse_http_standin_over_embedded_engine {
    numu_warehouse::warehouse_suite!(crate::common::standin_warehouse);
}
