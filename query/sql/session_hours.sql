-- One row per client session of a window, read from `session_hours` (pre-aggregated at
-- ingest per UTC hour, migration 0007) instead of grouping every event: the same row as
-- `sessions.sql` gives for the events with a client session id, for web analytics without
-- event filters. Whole hours come from the table; the hours holding a window end that is not
-- on a whole hour (`{{edges}}`) come from the events themselves, split at the end, so the
-- window is exact. `current` is the period of the hour (or of the events of an edge hour);
-- a part's time bucket is that of its hour, exact because the caller only comes here when
-- every bucket edge in the zone falls on a whole UTC hour.
-- The first event's attributes are those of the smallest order key over the session's parts
-- (`first_key`), as in `sessions.sql`; entry and exit pages likewise over pageviews only.
-- The time buckets come back as `bucket_parts`, one (bucket × 2 + current, pageviews, events)
-- per part, the shape the event path gives per event; with the pages report, the page parts
-- of `page_hours.sql` join the same grouping (with no events: they add no bucket) and give
-- `viewed`, one (period digit and path, views) per page part.
SELECT
    h.session_id AS session,
    min(h.part_started) AS started,
    toUnixTimestamp64Milli(max(h.part_ended)) - toUnixTimestamp64Milli(min(h.part_started)) AS duration_ms,
    duration_ms / 1000 AS duration,
    sum(h.part_pageviews) AS pageviews,
    pageviews = 1 AS is_bounce,
    argMin(h.first_distinct_id, h.first_key) AS first_distinct_id{{columns}},
    groupArray((h.bucket * 2 + h.current, h.part_pageviews, h.part_events)) AS bucket_parts{{viewed}}
FROM
(
    SELECT
        session_id,
        started AS part_started,
        ended AS part_ended,
        toUInt64(events) AS part_events,
        toUInt64(pageviews) AS part_pageviews,
        first.key AS first_key,
        first.distinct_id AS first_distinct_id{{table_columns}},
        toUInt8(hour >= {{from}}) AS current,
        toUInt64(toUnixTimestamp({{bucket}})) AS bucket{{page_columns}}
    FROM session_hours
    WHERE project_id = {{project}} AND hour >= {{first_hour}} AND hour < {{end_hour}}
        AND toUnixTimestamp(hour) NOT IN ({{edges}}) AND {{bots}}{{edge_rows}}
) AS h
GROUP BY session
