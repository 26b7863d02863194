//! The traffic model on its own: determinism, the wire format of its messages, and the
//! realised data agreeing with its parameters (within sampling error) and with its truths.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use numu_load_tests::model::clock::{parse_rfc3339, DAY_MS, HOUR_MS};
use numu_load_tests::model::{pages, simple_row, Generator, ModelConfig, Truths};
use numu_schemas::{EventType, Message};
use serde_json::Value;

fn small(seed: u64) -> ModelConfig {
    ModelConfig { seed, days: 3, visitors_per_day: 150.0, ..ModelConfig::default() }
}

fn generate(config: ModelConfig) -> (Vec<Message>, Truths) {
    let mut generator = Generator::new(config).unwrap();
    let messages: Vec<Message> = generator.by_ref().collect();
    (messages, generator.into_truths())
}

fn text(value: &Option<Value>) -> String {
    value.as_ref().and_then(Value::as_str).unwrap_or_default().to_string()
}

#[test]
fn same_seed_gives_byte_identical_messages() {
    let bytes = |seed| serde_json::to_vec(&generate(small(seed)).0).unwrap();
    let first = bytes(7);
    assert!(first.len() > 100_000, "a few hundred visitors make a few thousand messages");
    assert_eq!(first, bytes(7));
    assert_ne!(first, bytes(8));
    let truths = |seed| serde_json::to_string(&generate(small(seed)).1).unwrap();
    assert_eq!(truths(7), truths(7));
}

#[test]
fn messages_are_segment_batch_items() {
    let config = small(3);
    let (start, now) = (config.start_ms(), config.now_ms);
    let (messages, truths) = generate(config);
    assert_eq!(truths.messages, messages.len() as u64);
    let mut ids = BTreeSet::new();
    for m in &messages {
        assert!(ids.insert(m.message_id.clone().unwrap()), "message ids are unique");
        let timestamp = m.timestamp.as_deref().unwrap();
        assert_eq!(timestamp.len(), 24, "RFC 3339 with milliseconds: {timestamp}");
        let at = parse_rfc3339(timestamp).unwrap();
        assert!(at >= start && at < now, "{timestamp} is inside the period");
        assert!(!text(&m.anonymous_id).is_empty());
        let context = m.context.as_ref().unwrap();
        let page = context.page.as_ref().unwrap();
        assert!(page.url.as_deref().unwrap().starts_with("https://www.example.com/"));
        assert!(context.user_agent.is_some() && context.ip.is_some() && context.session_id.is_some());
        match m.kind.unwrap() {
            EventType::Track => assert!(m.event.is_some() && m.properties.is_some()),
            EventType::Page => assert!(m.name.is_some()),
            EventType::Identify => assert!(!text(&m.user_id).is_empty()),
            EventType::Alias => assert!(!text(&m.user_id).is_empty() && !text(&m.previous_id).is_empty()),
            other => panic!("the model sends no {other:?}"),
        }
        let json = serde_json::to_value(m).unwrap();
        assert!(
            json.get("messageId").is_some() && json.get("anonymousId").is_some(),
            "camelCase on the wire"
        );
    }
}

/// `|realised - expected| <= 4 standard errors` of a proportion over `n` trials.
fn within_sampling_error(what: &str, realised: f64, expected: f64, n: u64) {
    let se = (expected * (1.0 - expected) / n as f64).sqrt();
    assert!(
        (realised - expected).abs() <= 4.0 * se + 1e-9,
        "{what}: realised {realised:.4}, expected {expected:.4} (n {n}, se {se:.4})"
    );
}

#[test]
fn realised_rates_match_the_parameters_within_sampling_error() {
    let config = ModelConfig { seed: 11, days: 14, visitors_per_day: 1550.0, ..ModelConfig::default() };
    let (_, truths) = generate(config);
    let e = &truths.expected;
    assert!(truths.visitors >= 18_000, "a moderate size: {} human visitors", truths.visitors);
    for (channel, share) in &e.channel_share {
        within_sampling_error(
            &format!("share of {channel}"),
            truths.channel_share(channel),
            *share,
            truths.visitors,
        );
    }
    for k in 1..=3 {
        let n = truths.funnel[k - 1].persons;
        within_sampling_error(&format!("funnel step {k}"), truths.step_conversion(k), e.step_rates[k - 1], n);
    }
    for (channel, rate) in &e.signup_rate_by_channel {
        let c = &truths.channels[channel];
        within_sampling_error(
            &format!("signups of {channel}"),
            c.signups as f64 / c.visitors as f64,
            *rate,
            c.visitors,
        );
    }
    for (variant, rate) in &e.variant_conversion {
        let v = &truths.experiment[variant];
        within_sampling_error(
            &format!("conversion of {variant}"),
            v.converted as f64 / v.exposed as f64,
            *rate,
            v.exposed,
        );
    }
    let all = truths.visitors + truths.bots;
    within_sampling_error("bot share", truths.bots as f64 / all as f64, truths.config.bot_share, all);
    assert!(e.signup_rate_by_campaign["brand_search"] > 2.0 * e.signup_rate_by_campaign["spring_promo"]);
}

#[test]
fn truths_agree_with_the_messages() {
    let (messages, truths) =
        generate(ModelConfig { seed: 5, days: 10, visitors_per_day: 120.0, ..ModelConfig::default() });
    let f = &truths.config.funnel;
    let mut by_name: BTreeMap<String, u64> = BTreeMap::new();
    let (mut revenue, mut anonymous, mut sessions) = (0.0, BTreeSet::new(), BTreeSet::new());
    let mut persons_by_event: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut user_devices: HashMap<String, BTreeSet<String>> = HashMap::new();
    for m in &messages {
        let name = m.stored_event_name().unwrap();
        *by_name.entry(name.clone()).or_default() += 1;
        anonymous.insert(text(&m.anonymous_id));
        sessions.insert(m.context.as_ref().unwrap().session_id.clone().unwrap().to_string());
        let user = text(&m.user_id);
        if !user.is_empty() {
            persons_by_event.entry(name.clone()).or_default().insert(user.clone());
            user_devices.entry(user).or_default().insert(text(&m.anonymous_id));
        }
        if name == f.purchase_event {
            revenue += m.properties.as_ref().unwrap()["revenue"].as_f64().unwrap();
        }
    }
    assert_eq!(by_name, truths.events_by_name);
    assert_eq!(by_name["$pageview"], truths.pageviews + count_bot_pages(&messages));
    assert_eq!(by_name[&f.purchase_event], truths.purchases);
    assert!((revenue - truths.revenue).abs() < 1e-6);
    assert_eq!(anonymous.len() as u64, truths.anonymous_ids);
    assert_eq!(sessions.len() as u64, truths.sessions + truths.bots, "one session id per session");
    for (k, event) in [(1, &f.signup_event), (2, &f.activation_event), (3, &f.purchase_event)] {
        assert_eq!(persons_by_event[event.as_str()].len() as u64, truths.funnel[k].persons, "{event}");
    }
    assert_eq!(by_name[&f.signup_event], truths.identified);
    let two_devices = user_devices.values().filter(|d| d.len() == 2).count() as u64;
    assert!(truths.second_device > 0);
    assert_eq!(
        two_devices, truths.second_device,
        "second-device persons identify from a second anonymous id"
    );
    assert_eq!(by_name["$identify"], truths.identified + truths.second_device);
    let retained: u64 = truths.retention.iter().map(|row| row[1..].iter().sum::<u64>()).sum();
    assert!(retained > 0, "some visitors come back on later days");
    assert_eq!(truths.retention.iter().map(|row| row[0]).sum::<u64>(), truths.visitors);
    assert_eq!(truths.daily.iter().map(|d| d.messages).sum::<u64>(), truths.messages);
}

fn count_bot_pages(messages: &[Message]) -> u64 {
    messages
        .iter()
        .filter(|m| {
            let ua = m.context.as_ref().unwrap().user_agent.as_deref().unwrap();
            m.kind == Some(EventType::Page)
                && numu_load_tests::model::agents::lookup(ua).unwrap().device.as_str() == "bot"
        })
        .count() as u64
}

#[test]
fn traffic_has_daily_and_weekly_rhythm_and_grows() {
    let (messages, truths) =
        generate(ModelConfig { seed: 2, days: 28, visitors_per_day: 200.0, ..ModelConfig::default() });
    let mut by_hour = [0u64; 24];
    for m in messages.iter().filter(|m| m.kind == Some(EventType::Page)) {
        let at = parse_rfc3339(m.timestamp.as_deref().unwrap()).unwrap();
        by_hour[(at.rem_euclid(DAY_MS) / HOUR_MS) as usize] += 1;
    }
    assert!(by_hour[14] > 3 * by_hour[3], "afternoons are busier than nights: {by_hour:?}");
    let new = |d: &numu_load_tests::model::DayTruth| d.new_visitors;
    let weekday = |index: usize| {
        numu_load_tests::model::clock::weekday(truths.config.start_ms() + index as i64 * DAY_MS)
    };
    let (mut weekdays, mut weekends) = ((0, 0), (0, 0));
    for (i, day) in truths.daily.iter().enumerate().take(27) {
        let bucket = if weekday(i) >= 5 { &mut weekends } else { &mut weekdays };
        *bucket = (bucket.0 + new(day), bucket.1 + 1);
    }
    assert!(weekdays.0 / weekdays.1 > weekends.0 / weekends.1, "weekdays bring more visitors");
    let first_week: u64 = truths.daily[..7].iter().map(new).sum();
    let last_week: u64 = truths.daily[20..27].iter().map(new).sum();
    assert!(last_week > first_week, "traffic grows: {first_week} → {last_week}");
}

#[test]
fn clicks_concentrate_on_buttons_and_scrolls_are_percentages() {
    let (messages, _) = generate(small(4));
    let (mut on_button, mut clicks) = (0, 0);
    for m in messages.iter().filter(|m| m.event.as_deref() == Some("$click")) {
        let p = m.properties.as_ref().unwrap();
        let path = m.context.as_ref().unwrap().page.as_ref().unwrap().path.clone().unwrap();
        let (x, y, vw) =
            (p["x"].as_f64().unwrap(), p["y"].as_f64().unwrap(), p["vw"].as_u64().unwrap() as u32);
        assert!(p["vh"].as_u64().unwrap() > 0 && p["sel"].is_string());
        clicks += 1;
        let hit = pages::find(&path).buttons.iter().any(|b| {
            let (cx, cy, w, h) = pages::place(b, vw);
            (x - cx).abs() <= w && (y - cy).abs() <= h
        });
        on_button += usize::from(hit);
    }
    assert!(clicks > 500, "{clicks}");
    assert!(on_button as f64 / clicks as f64 > 0.75, "{on_button} of {clicks} clicks near a button");
    for m in messages.iter().filter(|m| m.event.as_deref() == Some("$scroll")) {
        assert!(m.properties.as_ref().unwrap()["depth"].as_u64().unwrap() <= 100);
    }
}

#[test]
fn landing_pages_carry_a_classifiable_source() {
    let (messages, truths) =
        generate(ModelConfig { seed: 9, days: 4, visitors_per_day: 300.0, ..ModelConfig::default() });
    let mut first_seen: HashMap<String, String> = HashMap::new();
    for m in messages.iter().filter(|m| m.kind == Some(EventType::Page)) {
        let row = simple_row(m, 1, 0);
        if !row.is_bot {
            first_seen.entry(row.anonymous_id.clone()).or_insert(row.channel);
        }
    }
    // Second devices start direct; every other device's first page view names its channel.
    let mut counted: BTreeMap<String, u64> = BTreeMap::new();
    for channel in first_seen.values() {
        *counted.entry(channel.clone()).or_default() += 1;
    }
    let mut expected = truths.stored_channel_visitors();
    *expected.entry("direct".into()).or_default() += truths.second_device;
    assert_eq!(counted, expected);
    let shares: f64 = truths.expected.stored_channel_share.values().sum();
    assert!((shares - 1.0).abs() < 1e-9);
}

#[test]
fn sized_configurations_come_close_to_the_asked_size() {
    let config = ModelConfig { days: 7, ..ModelConfig::default() }.sized_for(40_000).unwrap();
    let (messages, _) = generate(config.clone());
    let n = messages.len() as f64;
    assert!((n / 40_000.0 - 1.0).abs() < 0.1, "{n}");
    let estimate = config.estimate_messages().unwrap() as f64;
    assert!((estimate / n - 1.0).abs() < 0.1, "{estimate} vs {n}");
}
