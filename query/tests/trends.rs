//! Golden tests of trends on small fixed datasets: every expected answer is computed by a
//! plain-Rust fold over the same rows (`common::reference`), never taken from the engine.

mod common;

use std::collections::HashMap;

use common::reference::{self as r, person_of};
use common::shop::*;
use common::*;
use numu_schemas::EventRow;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totals_people_and_sessions_per_day_in_three_zones() {
    let (_w, runner, rows) = seeded("trends_basic").await;
    let persons = r::persons(&links());
    for zone in ["UTC", "Asia/Tokyo", "America/New_York"] {
        let (from, to) = (r::midnight(zone, 2024, 5, 6), r::midnight(zone, 2024, 5, 9));
        let events = in_range(&rows, from, to);
        let sessions = r::sessions(&events, &persons);
        let labels = r::days(
            chrono::NaiveDate::from_ymd_opt(2024, 5, 6).unwrap(),
            chrono::NaiveDate::from_ymd_opt(2024, 5, 8).unwrap(),
        );
        let answer = trends(
            &runner,
            json!({
                "date_range": {"from": "2024-05-06", "to": "2024-05-08"},
                "timezone": zone,
                "series": [
                    {"event": "$pageview"},
                    {"event": "$pageview", "math": "unique_people"},
                    {"math": "unique_sessions"},
                    {"event": "signup", "math": "dau"}
                ]
            }),
        )
        .await;
        assert_eq!(answer.buckets, labels, "{zone}");
        assert_eq!((answer.from_ms, answer.to_ms), (from, to));
        let pageviews: Vec<(String, &EventRow)> = events
            .iter()
            .filter(|e| e.event == "$pageview")
            .map(|e| (r::day_label(e.timestamp, zone), e))
            .collect();
        let expected = r::per_label(&labels, &pageviews, |g| Some(g.len() as f64));
        assert_eq!(answer.series[0].data, expected, "{zone}: pageviews");
        assert_eq!(answer.series[0].total, Some(pageviews.len() as f64));
        let people: Vec<(String, String)> =
            pageviews.iter().map(|(l, e)| (l.clone(), person_of(&persons, &e.distinct_id))).collect();
        assert_eq!(
            answer.series[1].data,
            r::per_label(&labels, &people, |g| Some(r::distinct(g))),
            "{zone}: people"
        );
        let all_people: Vec<&String> = people.iter().map(|(_, p)| p).collect();
        assert_eq!(
            answer.series[1].total,
            Some(r::distinct(&all_people)),
            "unique over the range, not a sum"
        );
        let by_session: Vec<(String, String)> =
            events.iter().zip(&sessions).map(|(e, s)| (r::day_label(e.timestamp, zone), s.clone())).collect();
        assert_eq!(
            answer.series[2].data,
            r::per_label(&labels, &by_session, |g| Some(r::distinct(g))),
            "{zone}: sessions"
        );
        let signups: Vec<(String, String)> = events
            .iter()
            .filter(|e| e.event == "signup")
            .map(|e| (r::day_label(e.timestamp, zone), person_of(&persons, &e.distinct_id)))
            .collect();
        assert_eq!(
            answer.series[3].data,
            r::per_label(&labels, &signups, |g| Some(r::distinct(g))),
            "{zone}: dau"
        );
        assert_eq!(answer.series[3].label, "signup (unique_people)");
    }
}

fn close(a: &[Option<f64>], b: &[Option<f64>]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Some(x), Some(y)) => (x - y).abs() < 1e-9 * (1.0 + x.abs()),
            (None, None) => true,
            _ => false,
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sums_averages_extremes_and_percentiles_of_numeric_properties() {
    let (_w, runner, rows) = seeded("trends_math").await;
    let (from, to) = (ms("2024-05-06T00:00:00Z"), ms("2024-05-09T00:00:00Z"));
    let events = in_range(&rows, from, to);
    let labels = vec!["2024-05-06".to_string(), "2024-05-07".into(), "2024-05-08".into()];
    let maths = ["sum", "avg", "min", "max", "p50", "p90", "p99"];
    let series: Vec<serde_json::Value> =
        maths.iter().map(|m| json!({"event": "$pageview", "math": m, "property": "amount"})).collect();
    let mut all = series.clone();
    all.push(json!({"event": "signup", "math": "sum", "property": "revenue"}));
    // Series share one statement: a bucket holding only other series' rows is still no
    // value for an average (signups carry no amount).
    all.push(json!({"event": "signup", "math": "avg", "property": "amount"}));
    let answer =
        trends(&runner, json!({"date_range": {"from": "2024-05-06", "to": "2024-05-08"}, "series": all}))
            .await;
    // Text that is not a number ("n/a") is no value.
    let amounts_of = |event: &str| -> Vec<(String, f64)> {
        events
            .iter()
            .filter(|e| e.event == event)
            .filter_map(|e| {
                let amount = e.properties.iter().find(|(k, _)| k == "amount")?.1.parse::<f64>().ok()?;
                Some((r::day_label(e.timestamp, "UTC"), amount))
            })
            .collect()
    };
    let amounts = amounts_of("$pageview");
    let fold = |math: &str, values: &[&f64]| -> Option<f64> {
        let v: Vec<f64> = values.iter().map(|x| **x).collect();
        match math {
            "sum" => Some(v.iter().sum()),
            _ if v.is_empty() => None,
            "avg" => Some(v.iter().sum::<f64>() / v.len() as f64),
            "min" => v.iter().copied().reduce(f64::min),
            "max" => v.iter().copied().reduce(f64::max),
            "p50" => r::percentile(&v, 0.5),
            "p90" => r::percentile(&v, 0.9),
            _ => r::percentile(&v, 0.99),
        }
    };
    for (i, math) in maths.iter().enumerate() {
        let expected = r::per_label(&labels, &amounts, |g| fold(math, g));
        assert!(
            close(&answer.series[i].data, &expected),
            "{math}: {:?} != {expected:?}",
            answer.series[i].data
        );
        let everything: Vec<&f64> = amounts.iter().map(|(_, a)| a).collect();
        assert!(close(&[answer.series[i].total], &[fold(math, &everything)]), "{math} total");
    }
    let revenue: Vec<(String, f64)> = events
        .iter()
        .filter(|e| e.event == "signup")
        .map(|e| (r::day_label(e.timestamp, "UTC"), e.revenue))
        .collect();
    let expected = r::per_label(&labels, &revenue, |g| Some(g.iter().map(|x| **x).sum()));
    assert!(close(&answer.series[7].data, &expected), "revenue {:?} != {expected:?}", answer.series[7].data);
    let expected = r::per_label(&labels, &amounts_of("signup"), |g| fold("avg", g));
    assert!(!revenue.is_empty() && expected.iter().any(Option::is_none), "the case is exercised");
    assert!(close(&answer.series[8].data, &expected), "{:?} != {expected:?}", answer.series[8].data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hours_and_days_across_daylight_saving_changes() {
    let (warehouse, runner) = setup("trends_dst").await;
    // One event every 20 minutes around both of Berlin's 2024 changes.
    let mut rows = Vec::new();
    for (start, end) in
        [("2024-03-30T20:00:00Z", "2024-04-01T02:00:00Z"), ("2024-10-26T20:00:00Z", "2024-10-28T02:00:00Z")]
    {
        let mut t = ms(start);
        while t < ms(end) {
            let mut row = event(start, "tick", "clock", &format!("t-{t}"));
            row.timestamp = t;
            rows.push(row);
            t += 20 * 60_000;
        }
    }
    insert_events(&warehouse, &rows).await;
    let zone = "Europe/Berlin";
    for (day, next, hours) in [((3, 31), (4, 1), 23), ((10, 27), (10, 28), 25)] {
        let (from, to) = (r::midnight(zone, 2024, day.0, day.1), r::midnight(zone, 2024, next.0, next.1));
        let date = format!("2024-{:02}-{:02}", day.0, day.1);
        let answer = trends(
            &runner,
            json!({
                "date_range": {"from": date, "to": date}, "timezone": zone, "interval": "hour", "series": [{}]
            }),
        )
        .await;
        let mut labels: Vec<String> = Vec::new();
        let mut t = from;
        while t < to {
            labels.push(r::hour_label(t, zone));
            t += 3_600_000;
        }
        assert_eq!(labels.len(), hours);
        assert_eq!(answer.buckets, labels);
        let items: Vec<(String, ())> = rows
            .iter()
            .filter(|e| e.timestamp >= from && e.timestamp < to)
            .map(|e| (r::hour_label(e.timestamp, zone), ()))
            .collect();
        assert_eq!(answer.series[0].data, r::per_label(&labels, &items, |g| Some(g.len() as f64)));
        assert!(answer.series[0].data.iter().all(|v| *v == Some(3.0)), "3 ticks in every real hour");
        assert_eq!(answer.series[0].total, Some(hours as f64 * 3.0));
        // By day the whole (short or long) day is one bucket.
        let by_day = trends(
            &runner,
            json!({"date_range": {"from": date, "to": date}, "timezone": zone, "series": [{}]}),
        )
        .await;
        assert_eq!(
            (by_day.buckets.clone(), by_day.series[0].data.clone()),
            (vec![date.clone()], vec![Some(hours as f64 * 3.0)])
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weeks_start_on_monday_and_months_on_the_first() {
    let (warehouse, runner) = setup("trends_weeks").await;
    let days =
        ["2024-02-25", "2024-02-26", "2024-02-29", "2024-03-01", "2024-03-03", "2024-03-04", "2024-03-10"];
    let rows: Vec<EventRow> = days
        .iter()
        .enumerate()
        .map(|(i, d)| event(&format!("{d}T23:30:00Z"), "tick", "x", &format!("w-{i}")))
        .collect();
    insert_events(&warehouse, &rows).await;
    for (zone, interval, label) in [
        ("UTC", "week", r::week_label as fn(i64, &str) -> String),
        ("Asia/Tokyo", "week", r::week_label),
        ("UTC", "month", r::month_label),
        ("Asia/Tokyo", "month", r::month_label),
    ] {
        let answer = trends(&runner, json!({
            "date_range": {"from": "2024-02-20", "to": "2024-03-12"}, "timezone": zone, "interval": interval, "series": [{}]
        }))
        .await;
        let items: Vec<(String, ())> = rows.iter().map(|e| (label(e.timestamp, zone), ())).collect();
        let mut labels: Vec<String> = items.iter().map(|(l, _)| l.clone()).collect();
        labels.dedup();
        assert!(answer.buckets.iter().any(|b| labels.contains(b)));
        let data = r::per_label(&answer.buckets, &items, |g| Some(g.len() as f64));
        assert_eq!(answer.series[0].data, data, "{zone} {interval}");
        assert_eq!(answer.series[0].total, Some(rows.len() as f64));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_ranges_answer_zeros_and_bots_count_only_when_asked() {
    let (_w, runner, rows) = seeded("trends_empty").await;
    let answer = trends(
        &runner,
        json!({
            "date_range": {"from": "2023-01-01", "to": "2023-01-03"},
            "series": [{}, {"math": "avg", "property": "amount"}, {"math": "unique_people"}],
            "formula": "A/C"
        }),
    )
    .await;
    assert_eq!(answer.buckets.len(), 3);
    assert_eq!(answer.series.len(), 3);
    assert_eq!(answer.series[0].data, vec![Some(0.0); 3]);
    assert_eq!(answer.series[1].data, vec![None; 3], "an average of nothing is nothing");
    assert_eq!(answer.formula.as_ref().unwrap()[0].data, vec![None; 3], "0/0 is nothing");
    let broken_down = trends(&runner, json!({
        "date_range": {"from": "2023-01-01", "to": "2023-01-03"}, "series": [{}], "breakdown": {"property": "browser"}
    }))
    .await;
    assert!(broken_down.series.is_empty(), "no values to break down");
    let (from, to) = (ms("2024-05-06T00:00:00Z"), ms("2024-05-09T00:00:00Z"));
    let humans = in_range(&rows, from, to).len() as f64;
    let all =
        rows.iter().filter(|r| r.project_id == PROJECT && r.timestamp >= from && r.timestamp < to).count()
            as f64;
    assert!(all > humans);
    let range = json!({"from": "2024-05-06", "to": "2024-05-08"});
    let without = trends(&runner, json!({"date_range": range, "series": [{}]})).await;
    let with = trends(&runner, json!({"date_range": range, "series": [{}], "include_bots": true})).await;
    assert_eq!((without.series[0].total, with.series[0].total), (Some(humans), Some(all)));
}

/// The lines a breakdown should give for events `matching` (already filtered to the series):
/// top `limit` values by count (ties by value), the rest as "other"; `value` folds a group.
type Line = ((bool, String), Vec<Option<f64>>, Option<f64>);

fn breakdown_lines(
    matching: &[EventRow],
    top: &[String],
    labels: &[String],
    label: &dyn Fn(&EventRow) -> String,
    value: &dyn Fn(&[&EventRow]) -> f64,
) -> Vec<Line> {
    let key = |e: &EventRow| {
        if top.contains(&e.browser) {
            (false, e.browser.clone())
        } else {
            (true, String::new())
        }
    };
    let mut keys: Vec<(bool, String)> = matching.iter().map(key).collect();
    keys.sort();
    keys.dedup();
    let mut lines: Vec<Line> = keys
        .into_iter()
        .map(|k| {
            let group: Vec<&EventRow> = matching.iter().filter(|e| key(e) == k).collect();
            let data = labels
                .iter()
                .map(|l| Some(value(&group.iter().copied().filter(|e| &label(e) == l).collect::<Vec<_>>())))
                .collect();
            let total = Some(value(&group));
            (k, data, total)
        })
        .collect();
    lines.sort_by(|a, b| {
        a.0 .0.cmp(&b.0 .0).then(b.2.unwrap().total_cmp(&a.2.unwrap())).then(a.0 .1.cmp(&b.0 .1))
    });
    lines
}

fn top_browsers(matching: &[EventRow], limit: usize) -> Vec<String> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for e in matching {
        *counts.entry(e.browser.clone()).or_default() += 1;
    }
    let mut ranked: Vec<(String, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.into_iter().take(limit).map(|(b, _)| b).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breakdown_top_values_other_formula_and_previous_period() {
    let (_w, runner, rows) = seeded("trends_breakdown").await;
    let persons = r::persons(&links());
    let (from, to) = (ms("2024-05-07T00:00:00Z"), ms("2024-05-07T20:00:00Z"));
    let answer = trends(
        &runner,
        json!({
            "date_range": {"from": "2024-05-07T00:00:00Z", "to": "2024-05-07T20:00:00Z"},
            "interval": "hour",
            "series": [{"event": "$pageview"}, {"event": "$pageview", "math": "unique_people"}],
            "formula": "A/B",
            "breakdown": {"property": "browser", "limit": 2},
            "compare": true
        }),
    )
    .await;
    let pageviews = |from: i64, to: i64| -> Vec<EventRow> {
        in_range(&rows, from, to).into_iter().filter(|e| e.event == "$pageview").collect()
    };
    let (now, before) = (pageviews(from, to), pageviews(from - (to - from), from));
    let top = top_browsers(&now, 2);
    let hour = |e: &EventRow| r::hour_label(e.timestamp, "UTC");
    let count = |g: &[&EventRow]| g.len() as f64;
    let people = |g: &[&EventRow]| {
        let ids: Vec<String> = g.iter().map(|e| person_of(&persons, &e.distinct_id)).collect();
        r::distinct(&ids.iter().collect::<Vec<_>>())
    };
    let previous_labels = answer.previous_buckets.clone().unwrap();
    for (series, fold) in [(0usize, &count as &dyn Fn(&[&EventRow]) -> f64), (1, &people)] {
        let expected = breakdown_lines(&now, &top, &answer.buckets, &hour, fold);
        let got: Vec<&numu_query::trends::SeriesAnswer> =
            answer.series.iter().filter(|s| s.series == Some(series)).collect();
        assert_eq!(got.len(), expected.len(), "series {series}: {got:?}");
        assert_eq!(expected.len(), 3, "two top values and other");
        let previous = breakdown_lines(&before, &top, &previous_labels, &hour, fold);
        for (line, ((other, value), data, total)) in got.iter().zip(&expected) {
            assert_eq!(
                (line.breakdown_other, line.breakdown_value.as_deref()),
                (*other, Some(value.as_str()))
            );
            assert_eq!((&line.data, line.total), (data, *total), "series {series} {value}");
            let before = previous.iter().find(|p| p.0 == (*other, value.clone()));
            let period = line.previous.as_ref().unwrap();
            assert_eq!(period.total, before.map_or(Some(0.0), |b| b.2), "previous {series} {value}");
            let zeros = vec![Some(0.0); previous_labels.len()];
            assert_eq!(period.data, before.map_or(zeros, |b| b.1.clone()), "previous {series} {value}");
        }
    }
    // A/B per breakdown value: pageviews per person.
    let formula = answer.formula.as_ref().unwrap();
    for line in formula {
        let of = |i: usize| {
            answer
                .series
                .iter()
                .find(|s| {
                    s.series == Some(i)
                        && s.breakdown_value == line.breakdown_value
                        && s.breakdown_other == line.breakdown_other
                })
                .unwrap()
        };
        let (a, b) = (of(0), of(1));
        assert_eq!(line.total, Some(a.total.unwrap() / b.total.unwrap()));
        let data: Vec<Option<f64>> = a
            .data
            .iter()
            .zip(&b.data)
            .map(|(x, y)| if *y == Some(0.0) { None } else { Some(x.unwrap() / y.unwrap()) })
            .collect();
        assert_eq!(line.data, data);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weekly_and_monthly_active_people() {
    let (_w, runner, rows) = seeded("trends_active").await;
    let persons = r::persons(&links());
    let humans: Vec<&EventRow> = rows.iter().filter(|r| r.project_id == PROJECT && !r.is_bot).collect();
    let active = |window: i64, last_day: chrono::NaiveDate, events: &[&EventRow]| -> f64 {
        let ids: Vec<String> = events
            .iter()
            .filter(|e| {
                let d = r::local_date(e.timestamp, "UTC");
                d <= last_day && d > last_day - chrono::Duration::days(window)
            })
            .map(|e| person_of(&persons, &e.distinct_id))
            .collect();
        r::distinct(&ids.iter().collect::<Vec<_>>())
    };
    let date = |d: u32| chrono::NaiveDate::from_ymd_opt(2024, 5, d).unwrap();
    let answer = trends(
        &runner,
        json!({
            "date_range": {"from": "2024-05-07", "to": "2024-05-14"},
            "series": [{"math": "wau"}, {"math": "mau"}, {"event": "signup", "math": "wau"}]
        }),
    )
    .await;
    let signups: Vec<&EventRow> = humans.iter().copied().filter(|e| e.event == "signup").collect();
    for (i, day) in (7..=14).enumerate() {
        assert_eq!(answer.series[0].data[i], Some(active(7, date(day), &humans)), "wau 05-{day}");
        assert_eq!(answer.series[1].data[i], Some(active(30, date(day), &humans)), "mau 05-{day}");
        assert_eq!(answer.series[2].data[i], Some(active(7, date(day), &signups)), "signup wau 05-{day}");
    }
    assert_eq!(answer.series[0].data[7], Some(0.0), "a week after the last event nobody is active");
    assert_eq!(answer.series[0].total, None);
    // Broken down by id: anon-3 is a person of its own, so its line is its own activity.
    let by_id = trends(
        &runner,
        json!({
            "date_range": {"from": "2024-05-07", "to": "2024-05-14"},
            "series": [{"math": "wau"}],
            "breakdown": {"property": "distinct_id", "limit": 10}
        }),
    )
    .await;
    let anon3 = by_id.series.iter().find(|s| s.breakdown_value.as_deref() == Some("anon-3")).unwrap();
    let own: Vec<&EventRow> = humans.iter().copied().filter(|e| e.distinct_id == "anon-3").collect();
    let expected: Vec<Option<f64>> = (7..=14).map(|d| Some(active(7, date(d), &own))).collect();
    assert_eq!(anon3.data, expected);
    // By week: the 7 days ending with each week's last day inside the range.
    let weekly = trends(&runner, json!({
        "date_range": {"from": "2024-05-01", "to": "2024-05-09"}, "interval": "week", "series": [{"math": "wau"}]
    }))
    .await;
    assert_eq!(weekly.buckets, vec!["2024-04-29", "2024-05-06"]);
    assert_eq!(
        weekly.series[0].data,
        vec![Some(active(7, date(5), &humans)), Some(active(7, date(9), &humans))]
    );
}
