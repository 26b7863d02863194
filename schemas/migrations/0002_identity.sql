-- Links between ids recorded by `identify` (anonymous id ↔ user id) and `alias`
-- (previous id ↔ new id). A person is the connected component of these links, resolved at
-- query time so a late identify merges earlier anonymous history retroactively.
-- ReplacingMergeTree: the same link sent twice is one edge.
-- The deduplication window makes the collector's replayed inserts (same token) a no-op.
CREATE TABLE IF NOT EXISTS identity_links
(
    project_id UInt64,
    distinct_id String,
    linked_id String,
    kind LowCardinality(String),
    timestamp DateTime64(3, 'UTC'),
    message_id String
)
ENGINE = ReplacingMergeTree
ORDER BY (project_id, distinct_id, linked_id)
SETTINGS non_replicated_deduplication_window = 10000
