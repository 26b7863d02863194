-- How far the project's identity links have grown: distinct edges only increase (links are
-- never removed; a repeated link is one edge), so an unchanged pair means an unchanged graph.
SELECT
    uniqExact(distinct_id, linked_id) AS edges,
    ifNull(toUnixTimestamp64Milli(max(timestamp)), 0) AS max_ts
FROM identity_links
WHERE project_id = {{project}}
