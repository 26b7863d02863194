//! `fsync-cost`: what one `fdatasync` costs on this machine, in CPU and wall time, against the
//! write alone — the floor under the collector's "log with fsync on" per commit round.
//! A third figure syncs appends into a file already filled with zeros, as the log writer does.

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

/// The same appends into a file written with zeros and synced beforehand: the file's size and
/// extents no longer change, so `fdatasync` has only data to flush, no journal commit.
fn measure_overwrite(path: &std::path::Path, cli: &Cli) -> anyhow::Result<(Duration, Duration)> {
    let mut file = std::fs::OpenOptions::new().create(true).truncate(true).write(true).open(path)?;
    file.write_all(&vec![0u8; cli.bytes * cli.rounds as usize])?;
    file.sync_all()?;
    use std::io::Seek;
    file.seek(std::io::SeekFrom::Start(0))?;
    measure(&mut file, cli, true)
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
    let overwritten = measure_overwrite(&path, &cli);
    std::fs::remove_file(&path).ok();
    let ((write_cpu, write_wall), (sync_cpu, sync_wall)) = (written?, synced?);
    let (over_cpu, over_wall) = overwritten?;
    let us = |d: Duration| (d.as_secs_f64() * 1e7).round() / 10.0;
    println!(
        "{}",
        serde_json::json!({
            "bytes": cli.bytes, "rounds": cli.rounds,
            "write_cpu_us": us(write_cpu), "write_wall_us": us(write_wall),
            "write_fdatasync_cpu_us": us(sync_cpu), "write_fdatasync_wall_us": us(sync_wall),
            "prezeroed_fdatasync_cpu_us": us(over_cpu), "prezeroed_fdatasync_wall_us": us(over_wall),
        })
    );
    Ok(())
}
