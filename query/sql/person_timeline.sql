-- One page of a person's events across all its ids (the customer journey), with sessions.
SELECT
    toUnixTimestamp64Milli(timestamp) AS timestamp_ms,
    event,
    message_id,
    distinct_id,
    session,
    url,
    path,
    referrer,
    channel,
    utm_source,
    utm_medium,
    utm_campaign,
    device_type,
    browser,
    os,
    country,
    revenue,
    properties
FROM ({{events}})
ORDER BY timestamp {{direction}}, message_id {{direction}}
LIMIT {{limit}} OFFSET {{offset}}
