//! The shop dataset shared by the trends and filter golden tests: five ids (two devices and
//! the account they sign in to, one with client session ids, one with an Arabic name) with
//! pageviews and signups over about 28 hours, bots, and a copy under another project.

use numu_query::trends::{TrendsAnswer, TrendsQuery};
use numu_schemas::EventRow;

use super::*;

pub const IDS: [&str; 5] = ["anon-1", "anon-2", "user-1", "anon-3", "مستخدم-٤"];
/// Minutes between one id's consecutive events; 0 = the same millisecond.
pub const GAPS: [i64; 12] = [0, 5, 12, 45, 3, 31, 29, 90, 0, 20, 600, 7];
pub const BROWSERS: [&str; 5] = ["Chrome", "Firefox", "Safari", "سفاري", "Edge"];

/// 24 events per id from 2024-05-06 15:00 UTC over about 28 hours: pageviews and signups,
/// browsers, a numeric `amount` (sometimes not a number), an Arabic `الخطة`, client session
/// ids for anon-3, every 13th event a bot; and the same rows again under another project.
pub fn dataset() -> Vec<EventRow> {
    let mut rows = Vec::new();
    for (k, id) in IDS.iter().enumerate() {
        let mut t = ms("2024-05-06T15:00:00Z") + k as i64 * 17 * 60_000 + k as i64 * 1000;
        for j in 0..24usize {
            t += GAPS[(j + k) % GAPS.len()] * 60_000;
            let i = k * 100 + j;
            let name = if j % 4 == 3 { "signup" } else { "$pageview" };
            let amount = if j % 5 == 4 { "n/a".to_string() } else { format!("{}", (i * 7) % 50) };
            let plan = ["free", "pro", "مجاني"][j % 3];
            let mut row = with_props(
                event("2024-01-01T00:00:00Z", name, id, &format!("m-{i:04}")),
                &[("amount", &amount), ("الخطة", plan)],
            );
            row.timestamp = t;
            row.browser = BROWSERS[(j + k) % BROWSERS.len()].into();
            row.path = format!("/p/{}", j % 4);
            row.revenue = if name == "signup" { (j as f64) * 1.5 } else { 0.0 };
            row.is_bot = i % 13 == 0;
            if *id == "anon-3" {
                row.session_id = format!("client-{}", j / 8);
            }
            rows.push(row);
        }
    }
    let other: Vec<EventRow> =
        rows.iter().map(|r| EventRow { project_id: OTHER_PROJECT, ..r.clone() }).collect();
    rows.extend(other);
    rows
}

pub fn links() -> Vec<Link> {
    vec![link("anon-1", "user-1", "2024-05-07T12:00:00Z"), link("anon-2", "user-1", "2024-05-07T13:00:00Z")]
}

pub async fn seeded(prefix: &str) -> (numu_warehouse::Warehouse, numu_query::Runner, Vec<EventRow>) {
    let (warehouse, runner) = setup(prefix).await;
    let rows = dataset();
    insert_events(&warehouse, &rows).await;
    insert_links(&warehouse, &links()).await;
    (warehouse, runner, rows)
}

/// The project's non-bot events in `[from, to)`.
pub fn in_range(rows: &[EventRow], from: i64, to: i64) -> Vec<EventRow> {
    rows.iter()
        .filter(|r| r.project_id == PROJECT && !r.is_bot && r.timestamp >= from && r.timestamp < to)
        .cloned()
        .collect()
}

pub async fn trends(runner: &numu_query::Runner, query: serde_json::Value) -> TrendsAnswer {
    let query: TrendsQuery = parse(query);
    runner.trends(PROJECT, &query).await.unwrap_or_else(|e| panic!("{e}"))
}
