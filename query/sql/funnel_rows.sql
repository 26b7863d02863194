-- The events of a funnel with their person, from the events and the joins the question needs.
SELECT
    e.person AS person,
    toUnixTimestamp64Milli(e.timestamp) AS ts,
    {{mask}} AS mask,
    {{breakdown}} AS bd
FROM {{from}}
WHERE {{conditions}}
