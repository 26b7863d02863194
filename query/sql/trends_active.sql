-- Weekly / monthly active people: for each bucket, the people active in the N days ending
-- with the bucket's last day (clipped to the range). Each (person, active day) counts toward
-- the N days starting at that day; only each bucket's last day is kept.
SELECT
    {{bucket}} AS bucket,
    toUInt8(0) AS previous,
    bd_other,
    bd_value,
    uniqExact(person) AS value
FROM
(
    SELECT e.person AS person, {{breakdown}}, toDate(e.timestamp, {{zone}}) AS day
    FROM {{from}}
    WHERE {{conditions}}
    GROUP BY person, bd_other, bd_value, day
)
ARRAY JOIN arrayMap(i -> addDays(day, i), range({{days}})) AS covered
WHERE covered >= toDate({{first_day}}) AND covered <= toDate({{last_day}})
    AND covered = least({{bucket_last_day}}, toDate({{last_day}}))
GROUP BY bucket, bd_other, bd_value
