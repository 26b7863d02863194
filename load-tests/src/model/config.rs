//! The traffic model's parameters, with defaults that make a plausible small SaaS site:
//! seven channels, paid campaigns of different quality, a three-step funnel, an A/B test.

use serde::{Deserialize, Serialize};

use super::clock::DAY_MS;

/// Why a configuration cannot be generated from.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ModelError {
    #[error("model configuration: {0}")]
    Invalid(String),
}

/// Everything the generator is parameterised by. The same configuration (seed included)
/// always yields byte-identical messages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelConfig {
    pub seed: u64,
    /// Length of the simulated period, ending at `now_ms`.
    pub days: u32,
    /// End of the period (epoch ms). Every event is before it.
    pub now_ms: i64,
    /// Mean new visitors (bots included) per day at the middle of the period.
    pub visitors_per_day: f64,
    /// Relative traffic growth per day (0.01 = +1 % a day).
    pub daily_growth: f64,
    /// Traffic by weekday, Monday first (normalised to a mean of 1).
    pub weekday_factors: [f64; 7],
    /// Human arrivals by UTC hour (relative weights). Bots arrive at any hour.
    pub hourly_weights: [f64; 24],
    /// Origin of the simulated site, e.g. `https://www.example.com`.
    pub site: String,
    pub channels: Vec<ChannelConfig>,
    pub funnel: FunnelConfig,
    /// Share of visitors that are crawlers (bot user agents, no funnel).
    pub bot_share: f64,
    /// Share of human visitors whose first device is a phone or tablet.
    pub mobile_share: f64,
    /// Share of signed-up persons who later log in on their other device.
    pub second_device_share: f64,
    /// Share of signups that send `alias` (previousId → userId) before `identify`.
    pub alias_share: f64,
    pub returns: ReturnConfig,
    pub session: SessionConfig,
    pub experiment: Option<ExperimentConfig>,
}

/// A value with a relative weight (referrers, landing pages, …).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Weighted {
    pub value: String,
    pub weight: f64,
}

pub fn weighted(items: &[(&str, f64)]) -> Vec<Weighted> {
    items.iter().map(|(value, weight)| Weighted { value: (*value).to_string(), weight: *weight }).collect()
}

/// A marketing channel. Visitors of channels without campaigns arrive with a referrer
/// (or none: direct); visitors of channels with campaigns arrive on UTM-tagged URLs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelConfig {
    /// The channel's name, e.g. `Paid Search` (names follow the common default grouping).
    pub name: String,
    /// What the collector stores in `events.channel` for this channel's landing page views
    /// (`direct`, `search`, `social`, `email`, `paid`, `referral`).
    pub stored_as: String,
    /// Share of human visitors whose first visit comes through this channel (relative).
    pub weight: f64,
    /// Multiplies the funnel's signup probability.
    pub signup_multiplier: f64,
    /// Referrer URLs of untagged visits (empty: no referrer).
    pub referrers: Vec<Weighted>,
    /// UTM campaigns; when present every visit of the channel belongs to one.
    pub campaigns: Vec<CampaignConfig>,
    /// Where first visits land.
    pub landing_paths: Vec<Weighted>,
}

/// A UTM-tagged campaign; with `cost_per_click` it is paid and has daily ad spend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignConfig {
    pub name: String,
    pub source: String,
    pub medium: String,
    #[serde(default)]
    pub term: Option<String>,
    #[serde(default)]
    pub content: Option<String>,
    /// Share within its channel (relative).
    pub weight: f64,
    /// Multiplies the signup probability on top of the channel's multiplier.
    pub signup_multiplier: f64,
    /// The referrer of its landings (e.g. `https://www.google.com/`), if any.
    #[serde(default)]
    pub referrer: Option<String>,
    /// Overrides the channel's landing pages.
    #[serde(default)]
    pub landing_path: Option<String>,
    /// Click-id parameter added to landing URLs (`gclid`, `fbclid`, `msclkid`, `li_fat_id`).
    #[serde(default)]
    pub click_id: Option<String>,
    /// Paid campaigns: mean cost per click, in the account currency.
    #[serde(default)]
    pub cost_per_click: Option<f64>,
    /// Paid campaigns: click-through rate, for impressions.
    #[serde(default)]
    pub click_through_rate: f64,
}

/// Signup → activation → purchase. Step probabilities are conditional on the step before;
/// the signup probability is multiplied by the channel's and campaign's multipliers (and
/// the experiment variant's lift), capped at 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FunnelConfig {
    pub signup_event: String,
    pub signup_probability: f64,
    pub activation_event: String,
    pub activation_probability: f64,
    pub purchase_event: String,
    pub purchase_probability: f64,
    /// Every step of a person happens within this many days of their first page view.
    pub window_days: u32,
    pub plans: Vec<Plan>,
    /// Chance that a purchaser buys again in each later session.
    pub repeat_purchase_probability: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub name: String,
    pub price: f64,
    pub weight: f64,
}

/// Chance of coming back after each session, by how far the person got in the funnel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReturnConfig {
    pub visitor: f64,
    pub signed_up: f64,
    pub activated: f64,
    pub purchaser: f64,
    /// Mean days between sessions.
    pub mean_gap_days: f64,
    pub max_sessions: u32,
    /// Share of returning sessions that arrive direct (the rest come as the first time did).
    pub direct_share: f64,
}

/// The shape of one session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionConfig {
    /// Chance of viewing one more page after each page.
    pub continue_probability: f64,
    pub max_pages: u32,
    /// Mean seconds on a page.
    pub mean_dwell_secs: f64,
    /// Mean `$click`s per page view.
    pub clicks_per_page: f64,
    /// Share of clicks that land anywhere rather than on a button.
    pub stray_click_share: f64,
    /// Share of page views that report a `$scroll` depth.
    pub scroll_share: f64,
}

/// An A/B test with known true lifts on the signup probability of exposed persons.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExperimentConfig {
    pub key: String,
    /// The page whose first view emits `$experiment_exposure`.
    pub exposure_path: String,
    /// Share of first sessions that visit the page without landing on it.
    pub exposure_share: f64,
    pub variants: Vec<VariantConfig>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VariantConfig {
    pub name: String,
    pub weight: f64,
    /// Relative lift of the signup probability (0.1 = +10 %); 0 for the control.
    pub lift: f64,
}

/// 2026-01-15T12:00:00Z: the default end of the period, so default runs are reproducible.
pub const DEFAULT_NOW_MS: i64 = 1_768_478_400_000;

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            seed: 1,
            days: 21,
            now_ms: DEFAULT_NOW_MS,
            visitors_per_day: 1000.0,
            daily_growth: 0.01,
            weekday_factors: [1.08, 1.12, 1.1, 1.06, 0.98, 0.82, 0.84],
            hourly_weights: [
                1.5, 1.0, 0.7, 0.6, 0.6, 0.8, 1.4, 2.4, 3.6, 4.6, 5.2, 5.4, 5.3, 5.4, 5.6, 5.5, 5.2, 5.0,
                5.1, 5.4, 5.3, 4.6, 3.4, 2.2,
            ],
            site: "https://www.example.com".into(),
            channels: super::defaults::channels(),
            funnel: FunnelConfig::default(),
            bot_share: 0.08,
            mobile_share: 0.55,
            second_device_share: 0.3,
            alias_share: 0.1,
            returns: ReturnConfig::default(),
            session: SessionConfig::default(),
            experiment: Some(super::defaults::experiment()),
        }
    }
}

impl Default for FunnelConfig {
    fn default() -> Self {
        FunnelConfig {
            signup_event: "Signed Up".into(),
            signup_probability: 0.08,
            activation_event: "Activated".into(),
            activation_probability: 0.55,
            purchase_event: "Order Completed".into(),
            purchase_probability: 0.4,
            window_days: 14,
            plans: vec![
                Plan { name: "starter".into(), price: 29.0, weight: 0.55 },
                Plan { name: "pro".into(), price: 99.0, weight: 0.35 },
                Plan { name: "business".into(), price: 299.0, weight: 0.1 },
            ],
            repeat_purchase_probability: 0.12,
        }
    }
}

impl Default for ReturnConfig {
    fn default() -> Self {
        ReturnConfig {
            visitor: 0.3,
            signed_up: 0.55,
            activated: 0.68,
            purchaser: 0.78,
            mean_gap_days: 3.5,
            max_sessions: 40,
            direct_share: 0.65,
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            continue_probability: 0.55,
            max_pages: 12,
            mean_dwell_secs: 40.0,
            clicks_per_page: 0.9,
            stray_click_share: 0.12,
            scroll_share: 0.85,
        }
    }
}

fn probability(name: &str, p: f64) -> Result<(), ModelError> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(ModelError::Invalid(format!("{name} must be between 0 and 1, not {p}")))
    }
}

fn positive_weights(name: &str, weights: impl IntoIterator<Item = f64>) -> Result<(), ModelError> {
    let weights: Vec<f64> = weights.into_iter().collect();
    if weights.iter().any(|w| !w.is_finite() || *w < 0.0) || weights.iter().sum::<f64>() <= 0.0 {
        return Err(ModelError::Invalid(format!("{name} need non-negative weights with a positive sum")));
    }
    Ok(())
}

impl ModelConfig {
    /// Start of the first day (UTC midnight).
    pub fn start_ms(&self) -> i64 {
        super::clock::midnight(self.now_ms) - (i64::from(self.days) - 1) * DAY_MS
    }

    /// Checks every parameter, naming the first that is out of range.
    pub fn validate(&self) -> Result<(), ModelError> {
        if self.days == 0 || self.days > 3650 {
            return Err(ModelError::Invalid(format!("days must be 1 to 3650, not {}", self.days)));
        }
        if !(self.visitors_per_day.is_finite() && self.visitors_per_day >= 0.0) {
            return Err(ModelError::Invalid("visitors_per_day must be a non-negative number".into()));
        }
        positive_weights("weekday_factors", self.weekday_factors)?;
        positive_weights("hourly_weights", self.hourly_weights)?;
        positive_weights("channels", self.channels.iter().map(|c| c.weight))?;
        for channel in &self.channels {
            if !channel.campaigns.is_empty() {
                positive_weights(
                    &format!("campaigns of {}", channel.name),
                    channel.campaigns.iter().map(|c| c.weight),
                )?;
            }
            if channel.campaigns.iter().all(|c| c.landing_path.is_some()) && !channel.campaigns.is_empty() {
                continue;
            }
            positive_weights(
                &format!("landing_paths of {}", channel.name),
                channel.landing_paths.iter().map(|w| w.weight),
            )?;
        }
        let f = &self.funnel;
        probability("funnel.signup_probability", f.signup_probability)?;
        probability("funnel.activation_probability", f.activation_probability)?;
        probability("funnel.purchase_probability", f.purchase_probability)?;
        probability("funnel.repeat_purchase_probability", f.repeat_purchase_probability)?;
        positive_weights("funnel.plans", f.plans.iter().map(|p| p.weight))?;
        for (name, p) in [
            ("bot_share", self.bot_share),
            ("mobile_share", self.mobile_share),
            ("second_device_share", self.second_device_share),
            ("alias_share", self.alias_share),
            ("returns.visitor", self.returns.visitor),
            ("returns.signed_up", self.returns.signed_up),
            ("returns.activated", self.returns.activated),
            ("returns.purchaser", self.returns.purchaser),
            ("returns.direct_share", self.returns.direct_share),
            ("session.continue_probability", self.session.continue_probability),
            ("session.stray_click_share", self.session.stray_click_share),
            ("session.scroll_share", self.session.scroll_share),
        ] {
            probability(name, p)?;
        }
        if let Some(experiment) = &self.experiment {
            probability("experiment.exposure_share", experiment.exposure_share)?;
            positive_weights("experiment.variants", experiment.variants.iter().map(|v| v.weight))?;
        }
        Ok(())
    }
}
