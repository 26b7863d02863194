//! Golden test of web analytics: every figure recomputed by a plain-Rust fold over the same
//! rows (sessions by 30 minutes of inactivity, first-event attribution, both periods).

mod common;

use std::collections::{BTreeSet, HashMap};

use common::reference::{self as r, person_of};
use common::*;
use numu_query::web::{ReportRow, WebAnswer, WebQuery};
use numu_schemas::EventRow;
use serde_json::json;

const SOURCES: [(&str, &str, &str); 4] = [
    ("Google", "google.com", "search"),
    ("", "news.example", "referral"),
    ("", "", "direct"),
    ("تويتر", "t.co", "social"),
];

/// Six visitors over 2024-05-06 and 2024-05-07 (UTC), visits of 1 to 5 pageviews plus
/// clicks, gaps inside and between visits around 30 minutes, client session ids for one
/// visitor, attribution on each visit's first event; a merged person; a bot.
fn dataset() -> Vec<EventRow> {
    let mut rows = Vec::new();
    let ids = ["a1", "a2", "u1", "b", "ج", "bot"];
    for (k, id) in ids.iter().enumerate() {
        let mut t = ms("2024-05-06T06:00:00Z") + k as i64 * 600_000;
        for visit in 0..6usize {
            let n = 1 + (visit * 3 + k) % 5;
            let (source, host, channel) = SOURCES[(visit + k) % SOURCES.len()];
            for j in 0..n {
                let i = rows.len();
                let name = if j == 2 { "click" } else { "$pageview" };
                let mut row = event("2024-01-01T00:00:00Z", name, id, &format!("w-{i:04}"));
                row.timestamp = t;
                row.path = ["/", "/pricing", "/blog/رمضان", "/docs"][(j + visit) % 4].into();
                row.referrer_source = source.into();
                row.referrer_host = host.into();
                row.channel = channel.into();
                row.utm_source = if (visit + k) % 3 == 0 { "newsletter".into() } else { String::new() };
                row.utm_campaign = if (visit + k) % 3 == 0 { "حملة".into() } else { String::new() };
                row.device_type = ["desktop", "mobile"][(k + visit) % 2].into();
                row.browser = ["Chrome", "Safari", "Firefox"][k % 3].into();
                row.os = ["Windows", "iOS", "Android"][(k + j) % 3].into();
                row.country = ["SA", "DE", "EG"][(k + visit) % 3].into();
                row.is_bot = *id == "bot";
                if *id == "b" {
                    row.session_id = format!("s-{visit}");
                }
                rows.push(row);
                t += [60_000, 29 * 60_000, 31 * 60_000 - 1, 5_000][(j + k) % 4]
                    .min(20 * 60_000 + visit as i64);
            }
            t += [31 * 60_000, 2 * 3_600_000, 5 * 3_600_000][(visit + k) % 3];
        }
    }
    let mut late = event("2024-05-08T00:00:00Z", "$pageview", "a1", "w-late");
    late.path = "/late".into();
    rows.push(late);
    rows
}

fn links() -> Vec<Link> {
    vec![link("a1", "u1", "2024-05-07T00:00:00Z"), link("a2", "u1", "2024-05-07T00:00:00Z")]
}

/// A session as the reference fold sees it.
#[derive(Clone, Debug)]
struct Visit {
    person: String,
    started: i64,
    duration: f64,
    pageviews: usize,
    attributes: HashMap<&'static str, String>,
}

fn visits(
    events: &[EventRow],
    keys: &[String],
    keep: &dyn Fn(&EventRow) -> bool,
    persons: &HashMap<String, String>,
) -> HashMap<String, Visit> {
    let mut grouped: HashMap<String, Vec<&EventRow>> = HashMap::new();
    for (e, key) in events.iter().zip(keys) {
        if keep(e) {
            grouped.entry(key.clone()).or_default().push(e);
        }
    }
    grouped
        .into_iter()
        .map(|(key, mut group)| {
            group.sort_by(|a, b| (a.timestamp, &a.message_id).cmp(&(b.timestamp, &b.message_id)));
            let (first, last) = (group[0], group[group.len() - 1]);
            let views: Vec<&&EventRow> = group.iter().filter(|e| e.event == "$pageview").collect();
            let source =
                if first.referrer_source.is_empty() { &first.referrer_host } else { &first.referrer_source };
            let attributes = HashMap::from([
                ("entry_pages", views.first().map(|e| e.path.clone()).unwrap_or_default()),
                ("exit_pages", views.last().map(|e| e.path.clone()).unwrap_or_default()),
                ("sources", source.clone()),
                ("channels", first.channel.clone()),
                ("utm_sources", first.utm_source.clone()),
                ("utm_campaigns", first.utm_campaign.clone()),
                ("devices", first.device_type.clone()),
                ("browsers", first.browser.clone()),
                ("operating_systems", first.os.clone()),
                ("countries", first.country.clone()),
            ]);
            let visit = Visit {
                person: person_of(persons, &first.distinct_id),
                started: first.timestamp,
                duration: (last.timestamp - first.timestamp) as f64 / 1000.0,
                pageviews: views.len(),
                attributes,
            };
            (key, visit)
        })
        .collect()
}

fn counts(visits: &[&Visit]) -> (u64, u64, u64) {
    let people: BTreeSet<&String> = visits.iter().map(|v| &v.person).collect();
    (people.len() as u64, visits.len() as u64, visits.iter().map(|v| v.pageviews as u64).sum())
}

/// A session report: values with current visits, ordered by visitors, visits, value.
fn report(all: &HashMap<String, Visit>, from: i64, name: &str, limit: usize) -> Vec<ReportRow> {
    let relevant = |v: &&Visit| {
        let pageless = name.ends_with("_pages") && v.pageviews == 0;
        let untagged = name.starts_with("utm_") && v.attributes[name].is_empty();
        !pageless && !untagged
    };
    let values: BTreeSet<String> = all
        .values()
        .filter(relevant)
        .filter(|v| v.started >= from)
        .map(|v| v.attributes[name].clone())
        .collect();
    let mut rows: Vec<ReportRow> = values
        .into_iter()
        .map(|value| {
            let of = |current: bool| -> Vec<&Visit> {
                all.values()
                    .filter(relevant)
                    .filter(|v| (v.started >= from) == current && v.attributes[name] == value)
                    .collect()
            };
            let (visitors, visits, pageviews) = counts(&of(true));
            let previous = counts(&of(false));
            let previous =
                numu_query::web::Counts { visitors: previous.0, visits: previous.1, pageviews: previous.2 };
            ReportRow { value, visitors, visits, pageviews, previous: Some(previous) }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.visitors.cmp(&a.visitors).then(b.visits.cmp(&a.visits)).then(a.value.cmp(&b.value))
    });
    rows.truncate(limit);
    rows
}

fn check(answer: &WebAnswer, events: &[EventRow], keep: &dyn Fn(&EventRow) -> bool, from: i64, limit: usize) {
    let persons = r::persons(&links());
    let keys = r::sessions(events, &persons);
    let all = visits(events, &keys, keep, &persons);
    let period =
        |current: bool| -> Vec<&Visit> { all.values().filter(|v| (v.started >= from) == current).collect() };
    for (current, pick) in [(true, 0), (false, 1)] {
        let visits = period(current);
        let (visitors, count, pageviews) = counts(&visits);
        let page_visits = visits.iter().filter(|v| v.pageviews >= 1).count() as f64;
        let bounces = visits.iter().filter(|v| v.pageviews == 1).count() as f64;
        let duration = visits.iter().map(|v| v.duration).sum::<f64>() / count as f64;
        let m = &answer.metrics;
        let value = |metric: &numu_query::web::Metric| {
            if pick == 0 {
                metric.value
            } else {
                metric.previous.unwrap()
            }
        };
        assert_eq!(value(&m.visitors), visitors as f64, "visitors {current}");
        assert_eq!(value(&m.visits), count as f64, "visits {current}");
        assert_eq!(value(&m.pageviews), pageviews as f64, "pageviews {current}");
        assert!((value(&m.views_per_visit) - pageviews as f64 / count as f64).abs() < 1e-9);
        assert!((value(&m.bounce_rate) - bounces / page_visits).abs() < 1e-9, "bounce {current}");
        assert!((value(&m.visit_duration) - duration).abs() < 1e-6, "duration {current}");
    }
    for name in [
        "entry_pages",
        "exit_pages",
        "sources",
        "channels",
        "utm_sources",
        "utm_campaigns",
        "devices",
        "browsers",
        "operating_systems",
        "countries",
    ] {
        let got = match name {
            "entry_pages" => &answer.reports.entry_pages,
            "exit_pages" => &answer.reports.exit_pages,
            "sources" => &answer.reports.sources,
            "channels" => &answer.reports.channels,
            "utm_sources" => &answer.reports.utm_sources,
            "utm_campaigns" => &answer.reports.utm_campaigns,
            "devices" => &answer.reports.devices,
            "browsers" => &answer.reports.browsers,
            "operating_systems" => &answer.reports.operating_systems,
            _ => &answer.reports.countries,
        };
        assert_eq!(got, &report(&all, from, name, limit), "{name}");
        assert!(!got.is_empty(), "{name} has rows");
    }
    let session_of: HashMap<&String, &String> = events.iter().map(|e| &e.message_id).zip(&keys).collect();
    let context = Context { events, keep, from, persons: &persons, session_of: &session_of };
    assert_eq!(answer.reports.pages, context.pages(limit));
    context.check_timeseries(answer);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_analytics_match_a_fold_for_both_periods() {
    let (warehouse, runner) = setup("web_golden").await;
    let rows = dataset();
    insert_events(&warehouse, &rows).await;
    insert_links(&warehouse, &links()).await;
    let (from, to) = (ms("2024-05-07T00:00:00Z"), ms("2024-05-08T00:00:00Z"));
    let events: Vec<EventRow> = rows
        .iter()
        .filter(|e| !e.is_bot && e.timestamp >= from - (to - from) && e.timestamp < to)
        .cloned()
        .collect();
    assert!(rows.iter().any(|e| e.timestamp >= to), "the data runs past the range");
    let query: WebQuery = parse(
        json!({"date_range": {"from": "2024-05-07", "to": "2024-05-07"}, "interval": "hour", "limit": 3}),
    );
    let answer = runner.web(PROJECT, &query).await.unwrap();
    assert_eq!(answer.timeseries.buckets.len(), 24);
    assert_eq!(answer.previous_timeseries.as_ref().map(|t| t.buckets.len()), Some(24));
    check(&answer, &events, &|_| true, from, 3);
    // Event filters choose the events visits are made of.
    let query: WebQuery = parse(json!({
        "date_range": {"from": "2024-05-07", "to": "2024-05-07"}, "interval": "hour",
        "filters": [{"property": "os", "operator": "not_equals", "value": "iOS"}]
    }));
    let answer = runner.web(PROJECT, &query).await.unwrap();
    check(&answer, &events, &|e| e.os != "iOS", from, 10);
    let changed = &answer.metrics.visitors;
    assert_eq!(
        changed.change,
        Some((changed.value - changed.previous.unwrap()) / changed.previous.unwrap() * 100.0)
    );
}

/// What the per-event checks share.
struct Context<'a> {
    events: &'a [EventRow],
    keep: &'a dyn Fn(&EventRow) -> bool,
    from: i64,
    persons: &'a HashMap<String, String>,
    session_of: &'a HashMap<&'a String, &'a String>,
}

impl Context<'_> {
    /// Top pages: pageview events by path, both periods.
    fn pages(&self, limit: usize) -> Vec<ReportRow> {
        let (events, keep, from, persons, session_of) =
            (self.events, self.keep, self.from, self.persons, self.session_of);
        let views: Vec<&EventRow> = events.iter().filter(|e| e.event == "$pageview" && keep(e)).collect();
        let paths: BTreeSet<&String> =
            views.iter().filter(|e| e.timestamp >= from).map(|e| &e.path).collect();
        let mut pages: Vec<ReportRow> = paths
            .into_iter()
            .map(|path| {
                let of = |current: bool| -> (u64, u64, u64) {
                    let group: Vec<&&EventRow> = views
                        .iter()
                        .filter(|e| &e.path == path && (e.timestamp >= from) == current)
                        .collect();
                    let people: BTreeSet<String> =
                        group.iter().map(|e| person_of(persons, &e.distinct_id)).collect();
                    let sessions: BTreeSet<&&String> =
                        group.iter().map(|e| &session_of[&e.message_id]).collect();
                    (people.len() as u64, sessions.len() as u64, group.len() as u64)
                };
                let (now, before) = (of(true), of(false));
                let previous = Some(numu_query::web::Counts {
                    visitors: before.0,
                    visits: before.1,
                    pageviews: before.2,
                });
                ReportRow { value: path.clone(), visitors: now.0, visits: now.1, pageviews: now.2, previous }
            })
            .collect();
        pages.sort_by(|a, b| {
            b.visitors.cmp(&a.visitors).then(b.pageviews.cmp(&a.pageviews)).then(a.value.cmp(&b.value))
        });
        pages.truncate(limit);
        pages
    }

    /// Visitors, visits and pageviews per hour of the current period.
    fn check_timeseries(&self, answer: &WebAnswer) {
        let (events, keep, from, persons, session_of) =
            (self.events, self.keep, self.from, self.persons, self.session_of);
        for (i, bucket) in answer.timeseries.buckets.iter().enumerate() {
            let group: Vec<&EventRow> = events
                .iter()
                .filter(|e| keep(e) && e.timestamp >= from && &r::hour_label(e.timestamp, "UTC") == bucket)
                .collect();
            let people: BTreeSet<String> = group.iter().map(|e| person_of(persons, &e.distinct_id)).collect();
            let sessions: BTreeSet<&String> = group.iter().map(|e| session_of[&e.message_id]).collect();
            let pageviews = group.iter().filter(|e| e.event == "$pageview").count() as u64;
            let got =
                (answer.timeseries.visitors[i], answer.timeseries.visits[i], answer.timeseries.pageviews[i]);
            assert_eq!(got, (people.len() as u64, sessions.len() as u64, pageviews), "{bucket}");
        }
    }
}
