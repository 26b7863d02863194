//! The warehouse suite on every engine this crate can reach by itself: the embedded engine,
//! and the remote engine on a real ClickHouse server when `NUMU_TEST_CLICKHOUSE_URL` is set
//! (skipped with a note otherwise). The same bodies run against the ClickHouse-HTTP-compatible
//! stand-in over the embedded engine in `standin/tests/suite.rs`.

/// The embedded engine (chDB in-process).
mod embedded {
    numu_warehouse::warehouse_suite!(numu_warehouse::testing::embedded_warehouse);
}

/// The remote engine against a real ClickHouse server (`NUMU_TEST_CLICKHOUSE_URL`).
mod real_clickhouse_server {
    numu_warehouse::warehouse_suite!(numu_warehouse::testing::remote::real_server_warehouse);

    use numu_warehouse::testing::remote::{self, real_server_config};

    macro_rules! with_server {
        ($($name:ident),*) => {$(
            #[tokio::test]
            async fn $name() {
                match real_server_config() {
                    Some(config) => remote::$name(config).await,
                    None => eprintln!("{}: skipped, NUMU_TEST_CLICKHOUSE_URL is not set", stringify!($name)),
                }
            }
        )*};
    }
    with_server!(wrong_password_is_named, unknown_database_is_named, timeout_is_named);
}
