-- A project's events without their person (no identity mapping joined): for sessions with a
-- client session id, whose person is taken from their first event once they are grouped.
SELECT
    {{columns}}
FROM events AS ev
WHERE ev.project_id = {{project}} AND {{conditions}}
