-- The parts of client sessions in the hours holding a window end (`{{edges}}`), grouped from
-- the events with the same aggregates the `session_hours` view uses, split at the current
-- period's start; the columns of `session_hours.sql`'s table branch, in its order.
SELECT
    e.session_id,
    min(e.timestamp),
    max(e.timestamp),
    toUInt64(count()),
    toUInt64(countIf(e.event = '$pageview')),
    tupleElement(min(({{order_key}} AS order_key, e.distinct_id{{first_values}})) AS first, 1),
    tupleElement(first, 2){{edge_columns}},
    toUInt8(e.timestamp >= {{from}}) AS part_current,
    toUInt64(toUnixTimestamp({{bucket}})) AS part_bucket{{page_columns}}
FROM events AS e
WHERE e.project_id = {{project}} AND e.session_id != '' AND e.timestamp >= {{read_from}} AND e.timestamp < {{to}}
    AND toUnixTimestamp(toStartOfHour(e.timestamp)) IN ({{edges}}) AND {{bots}}
GROUP BY e.session_id, toStartOfHour(e.timestamp) AS part_hour, part_current, part_bucket
