-- Persons with matching events: their ids, first and last time seen, events and properties.
-- The search (if any) matches the person id, any of its ids, or any property value.
SELECT
    e.person AS person,
    groupUniqArray(e.distinct_id) AS distinct_ids,
    toUnixTimestamp64Milli(min(e.timestamp)) AS first_seen_ms,
    toUnixTimestamp64Milli(max(e.timestamp)) AS last_seen_ms,
    count() AS event_count,
    any(pp.props) AS props
FROM {{from}}
WHERE {{conditions}}
GROUP BY person
HAVING {{search}}
