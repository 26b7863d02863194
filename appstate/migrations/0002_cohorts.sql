-- Saved cohorts: dynamic ones carry a JSON definition (interpreted by the query service),
-- static ones an uploaded id list (kept as members in the warehouse). The last refresh's
-- member version and size are kept here; `cohort_sizes` is the history of sizes.
CREATE TABLE IF NOT EXISTS cohorts (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- 'dynamic' or 'static'.
    kind TEXT NOT NULL,
    -- JSON; '' for static cohorts.
    definition TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    -- The warehouse member version of the last refresh (NULL: never computed).
    member_version INTEGER,
    size INTEGER,
    refreshed_at_ms INTEGER
);

CREATE INDEX IF NOT EXISTS cohorts_project ON cohorts (project_id);

CREATE TABLE IF NOT EXISTS cohort_sizes (
    cohort_id INTEGER NOT NULL REFERENCES cohorts (id) ON DELETE CASCADE,
    at_ms INTEGER NOT NULL,
    size INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS cohort_sizes_cohort ON cohort_sizes (cohort_id, at_ms);
