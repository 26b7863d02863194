//! The command line: `numu serve | migrate | version | project create | config | demo`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use numu_appstate::AppState;
use numu_warehouse::Warehouse;

use crate::config::{Config, FlagOverrides};

/// Numu — self-hosted marketing and growth analytics.
#[derive(Debug, Parser)]
#[command(name = "numu", version, about, long_about = None)]
pub struct Cli {
    /// TOML configuration file (default: ./numu.toml when present).
    #[arg(long, short, global = true, env = "NUMU_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory (overrides `data_dir`).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (collector, query API, dashboard).
    Serve {
        /// Address to bind, e.g. 127.0.0.1:8000 (overrides `listen`).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Apply pending warehouse migrations (needs the data directory: stop the server first).
    Migrate,
    /// Print the version of numu and of the warehouse engine.
    Version,
    /// Manage projects (works while the server runs: it uses only the app-state file).
    Project {
        #[command(subcommand)]
        action: ProjectAction,
    },
    /// Manage dashboard users (works while the server runs).
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Print the effective configuration as TOML.
    Config,
    /// Create a project named "Demo" and send it a few weeks of realistic traffic through
    /// the running server's collector (start `numu serve` first).
    Demo(crate::demo::DemoArgs),
}

#[derive(Debug, Subcommand)]
pub enum ProjectAction {
    /// Create a project and print its write key and an admin secret key (shown once).
    Create {
        /// The project's name.
        #[arg(long)]
        name: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List projects.
    List,
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create a dashboard user (or, for an existing email, just set the role) with a role
    /// in a project.
    Create {
        #[arg(long)]
        email: String,
        /// At least 8 characters.
        #[arg(long, env = "NUMU_USER_PASSWORD", hide_env_values = true)]
        password: String,
        /// The project's id.
        #[arg(long)]
        project: i64,
        /// viewer (read), analyst (read + edit definitions) or admin (users, keys, settings).
        #[arg(long, default_value = "admin")]
        role: String,
    },
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let listen = match &cli.command {
        Command::Serve { listen } => listen.clone(),
        _ => None,
    };
    let flags = FlagOverrides { listen, data_dir: cli.data_dir.clone() };
    let config = Config::load(cli.config.as_deref(), &flags)?;
    let _telemetry = crate::telemetry::init(&config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.command {
        Command::Serve { .. } => runtime.block_on(crate::serve::serve(config)),
        Command::Migrate => runtime.block_on(migrate(&config)),
        Command::Version => runtime.block_on(version(&config)),
        Command::Project { action } => runtime.block_on(project(&config, action)),
        Command::User { action } => runtime.block_on(user(&config, action)),
        Command::Demo(args) => runtime.block_on(crate::demo::demo(&config, args)),
        Command::Config => {
            println!("{}", toml_of(&config)?);
            Ok(())
        }
    }
}

fn toml_of(config: &Config) -> anyhow::Result<String> {
    Ok(toml::to_string_pretty(config)?)
}

async fn migrate(config: &Config) -> anyhow::Result<()> {
    let warehouse = Warehouse::open(&config.warehouse).await?;
    let report = warehouse.migrate().await?;
    println!(
        "{} applied, {} already applied{}",
        report.applied.len(),
        report.already_applied,
        if report.applied.is_empty() { String::new() } else { format!(": {}", report.applied.join(", ")) }
    );
    numu_warehouse::embedded::close();
    Ok(())
}

async fn version(config: &Config) -> anyhow::Result<()> {
    println!("numu {}", env!("CARGO_PKG_VERSION"));
    match Warehouse::open(&config.warehouse).await {
        Ok(warehouse) => println!("warehouse engine: ClickHouse {}", warehouse.version().await?),
        Err(e) => println!("warehouse engine: unavailable ({e})"),
    }
    Ok(())
}

async fn project(config: &Config, action: ProjectAction) -> anyhow::Result<()> {
    let path = config.app_state_path();
    let state = AppState::open(&path).await.with_context(|| format!("opening {}", path.display()))?;
    match action {
        ProjectAction::Create { name, json } => {
            let created = state.create_project(&name).await?;
            if json {
                println!("{}", serde_json::to_string(&created)?);
            } else {
                println!("project {} created: {}", created.project.id, created.project.name);
                println!("write key (public, for the snippet and SDKs): {}", created.write_key);
                println!("secret key (admin; shown once, store it now): {}", created.secret_key);
            }
        }
        ProjectAction::List => {
            for project in state.projects().await? {
                println!("{}\t{}\t{}", project.id, project.name, project.write_key);
            }
        }
    }
    Ok(())
}

async fn user(config: &Config, action: UserAction) -> anyhow::Result<()> {
    let path = config.app_state_path();
    let state = AppState::open(&path).await.with_context(|| format!("opening {}", path.display()))?;
    match action {
        UserAction::Create { email, password, project, role } => {
            let role = numu_appstate::Role::parse(&role)
                .with_context(|| format!("unknown role {role:?}: viewer, analyst or admin"))?;
            if state.project(project).await?.is_none() {
                anyhow::bail!("project {project} does not exist (`numu project list`)");
            }
            let (user, created) = match state.user_by_email(&email).await? {
                Some(user) => (user, false),
                None => (state.create_user(&email, &password).await?, true),
            };
            state.set_role(user.id, project, role).await?;
            let verb = if created { "created" } else { "exists" };
            println!("user {} {verb}: {} is {} of project {project}", user.id, user.email, role.as_str());
        }
    }
    Ok(())
}
