//! How the remote engine talks, seen from the ClickHouse-HTTP-compatible stand-in over the
//! embedded engine: production settings compress both ways and bind values server-side;
//! HTTPS with a private CA works; the `numu-standin` binary serves as its own process.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use numu_schemas::{events_to_batch, EventRow};
use numu_standin::TlsFiles;
use numu_warehouse::remote::{Compression, RemoteConfig};
use numu_warehouse::testing::remote::{migrated_remote, remote_test_config};
use numu_warehouse::{first_cell, Sql, Warehouse, WarehouseError};

fn rows() -> Vec<EventRow> {
    (0..3)
        .map(|i| EventRow {
            project_id: 9,
            timestamp: 1_764_000_000_000 + i,
            event: "signup".into(),
            message_id: format!("m{i}"),
            distinct_id: "d".into(),
            ..EventRow::default()
        })
        .collect()
}

async fn insert_and_count(warehouse: &Warehouse) -> String {
    warehouse.insert_deduplicated("events", events_to_batch(&rows()).unwrap(), "t-1").await.unwrap();
    let sql = Sql::new("SELECT count() FROM events WHERE project_id = ")
        .bind(9u64)
        .push(" AND event = ")
        .bind("signup");
    first_cell(&warehouse.query_all(&sql).await.unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_configuration_compresses_both_ways_and_binds_server_side() {
    let standin = common::start(None);
    let config = common::remote_config(&standin);
    assert_eq!(config.compression, Compression::Lz4, "the default is what production runs");
    let warehouse = migrated_remote(config, "prod_wire").await;
    assert_eq!(insert_and_count(&warehouse).await, "3");
    let seen = standin.stats();
    assert!(seen.compressed_bodies >= 2, "inserts in compressed blocks: {seen:?}");
    assert!(seen.arrow_inserts >= 2, "ledger and events as ArrowStream: {seen:?}");
    assert!(seen.lz4_responses >= 1, "results as LZ4 frames: {seen:?}");
    assert!(seen.parameterized >= 1, "values as param_*: {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compression_none_sends_and_receives_plain_bytes() {
    let standin = common::start(None);
    let config = RemoteConfig { compression: Compression::None, ..common::remote_config(&standin) };
    let warehouse = migrated_remote(config, "plain_wire").await;
    assert_eq!(insert_and_count(&warehouse).await, "3");
    let seen = standin.stats();
    assert_eq!((seen.compressed_bodies, seen.lz4_responses), (0, 0), "{seen:?}");
    assert!(seen.arrow_inserts >= 2 && seen.parameterized >= 1, "{seen:?}");
}

#[test]
fn blocks_compressed_by_the_clickhouse_crate_decode_in_the_standin() {
    let data: Vec<u8> = (0..100_000u32).flat_map(|i| (i / 7).to_le_bytes()).collect();
    let block = clickhouse::_priv::lz4_compress(&data).unwrap();
    assert_eq!(numu_standin::wire::decompress_blocks(&block).unwrap(), data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_a_private_certificate_authority() {
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let standin = common::start(Some(TlsFiles { cert: cert.clone(), key }));
    assert!(standin.url().starts_with("https://localhost:"), "{}", standin.url());

    let trusted = RemoteConfig { ca_file: Some(cert), ..common::remote_config(&standin) };
    let warehouse = migrated_remote(trusted, "tls").await;
    assert_eq!(insert_and_count(&warehouse).await, "3");

    // Without the CA the certificate is refused, and the message says so.
    let untrusted =
        Warehouse::open(&remote_test_config(common::remote_config(&standin), "tls_untrusted")).await.unwrap();
    let err = untrusted.version().await.unwrap_err();
    assert!(matches!(err, WarehouseError::Connection(_)), "{err:?}");
    assert!(err.to_string().to_lowercase().contains("certificate"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_prints_its_address_serves_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let python = numu_warehouse::testing::embedded_config().python;
    let mut child = Command::new(env!("CARGO_BIN_EXE_numu-standin"))
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path().join("warehouse"))
        .arg("--python")
        .arg(&python)
        .args(["--user", &format!("{}:{}", common::USER, common::PASSWORD)])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr =
        line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected first line {line:?}"));

    let config = RemoteConfig { url: format!("http://{addr}"), ..common::remote_config_for_url() };
    let warehouse = migrated_remote(config, "binary").await;
    assert_eq!(insert_and_count(&warehouse).await, "3");

    let stopped = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(stopped.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}
