-- Sessions grouped without the identity mapping (`first_distinct_id`: the distinct id of the
-- first event), given their person here: the distinct id's person in the mapping, or the
-- distinct id itself when it was never linked. One join per session instead of per event;
-- the same person, since the mapping is a function of the distinct id.
SELECT
    s.* EXCEPT (first_distinct_id),
    if(m.mapped_person_id = '', s.first_distinct_id, m.mapped_person_id) AS person
FROM ({{sessions}}) AS s
LEFT JOIN ({{mapping}}) AS m ON m.distinct_id = s.first_distinct_id
