-- The page parts of client sessions in the hours holding a window end (`{{edges}}`), from the
-- events, split at the current period's start; the columns of `page_hours.sql`.
SELECT
    e.session_id,
    {{session_columns}},
    toUInt8(e.timestamp >= {{from}}) AS part_current,
    toUInt64(toUnixTimestamp({{bucket}})) AS part_bucket,
    e.path,
    toUInt64(count())
FROM events AS e
WHERE e.project_id = {{project}} AND e.session_id != '' AND e.event = '$pageview'
    AND e.timestamp >= {{read_from}} AND e.timestamp < {{to}}
    AND toUnixTimestamp(toStartOfHour(e.timestamp)) IN ({{edges}}) AND {{bots}}
GROUP BY e.session_id, toStartOfHour(e.timestamp) AS part_hour, part_current, part_bucket, e.path
