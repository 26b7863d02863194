//! `fsync-cost`: what one `fdatasync` costs on this machine, in CPU and wall time, against the
//! write alone — the floor under the collector's "log with fsync on" per commit round.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use numu_load_tests::ingest_load::cpu::thread_cpu;

#[derive(Parser, Debug)]
#[command(name = "fsync-cost", about = "Measure the CPU and wall time of append + fdatasync on a disk")]
struct Cli {
    /// Directory on the disk to measure (a scratch file is created and removed there).
    #[arg(long, default_value = ".")]
    dir: std::path::PathBuf,
    /// Appends per measurement.
    #[arg(long, default_value_t = 3000)]
    rounds: u32,
    /// Bytes per append (a commit round of the log).
    #[arg(long, default_value_t = 2000)]
    bytes: usize,
}

/// CPU time of this process so far, from its threads' `schedstat` (ns: `stat`'s 10 ms ticks
/// would round a 5 µs write to nothing).
fn cpu_now() -> anyhow::Result<Duration> {
    Ok(thread_cpu(std::process::id())?.values().map(|(_, cpu)| *cpu).sum())
}

/// CPU and wall time per round of `rounds` appends, each followed by `fdatasync` if `sync`.
fn measure(file: &mut std::fs::File, cli: &Cli, sync: bool) -> anyhow::Result<(Duration, Duration)> {
    let block = vec![b'x'; cli.bytes];
    let (cpu_before, started) = (cpu_now()?, Instant::now());
    for _ in 0..cli.rounds {
        file.write_all(&block)?;
        if sync {
            file.sync_data()?;
        }
    }
    let (wall, cpu) = (started.elapsed(), cpu_now()? - cpu_before);
    Ok((cpu / cli.rounds, wall / cli.rounds))
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let path = cli.dir.join(format!(".fsync-cost-{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    let written = measure(&mut file, &cli, false);
    let synced = measure(&mut file, &cli, true);
    std::fs::remove_file(&path).ok();
    let ((write_cpu, write_wall), (sync_cpu, sync_wall)) = (written?, synced?);
    let us = |d: Duration| (d.as_secs_f64() * 1e7).round() / 10.0;
    println!(
        "{}",
        serde_json::json!({
            "bytes": cli.bytes, "rounds": cli.rounds,
            "write_cpu_us": us(write_cpu), "write_wall_us": us(write_wall),
            "write_fdatasync_cpu_us": us(sync_cpu), "write_fdatasync_wall_us": us(sync_wall),
        })
    );
    Ok(())
}
