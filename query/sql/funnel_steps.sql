-- The events of a funnel when no step, filter or breakdown needs the person, a session or
-- person properties: the events named by a step or an exclusion are read first (the primary
-- key prunes by event name), and only those matching one are joined to the identity mapping
-- for their person.
SELECT
    if(m.mapped_person_id = '', s.distinct_id, m.mapped_person_id) AS person,
    s.ts AS ts,
    s.mask AS mask,
    s.bd AS bd
FROM
(
    SELECT
        e.distinct_id AS distinct_id,
        toUnixTimestamp64Milli(e.timestamp) AS ts,
        {{mask}} AS mask,
        {{breakdown}} AS bd
    FROM events AS e
    WHERE e.project_id = {{project}} AND {{window}} AND ({{conditions}}) AND mask != 0
) AS s
LEFT JOIN ({{mapping}}) AS m ON m.distinct_id = s.distinct_id
