-- One row per person with the events of a funnel: for every event that matches a step or an
-- exclusion, its time (epoch ms), the bitmask of what it matches (bit i = step i, bit 20 + j =
-- exclusion j) and, with a breakdown, its value. The fold orders and walks them. `{{rows}}`
-- gives each event's `person`, `ts`, `mask` and `bd` (`funnel_rows.sql` or
-- `funnel_steps.sql`).
SELECT
    person,
    groupArray(ts) AS times,
    groupArray(mask) AS masks{{values}}
FROM ({{rows}})
WHERE mask != 0
GROUP BY person
