//! `numu-standin`: the ClickHouse-HTTP-compatible stand-in over the embedded engine as its
//! own process (tests start and stop it to simulate a warehouse outage). Prints
//! `listening on ADDR` once it accepts connections; stops on SIGINT or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use numu_standin::{StandinConfig, TlsFiles};
use numu_warehouse::EmbeddedConfig;

/// A ClickHouse-HTTP-compatible stand-in over Numu's embedded engine (chDB), for tests.
#[derive(Debug, Parser)]
#[command(name = "numu-standin", version)]
struct Args {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8123")]
    listen: SocketAddr,
    /// Storage directory of the embedded engine (exclusive to this process).
    #[arg(long)]
    data: PathBuf,
    /// The Python interpreter that installed chdb-core.
    #[arg(long, env = "NUMU_STANDIN_PYTHON", default_value = ".venv/bin/python3")]
    python: PathBuf,
    /// Accepted user (repeatable, `name:password`); default: `default` without password.
    #[arg(long = "user", value_name = "NAME:PASSWORD")]
    users: Vec<String>,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let args = Args::parse();
    match run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("numu-standin: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), numu_standin::StandinError> {
    let users = args
        .users
        .iter()
        .map(|u| {
            u.split_once(':')
                .map(|(n, p)| (n.to_string(), p.to_string()))
                .unwrap_or((u.clone(), String::new()))
        })
        .collect();
    let config = StandinConfig {
        listen: args.listen,
        embedded: EmbeddedConfig { path: args.data, python: args.python, ..EmbeddedConfig::default() },
        users,
        tls: args.tls_cert.zip(args.tls_key).map(|(cert, key)| TlsFiles { cert, key }),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| numu_standin::StandinError::Thread(e.to_string()))?;
    runtime.block_on(async move {
        let tls = config.tls.as_ref().map(numu_standin::tls_acceptor).transpose()?;
        let (listener, state) = numu_standin::bind(&config).await?;
        let addr = listener
            .local_addr()
            .map_err(|source| numu_standin::StandinError::Listen { addr: config.listen, source })?;
        println!("listening on {addr}");
        let _ = std::io::stdout().flush();
        numu_standin::serve(listener, state, tls, shutdown_signal()).await;
        Ok(())
    })
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
