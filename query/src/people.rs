//! People: search persons by id, property or activity (paginated), and one person's ids,
//! properties and full event timeline across all its ids (the customer journey, paginated).
//! A person is found by any of its distinct ids or by its person id.

use std::collections::{BTreeMap, BTreeSet};

use arrow_array::RecordBatch;
use numu_warehouse::Sql;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::QueryError;
use crate::filter::{self, PropertyFilter};
use crate::identity;
use crate::limits::Limits;
use crate::property::Needs;
use crate::range::{DateRange, Zone};
use crate::source::Source;
use crate::table;
use crate::template::{fill, value};

/// Search persons.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonsQuery {
    /// Case-insensitive text found in the person id, any of its ids or any property value.
    #[serde(default)]
    pub search: Option<String>,
    /// Person filters (`"type": "person"`) keep persons; event filters keep persons with at
    /// least one such event.
    #[serde(default)]
    pub filters: Vec<PropertyFilter>,
    /// Only persons active in this range (default: all time).
    #[serde(default)]
    pub date_range: Option<DateRange>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub include_bots: bool,
    /// Page size (default 100).
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub offset: Option<u64>,
}

/// One person's profile and a page of its timeline.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonQuery {
    /// A distinct id or person id.
    pub id: String,
    /// Only events in this range (default: all time).
    #[serde(default)]
    pub date_range: Option<DateRange>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub include_bots: bool,
    /// Oldest first (default) or newest first.
    #[serde(default)]
    pub order: Order,
    /// Events per page (default 100).
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub offset: Option<u64>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    #[default]
    Asc,
    Desc,
}

/// A person in a list.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct PersonSummary {
    pub person_id: String,
    /// Sorted.
    pub distinct_ids: Vec<String>,
    pub properties: BTreeMap<String, String>,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub event_count: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct PersonsAnswer {
    /// Matching persons over all pages.
    pub total: u64,
    pub offset: u64,
    pub limit: u32,
    pub persons: Vec<PersonSummary>,
}

/// One event of a timeline.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct TimelineEvent {
    pub timestamp_ms: i64,
    pub event: String,
    pub message_id: String,
    pub distinct_id: String,
    /// The client's session id, or the derived one (`~person#n`).
    pub session: String,
    pub url: String,
    pub path: String,
    pub referrer: String,
    pub channel: String,
    pub utm_source: String,
    pub utm_medium: String,
    pub utm_campaign: String,
    pub device_type: String,
    pub browser: String,
    pub os: String,
    pub country: String,
    pub revenue: f64,
    pub properties: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct PersonAnswer {
    pub person_id: String,
    /// Every id of the person: linked ones and those its events carry. Sorted.
    pub distinct_ids: Vec<String>,
    pub properties: BTreeMap<String, String>,
    pub event_count: u64,
    pub first_seen_ms: Option<i64>,
    pub last_seen_ms: Option<i64>,
    pub offset: u64,
    pub limit: u32,
    /// More events after this page.
    pub has_more: bool,
    pub events: Vec<TimelineEvent>,
}

fn source(
    project: u64,
    range: &Option<DateRange>,
    tz: &Option<String>,
    bots: bool,
    now_ms: i64,
    limits: &Limits,
) -> Result<Source, QueryError> {
    let zone = Zone::parse("timezone", tz.as_deref())?;
    let window = range.as_ref().map(|r| r.resolve(zone, now_ms, limits)).transpose()?;
    Ok(Source { project, window, include_bots: bots, person: None, derived_sessions_only: false })
}

/// A checked person search.
#[derive(Clone, Debug)]
pub struct PersonsPlan {
    statements: Vec<Sql>,
    offset: u64,
    limit: u32,
}

/// Checks `query` and builds its page and count statements.
pub fn plan_persons(
    query: &PersonsQuery,
    project: u64,
    now_ms: i64,
    limits: &Limits,
) -> Result<PersonsPlan, QueryError> {
    Limits::at_most("filters", query.filters.len(), limits.max_filters, "filters")?;
    let limit = limits.page("limit", query.limit, 100)?;
    let offset = query.offset.unwrap_or(0);
    let source = source(project, &query.date_range, &query.timezone, query.include_bots, now_ms, limits)?;
    let filters = filter::all(&query.filters, "filters", limits)?;
    let search = match query.search.as_deref().filter(|s| !s.is_empty()) {
        Some(text) if text.chars().count() > 200 => {
            return Err(QueryError::bad("search", "at most 200 characters"))
        }
        Some(text) => Sql::new("positionCaseInsensitiveUTF8(person, ")
            .bind(text)
            .push(") > 0 OR arrayExists(d -> positionCaseInsensitiveUTF8(d, ")
            .bind(text)
            .push(") > 0, distinct_ids) OR arrayExists(v -> positionCaseInsensitiveUTF8(v, ")
            .bind(text)
            .push(") > 0, mapValues(props))"),
        None => Sql::new("1"),
    };
    let needs = Needs { person_props: true, ..filters.needs };
    let inner = fill(
        include_str!("../sql/persons_list.sql"),
        &[("from", source.from(needs)), ("conditions", filters.sql), ("search", search)],
    );
    let page = Sql::new("SELECT * FROM (")
        .append(inner.clone())
        .push(") ORDER BY last_seen_ms DESC, person LIMIT ")
        .bind(u64::from(limit))
        .push(" OFFSET ")
        .bind(offset);
    let count = Sql::new("SELECT count() AS total FROM (").append(inner).push(")");
    Ok(PersonsPlan { statements: vec![page, count], offset, limit })
}

fn sorted(ids: impl IntoIterator<Item = String>) -> Vec<String> {
    ids.into_iter().filter(|id| !id.is_empty()).collect::<BTreeSet<_>>().into_iter().collect()
}

impl PersonsPlan {
    pub fn statements(&self) -> &[Sql] {
        &self.statements
    }

    pub fn fold(&self, results: Vec<Vec<RecordBatch>>) -> Result<PersonsAnswer, QueryError> {
        let [page, count] = <[Vec<RecordBatch>; 2]>::try_from(results)
            .map_err(|_| QueryError::Internal("person search needs two results".into()))?;
        let persons = table::strings(&page, "person")?;
        let ids = table::string_lists(&page, "distinct_ids")?;
        let props = table::string_maps(&page, "props")?;
        let (first, last) = (table::ints(&page, "first_seen_ms")?, table::ints(&page, "last_seen_ms")?);
        let events = table::ints(&page, "event_count")?;
        let persons = (0..persons.len())
            .map(|i| PersonSummary {
                person_id: persons[i].clone(),
                distinct_ids: sorted(ids[i].iter().cloned().chain([persons[i].clone()])),
                properties: props[i].iter().cloned().collect(),
                first_seen_ms: first[i],
                last_seen_ms: last[i],
                event_count: events[i] as u64,
            })
            .collect();
        let total = table::ints(&count, "total")?.first().copied().unwrap_or(0) as u64;
        Ok(PersonsAnswer { total, offset: self.offset, limit: self.limit, persons })
    }
}

/// A checked person lookup.
#[derive(Clone, Debug)]
pub struct PersonPlan {
    statements: Vec<Sql>,
    id: String,
    offset: u64,
    limit: u32,
}

/// Checks `query` and builds its profile, activity and timeline statements.
pub fn plan_person(
    query: &PersonQuery,
    project: u64,
    now_ms: i64,
    limits: &Limits,
) -> Result<PersonPlan, QueryError> {
    if query.id.is_empty() || query.id.chars().count() > 500 {
        return Err(QueryError::bad("id", "a person or distinct id has 1 to 500 characters"));
    }
    let limit = limits.page("limit", query.limit, 100)?;
    let offset = query.offset.unwrap_or(0);
    let person = identity::person_of(project, &query.id);
    let mut source = source(project, &query.date_range, &query.timezone, query.include_bots, now_ms, limits)?;
    source.person = Some(person.clone());
    let profile = fill(
        include_str!("../sql/person_profile.sql"),
        &[
            ("person", person.clone()),
            ("mapping", identity::mapping_sql(project)),
            ("properties", identity::person_properties_sql(project, Some(person))),
        ],
    );
    let activity = fill(include_str!("../sql/person_activity.sql"), &[("events", source.events())]);
    let direction = Sql::new(if query.order == Order::Asc { "ASC" } else { "DESC" });
    let timeline = fill(
        include_str!("../sql/person_timeline.sql"),
        &[
            ("events", source.sessionized()),
            ("direction", direction),
            ("limit", value(u64::from(limit))),
            ("offset", value(offset)),
        ],
    );
    Ok(PersonPlan { statements: vec![profile, activity, timeline], id: query.id.clone(), offset, limit })
}

impl PersonPlan {
    pub fn statements(&self) -> &[Sql] {
        &self.statements
    }

    pub fn fold(&self, results: Vec<Vec<RecordBatch>>) -> Result<PersonAnswer, QueryError> {
        let [profile, activity, timeline] = <[Vec<RecordBatch>; 3]>::try_from(results)
            .map_err(|_| QueryError::Internal("a person needs three results".into()))?;
        let person_id = table::strings(&profile, "person")?.into_iter().next().unwrap_or_default();
        let linked = table::string_lists(&profile, "linked_ids")?.into_iter().next().unwrap_or_default();
        let properties: BTreeMap<String, String> = table::string_maps(&profile, "props")?
            .into_iter()
            .next()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let event_count = table::ints(&activity, "event_count")?.first().copied().unwrap_or(0) as u64;
        let carried = table::string_lists(&activity, "distinct_ids")?.into_iter().next().unwrap_or_default();
        if event_count == 0 && linked.is_empty() && properties.is_empty() {
            return Err(QueryError::NotFound(format!("person {:?}", self.id)));
        }
        let seen = |name: &str| -> Result<Option<i64>, QueryError> {
            Ok(table::ints(&activity, name)?.first().copied().filter(|_| event_count > 0))
        };
        let events = timeline_events(&timeline)?;
        Ok(PersonAnswer {
            distinct_ids: sorted(linked.into_iter().chain(carried).chain([person_id.clone()])),
            person_id,
            properties,
            event_count,
            first_seen_ms: seen("first_seen_ms")?,
            last_seen_ms: seen("last_seen_ms")?,
            offset: self.offset,
            limit: self.limit,
            has_more: self.offset + (events.len() as u64) < event_count,
            events,
        })
    }
}

fn timeline_events(batches: &[RecordBatch]) -> Result<Vec<TimelineEvent>, QueryError> {
    let text = |name: &str| table::strings(batches, name);
    let [event, message_id, distinct_id, session, url, path, referrer, channel] =
        ["event", "message_id", "distinct_id", "session", "url", "path", "referrer", "channel"].map(text);
    let [utm_source, utm_medium, utm_campaign, device_type, browser, os, country] =
        ["utm_source", "utm_medium", "utm_campaign", "device_type", "browser", "os", "country"].map(text);
    let times = table::ints(batches, "timestamp_ms")?;
    let revenue = table::floats(batches, "revenue")?;
    let properties = table::string_maps(batches, "properties")?;
    let columns = [
        event?,
        message_id?,
        distinct_id?,
        session?,
        url?,
        path?,
        referrer?,
        channel?,
        utm_source?,
        utm_medium?,
        utm_campaign?,
        device_type?,
        browser?,
        os?,
        country?,
    ];
    Ok((0..times.len())
        .map(|i| {
            let at = |c: usize| columns[c][i].clone();
            TimelineEvent {
                timestamp_ms: times[i],
                event: at(0),
                message_id: at(1),
                distinct_id: at(2),
                session: at(3),
                url: at(4),
                path: at(5),
                referrer: at(6),
                channel: at(7),
                utm_source: at(8),
                utm_medium: at(9),
                utm_campaign: at(10),
                device_type: at(11),
                browser: at(12),
                os: at(13),
                country: at(14),
                revenue: revenue[i].unwrap_or(0.0),
                properties: properties[i].iter().cloned().collect(),
            }
        })
        .collect())
}
