//! What the model knows to be true: its exact parameters, the rates they imply, and the
//! counts it realised while generating — for tests to compare query answers against.

use std::collections::BTreeMap;

use numu_schemas::Message;
use serde::{Deserialize, Serialize};

use super::clock::DAY_MS;
use super::config::ModelConfig;
use super::expected::Expected;

/// Persons who reached one funnel step (and every step before it).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepTruth {
    pub event: String,
    pub persons: u64,
}

/// Human visitors by the channel of their first visit, and how far they went.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelTruth {
    pub visitors: u64,
    pub signups: u64,
    pub activations: u64,
    pub purchasers: u64,
    pub purchases: u64,
    pub revenue: f64,
}

/// One experiment variant: persons exposed, and those of them who signed up (after exposure).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VariantTruth {
    pub exposed: u64,
    pub converted: u64,
}

/// One UTC day of the period.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DayTruth {
    pub date: String,
    /// Human persons with a page view that day.
    pub active_visitors: u64,
    /// Human persons whose first page view was that day.
    pub new_visitors: u64,
    pub pageviews: u64,
    /// Every message, bots included.
    pub messages: u64,
    pub signups: u64,
    pub purchases: u64,
    pub revenue: f64,
}

/// The model's parameters, the rates they imply, and what it realised. Complete once the
/// generator is exhausted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Truths {
    pub config: ModelConfig,
    pub expected: Expected,
    /// Every message generated, bots included.
    pub messages: u64,
    /// By Segment type (`page`, `track`, `identify`, `alias`).
    pub messages_by_type: BTreeMap<String, u64>,
    /// By stored event name (`$pageview`, `$identify`, `$create_alias`, track names).
    pub events_by_name: BTreeMap<String, u64>,
    /// Human persons (each is one person however many devices and ids).
    pub visitors: u64,
    pub bots: u64,
    pub bot_messages: u64,
    /// Distinct anonymous ids (humans' devices and bots).
    pub anonymous_ids: u64,
    /// Human sessions (each has its own `context.sessionId`).
    pub sessions: u64,
    pub pageviews: u64,
    /// Persons who identified (signed up).
    pub identified: u64,
    /// Identified persons who also logged in on a second device.
    pub second_device: u64,
    /// `$pageview` (visitors), then signup, activation, purchase.
    pub funnel: Vec<StepTruth>,
    pub purchases: u64,
    pub revenue: f64,
    /// By first-touch channel name.
    pub channels: BTreeMap<String, ChannelTruth>,
    /// By first-touch campaign name (`utm_campaign`).
    pub campaigns: BTreeMap<String, ChannelTruth>,
    /// Every human session by the channel it came through (returning sessions included).
    pub sessions_by_channel: BTreeMap<String, u64>,
    /// By variant name, when the model runs an experiment.
    pub experiment: BTreeMap<String, VariantTruth>,
    pub daily: Vec<DayTruth>,
    /// `retention[c][k]`: persons whose first page view was on day `c` and who viewed a page
    /// on day `c + k`.
    pub retention: Vec<Vec<u64>>,
    pub first_timestamp_ms: Option<i64>,
    pub last_timestamp_ms: Option<i64>,
}

/// How far one person went, for the funnel and channel counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reach {
    pub signed_up: bool,
    pub activated: bool,
    pub purchased: bool,
}

impl Truths {
    /// Empty counts for `config`.
    pub fn new(config: &ModelConfig) -> Truths {
        let f = &config.funnel;
        let days = config.days as usize;
        let start = config.start_ms();
        Truths {
            config: config.clone(),
            expected: Expected::of(config),
            funnel: ["$pageview", &f.signup_event, &f.activation_event, &f.purchase_event]
                .iter()
                .map(|e| StepTruth { event: e.to_string(), persons: 0 })
                .collect(),
            daily: (0..days)
                .map(|d| DayTruth {
                    date: super::clock::date(start + d as i64 * DAY_MS),
                    ..DayTruth::default()
                })
                .collect(),
            retention: (0..days).map(|c| vec![0; days - c]).collect(),
            ..Truths::default()
        }
    }

    fn day(&self, at_ms: i64) -> Option<usize> {
        let day = (at_ms - self.config.start_ms()).div_euclid(DAY_MS);
        (0..self.daily.len() as i64).contains(&day).then_some(day as usize)
    }

    /// Counts one emitted message.
    pub fn message(&mut self, message: &Message, at_ms: i64, bot: bool) {
        self.messages += 1;
        if bot {
            self.bot_messages += 1;
        }
        if let Some(kind) = message.kind {
            *self.messages_by_type.entry(kind.as_str().to_string()).or_default() += 1;
            if kind == numu_schemas::EventType::Page && !bot {
                self.pageviews += 1;
                if let Some(d) = self.day(at_ms) {
                    self.daily[d].pageviews += 1;
                }
            }
        }
        if let Some(name) = message.stored_event_name() {
            *self.events_by_name.entry(name).or_default() += 1;
        }
        if let Some(d) = self.day(at_ms) {
            self.daily[d].messages += 1;
        }
        self.first_timestamp_ms = Some(self.first_timestamp_ms.map_or(at_ms, |t| t.min(at_ms)));
        self.last_timestamp_ms = Some(self.last_timestamp_ms.map_or(at_ms, |t| t.max(at_ms)));
    }

    pub fn session(&mut self, channel: &str) {
        self.sessions += 1;
        *self.sessions_by_channel.entry(channel.to_string()).or_default() += 1;
    }

    /// A human person, after all their messages: first-touch channel and campaign, funnel
    /// reach, and the days (sorted, distinct) on which they viewed a page.
    pub fn person(&mut self, channel: &str, campaign: Option<&str>, reach: Reach, active_days: &[usize]) {
        self.visitors += 1;
        let steps = [true, reach.signed_up, reach.activated, reach.purchased];
        for (step, reached) in self.funnel.iter_mut().zip(steps) {
            step.persons += u64::from(reached);
        }
        let mut targets = vec![self.channels.entry(channel.to_string()).or_default()];
        if let Some(campaign) = campaign {
            targets.push(self.campaigns.entry(campaign.to_string()).or_default());
        }
        for t in targets {
            t.visitors += 1;
            t.signups += u64::from(reach.signed_up);
            t.activations += u64::from(reach.activated);
            t.purchasers += u64::from(reach.purchased);
        }
        if let Some(&first) = active_days.first() {
            self.daily[first].new_visitors += 1;
            for &d in active_days {
                self.daily[d].active_visitors += 1;
                self.retention[first][d - first] += 1;
            }
        }
    }

    pub fn signup(&mut self, at_ms: i64) {
        self.identified += 1;
        if let Some(d) = self.day(at_ms) {
            self.daily[d].signups += 1;
        }
    }

    /// A purchase, credited to the buyer's first-touch channel and campaign.
    pub fn purchase(&mut self, at_ms: i64, revenue: f64, channel: &str, campaign: Option<&str>) {
        self.purchases += 1;
        self.revenue += revenue;
        if let Some(d) = self.day(at_ms) {
            self.daily[d].purchases += 1;
            self.daily[d].revenue += revenue;
        }
        let c = self.channels.entry(channel.to_string()).or_default();
        c.purchases += 1;
        c.revenue += revenue;
        if let Some(campaign) = campaign {
            let c = self.campaigns.entry(campaign.to_string()).or_default();
            c.purchases += 1;
            c.revenue += revenue;
        }
    }

    pub fn exposure(&mut self, variant: &str, converted: bool) {
        let v = self.experiment.entry(variant.to_string()).or_default();
        v.exposed += 1;
        v.converted += u64::from(converted);
    }

    /// Realised share of human visitors who reached funnel step `k` from step `k - 1`.
    pub fn step_conversion(&self, k: usize) -> f64 {
        let (before, after) = (self.funnel[k - 1].persons, self.funnel[k].persons);
        if before == 0 {
            0.0
        } else {
            after as f64 / before as f64
        }
    }

    /// Human visitors by the channel the collector stores for their first page view
    /// (`ChannelConfig::stored_as`): several model channels may share one.
    pub fn stored_channel_visitors(&self) -> BTreeMap<String, u64> {
        let mut stored = BTreeMap::new();
        for channel in &self.config.channels {
            let visitors = self.channels.get(&channel.name).map_or(0, |c| c.visitors);
            *stored.entry(channel.stored_as.clone()).or_default() += visitors;
        }
        stored
    }

    /// Realised share of human visitors whose first visit came through `channel`.
    pub fn channel_share(&self, channel: &str) -> f64 {
        let visitors = self.channels.get(channel).map_or(0, |c| c.visitors);
        if self.visitors == 0 {
            0.0
        } else {
            visitors as f64 / self.visitors as f64
        }
    }
}
