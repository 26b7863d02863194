//! Web analytics' sessions read from `session_hours` and `page_hours` (pre-aggregated at
//! ingest) when that gives the same rows as grouping the events: no event or person filters,
//! and every time-bucket edge on a whole UTC hour. Client sessions come from the tables (the
//! hours at unaligned window ends from the events), derived sessions from the events as
//! before, and both end as the same session columns.

use numu_warehouse::{Sql, Value};

use crate::range::{Interval, Window};
use crate::source::{Source, EVENT_ORDER_KEY, FIRST_EVENT};
use crate::template::{fill, value};

const HOUR_MS: i64 = 3_600_000;

/// The first instant of the UTC hour holding `ms`.
fn floor_hour(ms: i64) -> i64 {
    ms.div_euclid(HOUR_MS) * HOUR_MS
}

/// Whether the zone's offset is a whole number of hours throughout `read`, so that every
/// local day and hour (the time buckets) starts on a whole UTC hour.
pub(super) fn hours_align(read: &Window) -> bool {
    use chrono::{Offset, TimeZone};
    let tz = read.zone.tz();
    let mut at = floor_hour(read.from_ms);
    while at <= read.to_ms {
        let Some(instant) = chrono::Utc.timestamp_millis_opt(at).single() else { return false };
        if tz.offset_from_utc_datetime(&instant.naive_utc()).fix().local_minus_utc() % 3600 != 0 {
            return false;
        }
        at += HOUR_MS;
    }
    true
}

/// What the hourly sessions are read for.
pub(super) struct Hourly<'a> {
    pub source: &'a Source,
    /// The whole window read (both periods with a comparison).
    pub read: Window,
    /// The start of the current period.
    pub current_from: i64,
    pub interval: Interval,
}

impl Hourly<'_> {
    /// The hours holding a window end that is not on a whole hour, read from the events.
    fn edges(&self) -> Vec<i64> {
        let mut edges: Vec<i64> = [self.read.from_ms, self.current_from, self.read.to_ms]
            .into_iter()
            .filter(|ms| ms % HOUR_MS != 0)
            .map(floor_hour)
            .collect();
        edges.dedup();
        edges
    }

    /// One row per session: `session`, `started`, `duration_ms`, `duration`, `pageviews`,
    /// `is_bounce`, the `wanted` columns, `bucket_parts`, with `pages` also `viewed`, and
    /// `person` — client sessions from the tables, then the sessions derived from events
    /// without a client id (`derived`: the event path's rows with the same `extra`,
    /// restricted to those events).
    pub fn sessions(&self, wanted: &[&str], pages: bool, derived: Sql) -> Sql {
        let list = |prefix: &str| {
            let mut names = vec!["session", "started", "duration_ms", "duration", "pageviews", "is_bounce"];
            names.extend(wanted);
            names.push("bucket_parts");
            if pages {
                names.push("viewed");
            }
            names.push("person");
            names.iter().map(|n| format!("{prefix}{n}")).collect::<Vec<_>>().join(", ")
        };
        let client = fill(
            include_str!("../../sql/sessions_person.sql"),
            &[
                ("sessions", self.client(wanted, pages)),
                ("mapping", crate::identity::mapping_sql(self.source.project)),
            ],
        );
        Sql::new(format!("SELECT {} FROM (", list("c.")))
            .append(client)
            .push(") AS c\nUNION ALL\nSELECT ")
            .push(list("d."))
            .push(" FROM (")
            .append(derived)
            .push(") AS d")
    }

    /// The slots every part template shares; `table` tells a table branch (columns of the
    /// table) from an edge branch (columns of the events `e`).
    fn common_slots(&self, table: bool) -> Vec<(&'static str, Sql)> {
        let edges = self.edges();
        // Edge hours as epoch seconds: `hour` is a DateTime, the events' hour a DateTime64.
        let seconds = if edges.is_empty() { vec![0] } else { edges.iter().map(|ms| ms / 1000).collect() };
        let (bucket_of, bots) = match (table, self.source.include_bots) {
            (true, bots) => ("hour", if bots { "1" } else { "NOT is_bot" }),
            (false, bots) => ("e.timestamp", if bots { "1" } else { "NOT e.is_bot" }),
        };
        vec![
            ("from", value(Value::TimestampMs(self.current_from))),
            ("bucket", self.interval.bucket_key_sql(bucket_of, self.read.zone)),
            ("project", value(self.source.project)),
            ("first_hour", value(Value::TimestampMs(floor_hour(self.read.from_ms)))),
            ("end_hour", value(Value::TimestampMs(floor_hour(self.read.to_ms - 1) + HOUR_MS))),
            ("read_from", value(Value::TimestampMs(self.read.from_ms))),
            ("to", value(Value::TimestampMs(self.read.to_ms))),
            (
                "edges",
                Sql::new("").join(seconds.into_iter().map(|s| value(s as u64)).collect::<Vec<_>>(), ", "),
            ),
            ("bots", Sql::new(bots)),
        ]
    }

    /// `template` filled with `slots` and the common ones, as a further `UNION ALL` branch.
    fn branch(&self, template: &str, table: bool, slots: Vec<(&'static str, Sql)>) -> Sql {
        let mut all = self.common_slots(table);
        all.extend(slots);
        Sql::new("\n    UNION ALL\n").append(fill(template, &all))
    }

    /// The client sessions, with `first_distinct_id` for the person mapping.
    fn client(&self, wanted: &[&str], pages: bool) -> Sql {
        let columns = Columns::of(wanted);
        let edges = !self.edges().is_empty();
        let page_columns =
            || Sql::new(if pages { ",\n        '' AS page_path, toUInt64(0) AS page_views" } else { "" });
        let mut more = Sql::new("");
        if edges {
            more = more.append(self.branch(
                include_str!("../../sql/session_hours_edges.sql"),
                false,
                vec![
                    ("first_values", Sql::new(columns.first_values.clone())),
                    ("edge_columns", Sql::new(columns.edge.clone())),
                    ("order_key", Sql::new(EVENT_ORDER_KEY)),
                    ("page_columns", page_columns()),
                ],
            ));
        }
        if pages {
            // A page part's session columns: it starts last, ends first, adds no event or
            // pageview, and its order keys never win.
            let never_wins = format!(
                "toDateTime64('2299-12-31 23:59:59', 3, 'UTC'), toDateTime64(0, 3, 'UTC'), toUInt64(0), toUInt64(0), '\\xFF', ''{}",
                columns.empty
            );
            let empty = || vec![("session_columns", Sql::new(never_wins.clone()))];
            more = more.append(self.branch(include_str!("../../sql/page_hours.sql"), true, empty()));
            if edges {
                more =
                    more.append(self.branch(include_str!("../../sql/page_hours_edges.sql"), false, empty()));
            }
        }
        let viewed = if pages {
            ",\n    groupArrayIf((concat(toString(h.current), h.page_path), h.page_views), h.page_views > 0) AS viewed"
        } else {
            ""
        };
        let mut slots = self.common_slots(true);
        slots.extend([
            ("columns", Sql::new(columns.outer)),
            ("table_columns", Sql::new(columns.table)),
            ("page_columns", page_columns()),
            ("viewed", Sql::new(viewed)),
            ("edge_rows", more),
        ]);
        fill(include_str!("../../sql/session_hours.sql"), &slots)
    }
}

/// The select items for the `wanted` session columns, each list starting with a comma.
#[derive(Default)]
struct Columns {
    /// Per session, over the parts `h`.
    outer: String,
    /// Per part, from `session_hours`.
    table: String,
    /// The first-event tuple's values after the key and the distinct id, over events `e`.
    first_values: String,
    /// Per part, from the events of an edge hour, in the order of `table`.
    edge: String,
    /// Per page part: values of the `table` columns that never win.
    empty: String,
}

impl Columns {
    fn of(wanted: &[&str]) -> Columns {
        let mut out = Columns::default();
        // Elements 1 and 2 of the first-event tuple are the order key and the distinct id.
        let mut position = 3;
        for name in wanted {
            let page = match *name {
                "entry_path" => Some(("entry", "argMin", "min", "'\\xFF'")),
                "exit_path" => Some(("exit", "argMax", "max", "''")),
                _ => None,
            };
            if let Some((part, pick, head, never)) = page {
                // Non-pageviews carry a key that never wins, as in the view.
                out.outer.push_str(&format!(",\n    {pick}(h.{part}_path, h.{part}_key) AS {name}"));
                out.table
                    .push_str(&format!(",\n        {part}.key AS {part}_key, {part}.path AS {part}_path"));
                out.empty.push_str(&format!(", {never}, ''"));
                out.edge.push_str(&format!(
                    ",\n    tupleElement({head}(if(e.event = '$pageview', (order_key, e.path), ({never}, ''))) AS {part}, 1),\
                     \n    tupleElement({part}, 2)"
                ));
            } else if let Some((_, expression)) = FIRST_EVENT.iter().find(|(n, _)| n == name) {
                out.outer.push_str(&format!(",\n    argMin(h.first_{name}, h.first_key) AS {name}"));
                out.table.push_str(&format!(",\n        first.{name} AS first_{name}"));
                out.empty.push_str(", ''");
                out.first_values.push_str(&format!(", {expression}"));
                out.edge.push_str(&format!(",\n    tupleElement(first, {position})"));
                position += 1;
            }
        }
        out
    }
}
