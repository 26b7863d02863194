-- Person property updates as they arrive ($set / $set_once from identify traits and event
-- properties). Folded per person at query time: latest $set wins, earliest $set_once wins.
-- The deduplication window makes the collector's replayed inserts (same token) a no-op.
CREATE TABLE IF NOT EXISTS person_property_updates
(
    project_id UInt64,
    distinct_id String,
    timestamp DateTime64(3, 'UTC'),
    set_properties Map(String, String),
    set_once_properties Map(String, String),
    message_id String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (project_id, distinct_id, timestamp)
SETTINGS non_replicated_deduplication_window = 10000
