//! Smoke run of the direct bulk loader at a tiny size into an embedded warehouse: every
//! message becomes one event row, identities become links, and the counts read back through
//! SQL equal the model's truths.

use arrow_array::Array;
use numu_load_tests::demo::{bulk_load, collector_converter, simple_converter, BulkOptions};
use numu_load_tests::model::{Generator, ModelConfig};
use numu_warehouse::{first_cell, Sql};

async fn count(warehouse: &numu_warehouse::Warehouse, sql: Sql) -> u64 {
    let batches = warehouse.query_all(&sql).await.unwrap();
    first_cell(&batches).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_load_stores_every_message_once() {
    let warehouse =
        numu_warehouse::testing::migrated_warehouse("model_bulk").await.expect("run `make setup` first");
    let config = ModelConfig { seed: 21, days: 3, visitors_per_day: 40.0, ..ModelConfig::default() };
    let generator = Generator::new(config.clone()).unwrap();
    let truths = numu_load_tests::model::truths_of(config).unwrap();
    let mut progress = Vec::new();
    let options = BulkOptions { batch_rows: 300 };
    let report =
        bulk_load(&warehouse, generator, simple_converter(42), &options, |r| progress.push(r.messages))
            .await
            .unwrap();
    assert_eq!(report.messages, truths.messages);
    assert_eq!(report.rows_of("events"), truths.messages);
    assert!(progress.len() > 2 && progress.windows(2).all(|w| w[0] < w[1]), "{progress:?}");

    let scoped = |text: &str| Sql::new(text).bind(42u64);
    let events = count(&warehouse, scoped("SELECT count() FROM events WHERE project_id = ")).await;
    assert_eq!(events, truths.messages);
    let unique =
        count(&warehouse, scoped("SELECT uniqExact(message_id) FROM events WHERE project_id = ")).await;
    assert_eq!(unique, truths.messages);
    let pageviews = count(
        &warehouse,
        scoped("SELECT count() FROM events WHERE NOT is_bot AND event = '$pageview' AND project_id = "),
    )
    .await;
    assert_eq!(pageviews, truths.pageviews);
    let signup = Sql::new("SELECT uniqExact(distinct_id) FROM events WHERE project_id = ")
        .bind(42u64)
        .push(" AND event = ")
        .bind(truths.config.funnel.signup_event.as_str());
    assert_eq!(count(&warehouse, signup).await, truths.funnel[1].persons);
    let revenue =
        count(&warehouse, scoped("SELECT toUInt64(sum(revenue)) FROM events WHERE project_id = ")).await;
    assert_eq!(revenue, truths.revenue as u64);
    // One link per identify and alias; an alias repeats its identify's pair (a replacing
    // table keeps one), so the distinct pairs are the signups plus the second-device logins.
    let identities = truths.messages_by_type.get("identify").copied().unwrap_or(0)
        + truths.messages_by_type.get("alias").copied().unwrap_or(0);
    assert_eq!(report.rows_of("identity_links"), identities);
    let pairs = "SELECT uniqExact(distinct_id, linked_id) FROM identity_links WHERE project_id = ";
    assert_eq!(count(&warehouse, scoped(pairs)).await, truths.identified + truths.second_device);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_load_through_the_collector_conversion_keeps_the_channel_mix() {
    let warehouse = numu_warehouse::testing::migrated_warehouse("model_bulk_front")
        .await
        .expect("run `make setup` first");
    let config = ModelConfig { seed: 22, days: 3, visitors_per_day: 60.0, ..ModelConfig::default() };
    let truths = numu_load_tests::model::truths_of(config.clone()).unwrap();
    let convert = collector_converter(9, config.now_ms).unwrap();
    let generator = Generator::new(config).unwrap();
    let report = bulk_load(&warehouse, generator, convert, &BulkOptions::default(), |_| {}).await.unwrap();
    assert_eq!(report.rows_of("events"), truths.messages);
    assert_eq!(report.rows_of("dead_letters"), 0);
    let first_touch = Sql::new(
        "SELECT channel, count() AS visitors FROM (SELECT anonymous_id, argMin(channel, timestamp) AS channel \
         FROM events WHERE NOT is_bot AND event = '$pageview' AND project_id = ",
    )
    .bind(9u64)
    .push(" GROUP BY anonymous_id) GROUP BY channel ORDER BY channel");
    let batches = warehouse.query_all(&first_touch).await.unwrap();
    let mut counted = std::collections::BTreeMap::new();
    for batch in &batches {
        let channels = arrow_cast_strings(batch.column(0));
        let visitors = arrow_cast_strings(batch.column(1));
        for (channel, n) in channels.into_iter().zip(visitors) {
            counted.insert(channel, n.parse::<u64>().unwrap());
        }
    }
    let mut expected = truths.stored_channel_visitors();
    *expected.entry("direct".into()).or_default() += truths.second_device;
    expected.retain(|_, n| *n > 0);
    assert_eq!(counted, expected);
}

fn arrow_cast_strings(column: &arrow_array::ArrayRef) -> Vec<String> {
    (0..column.len()).map(|i| arrow_cast::display::array_value_to_string(column, i).unwrap()).collect()
}
