//! Daily ad spend per paid campaign, as an ad platform would report it: clicks in line with
//! the visitors the campaign brings that day (a few more: some clickers leave before the
//! tag loads), spend at the campaign's cost per click, impressions from its click-through
//! rate. A separate stream from the events, for the ad-spend import.

use serde::{Deserialize, Serialize};

use super::clock::{date, DAY_MS, HOUR_MS};
use super::config::ModelConfig;
use super::generator::arrivals;
use super::person::LAST_START_BEFORE_NOW_MS;
use super::rng::Rand;

const PURPOSE_SPEND: u64 = 0x00535044;

/// Clicks an ad platform counts per tracked landing.
pub const CLICKS_PER_LANDING: f64 = 1.12;

/// One campaign's figures for one day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdSpend {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    pub campaign: String,
    pub source: String,
    pub medium: String,
    /// In the account currency, rounded to cents.
    pub spend: f64,
    pub clicks: u64,
    pub impressions: u64,
}

/// Share of a day's human arrivals that fall before the last allowed session start.
fn day_fraction(config: &ModelConfig, day: u32) -> f64 {
    let start = config.start_ms() + i64::from(day) * DAY_MS;
    let open_ms = (config.now_ms - LAST_START_BEFORE_NOW_MS - start).clamp(0, DAY_MS);
    let total: f64 = config.hourly_weights.iter().sum();
    let full_hours = (open_ms / HOUR_MS) as usize;
    let partial = (open_ms % HOUR_MS) as f64 / HOUR_MS as f64;
    let before: f64 = config.hourly_weights[..full_hours].iter().sum::<f64>()
        + config.hourly_weights.get(full_hours).map_or(0.0, |w| w * partial);
    before / total
}

/// Every paid campaign's spend, day by day.
pub fn ad_spend(config: &ModelConfig) -> impl Iterator<Item = AdSpend> + '_ {
    let total_weight: f64 = config.channels.iter().map(|c| c.weight).sum();
    (0..config.days).flat_map(move |day| {
        let humans = arrivals(config, day) as f64 * (1.0 - config.bot_share) * day_fraction(config, day);
        config.channels.iter().flat_map(move |channel| {
            let campaign_weight: f64 = channel.campaigns.iter().map(|c| c.weight).sum();
            channel.campaigns.iter().enumerate().filter_map(move |(index, campaign)| {
                let cpc = campaign.cost_per_click?;
                let landings = humans * channel.weight / total_weight * campaign.weight / campaign_weight;
                let mut rng = Rand::new(config.seed, PURPOSE_SPEND, (u64::from(day) << 16) | index as u64);
                let clicks = (landings * CLICKS_PER_LANDING * (1.0 + 0.05 * rng.normal()).max(0.0)).round();
                let spend = (clicks * cpc * (1.0 + 0.1 * rng.normal()).max(0.0) * 100.0).round() / 100.0;
                let ctr = campaign.click_through_rate;
                let impressions = if ctr > 0.0 { (clicks / ctr).round() as u64 } else { 0 };
                Some(AdSpend {
                    date: date(config.start_ms() + i64::from(day) * DAY_MS),
                    campaign: campaign.name.clone(),
                    source: campaign.source.clone(),
                    medium: campaign.medium.clone(),
                    spend,
                    clicks: clicks as u64,
                    impressions,
                })
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paid_campaigns_have_a_row_a_day_in_line_with_their_cost_per_click() {
        let config = ModelConfig { days: 7, ..ModelConfig::default() };
        let rows: Vec<AdSpend> = ad_spend(&config).collect();
        let paid =
            config.channels.iter().flat_map(|c| &c.campaigns).filter(|c| c.cost_per_click.is_some()).count();
        assert_eq!(rows.len(), paid * 7);
        let brand: Vec<&AdSpend> = rows.iter().filter(|r| r.campaign == "brand_search").collect();
        let (spend, clicks) = brand.iter().fold((0.0, 0), |(s, c), r| (s + r.spend, c + r.clicks));
        assert!(clicks > 0 && (spend / clicks as f64 - 0.9).abs() < 0.1, "{spend} / {clicks}");
        assert!(brand.iter().all(|r| r.impressions >= r.clicks));
        assert_eq!(rows, ad_spend(&config).collect::<Vec<_>>());
        assert!(day_fraction(&config, 6) < 1.0 && (day_fraction(&config, 0) - 1.0).abs() < 1e-12);
    }
}
