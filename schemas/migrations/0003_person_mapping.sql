-- The resolved distinct id → person mapping (person_id = the smallest id of its component),
-- rewritten with a higher version whenever a new link merges components. Readers use
-- argMax(person_id, version) per distinct id.
CREATE TABLE IF NOT EXISTS person_distinct_ids
(
    project_id UInt64,
    distinct_id String,
    person_id String,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (project_id, distinct_id)
