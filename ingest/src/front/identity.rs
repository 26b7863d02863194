//! Identity records from an enriched event: `identify` links the anonymous id to the
//! user id, `alias` links the previous id to the user id, and `$set` / `$set_once`
//! (identify traits, or objects inside properties) update the person. The event itself
//! is stored too; people are resolved at query time (DESIGN.md §3).

use numu_schemas::EventType;

use super::enrich::Enriched;
use crate::{IdentityLink, PersonUpdate, Record};

/// Appends the event's identity records, then the event, to `out`.
pub fn push_records(enriched: Enriched, out: &mut Vec<Record>) {
    let Enriched { row, previous_id, set, set_once } = enriched;
    let link = |linked_id: &str, kind: &str| IdentityLink {
        project_id: row.project_id,
        distinct_id: row.user_id.clone(),
        linked_id: linked_id.to_string(),
        kind: kind.to_string(),
        timestamp: row.timestamp,
        message_id: row.message_id.clone(),
    };
    match EventType::parse(&row.event_type) {
        Some(EventType::Identify)
            if !row.user_id.is_empty() && !row.anonymous_id.is_empty() && row.user_id != row.anonymous_id =>
        {
            out.push(Record::Link(link(&row.anonymous_id, "identify")));
        }
        Some(EventType::Alias)
            if !row.user_id.is_empty() && !previous_id.is_empty() && row.user_id != previous_id =>
        {
            out.push(Record::Link(link(&previous_id, "alias")));
        }
        _ => {}
    }
    if !set.is_empty() || !set_once.is_empty() {
        out.push(Record::PersonUpdate(PersonUpdate {
            project_id: row.project_id,
            distinct_id: row.distinct_id.clone(),
            timestamp: row.timestamp,
            set_properties: set,
            set_once_properties: set_once,
            message_id: row.message_id.clone(),
        }));
    }
    out.push(Record::Event(Box::new(row)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use numu_schemas::EventRow;

    fn enriched(kind: &str, user: &str, anon: &str, previous: &str) -> Enriched {
        let row = EventRow {
            project_id: 7,
            event_type: kind.into(),
            user_id: user.into(),
            anonymous_id: anon.into(),
            distinct_id: if user.is_empty() { anon.into() } else { user.into() },
            message_id: "m".into(),
            timestamp: 5,
            ..EventRow::default()
        };
        Enriched { row, previous_id: previous.into(), set: vec![], set_once: vec![] }
    }

    #[test]
    fn identify_and_alias_link_ids() {
        let mut out = Vec::new();
        push_records(enriched("identify", "u1", "a1", ""), &mut out);
        assert!(
            matches!(&out[0], Record::Link(l) if l.distinct_id == "u1" && l.linked_id == "a1" && l.kind == "identify")
        );
        assert!(matches!(&out[1], Record::Event(_)));
        out.clear();
        push_records(enriched("alias", "u2", "", "old"), &mut out);
        assert!(
            matches!(&out[0], Record::Link(l) if l.distinct_id == "u2" && l.linked_id == "old" && l.kind == "alias")
        );
        out.clear();
        push_records(enriched("identify", "u1", "", ""), &mut out);
        assert_eq!(out.len(), 1, "no link without an anonymous id");
        let mut with_set = enriched("track", "", "a9", "");
        with_set.set_once = vec![("first".into(), "x".into())];
        out.clear();
        push_records(with_set, &mut out);
        assert!(
            matches!(&out[0], Record::PersonUpdate(p) if p.distinct_id == "a9" && p.set_once_properties.len() == 1)
        );
    }
}
