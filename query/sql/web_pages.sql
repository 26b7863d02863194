-- Top pages by visitors in the current period, with the previous period's figures.
SELECT
    e.path AS value,
    uniqExactIf(e.person, {{current}}) AS visitors,
    uniqExactIf(e.session, {{current}}) AS visits,
    countIf({{current}}) AS pageviews,
    uniqExactIf(e.person, NOT {{current}}) AS previous_visitors,
    uniqExactIf(e.session, NOT {{current}}) AS previous_visits,
    countIf(NOT {{current}}) AS previous_pageviews
FROM {{from_clause}}
WHERE e.event = '$pageview' AND {{conditions}}
GROUP BY value
HAVING pageviews > 0
ORDER BY visitors DESC, pageviews DESC, value
LIMIT {{limit}}
