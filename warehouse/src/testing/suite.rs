//! The warehouse suite: test bodies written against the `Warehouse` interface only, so
//! every engine runs the same checks. [`crate::warehouse_suite!`] turns them into tests for
//! one way of obtaining a warehouse (embedded, remote via the stand-in, a real server).

use std::sync::Arc;

use crate::{first_cell, EngineKind, Sql, Value, Warehouse, WarehouseError};
use arrow_array::cast::AsArray;
use arrow_array::types::UInt64Type;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, UInt64Array};
use numu_schemas::{events_to_batch, EventRow, EVENT_COLUMNS};

async fn count(warehouse: &Warehouse, sql: Sql) -> u64 {
    let batches = warehouse.query_all(&sql).await.unwrap();
    first_cell(&batches).unwrap().parse().unwrap()
}

fn strings_of(batches: &[RecordBatch], column: usize) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            let c = b.column(column).as_string::<i32>().clone();
            (0..c.len()).map(move |i| c.value(i).to_string())
        })
        .collect()
}

fn sample_row(i: u64) -> EventRow {
    EventRow {
        project_id: 42,
        timestamp: 1_764_000_000_000 + i as i64,
        event: if i.is_multiple_of(2) { "$pageview".into() } else { "اشتراك".into() },
        event_type: "track".into(),
        message_id: format!("m-{i}"),
        distinct_id: format!("d-{}", i % 3),
        anonymous_id: "anon".into(),
        user_id: "مستخدم".into(),
        session_id: "s1".into(),
        url: "https://example.com/ar/صفحة?q=1".into(),
        host: "example.com".into(),
        path: "/ar/صفحة".into(),
        title: "عنوان الصفحة".into(),
        referrer: "https://google.com/".into(),
        referrer_host: "google.com".into(),
        referrer_source: "Google".into(),
        channel: "search".into(),
        utm_source: "newsletter".into(),
        utm_medium: "email".into(),
        utm_campaign: "رمضان".into(),
        utm_term: "t".into(),
        utm_content: "c".into(),
        click_id_type: "gclid".into(),
        click_id: "abc".into(),
        device_type: "mobile".into(),
        browser: "Chrome".into(),
        browser_version: "120.0".into(),
        os: "Android".into(),
        os_version: "14".into(),
        country: "SA".into(),
        region: "Riyadh".into(),
        city: "الرياض".into(),
        locale: "ar-SA".into(),
        screen_width: 390,
        screen_height: 844,
        ip: String::new(),
        library: "numu.js".into(),
        is_bot: i == 1,
        revenue: 19.5 * i as f64,
        properties: vec![("plan".into(), "pro".into()), ("الخطة".into(), format!("قيمة {i}"))],
        received_at: 1_764_000_000_500 + i as i64,
    }
}

/// Generates one `#[tokio::test]` per suite body, each on a warehouse from `$factory`: an
/// `async fn(&'static str) -> Option<TestWarehouse>` given the test's name (`None` skips).
#[macro_export]
macro_rules! warehouse_suite {
    ($factory:path) => {
        $crate::warehouse_suite!(@each $factory;
            migrate_twice_is_a_no_op_and_health_reports_none_pending,
            events_table_matches_the_column_list,
            every_event_column_round_trips_including_maps_and_arabic,
            invalid_utf8_in_results_never_panics,
            injection_attempts_through_bound_parameters_are_inert,
            bound_values_of_every_type,
            insert_matches_columns_by_name_not_position,
            deduplicated_insert_stores_a_retried_batch_once,
            large_results_stream_in_several_batches,
            abandoned_stream_leaves_the_pool_usable,
            sql_errors_surface_with_code_and_message,
            concurrent_inserts_and_queries_give_exact_counts,
            engine_memory_is_reported,
        );
    };
    (@each $factory:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let Some(test) = $factory(stringify!($name)).await else { return };
                $crate::testing::suite::$name(&test.warehouse).await;
                $crate::testing::suite::finish(&test.warehouse).await;
            }
        )*
    };
}

/// Drops a remote test's database after the test passed (the embedded engine's live in a
/// temporary directory).
pub async fn finish(warehouse: &Warehouse) {
    if warehouse.kind() != EngineKind::Remote {
        return;
    }
    let current = warehouse.query_all(&Sql::new("SELECT currentDatabase()")).await.unwrap();
    let database = crate::Ident::new(&first_cell(&current).unwrap()).unwrap();
    let on_cluster =
        match std::env::var("NUMU_TEST_CLICKHOUSE_CLUSTER").ok().and_then(|c| crate::Ident::new(&c)) {
            Some(cluster) => format!(" ON CLUSTER {cluster} SYNC"),
            None => String::new(),
        };
    warehouse.execute(&Sql::new(format!("DROP DATABASE IF EXISTS {database}{on_cluster}"))).await.unwrap();
}

pub async fn migrate_twice_is_a_no_op_and_health_reports_none_pending(warehouse: &Warehouse) {
    let second = warehouse.migrate().await.unwrap();
    assert!(second.applied.is_empty(), "{second:?}");
    assert_eq!(second.already_applied, numu_schemas::MIGRATIONS.len());
    let health = warehouse.health().await.unwrap();
    assert_eq!(health.pending_migrations, 0);
    assert!(!health.version.is_empty());
    if warehouse.kind() == EngineKind::Embedded {
        assert!(health.version.starts_with("26."), "{}", health.version);
    }
}

pub async fn events_table_matches_the_column_list(warehouse: &Warehouse) {
    let sql = Sql::new(
        "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'events' ORDER BY position",
    );
    let batches = warehouse.query_all(&sql).await.unwrap();
    let names = strings_of(&batches, 0);
    let types = strings_of(&batches, 1);
    let expected: Vec<(String, String)> =
        EVENT_COLUMNS.iter().map(|c| (c.name.to_string(), c.kind.clickhouse_name().to_string())).collect();
    let actual: Vec<(String, String)> = names.into_iter().zip(types).collect();
    assert_eq!(actual, expected);
}

pub async fn every_event_column_round_trips_including_maps_and_arabic(warehouse: &Warehouse) {
    let rows: Vec<EventRow> = (0..5).map(sample_row).collect();
    let written = warehouse.insert("events", events_to_batch(&rows).unwrap()).await.unwrap();
    assert_eq!(written, 5);
    // Arrow back: typed checks on a few columns.
    let batches = warehouse
        .query_all(&Sql::new("SELECT message_id, properties, timestamp, is_bot, revenue, city FROM events WHERE project_id = ").bind(42u64).push(" ORDER BY message_id"))
        .await
        .unwrap();
    assert_eq!(strings_of(&batches, 0), vec!["m-0", "m-1", "m-2", "m-3", "m-4"]);
    assert_eq!(strings_of(&batches, 5), vec!["الرياض"; 5]);
    let map = batches[0].column(1).as_map();
    let first = map.value(3);
    let keys = first.column(0).as_string::<i32>();
    let values = first.column(1).as_string::<i32>();
    let pairs: Vec<(String, String)> =
        (0..keys.len()).map(|i| (keys.value(i).to_string(), values.value(i).to_string())).collect();
    assert!(pairs.contains(&("الخطة".to_string(), "قيمة 3".to_string())), "{pairs:?}");
    // Every column, compared whole: the engine renders each row as JSON with our field names.
    let json_sql = Sql::new(
        "SELECT toJSONString(map(\
         'project_id', toString(project_id), 'timestamp', toString(toUnixTimestamp64Milli(timestamp)), \
         'received_at', toString(toUnixTimestamp64Milli(received_at)))) AS extra, \
         formatRowNoNewline('JSONEachRow', * EXCEPT (project_id, timestamp, received_at, properties)) AS row, \
         toJSONString(properties) AS props FROM events ORDER BY message_id",
    );
    let batches = warehouse.query_all(&json_sql).await.unwrap();
    let mut back = Vec::new();
    for batch in &batches {
        let (extra, row, props) = (
            batch.column(0).as_string::<i32>(),
            batch.column(1).as_string::<i32>(),
            batch.column(2).as_string::<i32>(),
        );
        for i in 0..batch.num_rows() {
            let mut value: serde_json::Value = serde_json::from_str(row.value(i)).unwrap();
            let extra: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(extra.value(i)).unwrap();
            for (k, v) in extra {
                value[k] = serde_json::Value::from(v.as_str().unwrap().parse::<i64>().unwrap());
            }
            let props: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(props.value(i)).unwrap();
            let mut pairs: Vec<(String, String)> =
                props.into_iter().map(|(k, v)| (k, v.as_str().unwrap().to_string())).collect();
            pairs.sort();
            value["properties"] = serde_json::to_value(pairs).unwrap();
            back.push(serde_json::from_value::<EventRow>(value).unwrap());
        }
    }
    let mut expected = rows.clone();
    for row in &mut expected {
        row.properties.sort();
    }
    assert_eq!(back, expected);
}

pub async fn invalid_utf8_in_results_never_panics(warehouse: &Warehouse) {
    warehouse
        .execute(&Sql::new("CREATE TABLE raw_strings (id UInt32, s String) ENGINE = MergeTree ORDER BY id"))
        .await
        .unwrap();
    warehouse
        .execute(&Sql::new("INSERT INTO raw_strings SELECT 1, unhex('FFFE41') UNION ALL SELECT 2, 'سلام'"))
        .await
        .unwrap();
    let batches = warehouse.query_all(&Sql::new("SELECT s FROM raw_strings ORDER BY id")).await.unwrap();
    let values = strings_of(&batches, 0);
    assert_eq!(values, vec!["\u{fffd}\u{fffd}A".to_string(), "سلام".to_string()]);
    // Nested: an array of such strings.
    let batches = warehouse.query_all(&Sql::new("SELECT groupArray(s) FROM raw_strings")).await.unwrap();
    let list = batches[0].column(0).as_list::<i32>().value(0);
    let inner = list.as_string::<i32>();
    assert!(inner.iter().flatten().any(|s| s.contains('\u{fffd}')));
    assert!(inner.to_data().validate_full().is_ok());
}

pub async fn injection_attempts_through_bound_parameters_are_inert(warehouse: &Warehouse) {
    warehouse
        .execute(&Sql::new(
            "CREATE TABLE secrets (project_id UInt64, s String) ENGINE = MergeTree ORDER BY project_id",
        ))
        .await
        .unwrap();
    warehouse.execute(&Sql::new("INSERT INTO secrets VALUES (1, 'mine'), (2, 'theirs')")).await.unwrap();
    let hostile = [
        "' OR 1=1 --",
        "mine' OR '1'='1",
        "\\' OR 1=1 --",
        "back\\slash",
        "new\nline",
        "quote\"double",
        "x'); DROP TABLE secrets; --",
        "?",
        "{p0:String}",
    ];
    for value in hostile {
        let n = count(warehouse, Sql::new("SELECT count() FROM secrets WHERE s = ").bind(value)).await;
        assert_eq!(n, 0, "{value:?} matched rows");
        // The value comes back byte for byte.
        let echoed = warehouse.query_all(&Sql::new("SELECT ").bind(value)).await.unwrap();
        assert_eq!(first_cell(&echoed).unwrap(), value);
    }
    assert_eq!(count(warehouse, Sql::new("SELECT count() FROM secrets")).await, 2);
    let n = count(
        warehouse,
        Sql::new("SELECT count() FROM secrets WHERE project_id = ").bind(1u64).push(" AND s = ").bind("mine"),
    )
    .await;
    assert_eq!(n, 1);
}

pub async fn bound_values_of_every_type(warehouse: &Warehouse) {
    let sql = Sql::new("SELECT toString(")
        .bind(-5i64)
        .push(") || '|' || toString(")
        .bind(u64::MAX)
        .push(") || '|' || toString(")
        .bind(2.5f64)
        .push(") || '|' || toString(")
        .bind(true)
        .push(") || '|' || toString(")
        .bind(Value::TimestampMs(1_764_000_000_123))
        .push(")");
    let text = first_cell(&warehouse.query_all(&sql).await.unwrap()).unwrap();
    assert_eq!(text, format!("-5|{}|2.5|true|2025-11-24 16:00:00.123", u64::MAX));
}

pub async fn insert_matches_columns_by_name_not_position(warehouse: &Warehouse) {
    warehouse
        .execute(&Sql::new(
            "CREATE TABLE pairs (a UInt64, b String, c String DEFAULT 'dflt') ENGINE = MergeTree ORDER BY a",
        ))
        .await
        .unwrap();
    let batch = RecordBatch::try_from_iter([
        ("b", Arc::new(StringArray::from(vec!["x", "y"])) as ArrayRef),
        ("a", Arc::new(UInt64Array::from(vec![1u64, 2])) as ArrayRef),
    ])
    .unwrap();
    warehouse.insert("pairs", batch).await.unwrap();
    let batches = warehouse.query_all(&Sql::new("SELECT b || c FROM pairs ORDER BY a")).await.unwrap();
    assert_eq!(strings_of(&batches, 0), vec!["xdflt", "ydflt"]);
}

pub async fn deduplicated_insert_stores_a_retried_batch_once(warehouse: &Warehouse) {
    let rows: Vec<EventRow> = (0..10).map(sample_row).collect();
    let batch = events_to_batch(&rows).unwrap();
    // The sessions pre-aggregated from events (a materialized view) follow: a dropped retry
    // is dropped there too, or its events would count twice in every session figure.
    let sessions =
        || Sql::new("SELECT sum(events) * 1000 + sum(pageviews) FROM session_hours WHERE session_id = 's1'");
    warehouse.insert_deduplicated("events", batch.clone(), "batch-1").await.unwrap();
    warehouse.insert_deduplicated("events", batch.clone(), "batch-1").await.unwrap();
    assert_eq!(count(warehouse, Sql::new("SELECT count() FROM events")).await, 10);
    assert_eq!(count(warehouse, sessions()).await, 10 * 1000 + 5, "10 events, 5 pageviews");
    let views = || Sql::new("SELECT sum(views) FROM page_hours WHERE session_id = 's1'");
    assert_eq!(count(warehouse, views()).await, 5);
    warehouse.insert_deduplicated("events", batch, "batch-2").await.unwrap();
    assert_eq!(count(warehouse, Sql::new("SELECT count() FROM events")).await, 20);
    assert_eq!(count(warehouse, sessions()).await, 20 * 1000 + 10);
    assert_eq!(count(warehouse, views()).await, 10);
}

pub async fn large_results_stream_in_several_batches(warehouse: &Warehouse) {
    let mut stream = warehouse.query(&Sql::new("SELECT number FROM numbers(3000000)")).await.unwrap();
    let (mut batches, mut rows, mut sum) = (0, 0u64, 0u64);
    use futures::StreamExt;
    while let Some(batch) = stream.next().await {
        let batch = batch.unwrap();
        batches += 1;
        rows += batch.num_rows() as u64;
        sum += batch.column(0).as_primitive::<UInt64Type>().values().iter().sum::<u64>();
    }
    assert!(batches > 1, "one batch only");
    assert_eq!(rows, 3_000_000);
    assert_eq!(sum, 3_000_000 * 2_999_999 / 2);
}

pub async fn abandoned_stream_leaves_the_pool_usable(warehouse: &Warehouse) {
    for _ in 0..6 {
        let mut stream = warehouse.query(&Sql::new("SELECT number FROM numbers(2000000)")).await.unwrap();
        use futures::StreamExt;
        let _ = stream.next().await;
        drop(stream);
    }
    assert_eq!(count(warehouse, Sql::new("SELECT count() FROM numbers(10)")).await, 10);
}

pub async fn sql_errors_surface_with_code_and_message(warehouse: &Warehouse) {
    let err = warehouse.query_all(&Sql::new("SELECT * FROM no_such_table")).await.unwrap_err();
    match &err {
        WarehouseError::Sql { message, .. } => assert!(message.contains("no_such_table"), "{message}"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(!err.to_string().contains('\n'));
}

pub async fn engine_memory_is_reported(warehouse: &Warehouse) {
    // Reading a table loads its marks: the engine holds at least its own structures.
    let sql = Sql::new("SELECT count() FROM events WHERE project_id = ").bind(Value::UInt64(1));
    count(warehouse, sql).await;
    let memory = warehouse.memory().await.unwrap();
    assert!(memory.tracked > 1_000_000, "{memory:?}");
    for (cache, bytes) in &memory.caches {
        assert!(*bytes > 0 && !cache.is_empty(), "{memory:?}");
        assert!(cache.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{memory:?}");
    }
}

pub async fn concurrent_inserts_and_queries_give_exact_counts(warehouse: &Warehouse) {
    let mut tasks = Vec::new();
    for writer in 0..6u64 {
        let warehouse = warehouse.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..5u64 {
                let rows: Vec<EventRow> = (0..200)
                    .map(|i| EventRow {
                        project_id: writer,
                        message_id: format!("{writer}-{round}-{i}"),
                        ..sample_row(i)
                    })
                    .collect();
                warehouse.insert("events", events_to_batch(&rows).unwrap()).await.unwrap();
                let seen = count(
                    &warehouse,
                    Sql::new("SELECT count() FROM events WHERE project_id = ").bind(writer),
                )
                .await;
                assert_eq!(seen, 200 * (round + 1));
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let batches =
        warehouse.query_all(&Sql::new("SELECT count(), uniqExact(message_id) FROM events")).await.unwrap();
    let total = batches[0].column(0).as_primitive::<UInt64Type>().value(0);
    let unique = batches[0].column(1).as_primitive::<UInt64Type>().value(0);
    assert_eq!((total, unique), (6 * 5 * 200, 6 * 5 * 200));
}
