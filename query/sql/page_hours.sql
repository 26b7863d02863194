-- The page parts of client sessions (for the pages report), read from `page_hours`
-- (migration 0008), with the columns of `session_hours.sql`'s table branch, then the path and
-- its views. A page part adds no event and no pageview to its session, and its session
-- columns never win: it starts last, ends first, and its order keys never come first (or
-- last, for the exit page).
SELECT
    session_id,
    {{session_columns}},
    toUInt8(hour >= {{from}}),
    toUInt64(toUnixTimestamp({{bucket}})),
    path,
    toUInt64(views)
FROM page_hours
WHERE project_id = {{project}} AND hour >= {{first_hour}} AND hour < {{end_hour}}
    AND toUnixTimestamp(hour) NOT IN ({{edges}}) AND {{bots}}
