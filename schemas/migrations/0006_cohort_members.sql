-- Cohort members: each refresh (or static upload) writes the cohort's persons with a new
-- `version`, plus one marker row with person_id '' so an empty refresh still has a version.
-- Readers take the rows of max(version) per cohort; the ReplacingMergeTree keeps at most one
-- row per (project, cohort, person), so old versions do not pile up.
CREATE TABLE IF NOT EXISTS cohort_members
(
    project_id UInt64,
    cohort_id UInt64,
    person_id String,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (project_id, cohort_id, person_id)
