-- Events with their session: the client's session id when it sent one; otherwise a session
-- derived per person by 30 minutes of inactivity (a gap longer than 30 minutes between two
-- consecutive events without a session id starts a new one). Events in the same millisecond
-- are ordered by message id, so the derivation is deterministic.
-- Only events without a client id go through the window functions, which sort every row
-- they see: `{{events}}` is read twice, split by `session_id`, instead of sorting all events.
-- The engine reads only the columns the caller uses, through both branches.
-- `{{client_events}}` is `{{events}}`, or, when only sessions' first events need a person,
-- the events without the identity mapping (then `{{dropped}}` drops `person` from the other
-- branch too).
SELECT *, session_id AS session
FROM ({{client_events}})
WHERE session_id != ''
UNION ALL
SELECT
    * EXCEPT ({{dropped}}),
    concat('~', person, '#', toString(sum(new_session) OVER (
        PARTITION BY person ORDER BY timestamp, message_id
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW))) AS session
FROM
(
    SELECT
        *,
        toUnixTimestamp64Milli(timestamp) - lagInFrame(toUnixTimestamp64Milli(timestamp), 1, 0) OVER (
            PARTITION BY person ORDER BY timestamp, message_id
            ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) > 1800000 AS new_session
    FROM ({{events}})
    WHERE session_id = ''
)
