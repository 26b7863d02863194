//! Enrichment tables checked on published data: user agents from uap-core's own test
//! cases (ingest/testdata/user_agents.json), geo from a generated MaxMind file, and the
//! assembled row of a page view through the whole pipeline.

use std::net::IpAddr;
use std::path::PathBuf;

use numu_ingest::front::compact::decode_compact;
use numu_ingest::front::enrich::geo::{GeoDb, Place};
use numu_ingest::front::enrich::ua::UaParser;
use numu_ingest::front::{Config, Pipeline, PropertySchemas, RequestMeta};
use numu_ingest::Record;
use numu_schemas::EventRow;
use serde::Deserialize;

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata").join(name)
}

#[derive(Deserialize)]
struct UaCases {
    cases: Vec<UaCase>,
}

#[derive(Deserialize)]
struct UaCase {
    ua: String,
    family: String,
    major: String,
    device: String,
    bot: bool,
}

#[test]
fn user_agents_from_uap_core_parse_as_published() {
    let text = std::fs::read_to_string(testdata("user_agents.json")).unwrap();
    let cases: UaCases = serde_json::from_str(&text).unwrap();
    assert!(cases.cases.len() >= 30);
    assert!(cases.cases.iter().filter(|c| c.bot).count() >= 10, "bots included");
    let parser = UaParser::new(100).unwrap();
    let mut failures = Vec::new();
    for case in &cases.cases {
        let info = parser.parse(&case.ua);
        let major = info.browser_version.split('.').next().unwrap_or_default();
        let got = (info.browser.as_str(), major, info.device_type, info.is_bot);
        let want = (case.family.as_str(), case.major.as_str(), case.device.as_str(), case.bot);
        if got != want {
            failures.push(format!("{}\n  got {got:?}\n want {want:?}", case.ua));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        cases.cases.len(),
        failures.join("\n")
    );
}

#[test]
fn operating_systems_and_devices_of_current_agents() {
    let parser = UaParser::new(100).unwrap();
    let cases = [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
            ("Edge", "Windows", "desktop"),
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
            ("Mobile Safari", "iOS", "mobile"),
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
            ("Chrome", "Android", "tablet"),
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", ("Firefox", "Linux", "desktop")),
        ("", ("", "", "")),
    ];
    for (ua, (browser, os, device)) in cases {
        if ua.is_empty() {
            continue;
        }
        let info = parser.parse(ua);
        assert_eq!(
            (info.browser.as_str(), info.os.as_str(), info.device_type),
            (browser, os, device),
            "{ua}"
        );
    }
    // The cache answers the same value without parsing again.
    let first = parser.parse(cases[0].0);
    assert!(std::sync::Arc::ptr_eq(&first, &parser.parse(cases[0].0)));
}

#[test]
fn geo_lookup_reads_a_maxmind_file() {
    let db = GeoDb::open(&testdata("geo/test-city.mmdb")).unwrap();
    let place = |ip: &str| db.lookup(ip.parse::<IpAddr>().unwrap());
    assert_eq!(
        place("203.0.113.9"),
        Some(Place { country: "FR".into(), region: "IDF".into(), city: "Paris".into() })
    );
    assert_eq!(place("198.51.100.1").unwrap().city, "San Francisco");
    assert_eq!(place("2001:db8::1"), Some(Place { country: "JP".into(), ..Place::default() }));
    assert_eq!(place("192.0.2.1"), None);
    assert!(GeoDb::open(&testdata("user_agents.json")).is_err());
}

const RECEIVED: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

fn pipeline(config: Config) -> Pipeline {
    Pipeline::new(&config, PropertySchemas::new(), RECEIVED).unwrap()
}

fn events(pipeline: &Pipeline, body: &str, meta: &RequestMeta<'_>) -> Vec<EventRow> {
    let outcome = pipeline.process(9, meta, decode_compact(body, 32 * 1024).unwrap());
    assert!(outcome.refused.is_empty(), "{:?}", outcome.refused);
    outcome
        .records
        .into_iter()
        .filter_map(|r| match r {
            Record::Event(row) => Some(*row),
            _ => None,
        })
        .collect()
}

fn snippet_meta() -> RequestMeta<'static> {
    RequestMeta {
        endpoint: "/e",
        received_at: RECEIVED,
        ip: Some("203.0.113.7".parse().unwrap()),
        user_agent: Some("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15"),
        accept_language: Some("fr-FR,fr;q=0.9"),
        require_identity: false,
    }
}

#[test]
fn a_page_view_is_enriched_end_to_end() {
    let config =
        Config { geoip_path: Some(testdata("geo/test-city.mmdb")), store_ip: true, ..Config::default() };
    let pipeline = pipeline(config);
    // The client clock is 10 s behind ours.
    let body = r#"{"t":"page","id":"m1","ts":1767225585000,"sa":1767225590000,"s":"s1",
        "url":"https://Shop.example/p/1?utm_source=news&utm_medium=email&utm_campaign=jan&gclid=G",
        "ref":"https://www.google.com/search?q=x","ti":"Product","sw":1512,"sh":982,"vw":1200,"vh":700,
        "p":{"revenue":19.5,"tags":["a"]}}"#;
    let rows = events(&pipeline, body, &snippet_meta());
    let row = &rows[0];
    assert_eq!(
        (row.event.as_str(), row.event_type.as_str(), row.message_id.as_str()),
        ("$pageview", "page", "m1")
    );
    assert_eq!(row.timestamp, RECEIVED - 5000, "skew-corrected");
    assert_eq!(
        (row.host.as_str(), row.path.as_str(), row.title.as_str()),
        ("shop.example", "/p/1", "Product")
    );
    assert_eq!((row.referrer_host.as_str(), row.referrer_source.as_str()), ("www.google.com", "Google"));
    assert_eq!(row.channel, "paid", "a click id makes it paid");
    assert_eq!(
        (row.utm_source.as_str(), row.utm_medium.as_str(), row.utm_campaign.as_str()),
        ("news", "email", "jan")
    );
    assert_eq!((row.click_id_type.as_str(), row.click_id.as_str()), ("gclid", "G"));
    assert_eq!(
        (row.browser.as_str(), row.os.as_str(), row.device_type.as_str()),
        ("Safari", "Mac OS X", "desktop")
    );
    assert_eq!((row.country.as_str(), row.city.as_str()), ("FR", "Paris"));
    assert_eq!((row.screen_width, row.screen_height, row.locale.as_str()), (1512, 982, "fr-FR"));
    assert_eq!(
        (row.session_id.as_str(), row.library.as_str(), row.ip.as_str()),
        ("s1", "numu-js", "203.0.113.7")
    );
    assert!(row.distinct_id.starts_with("v_") && row.anonymous_id.is_empty(), "cookieless visitor id");
    assert_eq!(row.revenue, 19.5);
    let props: Vec<(&str, &str)> = row.properties.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        props,
        vec![
            ("$viewport_height", "700"),
            ("$viewport_width", "1200"),
            ("revenue", "19.5"),
            ("tags", "[\"a\"]")
        ]
    );
    assert_eq!(row.received_at, RECEIVED);
}

#[test]
fn ip_is_not_stored_by_default_and_the_future_is_clamped() {
    let pipeline = pipeline(Config::default());
    let body = r#"[{"t":"track","e":"Late","id":"m1","a":"anon1","ts":1767229200000},{"t":"track","e":"Bot","id":"m2","a":"x","ts":1767225600000}]"#;
    let mut meta = snippet_meta();
    let rows = events(&pipeline, body, &meta);
    assert_eq!(rows[0].ip, "");
    assert_eq!(rows[0].distinct_id, "anon1");
    assert_eq!(rows[0].timestamp, RECEIVED, "an hour ahead is clamped");
    assert!(rows[0].properties.contains(&("$original_timestamp".into(), "1767229200000".into())));
    assert_eq!(rows[0].channel, "direct");
    meta.user_agent = Some("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)");
    let rows = events(&pipeline, body, &meta);
    assert!(rows[1].is_bot && rows[1].device_type == "bot");
}
