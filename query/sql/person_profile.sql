-- One person: the ids linked to it and its folded properties.
SELECT
    {{person}} AS person,
    (SELECT groupUniqArray(distinct_id) FROM ({{mapping}}) WHERE mapped_person_id = {{person}}) AS linked_ids,
    (SELECT any(props) FROM ({{properties}})) AS props
