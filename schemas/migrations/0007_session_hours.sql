-- Sessions pre-aggregated at ingest: one row per (project, UTC hour, client session id,
-- is_bot), kept up to date by a materialized view on `events`, so web analytics groups about
-- one row per session instead of every event (10M events: 1.36M rows). Only events with a
-- client session id: derived sessions (30 minutes of inactivity) need the person's whole
-- history and stay a query-time derivation.
--
-- Every column merges with a plain function (SimpleAggregateFunction), so rows of the same
-- key from different insert blocks collapse on merge and queries re-aggregate what has not
-- merged yet with the same function. The first event's attributes are the minimum of a tuple
-- led by the event order key (time as 8 big-endian bytes with the sign flipped, then the
-- message id: the same key the query-time path orders by); `entry` and `exit` are the first
-- and last pageview's path the same way (non-pageviews carry a key that never wins). The
-- tuples are named, so a query reads only the elements it uses.
--
-- An hour is the unit so any range whose bucket edges fall on whole UTC hours reads whole
-- rows; the query reads the events of the partial hours at a range's ends directly.
-- non_replicated_deduplication_window: a replayed insert into `events` (same token) is
-- dropped for this table too (deduplicate_blocks_in_dependent_materialized_views).
--
-- The migration creates the table, fills it from the events already stored, then creates the
-- view; nothing inserts events while migrations run (the server migrates before it serves),
-- and the table is emptied first, so a run interrupted before it is recorded can simply run
-- again.
CREATE TABLE IF NOT EXISTS session_hours
(
    project_id UInt64,
    hour DateTime('UTC'),
    session_id String,
    is_bot Bool,
    started SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    ended SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    events SimpleAggregateFunction(sum, UInt64),
    pageviews SimpleAggregateFunction(sum, UInt64),
    first SimpleAggregateFunction(min, Tuple(
        key String,
        distinct_id String,
        channel String,
        referrer_source String,
        referrer_host String,
        utm_source String,
        utm_medium String,
        utm_campaign String,
        utm_term String,
        utm_content String,
        device_type String,
        browser String,
        os String,
        country String)),
    entry SimpleAggregateFunction(min, Tuple(key String, path String)),
    exit SimpleAggregateFunction(max, Tuple(key String, path String))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (project_id, hour, session_id, is_bot)
SETTINGS non_replicated_deduplication_window = 10000;

TRUNCATE TABLE session_hours;

INSERT INTO session_hours
SELECT
    project_id,
    toStartOfHour(timestamp) AS hour,
    session_id,
    is_bot,
    min(timestamp) AS started,
    max(timestamp) AS ended,
    toUInt64(count()) AS events,
    toUInt64(countIf(event = '$pageview')) AS pageviews,
    min((concat(reverse(reinterpretAsFixedString(bitXor(reinterpretAsUInt64(toUnixTimestamp64Milli(timestamp)),
            9223372036854775808))), message_id),
        distinct_id,
        toString(channel),
        if(toString(referrer_source) != '', toString(referrer_source), referrer_host),
        referrer_host,
        utm_source,
        utm_medium,
        utm_campaign,
        utm_term,
        utm_content,
        toString(device_type),
        toString(browser),
        toString(os),
        toString(country))) AS first,
    min(if(event = '$pageview',
        (concat(reverse(reinterpretAsFixedString(bitXor(reinterpretAsUInt64(toUnixTimestamp64Milli(timestamp)),
            9223372036854775808))), message_id), path),
        ('\xFF', ''))) AS entry,
    max(if(event = '$pageview',
        (concat(reverse(reinterpretAsFixedString(bitXor(reinterpretAsUInt64(toUnixTimestamp64Milli(timestamp)),
            9223372036854775808))), message_id), path),
        ('', ''))) AS exit
FROM events
WHERE session_id != ''
GROUP BY project_id, hour, session_id, is_bot;

CREATE MATERIALIZED VIEW IF NOT EXISTS session_hours_view TO session_hours AS
SELECT
    project_id,
    toStartOfHour(timestamp) AS hour,
    session_id,
    is_bot,
    min(timestamp) AS started,
    max(timestamp) AS ended,
    toUInt64(count()) AS events,
    toUInt64(countIf(event = '$pageview')) AS pageviews,
    min((concat(reverse(reinterpretAsFixedString(bitXor(reinterpretAsUInt64(toUnixTimestamp64Milli(timestamp)),
            9223372036854775808))), message_id),
        distinct_id,
        toString(channel),
        if(toString(referrer_source) != '', toString(referrer_source), referrer_host),
        referrer_host,
        utm_source,
        utm_medium,
        utm_campaign,
        utm_term,
        utm_content,
        toString(device_type),
        toString(browser),
        toString(os),
        toString(country))) AS first,
    min(if(event = '$pageview',
        (concat(reverse(reinterpretAsFixedString(bitXor(reinterpretAsUInt64(toUnixTimestamp64Milli(timestamp)),
            9223372036854775808))), message_id), path),
        ('\xFF', ''))) AS entry,
    max(if(event = '$pageview',
        (concat(reverse(reinterpretAsFixedString(bitXor(reinterpretAsUInt64(toUnixTimestamp64Milli(timestamp)),
            9223372036854775808))), message_id), path),
        ('', ''))) AS exit
FROM events
WHERE session_id != ''
GROUP BY project_id, hour, session_id, is_bot
