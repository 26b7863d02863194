-- Pageviews pre-aggregated at ingest for web analytics' pages report: one row per (project,
-- UTC hour, client session id, is_bot, path) with its views, kept by a materialized view on
-- `events` like `session_hours` (0007), whose comments say why hours, why plain `sum`, how
-- replays are dropped and why the table is emptied before it is filled.
CREATE TABLE IF NOT EXISTS page_hours
(
    project_id UInt64,
    hour DateTime('UTC'),
    session_id String,
    is_bot Bool,
    path String,
    views SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (project_id, hour, session_id, is_bot, path)
SETTINGS non_replicated_deduplication_window = 10000;

TRUNCATE TABLE page_hours;

INSERT INTO page_hours
SELECT
    project_id,
    toStartOfHour(timestamp) AS hour,
    session_id,
    is_bot,
    path,
    toUInt64(count()) AS views
FROM events
WHERE session_id != '' AND event = '$pageview'
GROUP BY project_id, hour, session_id, is_bot, path;

CREATE MATERIALIZED VIEW IF NOT EXISTS page_hours_view TO page_hours AS
SELECT
    project_id,
    toStartOfHour(timestamp) AS hour,
    session_id,
    is_bot,
    path,
    toUInt64(count()) AS views
FROM events
WHERE session_id != '' AND event = '$pageview'
GROUP BY project_id, hour, session_id, is_bot, path
