-- Every session-level report at once: each session contributes one (report, value) pair per
-- report; the top values of each report by visitors in the current period, with the same
-- values' figures in the previous period. Entry and exit pages count sessions with a
-- pageview; UTM reports leave out sessions without that parameter.
SELECT
    tupleElement(pair, 1) AS report,
    tupleElement(pair, 2) AS value,
    uniqExactIf(s.person, s.current) AS visitors,
    countIf(s.current) AS visits,
    sumIf(s.pageviews, s.current) AS pageviews,
    uniqExactIf(s.person, NOT s.current) AS previous_visitors,
    countIf(NOT s.current) AS previous_visits,
    sumIf(s.pageviews, NOT s.current) AS previous_pageviews
FROM
(
    SELECT ss.*, ss.started >= {{from}} AS current
    FROM ({{sessions}}) AS ss
    WHERE {{session_conditions}}
) AS s
ARRAY JOIN [
    ('entry_pages', s.entry_path), ('exit_pages', s.exit_path),
    ('sources', s.referrer_source), ('channels', s.channel),
    ('utm_sources', s.utm_source), ('utm_mediums', s.utm_medium), ('utm_campaigns', s.utm_campaign),
    ('utm_terms', s.utm_term), ('utm_contents', s.utm_content),
    ('devices', s.device_type), ('browsers', s.browser), ('operating_systems', s.os), ('countries', s.country)
] AS pair
WHERE NOT (report IN ('entry_pages', 'exit_pages') AND s.pageviews = 0)
    AND NOT (startsWith(report, 'utm_') AND value = '')
GROUP BY report, value
HAVING visits > 0
ORDER BY report, visitors DESC, visits DESC, value
LIMIT {{limit}} BY report
