-- Events with their session: the client's session id when it sent one; otherwise a session
-- derived per person by 30 minutes of inactivity (a gap longer than 30 minutes between two
-- consecutive events without a session id starts a new one). Only events without a client
-- id are sessionized: the events are read split by `session_id`.
--
-- The derivation sorts parts, not events. A part is one distinct id's events in one
-- half-hour slot (counted from 1900, the type's first instant, so the division floors), so
-- it spans less than 30 minutes: a session can only start at a part's first event. Within a
-- person, parts are ordered by their first event (then distinct id); a part starts a session
-- when it is the first or when its first event is more than 30 minutes after the last event
-- of every part before it. That is exactly where two consecutive events of the person are
-- more than 30 minutes apart: an earlier part that ends later than this one starts began
-- less than 30 minutes before this start. Sessions are numbered by a running count of
-- starts. A busy visitor's day is 48 parts however many events it holds, so nothing sorts
-- every event with every column the caller uses; each event finds its part's person and
-- number by a hash join on (distinct id, slot). The identity mapping is joined once per
-- part, not per event. (The planner may still swap the join's sides on its estimates and
-- build the hash table from the events: seen at 36 M events in a day, see RESULTS.md.)
-- `{{client_events}}` are the events with or without `person`; `{{person}}` adds the
-- derived events' person to match, and `{{person_condition}}` keeps one person's parts.
-- The engine reads only the columns the caller uses, through both branches.
SELECT *, session_id AS session
FROM ({{client_events}})
WHERE session_id != ''
UNION ALL
SELECT
    x.* EXCEPT (slot),{{person}}
    concat('~', p.person, '#', toString(p.number)) AS session
FROM
(
    SELECT *, intDiv(toUnixTimestamp64Milli(timestamp) + 2208988800000, 1800000) AS slot
    FROM ({{events}})
    WHERE session_id = ''
) AS x
INNER JOIN
(
    SELECT
        distinct_id,
        slot,
        person,
        sum(starts) OVER (PARTITION BY person ORDER BY first_ms, distinct_id
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS number
    FROM
    (
        SELECT
            distinct_id,
            slot,
            person,
            first_ms,
            row_number() OVER (PARTITION BY person ORDER BY first_ms, distinct_id) = 1
                OR first_ms - max(last_ms) OVER (PARTITION BY person ORDER BY first_ms, distinct_id
                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) > 1800000 AS starts
        FROM
        (
            SELECT
                g.distinct_id AS distinct_id,
                g.slot AS slot,
                g.first_ms AS first_ms,
                g.last_ms AS last_ms,
                if(m.mapped_person_id = '', g.distinct_id, m.mapped_person_id) AS person
            FROM
            (
                SELECT
                    distinct_id,
                    intDiv(toUnixTimestamp64Milli(timestamp) + 2208988800000, 1800000) AS slot,
                    min(toUnixTimestamp64Milli(timestamp)) AS first_ms,
                    max(toUnixTimestamp64Milli(timestamp)) AS last_ms
                FROM ({{events}})
                WHERE session_id = ''
                GROUP BY distinct_id, slot
            ) AS g
            LEFT JOIN ({{mapping}}) AS m ON m.distinct_id = g.distinct_id
        )
        WHERE {{person_condition}}
    )
) AS p ON p.distinct_id = x.distinct_id AND p.slot = x.slot
