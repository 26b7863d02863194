//! The messages of one page view and of the actions taken on it: `page`, `$click`s around
//! the page's buttons, `$scroll` depth on leaving, exposure, signup (`alias`, `identify`),
//! activation, purchase and login.

use serde_json::{Map, Value};

use super::{Visit, Writer, ID_MESSAGE, ID_ORDER};
use crate::model::agents::{FIRST_NAMES, LAST_NAMES, SEGMENTS};
use crate::model::clock::{rfc3339, SECOND_MS};
use crate::model::message::{self, props, uuid_like};
use crate::model::pages::{self, place};
use crate::model::person::{Action, Plan, Source};

/// Longest time on one page, so a session never runs past the end of the period.
const MAX_DWELL_MS: i64 = 240 * SECOND_MS;

impl Writer<'_> {
    /// Views `path`: the `page` message, then clicks; the scroll depth is reported on leaving.
    pub(super) fn page(&mut self, visit: &mut Visit, path: &str, source: Option<&Source<'_>>) {
        self.leave(visit);
        let view = self.view(path, source, visit);
        let id = self.id(ID_MESSAGE);
        let m = message::page(id, visit.t, &self.sender(visit), &view);
        self.push(m, visit.t);
        visit.view = Some(view);
        let s = &self.config.session;
        let dwell = (3.0 * SECOND_MS as f64 + self.rng.exp(s.mean_dwell_secs * SECOND_MS as f64)) as i64;
        let dwell = dwell.min(MAX_DWELL_MS);
        let p = s.clicks_per_page / (1.0 + s.clicks_per_page);
        let clicks = self.rng.geometric(p, 8);
        for _ in 0..clicks {
            visit.t += 600 + self.rng.below((dwell / i64::from(clicks + 1)) as u64) as i64;
            self.click(visit, path);
        }
        visit.t += (dwell / 2).max(SECOND_MS);
        visit.scroll = self.rng.chance(s.scroll_share).then(|| self.depth(path, visit));
    }

    /// Leaves the current page: reports its scroll depth.
    pub(super) fn leave(&mut self, visit: &mut Visit) {
        let (Some(depth), Some(view)) = (visit.scroll.take(), visit.view.as_ref()) else { return };
        let vw = self.devices[visit.device].viewport.0;
        let height = pages::height(pages::find(&view.path), vw);
        let properties = props([
            ("depth", Value::from((depth * 100.0).round() as u32)),
            ("px", Value::from((depth * f64::from(height)).round() as u32)),
        ]);
        visit.t += 300 + self.rng.below(1500) as i64;
        self.track(visit, "$scroll", properties);
        visit.t += 500;
    }

    /// Deepest fraction of the page seen: a quarter never scroll past the first screen.
    fn depth(&mut self, path: &str, visit: &Visit) -> f64 {
        let (vw, vh) = self.devices[visit.device].viewport;
        let first_screen = (f64::from(vh) / f64::from(pages::height(pages::find(path), vw))).min(1.0);
        if self.rng.chance(0.25) {
            first_screen
        } else {
            first_screen + (1.0 - first_screen) * self.rng.f64().powf(0.7)
        }
    }

    /// A click: around a button (by the buttons' weights) or, sometimes, anywhere.
    fn click(&mut self, visit: &mut Visit, path: &str) {
        let page = pages::find(path);
        let (vw, vh) = self.devices[visit.device].viewport;
        let height = f64::from(pages::height(page, vw));
        let stray = page.buttons.is_empty() || self.rng.chance(self.config.session.stray_click_share);
        let mut properties = Map::new();
        let (x, y) = if stray {
            properties.insert("sel".into(), "body".into());
            (self.rng.f64() * f64::from(vw), self.rng.f64() * height.min(f64::from(vh) * 3.0))
        } else {
            let button = self.rng.pick(page.buttons, |b| b.weight);
            let (cx, cy, w, h) = place(button, vw);
            properties.insert("sel".into(), button.sel.into());
            if !button.text.is_empty() {
                properties.insert("text".into(), button.text.into());
            }
            if button.sel.starts_with("nav.top") {
                properties.insert("fixed".into(), true.into());
            }
            (cx + self.rng.normal() * w / 5.0, cy + self.rng.normal() * h / 4.0)
        };
        properties.insert("x".into(), (x.clamp(0.0, f64::from(vw - 1)).round() as u32).into());
        properties.insert("y".into(), (y.clamp(0.0, height - 1.0).round() as u32).into());
        properties.insert("vw".into(), vw.into());
        properties.insert("vh".into(), vh.into());
        self.track(visit, "$click", properties);
    }

    fn track(&mut self, visit: &Visit, event: &str, properties: Map<String, Value>) {
        let view = visit.view.clone().unwrap_or_default();
        let id = self.id(ID_MESSAGE);
        let m = message::track(id, visit.t, &self.sender(visit), &view, event, properties);
        self.push(m, visit.t);
    }

    /// An action on the current page, a few seconds after it was viewed.
    pub(super) fn act(&mut self, visit: &mut Visit, action: Action, plan: &Plan<'_>) {
        visit.t += 2 * SECOND_MS + self.rng.below(8000) as i64;
        let f = &self.config.funnel;
        match action {
            Action::Expose => {
                let (Some(x), Some(v)) = (&self.config.experiment, plan.variant) else { return };
                let properties =
                    props([("experiment", x.key.clone().into()), ("variant", v.name.clone().into())]);
                self.track(visit, "$experiment_exposure", properties);
            }
            Action::Signup => self.signup(visit),
            Action::Activate => {
                let kind = ["website", "web app", "online store"][self.rng.below(3) as usize];
                self.track(visit, &f.activation_event.clone(), props([("first_project", kind.into())]));
            }
            Action::Purchase => self.purchase(visit, plan),
            Action::Login => {
                let traits = props([("email", self.email().into())]);
                self.identify(visit, traits);
            }
        }
        visit.t += SECOND_MS;
    }

    fn email(&self) -> String {
        let n = self.person as usize;
        let first = FIRST_NAMES[n % FIRST_NAMES.len()];
        let last = LAST_NAMES[(n / FIRST_NAMES.len()) % LAST_NAMES.len()];
        format!("{}.{}{}@example.com", first.to_lowercase(), ascii(last).to_lowercase(), n)
    }

    fn identify(&mut self, visit: &Visit, traits: Map<String, Value>) {
        let view = visit.view.clone().unwrap_or_default();
        let id = self.id(ID_MESSAGE);
        let m = message::identify(id, visit.t, &self.sender(visit), &view, traits);
        self.push(m, visit.t);
    }

    /// `alias` (sometimes), `identify` with traits, then the signup event.
    fn signup(&mut self, visit: &mut Visit) {
        let view = visit.view.clone().unwrap_or_default();
        if self.rng.chance(self.config.alias_share) {
            let id = self.id(ID_MESSAGE);
            let m = message::alias(id, visit.t, &self.sender(visit), &view);
            self.push(m, visit.t);
            visit.t += 200;
        }
        let n = self.person as usize;
        let segment = self.rng.pick(SEGMENTS, |s| s.1).0;
        let name = format!(
            "{} {}",
            FIRST_NAMES[n % FIRST_NAMES.len()],
            LAST_NAMES[(n / FIRST_NAMES.len()) % LAST_NAMES.len()]
        );
        let traits = props([
            ("email", self.email().into()),
            ("name", name.into()),
            ("segment", segment.into()),
            ("created_at", rfc3339(visit.t).into()),
        ]);
        self.identify(visit, traits);
        visit.t += 300;
        let method = if self.rng.chance(0.3) { "google" } else { "email" };
        let event = self.config.funnel.signup_event.clone();
        self.track(visit, &event, props([("method", method.into()), ("segment", segment.into())]));
        self.truths.signup(visit.t);
    }

    fn purchase(&mut self, visit: &mut Visit, plan: &Plan<'_>) {
        let f = &self.config.funnel;
        let chosen = self.rng.pick(&f.plans, |p| p.weight);
        let quantity = if self.rng.chance(0.8) { 1 } else { 2 + self.rng.below(4) };
        let revenue = chosen.price * quantity as f64;
        let order_id = uuid_like(&[self.config.seed, ID_ORDER, self.person, visit.t as u64]);
        let properties = props([
            ("order_id", order_id.into()),
            ("revenue", revenue.into()),
            ("currency", "USD".into()),
            ("plan", chosen.name.clone().into()),
            ("quantity", quantity.into()),
        ]);
        let event = f.purchase_event.clone();
        self.track(visit, &event, properties);
        let campaign = plan.source.campaign.map(|c| c.name.as_str());
        self.truths.purchase(visit.t, revenue, &plan.source.channel.name, campaign);
    }
}

/// Latin letters only, for e-mail addresses.
fn ascii(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'ü' => 'u',
            'ı' => 'i',
            'í' => 'i',
            'ç' => 'c',
            'ã' => 'a',
            c => c,
        })
        .filter(char::is_ascii_alphabetic)
        .collect()
}
