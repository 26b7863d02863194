-- How much one person did: events, first and last time seen, the ids its events carry.
SELECT
    count() AS event_count,
    toUnixTimestamp64Milli(min(timestamp)) AS first_seen_ms,
    toUnixTimestamp64Milli(max(timestamp)) AS last_seen_ms,
    groupUniqArray(distinct_id) AS distinct_ids
FROM ({{events}})
