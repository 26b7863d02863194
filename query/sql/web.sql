-- Web analytics in one pass over both periods. Sessions are derived once (`sessions`: made
-- of the events that match the event filters, plus `bucket_parts` — (time bucket start in
-- seconds × 2 + in the current period, pageviews, events) per part of the session: per hour
-- row when read from `session_hours`, per event or per bucket otherwise — and, when pages
-- are asked for, `viewed` — (period digit and path, views) per page part, view or page);
-- session filters keep whole sessions;
-- then each kept session becomes facts (report TAB value, in the current period, amount)
-- that one aggregation counts:
--   $visits          one per session, by its start (amount: pageviews); its row also sums
--                    the sessions' bounces (exactly one pageview), page visits (at least one)
--                    and durations in milliseconds, carried as plain columns: no person to
--                    count, so no fact rows of their own
--   $timeseries      one per bucket the session has events in (amount: pageviews there); an
--                    event counts in the period and bucket of its own time
--   pages            one per path the session viewed, by the time of the view (amount: views)
--   entry_pages …    the session reports asked for, by the start of the session, each kept
--                    or not by its `session_keeps` condition (entry and exit pages only for
--                    sessions with a pageview, UTM reports only with that parameter), a
--                    plain column per fact rather than a test of the fact's text
-- A visitor is the person of the session. Persons are counted by a 64-bit CityHash of their
-- id, hashed once per session, not per fact: half the memory of the 128-bit hash uniqExact
-- keeps of a string, which makes the counting ≈ 10 % cheaper. A count could only be one low
-- if two of its persons shared a hash: for a million visitors the chance is below 1 in 30
-- million (n² / 2⁶⁵).
-- Only `person_key`, `facts` and the three session numbers reach the ARRAY JOIN, which
-- copies every column it carries;
-- report and value travel as one string, the cheapest grouping key.
-- Reports keep their top `limit` values by current visitors, then visits (pageviews for
-- pages), then value; every `$` row is kept.
SELECT
    substring(key, 1, position(key, '\t') - 1) AS report,
    substring(key, position(key, '\t') + 1) AS value,
    uniqExactIf(person_key, tupleElement(fact, 2)) AS visitors,
    countIf(tupleElement(fact, 2)) AS visits,
    sumIf(tupleElement(fact, 3), tupleElement(fact, 2)) AS pageviews,
    uniqExactIf(person_key, NOT tupleElement(fact, 2)) AS previous_visitors,
    countIf(NOT tupleElement(fact, 2)) AS previous_visits,
    sumIf(tupleElement(fact, 3), NOT tupleElement(fact, 2)) AS previous_pageviews,
    sumIf(session_bounce, tupleElement(fact, 2) AND tupleElement(fact, 1) = '$visits\t') AS bounces,
    sumIf(session_page_visit, tupleElement(fact, 2) AND tupleElement(fact, 1) = '$visits\t') AS page_visits,
    sumIf(session_duration_ms, tupleElement(fact, 2) AND tupleElement(fact, 1) = '$visits\t') AS duration_ms,
    sumIf(session_bounce, NOT tupleElement(fact, 2) AND tupleElement(fact, 1) = '$visits\t') AS previous_bounces,
    sumIf(session_page_visit, NOT tupleElement(fact, 2) AND tupleElement(fact, 1) = '$visits\t') AS previous_page_visits,
    sumIf(session_duration_ms, NOT tupleElement(fact, 2) AND tupleElement(fact, 1) = '$visits\t') AS previous_duration_ms
FROM
(
    SELECT
        cityHash64(ss.person) AS person_key,
        toUInt8(ss.started >= {{from}}) AS current,
        toUInt64(ss.pageviews) AS session_pageviews,
        toUInt64(session_pageviews = 1) AS session_bounce,
        toUInt64(session_pageviews > 0) AS session_page_visit,
        toUInt64(ss.duration_ms) AS session_duration_ms,
        arrayConcat(
            arrayFilter((f, keep) -> keep,
                [('$visits\t', current, session_pageviews){{session_facts}}],
                [1{{session_keeps}}]),
            arrayMap(k -> (concat('$timeseries\t', {{bucket_label}}), toUInt8(k % 2),
                              arraySum(p -> if(tupleElement(p, 1) = k, tupleElement(p, 2), 0), ss.bucket_parts)),
                arrayDistinct(arrayMap(p -> tupleElement(p, 1), arrayFilter(p -> tupleElement(p, 3) > 0, ss.bucket_parts)))){{page_facts}}
        ) AS facts
    FROM ({{sessions}}) AS ss
    WHERE {{session_conditions}}
)
ARRAY JOIN facts AS fact
GROUP BY tupleElement(fact, 1) AS key
HAVING startsWith(key, '$') OR visits > 0
ORDER BY report, visitors DESC, if(report = 'pages', pageviews, visits) DESC, value
LIMIT {{limit}} BY report, if(startsWith(report, '$'), value, '')
