-- Visitors, visits and pageviews per time bucket, for both periods (an event counts in the
-- bucket and period of its own time).
SELECT
    {{current}} AS current,
    {{bucket}} AS bucket,
    uniqExact(e.person) AS visitors,
    uniqExact(e.session) AS visits,
    countIf(e.event = '$pageview') AS pageviews
FROM {{from_clause}}
WHERE {{conditions}}
GROUP BY current, bucket
