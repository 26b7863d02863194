-- A project's events with the person each belongs to: the distinct id's person in the
-- identity mapping, or the distinct id itself when it was never linked.
SELECT
    {{columns}},
    if(m.mapped_person_id = '', ev.distinct_id, m.mapped_person_id) AS person
FROM events AS ev
LEFT JOIN ({{mapping}}) AS m ON m.distinct_id = ev.distinct_id
WHERE ev.project_id = {{project}} AND {{conditions}}
