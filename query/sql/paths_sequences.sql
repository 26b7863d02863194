-- The paths of a project's sessions, counted: each session's node names in time order (events
-- of one millisecond by message id) with consecutive repeats collapsed, cut to the path
-- (the cut: the first steps, those from the start or up to the end), sessions without one
-- left out.
SELECT path, count() AS weight
FROM
(
    SELECT
        arrayMap(x -> x.3, arraySort(groupArray((toUnixTimestamp64Milli(e.timestamp), e.message_id, {{name}})))) AS raw,
        arrayFilter((x, i) -> i = 1 OR x != raw[i - 1], raw, arrayEnumerate(raw)) AS names,
        {{cut}} AS path
    FROM {{from}}
    WHERE {{conditions}}
    GROUP BY e.session
)
WHERE length(path) > 0
GROUP BY path
