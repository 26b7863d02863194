-- One row per person with the events of a funnel: for every event that matches a step or an
-- exclusion, its time (epoch ms), the bitmask of what it matches (bit i = step i, bit 20 + j =
-- exclusion j) and, with a breakdown, its value. The fold orders and walks them.
SELECT
    person,
    groupArray(ts) AS times,
    groupArray(mask) AS masks{{values}}
FROM
(
    SELECT
        e.person AS person,
        toUnixTimestamp64Milli(e.timestamp) AS ts,
        {{mask}} AS mask,
        {{breakdown}} AS bd
    FROM {{from}}
    WHERE {{conditions}}
)
WHERE mask != 0
GROUP BY person
