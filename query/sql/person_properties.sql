-- Person properties folded per person: for each key the latest `$set` wins; a key never
-- `$set` takes its earliest `$set_once`. Updates of every distinct id of a person count
-- (ids resolved through the mapping). Ties in time are broken by message id.
SELECT person, mapFromArrays(groupArray(key), groupArray(value)) AS props
FROM
(
    SELECT
        person,
        key,
        if(countIf(is_set) > 0,
           argMaxIf(value, (timestamp, message_id), is_set),
           argMinIf(value, (timestamp, message_id), NOT is_set)) AS value
    FROM
    (
        SELECT
            if(m.mapped_person_id = '', u.distinct_id, m.mapped_person_id) AS person,
            u.timestamp AS timestamp,
            u.message_id AS message_id,
            tupleElement(kv, 1) AS key,
            tupleElement(kv, 2) AS value,
            tupleElement(kv, 3) = 1 AS is_set
        FROM
        (
            SELECT distinct_id, timestamp, message_id,
                arrayJoin(arrayConcat(
                    arrayMap((k, v) -> (k, v, 1), mapKeys(set_properties), mapValues(set_properties)),
                    arrayMap((k, v) -> (k, v, 0), mapKeys(set_once_properties), mapValues(set_once_properties)))) AS kv
            FROM person_property_updates
            WHERE project_id = {{project}}
        ) AS u
        LEFT JOIN ({{mapping}}) AS m ON m.distinct_id = u.distinct_id
        WHERE {{person_condition}}
    )
    GROUP BY person, key
)
GROUP BY person
