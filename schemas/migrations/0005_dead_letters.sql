-- Everything the collector refused, with the raw payload and the reason, so nothing is
-- silently dropped. project_id is 0 when the key could not be resolved. Kept 90 days.
-- The deduplication window makes the collector's replayed inserts (same token) a no-op.
CREATE TABLE IF NOT EXISTS dead_letters
(
    project_id UInt64,
    received_at DateTime64(3, 'UTC'),
    endpoint LowCardinality(String),
    reason LowCardinality(String),
    detail String,
    event_index Int32,
    raw String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (project_id, received_at)
TTL toDateTime(received_at) + INTERVAL 90 DAY
SETTINGS non_replicated_deduplication_window = 10000
