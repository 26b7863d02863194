//! Cohorts end to end on the embedded engine: definitions (behavioural did / did not,
//! person properties, funnel step, and / or) computed into `cohort_members`, static uploads
//! resolved across devices, and — the must-show — one cohort used as a filter in trends,
//! persons, retention and a funnel gives exactly the persons of its exported member list.
//! Expected members are worked out by hand from the rows below.

mod common;

use std::collections::BTreeSet;

use common::*;
use numu_appstate::{AppState, Cohort, CohortInput};
use numu_query::cohorts::{refresh, upload, CohortCondition};
use numu_query::Runner;
use numu_schemas::EventRow;
use serde_json::json;

const DAY: i64 = 86_400_000;

fn at(days_ago: f64) -> String {
    let now = chrono::Utc::now().timestamp_millis();
    let ms = now - (days_ago * DAY as f64) as i64;
    chrono::DateTime::from_timestamp_millis(ms).unwrap().to_rfc3339()
}

/// p1 on two devices (3 purchases in all), p2 one purchase, p3 two purchases 40 days ago,
/// p4 a signup then two purchases, p5 only pageviews; every one with a pageview first.
fn rows() -> Vec<EventRow> {
    let mut n = 0;
    let mut ev = |days: f64, name: &str, id: &str| {
        n += 1;
        event(&at(days), name, id, &format!("c-{n:03}"))
    };
    vec![
        ev(10.0, "$pageview", "anon-p1"),
        ev(9.0, "purchase", "anon-p1"),
        ev(8.0, "purchase", "anon-p1"),
        ev(3.0, "purchase", "user-p1"),
        ev(10.0, "$pageview", "p2"),
        ev(5.0, "purchase", "p2"),
        ev(45.0, "$pageview", "p3"),
        ev(40.0, "purchase", "p3"),
        ev(40.0, "purchase", "p3"),
        ev(12.0, "$pageview", "p4"),
        ev(11.0, "signup", "p4"),
        ev(6.0, "purchase", "p4"),
        ev(2.0, "purchase", "p4"),
        ev(7.0, "$pageview", "p5"),
        ev(1.0, "$pageview", "p5"),
    ]
}

async fn seeded(prefix: &str) -> (Runner, AppState, i64) {
    let (warehouse, runner) = setup(prefix).await;
    insert_events(&warehouse, &rows()).await;
    insert_links(&warehouse, &[link("anon-p1", "user-p1", &at(9.5))]).await;
    let pro = |id: &str, m: &str| update(id, &at(20.0), &[("plan", "pro")], &[], m);
    insert_updates(&warehouse, &[pro("p2", "u-1"), pro("p4", "u-2")]).await;
    let state = AppState::in_memory().await.unwrap();
    let project = state.create_project("Shop").await.unwrap().project.id;
    assert_eq!(project as u64, PROJECT);
    (runner, state, project)
}

async fn cohort(state: &AppState, project: i64, definition: serde_json::Value) -> Cohort {
    let definition: CohortCondition = serde_json::from_value(definition).unwrap();
    let input = CohortInput {
        name: "c".into(),
        description: String::new(),
        is_static: false,
        definition: serde_json::to_string(&definition).unwrap(),
    };
    state.create_cohort(project, &input).await.unwrap()
}

async fn members_of(runner: &Runner, state: &AppState, c: &Cohort) -> BTreeSet<String> {
    refresh::refresh(runner, state, c).await.unwrap_or_else(|e| panic!("{e}"));
    refresh::members(runner, PROJECT, c.id as u64).await.unwrap().into_iter().collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn definitions_compute_the_expected_members() {
    let (runner, state, project) = seeded("cohorts_defs").await;
    let did = json!({"type": "behavioral", "event": "purchase", "min_count": 2, "days": 30});
    let c = cohort(&state, project, did.clone()).await;
    assert_eq!(members_of(&runner, &state, &c).await, set(&["anon-p1", "p4"]), "p1 merged: 2 + 1 purchases");
    let did_not = json!({"type": "behavioral", "event": "purchase", "did": false, "days": 30});
    let c = cohort(&state, project, did_not).await;
    assert_eq!(members_of(&runner, &state, &c).await, set(&["p3", "p5"]));
    let pro = json!({"type": "property", "filters": [{"property": "plan", "type": "person", "operator": "equals", "value": "pro"}]});
    let c = cohort(&state, project, pro.clone()).await;
    assert_eq!(members_of(&runner, &state, &c).await, set(&["p2", "p4"]));
    let funnel = json!({"type": "funnel_step", "steps": [{"event": "signup"}, {"event": "purchase"}], "step": 2, "days": 30});
    let c = cohort(&state, project, funnel).await;
    assert_eq!(members_of(&runner, &state, &c).await, set(&["p4"]));
    let c = cohort(&state, project, json!({"type": "and", "conditions": [did.clone(), pro.clone()]})).await;
    assert_eq!(members_of(&runner, &state, &c).await, set(&["p4"]));
    let c = cohort(&state, project, json!({"type": "or", "conditions": [did, pro]})).await;
    assert_eq!(members_of(&runner, &state, &c).await, set(&["anon-p1", "p2", "p4"]));
    // A second refresh writes a new version and records the size again.
    refresh::refresh(&runner, &state, &state.cohort(project, c.id).await.unwrap().unwrap()).await.unwrap();
    let sizes = state.cohort_sizes(c.id).await.unwrap();
    assert_eq!(sizes.iter().map(|s| s.size).collect::<Vec<_>>(), vec![3, 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_uploads_resolve_ids_to_persons() {
    let (runner, state, project) = seeded("cohorts_static").await;
    let input = CohortInput {
        name: "list".into(),
        description: String::new(),
        is_static: true,
        definition: String::new(),
    };
    let c = state.create_cohort(project, &input).await.unwrap();
    let ids = upload::parse(b"distinct_id\nuser-p1\np5\nnobody\np5\n").unwrap();
    let size = refresh::upload(&runner, &state, &c, &ids).await.unwrap();
    assert_eq!(size, 3);
    let members: BTreeSet<String> =
        refresh::members(&runner, PROJECT, c.id as u64).await.unwrap().into_iter().collect();
    assert_eq!(members, set(&["anon-p1", "nobody", "p5"]), "user-p1 is the person anon-p1");
    // A new upload replaces the list.
    let c = state.cohort(project, c.id).await.unwrap().unwrap();
    refresh::upload(&runner, &state, &c, &["p2".to_string()]).await.unwrap();
    let members: Vec<String> = refresh::members(&runner, PROJECT, c.id as u64).await.unwrap();
    assert_eq!(members, vec!["p2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cohort_filter_gives_the_exported_members_everywhere() {
    let (runner, state, project) = seeded("cohorts_filter").await;
    let definition = json!({"type": "or", "conditions": [
        {"type": "behavioral", "event": "purchase", "min_count": 2, "days": 30},
        {"type": "property", "filters": [{"property": "plan", "type": "person", "operator": "equals", "value": "pro"}]}
    ]});
    let c = cohort(&state, project, definition).await;
    let exported = members_of(&runner, &state, &c).await;
    assert_eq!(exported, set(&["anon-p1", "p2", "p4"]));
    let csv = upload::to_csv(&exported.iter().cloned().collect::<Vec<_>>());
    assert_eq!(upload::parse(csv.as_bytes()).unwrap().len(), 3);
    let filters = json!([{"cohort": c.id}]);
    let range = json!({"from": "-60d", "to": "now"});

    let trends: numu_query::trends::TrendsQuery = parse(json!({
        "date_range": range, "series": [{"math": "unique_people"}], "filters": filters
    }));
    let trends = runner.trends(PROJECT, &trends).await.unwrap();
    assert_eq!(trends.series[0].total, Some(3.0), "trends: unique persons");

    let web: numu_query::web::WebQuery = parse(json!({"date_range": range, "filters": filters}));
    let web = runner.web(PROJECT, &web).await.unwrap();
    assert_eq!(web.metrics.visitors.value, 3.0, "web analytics: visitors");

    let persons: numu_query::people::PersonsQuery = parse(json!({"filters": filters, "limit": 100}));
    let persons = runner.persons(PROJECT, &persons).await.unwrap();
    let listed: BTreeSet<String> = persons.persons.iter().map(|p| p.person_id.clone()).collect();
    assert_eq!(listed, exported, "persons");

    let retention: numu_query::retention::RetentionQuery = parse(json!({
        "date_range": range, "period": "month", "periods": 1, "start_event": {}, "return_event": {}, "filters": filters
    }));
    let retention = runner.retention(PROJECT, &retention).await.unwrap();
    let sizes: u64 = retention.results[0].cohorts.iter().map(|c| c.size).sum();
    assert_eq!(sizes, 3, "retention: first-time cohort sizes");

    let funnel: numu_query::funnels::FunnelQuery = parse(json!({
        "date_range": range, "steps": [{"event": "$pageview"}, {"event": "purchase"}],
        "filters": filters, "view": "persons", "persons": {"step": 0}
    }));
    let funnel = runner.funnel(PROJECT, &funnel).await.unwrap_or_else(|e| panic!("{e}"));
    let reached: BTreeSet<String> =
        funnel.persons.expect("persons view").persons.iter().map(|p| p.person_id.clone()).collect();
    assert_eq!(reached, exported, "funnel: persons at the first step");

    let outside: numu_query::people::PersonsQuery =
        parse(json!({"filters": [{"cohort": c.id, "operator": "not_in"}], "limit": 100}));
    let outside = runner.persons(PROJECT, &outside).await.unwrap();
    let outside: BTreeSet<String> = outside.persons.iter().map(|p| p.person_id.clone()).collect();
    assert_eq!(outside, set(&["p3", "p5"]), "not_in: the others");
}
