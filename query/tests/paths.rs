//! Golden tests of paths: expected nodes, edges and drop-offs come from a plain-Rust fold over
//! the same rows (sessions from `common::reference`, its own cutting and counting), and the
//! `other` routing from hand-computed numbers.

mod common;

use std::collections::{BTreeMap, HashMap};

use common::reference as r;
use common::*;
use numu_query::paths::{PathsAnswer, PathsQuery};
use numu_query::QueryError;
use numu_schemas::EventRow;
use serde_json::{json, Value};

const MIN: i64 = 60_000;

/// (distinct id, client session id, [(event, path)]).
type Session<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

/// Sessions as (distinct id, client session id or "" to derive, [(event, path)]), one minute
/// apart from 2024-05-06T09:00Z, each session an hour after the previous.
fn dataset() -> Vec<EventRow> {
    let sessions: [Session; 6] = [
        (
            "u1",
            "s1",
            &[
                ("open", "/"),
                ("search", "/product/12"),
                ("view", "/product/13"),
                ("add", "/cart"),
                ("pay", "/checkout"),
            ],
        ),
        ("u2", "s2", &[("open", "/"), ("search", "/product/7"), ("add", "/cart")]),
        ("u3", "s3", &[("open", "/"), ("open", "/"), ("view", "/about")]),
        ("u4", "s4", &[("search", "/product/99"), ("add", "/cart"), ("pay", "/checkout")]),
        (
            "u5",
            "",
            &[("open", "/"), ("search", "/product/1"), ("search", "/product/2"), ("pay", "/checkout")],
        ),
        ("u6", "", &[("view", "/about"), ("search", "/product/5"), ("view", "/product/5")]),
    ];
    let mut rows = Vec::new();
    for (k, (id, session, steps)) in sessions.iter().enumerate() {
        for (j, (name, path)) in steps.iter().enumerate() {
            let mut row = event("2024-05-06T09:00:00Z", name, id, &format!("p-{k}-{j}"));
            row.timestamp += (k as i64) * 60 * MIN + j as i64 * MIN;
            row.session_id = session.to_string();
            row.path = path.to_string();
            rows.push(row.clone());
            row.event = "$pageview".into();
            row.message_id = format!("pv-{k}-{j}");
            row.timestamp += 1;
            rows.push(row);
        }
    }
    let mut other = rows[0].clone();
    other.project_id = OTHER_PROJECT;
    rows.push(other);
    rows
}

/// `/product/<digits>` → `/product/:id`, written by hand.
fn group(path: &str) -> String {
    match path.strip_prefix("/product/") {
        Some(rest) if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit()) => "/product/:id".into(),
        _ => path.to_string(),
    }
}

/// Per session, node names in order with repeats collapsed.
fn sequences(rows: &[EventRow], pages: bool) -> Vec<Vec<String>> {
    let events: Vec<EventRow> = rows
        .iter()
        .filter(|e| e.project_id == PROJECT && (!pages || e.event == "$pageview"))
        .cloned()
        .collect();
    let sessions = r::sessions(&events, &HashMap::new());
    let mut by: BTreeMap<String, Vec<&EventRow>> = BTreeMap::new();
    for (e, s) in events.iter().zip(&sessions) {
        by.entry(s.clone()).or_default().push(e);
    }
    by.into_values()
        .map(|mut es| {
            es.sort_by(|a, b| (a.timestamp, &a.message_id).cmp(&(b.timestamp, &b.message_id)));
            let mut names: Vec<String> = Vec::new();
            for e in es {
                let name = if pages { group(&e.path) } else { e.event.clone() };
                if names.last() != Some(&name) {
                    names.push(name);
                }
            }
            names
        })
        .collect()
}

fn cut(names: &[String], start: Option<&str>, end: Option<&str>, n: usize) -> Vec<String> {
    if let Some(start) = start {
        let Some(i) = names.iter().position(|x| x == start) else { return Vec::new() };
        return names[i..].iter().take(n).cloned().collect();
    }
    if let Some(end) = end {
        let Some(i) = names.iter().position(|x| x == end) else { return Vec::new() };
        return names[(i + 1).saturating_sub(n)..=i].to_vec();
    }
    names.iter().take(n).cloned().collect()
}

type Chart = (BTreeMap<String, (u64, u64)>, BTreeMap<(String, String), u64>);

/// Nodes `step:name` → (weight, dropoff) and edges → weight, with no edge limit.
fn chart(paths: &[Vec<String>]) -> Chart {
    let (mut nodes, mut edges): Chart = Default::default();
    for p in paths.iter().filter(|p| !p.is_empty()) {
        for (i, name) in p.iter().enumerate() {
            let node = nodes.entry(format!("{}:{name}", i + 1)).or_default();
            node.0 += 1;
            if i + 1 == p.len() {
                node.1 += 1;
            } else {
                *edges
                    .entry((format!("{}:{name}", i + 1), format!("{}:{}", i + 2, p[i + 1])))
                    .or_default() += 1;
            }
        }
    }
    (nodes, edges)
}

fn chart_of(answer: &PathsAnswer) -> Chart {
    (
        answer.nodes.iter().map(|n| (n.id.clone(), (n.weight, n.dropoff))).collect(),
        answer.edges.iter().map(|e| ((e.source.clone(), e.target.clone()), e.weight)).collect(),
    )
}

async fn paths(runner: &numu_query::Runner, extra: Value) -> Result<PathsAnswer, QueryError> {
    let mut q = json!({"date_range": {"from": "2024-05-06", "to": "2024-05-06"}});
    for (k, v) in extra.as_object().unwrap() {
        q[k] = v.clone();
    }
    let q: PathsQuery = parse(q);
    runner.paths(PROJECT, &q).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_paths_after_a_start_and_before_an_end() {
    let (warehouse, runner) = setup("paths_events").await;
    let rows = dataset();
    insert_events(&warehouse, &rows).await;
    let tracked: Vec<EventRow> = rows.iter().filter(|e| e.event != "$pageview").cloned().collect();
    let all = sequences(&tracked, false);
    for (extra, start, end, n) in [
        (json!({"start": "search", "steps": 3}), Some("search"), None, 3),
        (json!({"end": "pay", "steps": 3}), None, Some("pay"), 3),
        (json!({"steps": 10}), None, None, 10),
    ] {
        let mut extra = extra;
        extra["edges_per_step"] = json!(100);
        extra["filters"] = json!([{"property": "event", "operator": "not_equals", "value": "$pageview"}]);
        let answer = paths(&runner, extra.clone()).await.unwrap();
        let cut: Vec<Vec<String>> = all.iter().map(|s| cut(s, start, end, n)).collect();
        assert_eq!(chart_of(&answer), chart(&cut), "{extra}");
        assert_eq!(answer.total, cut.iter().filter(|p| !p.is_empty()).count() as u64);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_paths_with_grouping_and_other() {
    let (warehouse, runner) = setup("paths_pages").await;
    let rows = dataset();
    insert_events(&warehouse, &rows).await;
    let grouping = json!([{"pattern": "^/product/\\d+$", "replacement": "/product/:id"}]);
    let answer = paths(
        &runner,
        json!({"path_type": "pages", "grouping": grouping, "steps": 4, "edges_per_step": 100}),
    )
    .await
    .unwrap();
    let cut: Vec<Vec<String>> = sequences(&rows, true).iter().map(|s| cut(s, None, None, 4)).collect();
    assert_eq!(chart_of(&answer), chart(&cut));
    // Hand: six sessions; u3's repeated "/" collapses; /product/12 and /product/13 are one node.
    assert_eq!(answer.total, 6);
    let (nodes, edges) = chart_of(&answer);
    assert_eq!(nodes["1:/"], (4, 0));
    assert_eq!(edges[&("1:/".to_string(), "2:/product/:id".to_string())], 3);
    assert_eq!(nodes["2:/product/:id"], (4, 1), "u6 ends there");

    // One edge per step: step 1 keeps / → /product/:id (3); the rest go to 2:$other.
    let top =
        paths(&runner, json!({"path_type": "pages", "grouping": grouping, "steps": 4, "edges_per_step": 1}))
            .await
            .unwrap();
    let (nodes, edges) = chart_of(&top);
    assert_eq!(edges[&("1:/".to_string(), "2:/product/:id".to_string())], 3);
    assert_eq!(nodes["2:$other"].0, 3, "u3's /about, u4's /cart, u6's /product/:id");
    for node in &top.nodes {
        let out: u64 = top.edges.iter().filter(|e| e.source == node.id).map(|e| e.weight).sum();
        assert_eq!(node.weight, node.dropoff + out, "{} conserves flow", node.id);
    }
    assert!(top.nodes.iter().any(|n| n.other && n.name == "other"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_questions_name_the_field_and_injection_is_inert() {
    let (warehouse, runner) = setup("paths_bad").await;
    insert_events(&warehouse, &dataset()).await;
    let field = |r: Result<PathsAnswer, QueryError>| match r {
        Err(QueryError::BadRequest { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(field(paths(&runner, json!({"steps": 1})).await), "steps");
    assert_eq!(field(paths(&runner, json!({"steps": 11})).await), "steps");
    assert_eq!(field(paths(&runner, json!({"start": "a", "end": "b"})).await), "end");
    assert_eq!(field(paths(&runner, json!({"edges_per_step": 0})).await), "edges_per_step");
    assert_eq!(
        field(paths(&runner, json!({"grouping": [{"pattern": "x", "replacement": "y"}]})).await),
        "grouping"
    );
    assert_eq!(
        field(
            paths(&runner, json!({"path_type": "pages", "grouping": [{"pattern": "(", "replacement": "y"}]}))
                .await
        ),
        "grouping[0].pattern"
    );
    let evil = paths(
        &runner,
        json!({"path_type": "pages", "start": "/' OR 1=1 --",
               "grouping": [{"pattern": "' OR 1=1 --", "replacement": "'; DROP TABLE events; --"}]}),
    )
    .await
    .unwrap();
    assert_eq!(evil.total, 0);
    let still = paths(&runner, json!({})).await.unwrap();
    assert_eq!(still.total, 6, "the table is intact");
}
