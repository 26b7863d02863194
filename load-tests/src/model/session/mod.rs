//! Writing a planned visitor as messages: each session's pages (with clicks on buttons and
//! scroll depth), the funnel and identity steps placed in it, on the right device.

use std::collections::VecDeque;

use numu_schemas::event::Campaign;
use numu_schemas::Message;

use super::agents::{chrome_height, screens, Device, Locale, BOT_AGENTS, HUMAN_AGENTS, LOCALES};
use super::clock::{DAY_MS, SECOND_MS};
use super::config::ModelConfig;
use super::message::{self, uuid_like, DeviceState, PageView, Sender};
use super::pages::{self, APP_BROWSE, BROWSE, PAGES};
use super::person::{Action, Plan, SessionPlan, Source};
use super::rng::{hash, Rand};
use super::truths::Truths;

const ID_MESSAGE: u64 = 0x004D5347;
const ID_DEVICE: u64 = 0x00444556;
const ID_SESSION: u64 = 0x00534553;
const ID_USER: u64 = 0x00555352;
const ID_ORDER: u64 = 0x004F5244;

/// Makes a device of the given class (phones and tablets when `class` is `Mobile`).
pub fn device(
    rng: &mut Rand,
    seed: u64,
    person: u64,
    n: u64,
    class: Device,
    locale: Option<&'static Locale>,
) -> DeviceState {
    let agents = if class == Device::Bot { BOT_AGENTS } else { HUMAN_AGENTS };
    let fits = |d: Device| match class {
        Device::Mobile | Device::Tablet => matches!(d, Device::Mobile | Device::Tablet),
        other => d == other,
    };
    let agent = rng.pick(agents, |a| if fits(a.device) { a.weight } else { 0.0 });
    let &(width, height, _) = rng.pick(screens(agent.device), |s| s.2);
    let locale = locale.unwrap_or_else(|| rng.pick(LOCALES, |l| l.weight));
    let octet = locale.ip_first_octets[rng.below(locale.ip_first_octets.len() as u64) as usize];
    let ip = format!("{octet}.{}.{}.{}", rng.below(256), rng.below(256), 1 + rng.below(254));
    DeviceState {
        agent,
        screen: (width, height),
        viewport: (width, height - chrome_height(agent.device)),
        locale,
        ip,
        anonymous_id: uuid_like(&[seed, ID_DEVICE, person, n]),
    }
}

/// The landing URL's query for a campaign: UTM parameters and the click id.
fn campaign_query(rng: &mut Rand, source: &Source<'_>) -> (String, Option<Campaign>) {
    let Some(c) = source.campaign else { return (String::new(), None) };
    let mut query =
        form_encode(&[("utm_source", &c.source), ("utm_medium", &c.medium), ("utm_campaign", &c.name)]);
    for (key, value) in [("utm_term", &c.term), ("utm_content", &c.content)] {
        if let Some(value) = value {
            query.push('&');
            query.push_str(&form_encode(&[(key, value)]));
        }
    }
    if let Some(click_id) = &c.click_id {
        query.push_str(&format!(
            "&{click_id}={}",
            rng.token(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", 32)
        ));
    }
    let campaign = Campaign {
        name: Some(c.name.clone()),
        source: Some(c.source.clone()),
        medium: Some(c.medium.clone()),
        term: c.term.clone(),
        content: c.content.clone(),
    };
    (format!("?{query}"), Some(campaign))
}

fn form_encode(pairs: &[(&str, &str)]) -> String {
    let encode = |s: &str| s.replace('%', "%25").replace(' ', "+").replace('&', "%26").replace('=', "%3D");
    pairs.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&")
}

/// One step of a session: a page to view, or an action taken on the page just viewed.
enum Step {
    Page(&'static str),
    Act(Action),
}

/// The session being written.
struct Visit {
    device: usize,
    user_id: Option<String>,
    session_id: String,
    t: i64,
    view: Option<PageView>,
    /// Depth (fraction of the page) to report when leaving the current page.
    scroll: Option<f64>,
}

/// Writes one visitor's messages into `out` and counts them in `truths`.
pub struct Writer<'a> {
    pub config: &'a ModelConfig,
    pub rng: Rand,
    pub person: u64,
    pub out: &'a mut VecDeque<Message>,
    pub truths: &'a mut Truths,
    pub bot: bool,
    pub devices: Vec<DeviceState>,
    seq: u64,
    /// Days (of the period) on which this visitor viewed a page.
    days: Vec<usize>,
}

impl<'a> Writer<'a> {
    pub fn new(
        config: &'a ModelConfig,
        rng: Rand,
        person: u64,
        out: &'a mut VecDeque<Message>,
        truths: &'a mut Truths,
    ) -> Self {
        Writer { config, rng, person, out, truths, bot: false, devices: Vec::new(), seq: 0, days: Vec::new() }
    }

    fn id(&mut self, purpose: u64) -> String {
        self.seq += 1;
        uuid_like(&[self.config.seed, purpose, self.person, self.seq])
    }

    fn sender<'v>(&'v self, visit: &'v Visit) -> Sender<'v> {
        Sender {
            device: &self.devices[visit.device],
            user_id: visit.user_id.as_deref(),
            session_id: &visit.session_id,
        }
    }

    fn push(&mut self, message: Message, at: i64) {
        if message.kind == Some(numu_schemas::EventType::Page) {
            let day = ((at - self.config.start_ms()) / DAY_MS) as usize;
            if self.days.last() != Some(&day) {
                self.days.push(day);
            }
        }
        self.truths.message(&message, at, self.bot);
        self.out.push_back(message);
    }

    /// A crawler: one quick burst of page views, no clicks, no scroll, no referrer.
    pub fn bot(&mut self, arrival: i64) {
        self.bot = true;
        let device = device(&mut self.rng, self.config.seed, self.person, 0, Device::Bot, None);
        self.devices.push(device);
        let session_id = self.id(ID_SESSION);
        let mut visit = Visit { device: 0, user_id: None, session_id, t: arrival, view: None, scroll: None };
        for _ in 0..1 + self.rng.geometric(0.85, 40) {
            let page = &PAGES[self.rng.below(PAGES.len() as u64) as usize];
            let view = self.view(page.path, None, &visit);
            let id = self.id(ID_MESSAGE);
            let m = message::page(id, visit.t, &self.sender(&visit), &view);
            self.push(m, visit.t);
            visit.t += SECOND_MS + self.rng.below(3000) as i64;
        }
        self.truths.bots += 1;
        self.truths.anonymous_ids += 1;
    }

    /// A human visitor following `plan`.
    pub fn human(&mut self, plan: &Plan<'_>) {
        let class = if plan.mobile { Device::Mobile } else { Device::Desktop };
        let primary = device(&mut self.rng, self.config.seed, self.person, 0, class, None);
        let locale = primary.locale;
        self.devices.push(primary);
        let user_id =
            format!("usr_{:012x}", hash(&[self.config.seed, ID_USER, self.person]) & 0xffff_ffff_ffff);
        let mut logged_in = false;
        for (k, session) in plan.sessions.iter().enumerate() {
            if session.second_device {
                let other = if plan.mobile { Device::Desktop } else { Device::Mobile };
                let device = device(&mut self.rng, self.config.seed, self.person, 1, other, Some(locale));
                self.devices.push(device);
                self.truths.second_device += 1;
            }
            let device = usize::from(session.second_device);
            let carried = (logged_in && !session.second_device).then(|| user_id.clone());
            let session_id = self.id(ID_SESSION);
            let mut visit =
                Visit { device, user_id: carried, session_id, t: session.start, view: None, scroll: None };
            let first = k == 0;
            let channel = if session.direct || session.second_device {
                "Direct"
            } else {
                plan.source.channel.name.as_str()
            };
            self.truths.session(channel);
            let steps = self.steps(plan, session, first, logged_in);
            for step in steps {
                match step {
                    Step::Page(path) => {
                        let source =
                            (first || !session.direct) && !session.second_device && visit.view.is_none();
                        self.page(&mut visit, path, source.then_some(&plan.source));
                    }
                    Step::Act(action) => {
                        if matches!(action, Action::Signup | Action::Login) {
                            visit.user_id = Some(user_id.clone());
                            logged_in |= action == Action::Signup;
                        }
                        self.act(&mut visit, action, plan);
                    }
                }
            }
            self.leave(&mut visit);
        }
        self.truths.anonymous_ids += self.devices.len() as u64;
        self.finish(plan);
    }

    fn finish(&mut self, plan: &Plan<'_>) {
        let mut days = std::mem::take(&mut self.days);
        days.sort_unstable();
        days.dedup();
        let campaign = plan.source.campaign.map(|c| c.name.as_str());
        self.truths.person(&plan.source.channel.name, campaign, plan.reach, &days);
        if let Some(variant) = plan.variant {
            self.truths.exposure(&variant.name, plan.reach.signed_up);
        }
    }

    /// A path, kept off the experiment's page for persons who are not in the experiment.
    fn allowed(&self, plan: &Plan<'_>, path: &'static str) -> &'static str {
        match &self.config.experiment {
            Some(x) if plan.variant.is_none() && x.exposure_path == path => "/features",
            _ => path,
        }
    }

    fn browse(&mut self, plan: &Plan<'_>, logged_in: bool) -> &'static str {
        let list = if logged_in && self.rng.chance(0.6) { APP_BROWSE } else { BROWSE };
        let path = self.rng.pick(list, |p| p.1).0;
        self.allowed(plan, path)
    }

    fn landing(
        &mut self,
        plan: &Plan<'_>,
        session: &SessionPlan,
        first: bool,
        logged_in: bool,
    ) -> &'static str {
        let path = if first {
            pages::find(plan.landing).path
        } else if session.second_device {
            "/"
        } else if session.direct {
            if logged_in && self.rng.chance(0.6) {
                "/app/dashboard"
            } else {
                self.browse(plan, false)
            }
        } else {
            let channel = plan.source.channel;
            let path = match plan.source.campaign.and_then(|c| c.landing_path.as_deref()) {
                Some(path) => path,
                None if channel.landing_paths.is_empty() => "/",
                None => self.rng.pick(&channel.landing_paths, |w| w.weight).value.as_str(),
            };
            pages::find(path).path
        };
        self.allowed(plan, path)
    }

    fn steps(&mut self, plan: &Plan<'_>, session: &SessionPlan, first: bool, logged_in: bool) -> Vec<Step> {
        let landing = self.landing(plan, session, first, logged_in);
        let mut steps = vec![Step::Page(landing)];
        for &action in &session.actions {
            match action {
                Action::Login => {
                    steps.extend([Step::Page("/login"), Step::Act(action), Step::Page("/app/dashboard")])
                }
                Action::Expose => {
                    let path = self
                        .config
                        .experiment
                        .as_ref()
                        .map_or("/pricing", |x| pages::find(&x.exposure_path).path);
                    if path != landing {
                        steps.push(Step::Page(path));
                    }
                    steps.push(Step::Act(action));
                }
                _ => {}
            }
        }
        let s = &self.config.session;
        for _ in 0..self.rng.geometric(s.continue_probability, s.max_pages.saturating_sub(1)) {
            let path = self.browse(plan, logged_in || session.actions.contains(&Action::Login));
            steps.push(Step::Page(path));
        }
        for &action in &session.actions {
            match action {
                Action::Signup => steps.extend([Step::Page("/signup"), Step::Act(action)]),
                Action::Activate => steps.extend([Step::Page("/app/onboarding"), Step::Act(action)]),
                Action::Purchase => {
                    steps.extend([
                        Step::Page("/checkout"),
                        Step::Act(action),
                        Step::Page("/checkout/success"),
                    ]);
                }
                Action::Login | Action::Expose => {}
            }
        }
        steps
    }

    /// The page view of `path`: landing pages carry the source's referrer and campaign.
    fn view(&mut self, path: &str, source: Option<&Source<'_>>, visit: &Visit) -> PageView {
        let page = pages::find(path);
        let (search, campaign) = source.map_or((String::new(), None), |s| campaign_query(&mut self.rng, s));
        let referrer = match (&visit.view, source) {
            (Some(previous), _) => previous.url.clone(),
            (None, Some(source)) => source.referrer.unwrap_or_default().to_string(),
            (None, None) => String::new(),
        };
        PageView {
            url: format!("{}{path}{search}", self.config.site),
            path: path.to_string(),
            search,
            referrer,
            title: page.title.to_string(),
            name: page.name.to_string(),
            campaign,
        }
    }
}

mod events;
