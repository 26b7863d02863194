-- Every distinct edge of the project's identity graph.
SELECT DISTINCT distinct_id, linked_id
FROM identity_links
WHERE project_id = {{project}} AND distinct_id != '' AND linked_id != '' AND distinct_id != linked_id
