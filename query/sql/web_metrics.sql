-- The headline figures of both periods: a session counts in the period where it started.
SELECT
    ss.started >= {{from}} AS current,
    uniqExact(ss.person) AS visitors,
    count() AS visits,
    sum(ss.pageviews) AS pageviews,
    countIf(ss.pageviews = 1) AS bounces,
    countIf(ss.pageviews >= 1) AS page_visits,
    avg(ss.duration) AS visit_duration
FROM ({{sessions}}) AS ss
WHERE {{session_conditions}}
GROUP BY current
