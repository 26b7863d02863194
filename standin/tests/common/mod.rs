//! An in-process ClickHouse-HTTP-compatible stand-in over the embedded engine for each test,
//! on 127.0.0.1:0, sharing the process's embedded engine (one storage path per process).
//! Each test drops its own (a stand-in left running at process exit would crash the engine's
//! exit handlers; see `numu_standin::Standin`).

#![allow(dead_code)]

use numu_standin::{Standin, StandinConfig, TlsFiles};
use numu_warehouse::remote::RemoteConfig;
use numu_warehouse::testing::{embedded_config, remote::migrated_remote, TestWarehouse};

pub const USER: &str = "numu";
pub const PASSWORD: &str = "s3cret 'quoted' \\ password";

/// A stand-in accepting [`USER`] with [`PASSWORD`].
pub fn start(tls: Option<TlsFiles>) -> Standin {
    Standin::start(StandinConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        embedded: embedded_config(),
        users: vec![(USER.into(), PASSWORD.into())],
        tls,
    })
    .expect("stand-in over the embedded engine (run `make setup` first)")
}

/// The remote engine's production configuration (defaults: LZ4, retries, timeouts),
/// pointed at `standin`.
pub fn remote_config(standin: &Standin) -> RemoteConfig {
    RemoteConfig {
        url: standin.url(),
        user: USER.into(),
        password: PASSWORD.into(),
        ..RemoteConfig::default()
    }
}

/// Suite factory: the remote engine via a stand-in of its own, in a new migrated database.
pub async fn standin_warehouse(test: &'static str) -> Option<TestWarehouse> {
    let standin = start(None);
    let warehouse = migrated_remote(remote_config(&standin), test).await;
    Some(TestWarehouse::with_guard(warehouse, standin))
}

/// The production configuration with the test credentials, for a URL set by the caller.
pub fn remote_config_for_url() -> RemoteConfig {
    RemoteConfig { user: USER.into(), password: PASSWORD.into(), ..RemoteConfig::default() }
}
