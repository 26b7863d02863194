//! The streaming generator: visitors arrive day by day (weekly rhythm, growth, noise), each
//! is planned and written whole into a small buffer, and the buffer is drained one message
//! at a time — memory stays constant however many events are asked for.

use std::collections::VecDeque;

use numu_schemas::Message;

use super::clock::weekday;
use super::config::{ModelConfig, ModelError};
use super::person::{arrival, plan};
use super::rng::Rand;
use super::session::Writer;
use super::truths::Truths;

const PURPOSE_DAY: u64 = 0x00444159;
const PURPOSE_VISITOR: u64 = 0x00564953;

/// Mean arrivals (bots included) on `day`: the level at mid-period, the weekday's factor and
/// the growth trend.
pub fn mean_arrivals(config: &ModelConfig, day: u32) -> f64 {
    let factors = &config.weekday_factors;
    let mean_factor = factors.iter().sum::<f64>() / 7.0;
    let at = config.start_ms() + i64::from(day) * super::clock::DAY_MS;
    let factor = factors[weekday(at)] / mean_factor;
    let from_middle = f64::from(day) - f64::from(config.days - 1) / 2.0;
    config.visitors_per_day * factor * (1.0 + config.daily_growth).powf(from_middle)
}

/// Visitors arriving on `day` (before those too close to `now` are dropped): the mean with
/// ±4 % day-to-day noise, rounded at random.
pub fn arrivals(config: &ModelConfig, day: u32) -> u64 {
    let mut rng = Rand::new(config.seed, PURPOSE_DAY, u64::from(day));
    let mean = mean_arrivals(config, day) * (1.0 + 0.04 * rng.normal()).max(0.0);
    mean.floor() as u64 + u64::from(rng.chance(mean.fract()))
}

/// An iterator over the model's messages, visitor by visitor (each visitor's messages in time
/// order; visitors in order of their first day). Same configuration, same messages.
pub struct Generator {
    config: ModelConfig,
    day: u32,
    left_today: u64,
    next_visitor: u64,
    buffer: VecDeque<Message>,
    truths: Truths,
}

impl Generator {
    pub fn new(config: ModelConfig) -> Result<Generator, ModelError> {
        config.validate()?;
        let truths = Truths::new(&config);
        let left_today = arrivals(&config, 0);
        Ok(Generator { config, day: 0, left_today, next_visitor: 0, buffer: VecDeque::new(), truths })
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The truths so far; complete once the iterator has returned `None`.
    pub fn truths(&self) -> &Truths {
        &self.truths
    }

    pub fn into_truths(self) -> Truths {
        self.truths
    }

    /// Writes the next visitor into the buffer; `false` when the period is over.
    fn next_visitor(&mut self) -> bool {
        while self.left_today == 0 {
            self.day += 1;
            if self.day >= self.config.days {
                return false;
            }
            self.left_today = arrivals(&self.config, self.day);
        }
        self.left_today -= 1;
        let index = self.next_visitor;
        self.next_visitor += 1;
        let mut rng = Rand::new(self.config.seed, PURPOSE_VISITOR, index);
        let bot = rng.chance(self.config.bot_share);
        let Some(first) = arrival(&mut rng, &self.config, self.day, bot) else { return true };
        if bot {
            Writer::new(&self.config, rng, index, &mut self.buffer, &mut self.truths).bot(first);
        } else {
            let plan = plan(&mut rng, &self.config, first);
            Writer::new(&self.config, rng, index, &mut self.buffer, &mut self.truths).human(&plan);
        }
        true
    }
}

impl Iterator for Generator {
    type Item = Message;

    fn next(&mut self) -> Option<Message> {
        loop {
            if let Some(message) = self.buffer.pop_front() {
                return Some(message);
            }
            if !self.next_visitor() {
                return None;
            }
        }
    }
}

/// Generates everything and returns the truths (messages discarded).
pub fn truths_of(config: ModelConfig) -> Result<Truths, ModelError> {
    let mut generator = Generator::new(config)?;
    for _ in generator.by_ref() {}
    Ok(generator.into_truths())
}

impl ModelConfig {
    /// About how many messages this configuration yields, measured on a small run with the
    /// same parameters (about 3,000 visitors) and scaled.
    pub fn estimate_messages(&self) -> Result<u64, ModelError> {
        let sample = self.sample_config();
        let measured = truths_of(sample.clone())?.messages as f64;
        Ok((measured * self.visitors_per_day / sample.visitors_per_day.max(f64::MIN_POSITIVE)).round() as u64)
    }

    /// This configuration with `visitors_per_day` set so it yields about `messages` messages.
    pub fn sized_for(mut self, messages: u64) -> Result<ModelConfig, ModelError> {
        let sample = self.sample_config();
        let measured = truths_of(sample.clone())?.messages.max(1) as f64;
        self.visitors_per_day = sample.visitors_per_day * messages as f64 / measured;
        Ok(self)
    }

    fn sample_config(&self) -> ModelConfig {
        let mut sample = self.clone();
        sample.visitors_per_day = (3000.0 / f64::from(self.days.max(1))).max(5.0);
        sample
    }
}
