-- The current distinct id → person mapping of a project (the newest version per id).
SELECT distinct_id, argMax(person_id, version) AS mapped_person_id, max(version) AS mapped_version
FROM person_distinct_ids
WHERE project_id = {{project}} AND {{condition}}
GROUP BY distinct_id
