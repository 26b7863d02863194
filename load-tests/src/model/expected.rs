//! The rates the parameters imply, computed exactly (no sampling): channel shares, signup
//! probability per channel and campaign, step conversions, and the experiment's variants.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::config::{CampaignConfig, ChannelConfig, ModelConfig};

/// Expected values of the realised counts in [`super::Truths`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Expected {
    /// Share of human visitors whose first visit comes through each channel.
    pub channel_share: BTreeMap<String, f64>,
    /// The same by the channel the collector stores (`ChannelConfig::stored_as`).
    pub stored_channel_share: BTreeMap<String, f64>,
    /// Probability that a visitor of the channel (first touch) signs up.
    pub signup_rate_by_channel: BTreeMap<String, f64>,
    pub signup_rate_by_campaign: BTreeMap<String, f64>,
    /// Step conversions: signup | visitor, activation | signup, purchase | activation.
    pub step_rates: Vec<f64>,
    /// Share of human visitors exposed to the experiment.
    pub exposure_rate: f64,
    /// Share of exposed visitors in each variant.
    pub variant_share: BTreeMap<String, f64>,
    /// Signup rate of exposed visitors in each variant.
    pub variant_conversion: BTreeMap<String, f64>,
    /// The configured (true) relative lift of each variant over the control.
    pub variant_lift: BTreeMap<String, f64>,
}

fn normalised(weights: impl Iterator<Item = f64> + Clone) -> impl Iterator<Item = f64> {
    let total: f64 = weights.clone().sum();
    weights.map(move |w| if total > 0.0 { w / total } else { 0.0 })
}

/// The (campaign or none, share within the channel) pairs of a channel.
pub(crate) fn sources(channel: &ChannelConfig) -> Vec<(Option<&CampaignConfig>, f64)> {
    if channel.campaigns.is_empty() {
        vec![(None, 1.0)]
    } else {
        channel
            .campaigns
            .iter()
            .zip(normalised(channel.campaigns.iter().map(|c| c.weight)))
            .map(|(c, s)| (Some(c), s))
            .collect()
    }
}

/// Signup probability before any experiment lift.
pub(crate) fn base_signup(
    config: &ModelConfig,
    channel: &ChannelConfig,
    campaign: Option<&CampaignConfig>,
) -> f64 {
    config.funnel.signup_probability
        * channel.signup_multiplier
        * campaign.map_or(1.0, |c| c.signup_multiplier)
}

/// Chance that a first visit of this source is exposed: it lands on the experiment's page,
/// or visits it anyway (`exposure_share`).
pub(crate) fn exposure_probability(
    config: &ModelConfig,
    channel: &ChannelConfig,
    campaign: Option<&CampaignConfig>,
) -> f64 {
    let Some(experiment) = &config.experiment else { return 0.0 };
    let lands = match campaign.and_then(|c| c.landing_path.as_deref()) {
        Some(path) => f64::from(u8::from(path == experiment.exposure_path)),
        None => {
            let total: f64 = channel.landing_paths.iter().map(|w| w.weight).sum();
            let on_page: f64 = channel
                .landing_paths
                .iter()
                .filter(|w| w.value == experiment.exposure_path)
                .map(|w| w.weight)
                .sum();
            if total > 0.0 {
                on_page / total
            } else {
                0.0
            }
        }
    };
    lands + (1.0 - lands) * experiment.exposure_share
}

impl Expected {
    pub fn of(config: &ModelConfig) -> Expected {
        let mut e = Expected::default();
        let variants: Vec<(String, f64, f64)> = config.experiment.as_ref().map_or_else(Vec::new, |x| {
            x.variants
                .iter()
                .zip(normalised(x.variants.iter().map(|v| v.weight)))
                .map(|(v, s)| (v.name.clone(), s, v.lift))
                .collect()
        });
        let mut signup_total = 0.0;
        let mut variant_exposed: BTreeMap<String, f64> = BTreeMap::new();
        let mut variant_converted: BTreeMap<String, f64> = BTreeMap::new();
        for (channel, share) in
            config.channels.iter().zip(normalised(config.channels.iter().map(|c| c.weight)))
        {
            e.channel_share.insert(channel.name.clone(), share);
            *e.stored_channel_share.entry(channel.stored_as.clone()).or_default() += share;
            let mut channel_signup = 0.0;
            for (campaign, within) in sources(channel) {
                let p0 = base_signup(config, channel, campaign);
                let exposed = exposure_probability(config, channel, campaign);
                let lifted: f64 = variants.iter().map(|(_, s, lift)| s * (p0 * (1.0 + lift)).min(1.0)).sum();
                let p = if variants.is_empty() {
                    p0.min(1.0)
                } else {
                    (1.0 - exposed) * p0.min(1.0) + exposed * lifted
                };
                channel_signup += within * p;
                if let Some(campaign) = campaign {
                    e.signup_rate_by_campaign.insert(campaign.name.clone(), p);
                }
                e.exposure_rate += share * within * exposed;
                for (name, s, lift) in &variants {
                    *variant_exposed.entry(name.clone()).or_default() += share * within * exposed * s;
                    *variant_converted.entry(name.clone()).or_default() +=
                        share * within * exposed * s * (p0 * (1.0 + lift)).min(1.0);
                }
            }
            e.signup_rate_by_channel.insert(channel.name.clone(), channel_signup);
            signup_total += share * channel_signup;
        }
        for (name, s, lift) in &variants {
            e.variant_share.insert(name.clone(), *s);
            e.variant_lift.insert(name.clone(), *lift);
            let exposed = variant_exposed.get(name).copied().unwrap_or(0.0);
            let converted = variant_converted.get(name).copied().unwrap_or(0.0);
            e.variant_conversion.insert(name.clone(), if exposed > 0.0 { converted / exposed } else { 0.0 });
        }
        e.step_rates =
            vec![signup_total, config.funnel.activation_probability, config.funnel.purchase_probability];
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rates_are_consistent() {
        let e = Expected::of(&ModelConfig::default());
        assert!((e.channel_share.values().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!(e.step_rates[0] > 0.05 && e.step_rates[0] < 0.12, "{:?}", e.step_rates);
        let (control, treatment) = (e.variant_conversion["control"], e.variant_conversion["treatment"]);
        assert!((treatment / control - 1.15).abs() < 1e-9, "no rate is capped, so the lift is exact");
        assert!(e.signup_rate_by_campaign["brand_search"] > e.signup_rate_by_campaign["spring_promo"]);
        assert!(e.exposure_rate > 0.3 && e.exposure_rate < 0.6, "{}", e.exposure_rate);
    }
}
