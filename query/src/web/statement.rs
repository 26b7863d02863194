//! The one statement of a web analytics question (`sql/web.sql`): the per-session aggregates
//! it needs beyond the common session row, and the facts each session contributes, for the
//! reports asked for only.

use numu_warehouse::Sql;

use super::hourly::Hourly;
use super::WebReport;
use crate::filter::Condition;
use crate::range::{Interval, Window};
use crate::source::{in_current, session_columns, Source};
use crate::template::{fill, value};

impl WebReport {
    pub const ALL: [WebReport; 14] = [
        WebReport::Pages,
        WebReport::EntryPages,
        WebReport::ExitPages,
        WebReport::Sources,
        WebReport::Channels,
        WebReport::UtmSources,
        WebReport::UtmMediums,
        WebReport::UtmCampaigns,
        WebReport::UtmTerms,
        WebReport::UtmContents,
        WebReport::Devices,
        WebReport::Browsers,
        WebReport::OperatingSystems,
        WebReport::Countries,
    ];

    /// Whether a session has a value for this session report (`column` its column): entry
    /// and exit pages need a pageview, UTM reports the parameter.
    fn keep_sql(self, column: &str) -> String {
        match self {
            WebReport::EntryPages | WebReport::ExitPages => "session_pageviews > 0".to_owned(),
            WebReport::UtmSources
            | WebReport::UtmMediums
            | WebReport::UtmCampaigns
            | WebReport::UtmTerms
            | WebReport::UtmContents => format!("ss.{column} != ''"),
            _ => "1".to_owned(),
        }
    }

    /// The report's name (as in the answer) and, for a session report, the column of the
    /// session row holding its value (`None` for pages, which are counted per pageview).
    pub fn name_and_column(self) -> (&'static str, Option<&'static str>) {
        match self {
            WebReport::Pages => ("pages", None),
            WebReport::EntryPages => ("entry_pages", Some("entry_path")),
            WebReport::ExitPages => ("exit_pages", Some("exit_path")),
            WebReport::Sources => ("sources", Some("referrer_source")),
            WebReport::Channels => ("channels", Some("channel")),
            WebReport::UtmSources => ("utm_sources", Some("utm_source")),
            WebReport::UtmMediums => ("utm_mediums", Some("utm_medium")),
            WebReport::UtmCampaigns => ("utm_campaigns", Some("utm_campaign")),
            WebReport::UtmTerms => ("utm_terms", Some("utm_term")),
            WebReport::UtmContents => ("utm_contents", Some("utm_content")),
            WebReport::Devices => ("devices", Some("device_type")),
            WebReport::Browsers => ("browsers", Some("browser")),
            WebReport::OperatingSystems => ("operating_systems", Some("os")),
            WebReport::Countries => ("countries", Some("country")),
        }
    }
}

/// What the statement is built from.
pub(super) struct Parts<'a> {
    pub source: &'a Source,
    pub window: &'a Window,
    pub interval: Interval,
    pub reports: &'a [WebReport],
    /// Client sessions may come from `session_hours` (see [`super::hourly`]).
    pub hourly: bool,
}

impl Parts<'_> {
    pub fn statement(&self, events: &Condition, sessions: &Condition, rows: u32) -> Sql {
        let pages = self.reports.contains(&WebReport::Pages);
        // Report names and columns are fixed text from the list above; values stay in SQL.
        let (mut session_facts, mut session_keeps) = (String::new(), String::new());
        for report in self.reports {
            if let (name, Some(column)) = report.name_and_column() {
                session_facts.push_str(&format!(
                    ",\n        (concat('{name}\\t', ss.{column}), current, session_pageviews)"
                ));
                session_keeps.push_str(&format!(", {}", report.keep_sql(column)));
            }
        }
        // Views per page: a lambda per page sums the session's elements, copying them once per
        // page, which stays small because a session's elements are per part or per page (or
        // per view only in the event path).
        let page_facts = if pages {
            ",\n            arrayMap(k -> (concat('pages\\t', substring(k, 2)), toUInt8(startsWith(k, '1')), \
             arraySum(p -> if(tupleElement(p, 1) = k, tupleElement(p, 2), 0), ss.viewed)), \
             arrayDistinct(arrayMap(p -> tupleElement(p, 1), ss.viewed)))"
        } else {
            ""
        };
        fill(
            include_str!("../../sql/web.sql"),
            &[
                ("from", value(self.window.from_sql())),
                ("session_facts", Sql::new(session_facts)),
                ("session_keeps", Sql::new(session_keeps)),
                ("bucket_label", self.interval.bucket_sql("toDateTime(intDiv(k, 2))", self.window.zone)),
                ("page_facts", Sql::new(page_facts)),
                ("sessions", self.sessions(events, sessions, pages)),
                ("session_conditions", sessions.sql.clone()),
                ("limit", value(u64::from(rows))),
            ],
        )
    }

    /// The session rows: only the columns of the reports asked for, unless session filters
    /// may use any.
    fn sessions(&self, events: &Condition, sessions: &Condition, pages: bool) -> Sql {
        let columns: Vec<&str> = self.reports.iter().filter_map(|r| r.name_and_column().1).collect();
        let wanted = (!sessions.needs.sessions).then_some(columns.as_slice());
        if self.hourly {
            let every = session_columns();
            let wanted = wanted.unwrap_or(&every);
            let derived_source = Source { derived_sessions_only: true, ..self.source.clone() };
            let derived = derived_source.sessions_with(
                events.needs,
                Sql::new("1"),
                Some(wanted),
                self.extra(pages, true),
            );
            let read = self.source.window.unwrap_or(*self.window);
            let hourly = Hourly {
                source: self.source,
                read,
                current_from: self.window.from_ms,
                interval: self.interval,
            };
            return hourly.sessions(wanted, pages, derived);
        }
        self.source.sessions_with(events.needs, events.sql.clone(), wanted, self.extra(pages, false))
    }

    /// Per session, beyond the common row: `bucket_parts`, (bucket start in seconds × 2 + in
    /// the current period, pageviews, events) elements, the shape `session_hours.sql` gives
    /// per hour row; and with pages `viewed`, (period digit and path, views) elements. The
    /// time series and the pages count each event by its own time. One element per event,
    /// or, when `summed`, per bucket and per page: `sumMap` costs more per event than
    /// `groupArray` but keeps a session's state to its distinct buckets and pages, which
    /// matters for sessions derived from a busy id's events.
    fn extra(&self, pages: bool, summed: bool) -> Sql {
        let current = || Sql::new("toUInt8(").append(in_current(self.window)).push(")");
        let bucket = Sql::new("toUInt64(toUnixTimestamp(")
            .append(self.interval.bucket_key_sql("e.timestamp", self.window.zone))
            .push(")) * 2 + ")
            .append(current());
        let page = Sql::new("concat(toString(").append(current()).push("), e.path)");
        let mut extra = if summed {
            Sql::new(",\n    arrayZip(tupleElement(sumMap([")
                .append(bucket)
                .push("], [toUInt64(e.event = '$pageview')], [toUInt64(1)]) AS bucket_sums, 1), ")
                .push("tupleElement(bucket_sums, 2), tupleElement(bucket_sums, 3)) AS bucket_parts")
        } else {
            Sql::new(",\n    groupArray((")
                .append(bucket)
                .push(", toUInt64(e.event = '$pageview'), toUInt64(1))) AS bucket_parts")
        };
        if pages && summed {
            extra = extra
                .push(",\n    arrayZip(tupleElement(sumMapIf([")
                .append(page)
                .push("], [toUInt64(1)], e.event = '$pageview') AS page_sums, 1), tupleElement(page_sums, 2)) AS viewed");
        } else if pages {
            extra = extra
                .push(",\n    groupArrayIf((")
                .append(page)
                .push(", toUInt64(1)), e.event = '$pageview') AS viewed");
        }
        extra
    }
}
