//! The remote engine's failures an operator can fix, each a one-line message naming the
//! problem — wrong password, unknown database, timeout against the ClickHouse-HTTP-compatible
//! stand-in over the embedded engine, and a server that is down (a closed port).

mod common;

use numu_warehouse::testing::remote;

#[tokio::test]
async fn standin_wrong_password_is_named() {
    let standin = common::start(None);
    remote::wrong_password_is_named(common::remote_config(&standin)).await;
}

#[tokio::test]
async fn standin_unknown_database_is_named() {
    let standin = common::start(None);
    remote::unknown_database_is_named(common::remote_config(&standin)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standin_timeout_is_named() {
    let standin = common::start(None);
    remote::timeout_is_named(common::remote_config(&standin)).await;
}

#[tokio::test]
async fn server_down_is_named() {
    remote::server_down_is_named().await;
}
