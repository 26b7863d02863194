//! `demo-data`: writes the traffic model's messages as NDJSON (one Segment message a line),
//! and optionally its truths (JSON) and daily ad spend (CSV), for inspection and for other
//! tools.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use numu_load_tests::model::{ad_spend, Generator, ModelConfig};

/// Write the traffic model's messages as NDJSON.
#[derive(Debug, Parser)]
#[command(name = "demo-data", version, about)]
struct Args {
    /// Days of traffic, ending at --now [default: 21].
    #[arg(long)]
    days: Option<u32>,
    /// Mean visitors a day, bots included [default: 1000].
    #[arg(long)]
    visitors_per_day: Option<f64>,
    /// Aim for about this many messages instead (overrides --visitors-per-day).
    #[arg(long)]
    events: Option<u64>,
    /// Seed [default: 1].
    #[arg(long)]
    seed: Option<u64>,
    /// Start from this model configuration (JSON, any subset of `ModelConfig`'s fields)
    /// instead of the defaults; flags given override it.
    #[arg(long)]
    model: Option<PathBuf>,
    /// End of the period, RFC 3339 (default: the model's fixed date, for reproducible output).
    #[arg(long)]
    now: Option<String>,
    /// Messages file (`-` for standard output).
    #[arg(long, default_value = "-")]
    out: String,
    /// Also write the truths (parameters and realised counts) as JSON here.
    #[arg(long)]
    truths: Option<PathBuf>,
    /// Also write the daily ad spend per paid campaign as CSV here.
    #[arg(long)]
    ad_spend: Option<PathBuf>,
}

/// The defaults, or the configuration in `path` (JSON).
fn load_model(path: Option<&std::path::Path>) -> anyhow::Result<ModelConfig> {
    let Some(path) = path else { return Ok(ModelConfig::default()) };
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&text).with_context(|| format!("{} is not a model configuration", path.display()))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut config = load_model(args.model.as_deref())?;
    config.seed = args.seed.unwrap_or(config.seed);
    config.days = args.days.unwrap_or(config.days);
    config.visitors_per_day = args.visitors_per_day.unwrap_or(config.visitors_per_day);
    if let Some(now) = &args.now {
        config.now_ms =
            numu_load_tests::model::clock::parse_rfc3339(now).context("--now must be RFC 3339")?;
    }
    if let Some(events) = args.events {
        config = config.sized_for(events)?;
    }
    let out: Box<dyn Write> = if args.out == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(File::create(&args.out).with_context(|| format!("creating {}", args.out))?)
    };
    let mut out = BufWriter::new(out);
    let mut generator = Generator::new(config.clone())?;
    for message in generator.by_ref() {
        serde_json::to_writer(&mut out, &message)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    let truths = generator.into_truths();
    if let Some(path) = &args.truths {
        std::fs::write(path, serde_json::to_vec_pretty(&truths)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.ad_spend {
        let mut csv = String::from("date,campaign,source,medium,spend,clicks,impressions\n");
        for row in ad_spend(&config) {
            csv.push_str(&format!(
                "{},{},{},{},{:.2},{},{}\n",
                row.date, row.campaign, row.source, row.medium, row.spend, row.clicks, row.impressions
            ));
        }
        std::fs::write(path, csv).with_context(|| format!("writing {}", path.display()))?;
    }
    eprintln!(
        "{} messages: {} visitors ({} identified, {} purchases, revenue {:.0}), {} bots",
        truths.messages, truths.visitors, truths.identified, truths.purchases, truths.revenue, truths.bots
    );
    Ok(())
}
