-- One row per session of the matching events: its person, start, duration (seconds between
-- its first and last matching event), pageviews, bounce (exactly one pageview), entry and
-- exit pages (first and last pageview), and where the visit came from (the attributes of its
-- first event).
SELECT
    e.session AS session,
    any(e.person) AS person,
    min(e.timestamp) AS started,
    (toUnixTimestamp64Milli(max(e.timestamp)) - toUnixTimestamp64Milli(min(e.timestamp))) / 1000 AS duration,
    countIf(e.event = '$pageview') AS pageviews,
    pageviews = 1 AS is_bounce,
    argMinIf(e.path, (e.timestamp, e.message_id), e.event = '$pageview') AS entry_path,
    argMaxIf(e.path, (e.timestamp, e.message_id), e.event = '$pageview') AS exit_path,
    argMin(toString(e.channel), (e.timestamp, e.message_id)) AS channel,
    argMin(if(toString(e.referrer_source) != '', toString(e.referrer_source), e.referrer_host),
           (e.timestamp, e.message_id)) AS referrer_source,
    argMin(e.referrer_host, (e.timestamp, e.message_id)) AS referrer_host,
    argMin(e.utm_source, (e.timestamp, e.message_id)) AS utm_source,
    argMin(e.utm_medium, (e.timestamp, e.message_id)) AS utm_medium,
    argMin(e.utm_campaign, (e.timestamp, e.message_id)) AS utm_campaign,
    argMin(e.utm_term, (e.timestamp, e.message_id)) AS utm_term,
    argMin(e.utm_content, (e.timestamp, e.message_id)) AS utm_content,
    argMin(toString(e.device_type), (e.timestamp, e.message_id)) AS device_type,
    argMin(toString(e.browser), (e.timestamp, e.message_id)) AS browser,
    argMin(toString(e.os), (e.timestamp, e.message_id)) AS os,
    argMin(toString(e.country), (e.timestamp, e.message_id)) AS country
FROM {{from}}
WHERE {{conditions}}
GROUP BY session
