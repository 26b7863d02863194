//! A query whose caller goes away (an HTTP client closed the page) is stopped in the embedded
//! engine instead of running to its end.

use std::sync::Arc;
use std::time::{Duration, Instant};

use numu_warehouse::testing::embedded_warehouse;
use numu_warehouse::{first_cell, Sql, Warehouse};

/// How many statements containing `marker` the engine is running (this one excluded).
async fn running(warehouse: &Warehouse, marker: &str) -> u64 {
    let sql = Sql::new("SELECT count() FROM system.processes WHERE position(query, ")
        .bind(marker)
        .push(") > 0 AND position(query, 'system.processes') = 0");
    first_cell(&warehouse.query_all(&sql).await.unwrap()).unwrap().parse().unwrap()
}

async fn until(warehouse: &Warehouse, marker: &str, wanted: u64, within: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < within {
        if running(warehouse, marker).await == wanted {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn an_abandoned_query_is_stopped_in_the_engine() {
    let warehouse = Arc::new(embedded_warehouse("cancel").await.unwrap().warehouse);
    // Hours of work if left to run. With a bound value, as every analysis statement has: the
    // engine rewrites such a statement (comments go), so it is found by its row count.
    let slow = Sql::new("SELECT count() FROM numbers(100000000007) WHERE sipHash64(number) = ").bind(7u64);
    let asking = tokio::spawn({
        let warehouse = warehouse.clone();
        async move { warehouse.query_all(&slow).await }
    });
    assert!(until(&warehouse, "100000000007", 1, Duration::from_secs(20)).await, "the query never started");
    asking.abort();
    let stopped = until(&warehouse, "100000000007", 0, Duration::from_secs(10)).await;
    if !stopped {
        // Stop it here, or the test would hang on the runtime's shutdown instead of failing.
        let kill =
            "KILL QUERY WHERE position(query, '100000000007') > 0 AND position(query, 'KILL') = 0 SYNC";
        let _ = warehouse.query_all(&Sql::new(kill)).await;
    }
    assert!(stopped, "the engine still runs the abandoned query");

    // A query read to its end is left alone, and the engine keeps answering.
    let sql = Sql::new("SELECT sum(number) FROM numbers(1000)");
    assert_eq!(first_cell(&warehouse.query_all(&sql).await.unwrap()).unwrap(), "499500");
    let empty = Sql::new("SELECT number FROM numbers(10) WHERE number > 100");
    assert!(warehouse.query_all(&empty).await.unwrap().iter().all(|b| b.num_rows() == 0));
}
