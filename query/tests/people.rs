//! Golden tests of people: a person merged from two devices, its properties folded from
//! `$set` / `$set_once`, its journey across ids in order, search, pagination, and identity
//! applied retroactively. Expected answers come from `common::reference` folds.

mod common;

use common::reference as r;
use common::*;
use numu_query::people::{PersonQuery, PersonsQuery};
use numu_query::QueryError;
use numu_schemas::EventRow;
use serde_json::json;

/// A phone (p1) and a laptop (l1) used anonymously, then the user signs in on both (u1);
/// another person (x) with an Arabic name; two events in the same millisecond.
fn dataset() -> Vec<EventRow> {
    let plan: [(&str, &str, &str, &str); 9] = [
        ("2024-05-01T09:00:00Z", "$pageview", "p1", "e-01"),
        ("2024-05-01T09:05:00Z", "$pageview", "p1", "e-02"),
        ("2024-05-02T20:00:00Z", "$pageview", "l1", "e-03"),
        ("2024-05-02T20:00:00Z", "signup", "l1", "e-04"),
        ("2024-05-02T20:00:00Z", "$pageview", "l1", "e-00"),
        ("2024-05-03T08:00:00Z", "login", "u1", "e-05"),
        ("2024-05-03T08:10:00Z", "purchase", "u1", "e-06"),
        ("2024-05-03T10:00:00Z", "$pageview", "x", "e-07"),
        ("2024-05-04T10:00:00Z", "$pageview", "p1", "e-08"),
    ];
    plan.iter().map(|(at, name, id, m)| with_props(event(at, name, id, m), &[("step", m)])).collect()
}

fn updates() -> Vec<Update> {
    vec![
        update("p1", "2024-05-01T09:00:00Z", &[("name", "Anon")], &[("first_source", "ads")], "s-1"),
        update(
            "u1",
            "2024-05-03T08:00:00Z",
            &[("name", "Salma"), ("plan", "ذهبي")],
            &[("first_source", "email")],
            "s-2",
        ),
        update("l1", "2024-05-02T20:00:00Z", &[("device", "laptop")], &[], "s-3"),
        update("x", "2024-05-03T10:00:00Z", &[("name", "خالد")], &[], "s-4"),
    ]
}

fn links() -> Vec<Link> {
    vec![link("p1", "u1", "2024-05-03T08:00:00Z"), link("l1", "u1", "2024-05-03T08:01:00Z")]
}

async fn person(
    runner: &numu_query::Runner,
    query: serde_json::Value,
) -> Result<numu_query::people::PersonAnswer, QueryError> {
    let query: PersonQuery = parse(query);
    runner.person(PROJECT, &query).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_merged_from_two_devices_with_its_journey() {
    let (warehouse, runner) = setup("people_merged").await;
    let rows = dataset();
    insert_events(&warehouse, &rows).await;
    insert_updates(&warehouse, &updates()).await;
    insert_links(&warehouse, &links()).await;
    let persons = r::persons(&links());
    let props = r::person_properties(&updates(), &persons);
    let mine: Vec<&EventRow> =
        rows.iter().filter(|e| r::person_of(&persons, &e.distinct_id) == "l1").collect();
    let mut journey: Vec<(i64, String)> = mine.iter().map(|e| (e.timestamp, e.message_id.clone())).collect();
    journey.sort();
    for id in ["u1", "p1", "l1"] {
        let answer = person(&runner, json!({"id": id})).await.unwrap();
        assert_eq!(answer.person_id, "l1", "the smallest id of the component");
        assert_eq!(answer.distinct_ids, vec!["l1", "p1", "u1"]);
        assert_eq!(answer.properties, props["l1"]);
        assert_eq!(answer.properties["name"], "Salma", "the latest $set wins");
        assert_eq!(answer.properties["first_source"], "ads", "the earliest $set_once wins");
        assert_eq!(answer.event_count, mine.len() as u64);
        assert_eq!(
            (answer.first_seen_ms, answer.last_seen_ms),
            (Some(journey[0].0), Some(journey.last().unwrap().0))
        );
        let got: Vec<(i64, String)> =
            answer.events.iter().map(|e| (e.timestamp_ms, e.message_id.clone())).collect();
        assert_eq!(got, journey, "oldest first; the same millisecond ordered by message id");
        assert!(!answer.has_more);
    }
    // Pages, newest first.
    let first = person(&runner, json!({"id": "u1", "limit": 4, "order": "desc"})).await.unwrap();
    let second =
        person(&runner, json!({"id": "u1", "limit": 4, "offset": 4, "order": "desc"})).await.unwrap();
    assert!(first.has_more && !second.has_more);
    let got: Vec<String> = first.events.iter().chain(&second.events).map(|e| e.message_id.clone()).collect();
    let expected: Vec<String> = journey.iter().rev().map(|(_, m)| m.clone()).collect();
    assert_eq!(got, expected);
    // Sessions in the journey: the phone's two pageviews five minutes apart are one visit.
    let answer = person(&runner, json!({"id": "p1"})).await.unwrap();
    assert_eq!(answer.events[0].session, answer.events[1].session);
    assert_ne!(answer.events[1].session, answer.events[2].session);
    assert_eq!(answer.events[0].properties["step"], "e-01");
    // Nobody.
    assert!(matches!(person(&runner, json!({"id": "nobody"})).await, Err(QueryError::NotFound(_))));
    assert!(
        matches!(person(&runner, json!({"id": ""})).await, Err(QueryError::BadRequest { field, .. }) if field == "id")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_applies_retroactively_when_links_arrive() {
    let (warehouse, runner) = setup("people_retro").await;
    insert_events(&warehouse, &dataset()).await;
    let count_people = |runner: numu_query::Runner| async move {
        let query = parse(
            json!({"date_range": {"from": "2024-05-01", "to": "2024-05-04"}, "series": [{"math": "unique_people"}]}),
        );
        runner.trends(PROJECT, &query).await.unwrap().series[0].total
    };
    assert_eq!(count_people(runner.clone()).await, Some(4.0), "p1, l1, u1, x before any link");
    let before = person(&runner, json!({"id": "u1"})).await.unwrap();
    assert_eq!(before.event_count, 2);
    insert_links(&warehouse, &links()[..1]).await;
    assert_eq!(count_people(runner.clone()).await, Some(3.0), "p1 and u1 merged, history included");
    insert_links(&warehouse, &links()[1..]).await;
    assert_eq!(count_people(runner.clone()).await, Some(2.0));
    let after = person(&runner, json!({"id": "u1"})).await.unwrap();
    assert_eq!(after.event_count, 8, "earlier anonymous events of both devices now belong to the person");
    // A second runner (another process) sees the same persons from the stored mapping.
    let fresh = numu_query::Runner::new(warehouse.clone(), numu_query::Limits::default());
    assert_eq!(count_people(fresh).await, Some(2.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_people_by_id_property_and_filter_with_pages() {
    let (warehouse, runner) = setup("people_search").await;
    insert_events(&warehouse, &dataset()).await;
    insert_updates(&warehouse, &updates()).await;
    insert_links(&warehouse, &links()).await;
    let search = |q: serde_json::Value| {
        let runner = runner.clone();
        async move {
            let query: PersonsQuery = parse(q);
            runner.persons(PROJECT, &query).await.unwrap()
        }
    };
    let all = search(json!({})).await;
    assert_eq!(all.total, 2);
    assert_eq!(all.persons[0].person_id, "l1", "most recently seen first (p1 on 05-04)");
    assert_eq!(all.persons[0].distinct_ids, vec!["l1", "p1", "u1"]);
    assert_eq!(all.persons[0].event_count, 8);
    assert_eq!(all.persons[1].properties["name"], "خالد");
    for (text, expected) in [("ذهب", "l1"), ("SALMA", "l1"), ("u1", "l1"), ("خالد", "x"), ("x", "x")] {
        let found = search(json!({"search": text})).await;
        let ids: Vec<&str> = found.persons.iter().map(|p| p.person_id.as_str()).collect();
        assert!(ids.contains(&expected), "{text}: {ids:?}");
    }
    assert_eq!(search(json!({"search": "' OR 1=1 --"})).await.total, 0);
    let gold = search(
        json!({"filters": [{"property": "plan", "type": "person", "operator": "equals", "value": "ذهبي"}]}),
    )
    .await;
    assert_eq!((gold.total, gold.persons[0].person_id.as_str()), (1, "l1"));
    let purchasers =
        search(json!({"filters": [{"property": "event", "operator": "equals", "value": "purchase"}]})).await;
    assert_eq!(purchasers.total, 1);
    assert_eq!(purchasers.persons[0].event_count, 1, "counts the matching events");
    let page = search(json!({"limit": 1, "offset": 1})).await;
    assert_eq!((page.total, page.persons.len(), page.persons[0].person_id.as_str()), (2, 1, "x"));
    assert!(search(json!({"limit": 1, "offset": 5})).await.persons.is_empty());
}
