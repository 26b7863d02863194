-- Retention: per cohort period and breakdown value, the cohort's size and, for each period
-- offset k in [0, periods), the persons who returned in period k (`bracket`) and in period k
-- or later (`unbounded`). A return in period 0 counts only at or after the start event.
WITH
starts AS (
    SELECT
        e.person AS person,
        min(e.timestamp) AS start_ts,
        {{cohort}} AS cohort,
        {{label}} AS cohort_label,
        argMin({{breakdown}}, e.timestamp) AS bd_value
    FROM {{start_from}}
    WHERE {{start_conditions}}
    GROUP BY {{start_group}}
    HAVING start_ts >= {{from}}
),
returns AS (
    SELECT e.person AS person, {{return_period}} AS period, max(e.timestamp) AS last_ts
    FROM {{return_from}}
    WHERE {{return_conditions}}
    GROUP BY person, period
),
offsets AS (
    SELECT
        s.person AS person,
        s.cohort_label AS cohort_label,
        s.bd_value AS bd_value,
        groupArrayIf(
            r.period - s.cohort,
            r.period >= s.cohort AND r.period < s.cohort + {{periods}}
                AND (r.period > s.cohort OR r.last_ts >= s.start_ts)
        ) AS ks
    FROM starts AS s
    LEFT JOIN returns AS r ON r.person = s.person
    GROUP BY s.person, s.cohort, s.cohort_label, s.bd_value
)
SELECT
    cohort_label,
    bd_value,
    k,
    count() AS size,
    countIf(has(ks, k)) AS bracket,
    countIf(arrayExists(x -> x >= k, ks)) AS unbounded
FROM offsets
ARRAY JOIN range(toUInt64({{periods}})) AS k
GROUP BY cohort_label, bd_value, k
