//! Planning one visitor before any message is written: arrival, first-touch source,
//! experiment exposure, how far through the funnel they will go, their sessions over the
//! following days, and which session each funnel step happens in.

use super::clock::{midnight, DAY_MS, HOUR_MS, MINUTE_MS};
use super::config::{CampaignConfig, ChannelConfig, ModelConfig, VariantConfig};
use super::expected::{base_signup, sources};
use super::rng::Rand;
use super::truths::Reach;

/// Sessions start at least this long before the end of the period, so they end before it.
pub const LAST_START_BEFORE_NOW_MS: i64 = 2 * HOUR_MS;

/// Where a visit comes from.
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    pub channel: &'a ChannelConfig,
    pub campaign: Option<&'a CampaignConfig>,
    pub referrer: Option<&'a str>,
}

/// A funnel or identity step placed in a session, in the order they happen there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Expose,
    Signup,
    Activate,
    Purchase,
    /// Logging in on the second device (`identify` from a new anonymous id).
    Login,
}

/// One planned session.
#[derive(Clone, Debug)]
pub struct SessionPlan {
    pub start: i64,
    pub second_device: bool,
    /// Returning sessions that came direct rather than through the first-touch source.
    pub direct: bool,
    pub actions: Vec<Action>,
}

/// Everything decided about a human visitor up front.
#[derive(Clone, Debug)]
pub struct Plan<'a> {
    pub source: Source<'a>,
    pub landing: &'a str,
    pub variant: Option<&'a VariantConfig>,
    pub reach: Reach,
    pub mobile: bool,
    pub sessions: Vec<SessionPlan>,
}

/// A time of day (ms after midnight) drawn from the hourly weights.
pub fn time_of_day(rng: &mut Rand, hourly: &[f64; 24]) -> i64 {
    let hour = rng.weighted(hourly.iter().copied()) as i64;
    hour * HOUR_MS + rng.below(HOUR_MS as u64) as i64
}

/// The arrival time of a visitor on `day`, or `None` when it falls too close to `now`.
pub fn arrival(rng: &mut Rand, config: &ModelConfig, day: u32, bot: bool) -> Option<i64> {
    let in_day = if bot { rng.below(DAY_MS as u64) as i64 } else { time_of_day(rng, &config.hourly_weights) };
    let at = config.start_ms() + i64::from(day) * DAY_MS + in_day;
    (at <= config.now_ms - LAST_START_BEFORE_NOW_MS).then_some(at)
}

fn pick_weighted<'a>(rng: &mut Rand, items: &'a [super::config::Weighted]) -> Option<&'a str> {
    (!items.is_empty()).then(|| rng.pick(items, |w| w.weight).value.as_str())
}

/// A first-touch source and landing page.
pub fn first_touch<'a>(rng: &mut Rand, config: &'a ModelConfig) -> (Source<'a>, &'a str) {
    let channel = rng.pick(&config.channels, |c| c.weight);
    let options = sources(channel);
    let campaign = options[rng.weighted(options.iter().map(|(_, s)| *s))].0;
    let referrer = match campaign {
        Some(c) => c.referrer.as_deref(),
        None => pick_weighted(rng, &channel.referrers),
    };
    let landing = campaign.and_then(|c| c.landing_path.as_deref());
    let landing = landing.or_else(|| pick_weighted(rng, &channel.landing_paths)).unwrap_or("/");
    (Source { channel, campaign, referrer }, landing)
}

/// Session start times from `first`: after each session the person returns with
/// probability `p_return`, a gap later (at a time of day drawn from the daily rhythm).
fn session_starts(rng: &mut Rand, config: &ModelConfig, first: i64, p_return: f64) -> Vec<i64> {
    let last = config.now_ms - LAST_START_BEFORE_NOW_MS;
    let mut starts = vec![first];
    while starts.len() < config.returns.max_sessions as usize && rng.chance(p_return) {
        let previous = *starts.last().unwrap_or(&first);
        let gap = (rng.exp(config.returns.mean_gap_days) * DAY_MS as f64) as i64;
        let day = midnight(previous + gap);
        let next = (day + time_of_day(rng, &config.hourly_weights)).max(previous + 40 * MINUTE_MS);
        if next > last {
            break;
        }
        starts.push(next);
    }
    starts
}

/// Index of the session of a step: the same as the step before, or one of the next ones
/// (within the funnel window).
fn later(rng: &mut Rand, from: usize, in_window: usize, stay: f64) -> usize {
    if rng.chance(stay) || from + 1 >= in_window {
        from
    } else {
        from + 1 + usize::from(from + 2 < in_window && rng.chance(0.3))
    }
}

/// Places the funnel steps (and repeat purchases) into sessions.
fn place_steps(rng: &mut Rand, config: &ModelConfig, sessions: &mut [SessionPlan], reach: Reach) {
    let window = i64::from(config.funnel.window_days) * DAY_MS;
    let first = sessions[0].start;
    let in_window = sessions.iter().take_while(|s| s.start - first <= window).count();
    if !reach.signed_up {
        return;
    }
    let signup = rng.weighted([0.55, 0.3, 0.15].into_iter().take(in_window.min(3)));
    sessions[signup].actions.push(Action::Signup);
    if !reach.activated {
        return;
    }
    let activation = later(rng, signup, in_window, 0.6);
    sessions[activation].actions.push(Action::Activate);
    if !reach.purchased {
        return;
    }
    let purchase = later(rng, activation, in_window, 0.4);
    sessions[purchase].actions.push(Action::Purchase);
    for session in sessions.iter_mut().skip(purchase + 1) {
        if !session.second_device && rng.chance(config.funnel.repeat_purchase_probability) {
            session.actions.push(Action::Purchase);
        }
    }
}

/// A second-device session some time after signup, when the person has one.
fn second_device(rng: &mut Rand, config: &ModelConfig, sessions: &mut Vec<SessionPlan>) {
    let Some(signup) = sessions.iter().position(|s| s.actions.contains(&Action::Signup)) else { return };
    if !rng.chance(config.second_device_share) {
        return;
    }
    let at = sessions[signup].start + HOUR_MS + (rng.exp(2.0) * DAY_MS as f64) as i64;
    if at > config.now_ms - LAST_START_BEFORE_NOW_MS {
        return;
    }
    let plan = SessionPlan { start: at, second_device: true, direct: true, actions: vec![Action::Login] };
    let position = sessions.iter().position(|s| s.start > at).unwrap_or(sessions.len());
    sessions.insert(position, plan);
}

/// Plans a human visitor arriving at `first`.
pub fn plan<'a>(rng: &mut Rand, config: &'a ModelConfig, first: i64) -> Plan<'a> {
    let (source, landing) = first_touch(rng, config);
    let mobile = rng.chance(config.mobile_share);
    let mut p_signup = base_signup(config, source.channel, source.campaign);
    let mut variant = None;
    if let Some(experiment) = &config.experiment {
        if landing == experiment.exposure_path || rng.chance(experiment.exposure_share) {
            let chosen = rng.pick(&experiment.variants, |v| v.weight);
            p_signup *= 1.0 + chosen.lift;
            variant = Some(chosen);
        }
    }
    let f = &config.funnel;
    let signed_up = rng.chance(p_signup.min(1.0));
    let activated = signed_up && rng.chance(f.activation_probability);
    let reach = Reach { signed_up, activated, purchased: activated && rng.chance(f.purchase_probability) };
    let r = &config.returns;
    let p_return = match (reach.purchased, reach.activated, reach.signed_up) {
        (true, _, _) => r.purchaser,
        (_, true, _) => r.activated,
        (_, _, true) => r.signed_up,
        _ => r.visitor,
    };
    let mut sessions: Vec<SessionPlan> = session_starts(rng, config, first, p_return)
        .into_iter()
        .enumerate()
        .map(|(i, start)| SessionPlan {
            start,
            second_device: false,
            direct: i > 0 && rng.chance(r.direct_share),
            actions: Vec::new(),
        })
        .collect();
    if variant.is_some() {
        sessions[0].actions.push(Action::Expose);
    }
    place_steps(rng, config, &mut sessions, reach);
    second_device(rng, config, &mut sessions);
    Plan { source, landing, variant, reach, mobile, sessions }
}
