//! Golden tests of funnels on a small dataset built for the edge cases: every expected answer
//! comes from hand-known outcomes and from `common::funnel_reference` (brute force), never
//! from the engine.

mod common;

use std::collections::{BTreeMap, HashMap};

use common::funnel_reference::{self as f, Funnel, Matcher, Mode, Outcome};
use common::reference as r;
use common::*;
use numu_query::funnels::{FunnelAnswer, FunnelQuery};
use numu_query::QueryError;
use numu_schemas::EventRow;
use serde_json::{json, Value};

const T0: &str = "2024-05-06T10:00:00Z";
const MIN: i64 = 60_000;
const WINDOW: i64 = 60 * MIN;

/// An event of `id` at `T0 + offset` ms.
fn at(id: &str, offset: i64, name: &str, utm: &str, n: &mut usize) -> EventRow {
    *n += 1;
    let mut row = event(T0, name, id, &format!("f-{:03}", 1000 - *n));
    row.timestamp += offset;
    if !utm.is_empty() {
        row = with_props(row, &[("utm", utm)]);
    }
    row
}

/// Persons named after what they exercise; the funnel is signup → view → purchase in 60 min.
fn dataset() -> Vec<EventRow> {
    let n = &mut 0;
    let mut rows = vec![
        at("p-full", 0, "signup", "google", n),
        at("p-full", MIN, "view", "bing", n),
        at("p-full", 2 * MIN, "purchase", "ads", n),
        at("p-edge-eq", 0, "signup", "", n),
        at("p-edge-eq", 10 * MIN, "view", "", n),
        at("p-edge-eq", WINDOW, "purchase", "", n),
        at("p-edge-plus", 0, "signup", "", n),
        at("p-edge-plus", 10 * MIN, "view", "", n),
        at("p-edge-plus", WINDOW + 1, "purchase", "", n),
        at("p-edge-minus", 0, "signup", "", n),
        at("p-edge-minus", 10 * MIN, "view", "", n),
        at("p-edge-minus", WINDOW - 1, "purchase", "", n),
        at("p-repeat", 0, "signup", "", n),
        at("p-repeat", 5 * MIN, "signup", "", n),
        at("p-repeat", 6 * MIN, "view", "", n),
        at("p-repeat", 70 * MIN, "signup", "", n),
        at("p-repeat", 71 * MIN, "view", "", n),
        at("p-repeat", 100 * MIN, "purchase", "", n),
        at("p-backwards", 0, "purchase", "", n),
        at("p-backwards", MIN, "view", "", n),
        at("p-backwards", 2 * MIN, "signup", "", n),
        at("p-interleave", 0, "signup", "", n),
        at("p-interleave", MIN, "purchase", "", n),
        at("p-interleave", 2 * MIN, "view", "", n),
        at("p-interleave", 3 * MIN, "purchase", "", n),
        at("p-strict-repeat", 0, "signup", "", n),
        at("p-strict-repeat", MIN, "view", "", n),
        at("p-strict-repeat", 2 * MIN, "view", "", n),
        at("p-strict-repeat", 3 * MIN, "purchase", "", n),
        at("p-skip", 0, "signup", "", n),
        at("p-skip", 7 * MIN, "purchase", "", n),
        at("p-excluded", 0, "signup", "", n),
        at("p-excluded", MIN, "refund", "", n),
        at("p-excluded", 2 * MIN, "view", "", n),
        at("p-excluded", 3 * MIN, "purchase", "", n),
        at("p-refund-after", 0, "signup", "", n),
        at("p-refund-after", MIN, "view", "", n),
        at("p-refund-after", 2 * MIN, "purchase", "", n),
        at("p-refund-after", 3 * MIN, "refund", "", n),
        // Two devices merged mid-funnel: signup on one, view on the other, purchase signed in.
        at("dev-a", 0, "signup", "google", n),
        at("dev-b", 5 * MIN, "view", "twitter", n),
        at("user-m", 10 * MIN, "purchase", "", n),
        // Outside the range: starts the next day.
        at("p-late", 24 * 60 * MIN, "signup", "", n),
        at("p-late", 24 * 60 * MIN + 1, "view", "", n),
    ];
    // All three steps in one millisecond, stored last step first (message ids too).
    for name in ["purchase", "view", "signup"] {
        rows.push(at("p-same-ms", 30 * MIN, name, "", n));
    }
    let mut bot = at("p-bot", 0, "signup", "", n);
    bot.is_bot = true;
    rows.push(bot);
    let mut other = at("p-other-project", 0, "signup", "", n);
    other.project_id = OTHER_PROJECT;
    rows.push(other);
    rows
}

fn links() -> Vec<Link> {
    vec![link("dev-a", "user-m", "2024-05-06T10:20:00Z"), link("dev-b", "user-m", "2024-05-06T10:20:00Z")]
}

async fn seeded(prefix: &str) -> (numu_query::Runner, Vec<EventRow>, HashMap<String, String>) {
    let (warehouse, runner) = setup(prefix).await;
    let rows = dataset();
    insert_events(&warehouse, &rows).await;
    insert_links(&warehouse, &links()).await;
    (runner, rows, r::persons(&links()))
}

fn named(name: &'static str) -> Matcher {
    Box::new(move |row: &EventRow| row.event == name)
}

fn reference(mode: Mode, optional_view: bool, refund: bool) -> Funnel {
    Funnel {
        steps: vec![(named("signup"), false), (named("view"), optional_view), (named("purchase"), false)],
        exclusions: if refund { vec![(named("refund"), 0, 2)] } else { Vec::new() },
        mode,
        window_ms: WINDOW,
        from: ms("2024-05-06T00:00:00Z"),
        to: ms("2024-05-07T00:00:00Z"),
    }
}

fn question(mode: &str, extra: Value) -> Value {
    let mut q = json!({
        "date_range": {"from": "2024-05-06", "to": "2024-05-06"},
        "steps": [{"event": "signup"}, {"event": "view"}, {"event": "purchase"}],
        "mode": mode,
        "conversion_window": {"value": 60, "unit": "minute"}
    });
    for (k, v) in extra.as_object().unwrap() {
        q[k] = v.clone();
    }
    q
}

async fn funnel(runner: &numu_query::Runner, q: Value) -> FunnelAnswer {
    let q: FunnelQuery = parse(q);
    runner.funnel(PROJECT, &q).await.unwrap_or_else(|e| panic!("{e}"))
}

fn counts(outcomes: &BTreeMap<String, Outcome>, steps: usize) -> Vec<u64> {
    (0..steps).map(|k| outcomes.values().filter(|o| o.reached >= k).count() as u64).collect()
}

fn reached(outcomes: &BTreeMap<String, Outcome>, person: &str) -> Option<usize> {
    outcomes.get(person).map(|o| o.reached)
}

async fn persons_at(runner: &numu_query::Runner, q: Value, step: usize, status: &str) -> Vec<String> {
    let mut q = q;
    q["view"] = json!("persons");
    q["persons"] = json!({"step": step, "status": status, "limit": 1000});
    let answer = funnel(runner, q).await.persons.unwrap();
    answer.persons.into_iter().map(|p| p.person_id).collect()
}

/// A person and the furthest step it must reach (`None`: not in the funnel).
type Known<'a> = (&'a str, Option<usize>);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steps_in_each_mode_match_hand_and_reference() {
    let (runner, rows, persons) = seeded("funnel_modes").await;
    let hand: [(Mode, &str, &[Known]); 3] = [
        (
            Mode::Ordered,
            "ordered",
            &[
                ("p-full", Some(2)),
                ("p-edge-eq", Some(2)),
                ("p-edge-plus", Some(1)),
                ("p-edge-minus", Some(2)),
                ("p-repeat", Some(2)),
                ("p-backwards", Some(0)),
                ("p-interleave", Some(2)),
                ("p-strict-repeat", Some(2)),
                ("p-skip", Some(0)),
                ("p-same-ms", Some(2)),
                ("dev-a", Some(2)),
                ("dev-b", None),
                ("p-late", None),
                ("p-bot", None),
            ],
        ),
        (
            Mode::Strict,
            "strict",
            &[
                ("p-interleave", Some(0)),
                ("p-strict-repeat", Some(2)),
                ("p-same-ms", Some(2)),
                ("dev-a", Some(2)),
            ],
        ),
        (
            Mode::AnyOrder,
            "any_order",
            &[
                ("p-backwards", Some(2)),
                ("p-skip", Some(1)),
                ("p-edge-plus", Some(1)),
                ("p-same-ms", Some(2)),
            ],
        ),
    ];
    for (mode, name, expected) in hand {
        let outcomes = f::funnel(&reference(mode, false, false), &rows, &persons);
        for (person, steps) in expected {
            assert_eq!(reached(&outcomes, person), *steps, "{name}: hand-known {person}");
        }
        let answer = funnel(&runner, question(name, json!({}))).await;
        let group = &answer.steps.as_ref().unwrap()[0];
        assert_eq!(group.breakdown_value, None);
        let got: Vec<u64> = group.steps.iter().map(|s| s.count).collect();
        let want = counts(&outcomes, 3);
        assert_eq!(got, want, "{name}: counts");
        assert_eq!(group.steps[1].dropped, want[0] - want[1], "{name}");
        assert_eq!(group.steps[2].conversion_rate, Some(want[2] as f64 / want[0] as f64));
        let completed: Vec<String> =
            outcomes.iter().filter(|(_, o)| o.reached == 2).map(|(p, _)| p.clone()).collect();
        assert_eq!(persons_at(&runner, question(name, json!({})), 2, "converted").await, completed, "{name}");
        let dropped: Vec<String> =
            outcomes.iter().filter(|(_, o)| o.reached == 0).map(|(p, _)| p.clone()).collect();
        assert_eq!(persons_at(&runner, question(name, json!({})), 1, "dropped").await, dropped, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_to_convert_and_the_merged_person() {
    let (runner, rows, persons) = seeded("funnel_times").await;
    let outcomes = f::funnel(&reference(Mode::Ordered, false, false), &rows, &persons);
    // Hand: the restarted attempt converts in 30 min; the merged person in 10 as one person.
    assert_eq!(outcomes["p-repeat"].convert_ms, Some(30 * MIN));
    assert_eq!(outcomes["p-edge-eq"].convert_ms, Some(WINDOW));
    assert_eq!(outcomes["p-same-ms"].convert_ms, Some(0));
    assert_eq!(outcomes["dev-a"].convert_ms, Some(10 * MIN));
    let mut times: Vec<i64> = outcomes.values().filter_map(|o| o.convert_ms).collect();
    times.sort_unstable();
    let values: Vec<f64> = times.iter().map(|&t| t as f64).collect();
    let answer = funnel(&runner, question("ordered", json!({"view": "time_to_convert", "bins": 4}))).await;
    let group = &answer.time_to_convert.unwrap()[0];
    assert_eq!(group.converted, times.len() as u64);
    assert_eq!(group.median_ms, r::percentile(&values, 0.5));
    assert_eq!(group.average_ms, Some(values.iter().sum::<f64>() / values.len() as f64));
    assert_eq!(group.bins.iter().map(|b| b.count).sum::<u64>(), times.len() as u64);
    assert_eq!(group.bins.first().unwrap().from_ms, times[0]);
    assert!(group.bins.last().unwrap().to_ms > *times.last().unwrap());
    let converted = persons_at(&runner, question("ordered", json!({})), 2, "converted").await;
    assert_eq!(converted.iter().filter(|p| ["dev-a", "dev-b", "user-m"].contains(&p.as_str())).count(), 1);
    assert!(converted.contains(&"dev-a".to_string()), "a person is the smallest id of its component");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exclusions_and_optional_steps() {
    let (runner, rows, persons) = seeded("funnel_exclusions").await;
    let excluded = f::funnel(&reference(Mode::Ordered, false, true), &rows, &persons);
    assert_eq!(reached(&excluded, "p-excluded"), None, "hand: dropped from the funnel");
    assert_eq!(reached(&excluded, "p-refund-after"), Some(2), "hand: refund after converting");
    let q = question("ordered", json!({"exclusions": [{"event": "refund", "from_step": 0, "to_step": 2}]}));
    let answer = funnel(&runner, q.clone()).await;
    let got: Vec<u64> = answer.steps.unwrap()[0].steps.iter().map(|s| s.count).collect();
    assert_eq!(got, counts(&excluded, 3));
    let listed = persons_at(&runner, q, 0, "converted").await;
    assert_eq!(listed, excluded.keys().cloned().collect::<Vec<_>>());

    for (mode, name) in [(Mode::Ordered, "ordered"), (Mode::Strict, "strict")] {
        let optional = f::funnel(&reference(mode, true, false), &rows, &persons);
        assert_eq!(reached(&optional, "p-skip"), Some(2), "{name}: hand: skipped the optional view");
        let q = question(
            name,
            json!({"steps": [{"event": "signup"}, {"event": "view", "optional": true}, {"event": "purchase"}]}),
        );
        let group = &funnel(&runner, q).await.steps.unwrap()[0];
        let got: Vec<u64> = group.steps.iter().map(|s| s.count).collect();
        assert_eq!(got, counts(&optional, 3), "{name}");
        assert!(group.steps[1].optional);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breakdown_attribution() {
    let (runner, rows, persons) = seeded("funnel_breakdown").await;
    let outcomes = f::funnel(&reference(Mode::Ordered, false, false), &rows, &persons);
    let utm = |row: &EventRow| {
        row.properties.iter().find(|(k, _)| k == "utm").map(|(_, v)| v.clone()).unwrap_or_default()
    };
    type Pick = fn(&Outcome) -> Option<&EventRow>;
    let cases: [(Value, Pick); 3] = [
        (json!({"property": "utm", "attribution": "first_touch"}), |o| Some(&o.first)),
        (json!({"property": "utm", "attribution": "last_touch"}), |o| Some(&o.last)),
        (json!({"property": "utm", "attribution": "step", "attribution_step": 1}), |o| o.at[1].as_ref()),
    ];
    // Hand: the merged person's first touch is google (dev-a), its step-1 value twitter (dev-b).
    assert_eq!(utm(&outcomes["dev-a"].first), "google");
    assert_eq!(utm(outcomes["dev-a"].at[1].as_ref().unwrap()), "twitter");
    assert_eq!(utm(&outcomes["p-full"].last), "ads");
    for (breakdown, pick) in cases {
        let mut groups: BTreeMap<String, Vec<&Outcome>> = BTreeMap::new();
        for o in outcomes.values() {
            groups.entry(pick(o).map(utm).unwrap_or_default()).or_default().push(o);
        }
        let answer = funnel(&runner, question("ordered", json!({"breakdown": breakdown.clone()}))).await;
        let got: BTreeMap<String, Vec<u64>> = answer
            .steps
            .unwrap()
            .into_iter()
            .map(|g| (g.breakdown_value.unwrap(), g.steps.iter().map(|s| s.count).collect()))
            .collect();
        let want: BTreeMap<String, Vec<u64>> = groups
            .iter()
            .map(|(v, members)| {
                (
                    v.clone(),
                    (0..3).map(|k| members.iter().filter(|o| o.reached >= k).count() as u64).collect(),
                )
            })
            .collect();
        assert_eq!(got, want, "{breakdown}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversion_over_time() {
    let (runner, rows, persons) = seeded("funnel_trends").await;
    let mut f = reference(Mode::Ordered, false, false);
    f.to = ms("2024-05-08T00:00:00Z");
    let outcomes = f::funnel(&f, &rows, &persons);
    let answer = funnel(
        &runner,
        question(
            "ordered",
            json!({"view": "trends", "date_range": {"from": "2024-05-06", "to": "2024-05-07"}}),
        ),
    )
    .await;
    let trends = answer.trends.unwrap();
    assert_eq!(trends.buckets, vec!["2024-05-06", "2024-05-07"]);
    // Every attempt of the dataset starts on one day per person, so per-day best = best.
    let day = |o: &Outcome| r::day_label(o.start_ms, "UTC");
    for (i, label) in trends.buckets.iter().enumerate() {
        let members: Vec<&Outcome> = outcomes.values().filter(|o| day(o) == *label).collect();
        assert_eq!(trends.entered[i], members.len() as u64, "{label}");
        assert_eq!(trends.converted[i], members.iter().filter(|o| o.reached == 2).count() as u64);
    }
    assert_eq!(trends.entered[1], 1, "hand: p-late");
}

fn field_of(result: Result<FunnelAnswer, QueryError>) -> String {
    match result {
        Err(QueryError::BadRequest { field, .. }) => field,
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_questions_name_the_field() {
    let (_w, runner) = setup("funnel_bad").await;
    let ask = |extra: Value| {
        let runner = runner.clone();
        async move {
            let q: FunnelQuery = parse(question("ordered", extra));
            field_of(runner.funnel(PROJECT, &q).await)
        }
    };
    let twenty_one: Vec<Value> = (0..21).map(|_| json!({"event": "e"})).collect();
    assert_eq!(ask(json!({"steps": []})).await, "steps");
    assert_eq!(ask(json!({"steps": [{"event": "a"}]})).await, "steps");
    assert_eq!(ask(json!({"steps": twenty_one})).await, "steps");
    assert_eq!(
        ask(json!({"conversion_window": {"value": 0, "unit": "day"}})).await,
        "conversion_window.value"
    );
    assert_eq!(
        ask(json!({"conversion_window": {"value": -5, "unit": "hour"}})).await,
        "conversion_window.value"
    );
    assert_eq!(
        ask(json!({"conversion_window": {"value": 13, "unit": "month"}})).await,
        "conversion_window.value"
    );
    assert_eq!(
        ask(json!({"steps": [{"event": "a", "optional": true}, {"event": "b"}]})).await,
        "steps[0].optional"
    );
    assert_eq!(
        ask(json!({"exclusions": [{"event": "x", "from_step": 2, "to_step": 1}]})).await,
        "exclusions[0].to_step"
    );
    assert_eq!(
        ask(json!({"breakdown": {"property": "utm", "attribution": "step"}})).await,
        "breakdown.attribution_step"
    );
    assert_eq!(ask(json!({"breakdown": {"property": "$nope"}})).await, "breakdown.property");
    assert_eq!(ask(json!({"steps": [{"event": ""}, {"event": "b"}]})).await, "steps[0].event");
    assert_eq!(
        ask(json!({"steps": [{"event": "a", "filters": [{"property": "x", "operator": "regex", "value": "("}]}, {"event": "b"}]}))
            .await,
        "steps[0].filters[0].value"
    );
    assert_eq!(ask(json!({"view": "persons"})).await, "persons");
    assert_eq!(
        ask(json!({"view": "persons", "persons": {"step": 0, "status": "dropped"}})).await,
        "persons.step"
    );
    let unknown_mode = numu_query::http::api::QueryRequest::parse(
        json!({"kind": "funnel", "date_range": {"from": "-7d"}, "steps": [], "mode": "sideways"})
            .to_string()
            .as_bytes(),
    );
    assert!(matches!(unknown_mode, Err(QueryError::BadRequest { field, .. }) if field == "mode"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injection_through_steps_is_inert() {
    let (runner, rows, persons) = seeded("funnel_injection").await;
    let outcomes = f::funnel(&reference(Mode::Ordered, false, false), &rows, &persons);
    let evil = "signup' OR 1=1 --";
    let answer = funnel(
        &runner,
        question(
            "ordered",
            json!({"steps": [{"event": evil}, {"event": "view"}], "breakdown": {"property": "x') OR ('1'='1"}}),
        ),
    )
    .await;
    assert!(answer.steps.unwrap().iter().all(|g| g.steps[0].count == 0));
    assert!(!outcomes.is_empty());
}

/// 60 persons with random short histories (steps a, b, c, the exclusion x and noise n; many
/// events in one millisecond): every mode, with optional and exclusion steps, agrees with the
/// brute-force reference person by person.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_histories_agree_with_the_brute_force_reference() {
    let (warehouse, runner) = setup("funnel_random").await;
    let mut seed: u64 = 0x5eed;
    let mut next = |m: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % m
    };
    let mut rows = Vec::new();
    for p in 0..60 {
        for k in 0..(3 + next(6)) {
            let name = ["a", "b", "c", "x", "n"][next(5) as usize];
            let mut row = event(T0, name, &format!("r-{p:02}"), &format!("r-{p}-{k}"));
            row.timestamp += next(8) as i64 * 10 * MIN + if next(3) == 0 { 1 } else { 0 };
            rows.push(row);
        }
    }
    insert_events(&warehouse, &rows).await;
    let steps =
        |optional: bool| json!([{"event": "a"}, {"event": "b", "optional": optional}, {"event": "c"}]);
    let exclusion = json!([{"event": "x", "from_step": 0, "to_step": 1}]);
    let cases = [
        (Mode::Ordered, "ordered", false, false),
        (Mode::Strict, "strict", false, false),
        (Mode::AnyOrder, "any_order", false, false),
        (Mode::Ordered, "ordered", true, false),
        (Mode::Strict, "strict", true, false),
        (Mode::Ordered, "ordered", false, true),
        (Mode::Strict, "strict", true, true),
    ];
    for (mode, name, optional, excluded) in cases {
        let funnel_ref = Funnel {
            steps: vec![(named("a"), false), (named("b"), optional), (named("c"), false)],
            exclusions: if excluded { vec![(named("x"), 0, 1)] } else { Vec::new() },
            mode,
            window_ms: 30 * MIN,
            from: ms("2024-05-06T00:00:00Z"),
            to: ms("2024-05-07T00:00:00Z"),
        };
        let outcomes = f::funnel(&funnel_ref, &rows, &HashMap::new());
        let mut q = question(
            name,
            json!({"steps": steps(optional), "conversion_window": {"value": 30, "unit": "minute"}}),
        );
        if excluded {
            q["exclusions"] = exclusion.clone();
        }
        let case = format!("{name} optional={optional} excluded={excluded}");
        let reached: Vec<usize> = outcomes.values().map(|o| o.reached).collect();
        assert!((0..3).all(|k| reached.contains(&k)), "{case}: the data exercises every outcome");
        for step in 0..3 {
            let want: Vec<String> =
                outcomes.iter().filter(|(_, o)| o.reached >= step).map(|(p, _)| p.clone()).collect();
            assert_eq!(persons_at(&runner, q.clone(), step, "converted").await, want, "{case}: step {step}");
        }
        q["view"] = json!("time_to_convert");
        let times = funnel(&runner, q).await.time_to_convert.unwrap();
        let mut want: Vec<f64> = outcomes.values().filter_map(|o| o.convert_ms).map(|t| t as f64).collect();
        want.sort_by(f64::total_cmp);
        assert_eq!(times[0].converted, want.len() as u64, "{case}");
        assert_eq!(times[0].median_ms, r::percentile(&want, 0.5), "{case}");
    }
}

/// Questions whose filters need no person read only the steps' events before the identity
/// mapping; the others (here a person filter every person passes) join every event of the
/// range to its person. Both give the same answer in every mode and view, with step filters
/// and a breakdown, and merged persons count once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_statement_without_persons_answers_as_the_one_with_them() {
    let (runner, _, _) = seeded("funnel_paths").await;
    let everyone = json!([{"property": "plan", "type": "person", "operator": "is_not_set"}]);
    let view_steps = json!([{"event": "signup"}, {"event": "view", "filters": [{"property": "utm", "operator": "is_not_set"}]}, {"event": "purchase"}]);
    let variants = [
        json!({}),
        json!({"view": "time_to_convert"}),
        json!({"view": "trends", "interval": "hour"}),
        json!({"view": "persons", "persons": {"step": 1, "status": "converted", "limit": 1000}}),
        json!({"view": "persons", "persons": {"step": 2, "status": "dropped", "limit": 1000}}),
        json!({"breakdown": {"property": "utm", "attribution": "step", "attribution_step": 1}}),
        json!({"steps": view_steps, "exclusions": [{"event": "refund", "from_step": 0, "to_step": 2}]}),
    ];
    for mode in ["ordered", "strict", "any_order"] {
        for extra in &variants {
            if mode == "any_order" && extra.get("exclusions").is_some() {
                continue;
            }
            let fast = question(mode, extra.clone());
            let mut general = fast.clone();
            general["filters"] = everyone.clone();
            let (a, b) = (funnel(&runner, fast).await, funnel(&runner, general).await);
            assert_eq!(a, b, "{mode} {extra}");
        }
    }
    let answer = funnel(&runner, question("ordered", json!({}))).await;
    assert!(answer.steps.unwrap()[0].steps[0].count > 0, "the dataset enters the funnel");
}
