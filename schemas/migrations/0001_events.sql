-- Every behaviour event, one row each. Typed columns for what analyses filter and group on;
-- free-form properties in a Map.
--
-- ORDER BY (project_id, toDate(timestamp), event, distinct_id, timestamp): every query is
-- scoped to one project and a time range first (the primary key prunes both), most analyses
-- then pick events by name (trends, funnels, retention read a few names out of many), and
-- rows of one id sit together in time order, which is what windowFunnel, sessions and paths
-- scan. PARTITION BY month keeps parts few (a partition per day would explode the part count
-- on small installs) and lets TTL / retention drop whole months.
-- non_replicated_deduplication_window lets the collector insert with a deduplication token, so
-- a replayed batch is not stored twice (exactly once without FINAL).
CREATE TABLE IF NOT EXISTS events
(
    project_id UInt64,
    timestamp DateTime64(3, 'UTC'),
    event LowCardinality(String),
    event_type LowCardinality(String),
    message_id String,
    distinct_id String,
    anonymous_id String,
    user_id String,
    session_id String,
    url String,
    host String,
    path String,
    title String,
    referrer String,
    referrer_host String,
    referrer_source LowCardinality(String),
    channel LowCardinality(String),
    utm_source String,
    utm_medium String,
    utm_campaign String,
    utm_term String,
    utm_content String,
    click_id_type LowCardinality(String),
    click_id String,
    device_type LowCardinality(String),
    browser LowCardinality(String),
    browser_version String,
    os LowCardinality(String),
    os_version String,
    country LowCardinality(String),
    region String,
    city String,
    locale LowCardinality(String),
    screen_width UInt16,
    screen_height UInt16,
    ip String,
    library LowCardinality(String),
    is_bot Bool,
    revenue Float64,
    properties Map(String, String),
    received_at DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (project_id, toDate(timestamp), event, distinct_id, timestamp)
SETTINGS non_replicated_deduplication_window = 10000
