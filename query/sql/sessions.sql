-- One row per session of the matching events: its person (of its first event: a client
-- session id may be shared by ids not linked into one person), start, duration (seconds
-- between its first and last matching event), pageviews, bounce (exactly one pageview), and
-- the columns asked for: where the visit came from (attributes of its first event, taken
-- together by one argMin rather than one per attribute), entry and exit pages (first and
-- last pageview).
-- Events are ordered by time, then message id, through one string key (`{{order_key}}`,
-- see `source::EVENT_ORDER_KEY`).
SELECT
    e.session AS session,
    min(e.timestamp) AS started,
    toUnixTimestamp64Milli(max(e.timestamp)) - toUnixTimestamp64Milli(min(e.timestamp)) AS duration_ms,
    duration_ms / 1000 AS duration,
    countIf(e.event = '$pageview') AS pageviews,
    pageviews = 1 AS is_bounce,
    argMin(tuple(
            {{first_values}}),
        {{order_key}} AS event_order) AS first_event,
    {{columns}}{{extra}}
FROM {{from}}
WHERE {{conditions}}
GROUP BY session
