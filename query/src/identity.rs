//! Persons: connected components of the ids linked by `identify` and `alias`, applied
//! retroactively.
//!
//! The components are computed here, in Rust, by a union-find over the project's distinct
//! edges (links are far fewer than events), and written to `person_distinct_ids` (a
//! ReplacingMergeTree keyed by distinct id; `person_id` is the smallest id of the component,
//! `version` grows with each rewrite). Queries then join events to the mapping with
//! `argMax(person_id, version)`; an id without a link is its own person. The mapping is
//! brought up to date before a query that needs persons, only when the link graph changed
//! (its distinct-edge count or newest link time moved), and only the ids whose person changed
//! are written. This module is pure: it builds the statements and folds their rows; the
//! runner (`crate::run`) does the IO.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use numu_warehouse::Sql;

use crate::template::{fill, value};

/// The link graph's size and newest link: equal states mean equal graphs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkState {
    pub edges: u64,
    pub max_ts: i64,
}

pub fn state_sql(project: u64) -> Sql {
    fill(include_str!("../sql/identity_state.sql"), &[("project", value(project))])
}

pub fn links_sql(project: u64) -> Sql {
    fill(include_str!("../sql/identity_links.sql"), &[("project", value(project))])
}

/// The current mapping (`distinct_id`, `person_id`, `version`) as a subquery or statement.
pub fn mapping_sql(project: u64) -> Sql {
    mapping_sql_where(project, Sql::new("1"))
}

/// As [`mapping_sql`], of the ids where `condition` (a constant) holds.
pub fn mapping_sql_where(project: u64, condition: Sql) -> Sql {
    fill(include_str!("../sql/person_mapping.sql"), &[("project", value(project)), ("condition", condition)])
}

/// Person properties folded per person (`person`, `props`); only of `person` when given.
pub fn person_properties_sql(project: u64, person: Option<Sql>) -> Sql {
    let condition = match person {
        Some(person) => {
            Sql::new("if(m.mapped_person_id = '', u.distinct_id, m.mapped_person_id) = ").append(person)
        }
        None => Sql::new("1"),
    };
    fill(
        include_str!("../sql/person_properties.sql"),
        &[("project", value(project)), ("mapping", mapping_sql(project)), ("person_condition", condition)],
    )
}

/// The person of `id` (a distinct id or a person id) as a scalar SQL expression.
pub fn person_of(project: u64, id: &str) -> Sql {
    Sql::new("(SELECT if(argMax(person_id, version) = '', ")
        .bind(id)
        .push(", argMax(person_id, version)) FROM person_distinct_ids WHERE project_id = ")
        .bind(project)
        .push(" AND distinct_id = ")
        .bind(id)
        .push(")")
}

/// Each id of the graph → the smallest id of its component.
pub fn components<'a>(edges: impl IntoIterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, String> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut names: Vec<&str> = Vec::new();
    let mut parent: Vec<usize> = Vec::new();
    let mut id = |name: &'a str, names: &mut Vec<&'a str>, parent: &mut Vec<usize>| {
        *index.entry(name).or_insert_with(|| {
            names.push(name);
            parent.push(parent.len());
            parent.len() - 1
        })
    };
    for (a, b) in edges {
        if a.is_empty() || b.is_empty() {
            continue;
        }
        let (a, b) = (id(a, &mut names, &mut parent), id(b, &mut names, &mut parent));
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra != rb {
            // Keep the smaller name as the root, so the root is the component's person id.
            let (keep, join) = if names[ra] <= names[rb] { (ra, rb) } else { (rb, ra) };
            parent[join] = keep;
        }
    }
    (0..names.len()).map(|i| (names[i].to_string(), names[find(&mut parent, i)].to_string())).collect()
}

fn find(parent: &mut [usize], mut node: usize) -> usize {
    while parent[node] != node {
        parent[node] = parent[parent[node]];
        node = parent[node];
    }
    node
}

/// The (distinct id, person id) rows to write so the stored mapping equals `resolved`.
pub fn changes(
    resolved: &BTreeMap<String, String>,
    stored: &HashMap<String, String>,
) -> Vec<(String, String)> {
    resolved
        .iter()
        .filter(|(id, person)| match stored.get(*id) {
            Some(current) => current != *person,
            None => id != person,
        })
        .map(|(id, person)| (id.clone(), person.clone()))
        .collect()
}

/// Rows of `person_distinct_ids`.
pub fn mapping_batch(
    project: u64,
    rows: &[(String, String)],
    version: u64,
) -> Result<RecordBatch, ArrowError> {
    let strings = |f: fn(&(String, String)) -> &str| -> ArrayRef {
        Arc::new(rows.iter().map(|r| Some(f(r))).collect::<StringArray>())
    };
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("project_id", Arc::new(UInt64Array::from(vec![project; rows.len()]))),
        ("distinct_id", strings(|r| &r.0)),
        ("person_id", strings(|r| &r.1)),
        ("version", Arc::new(UInt64Array::from(vec![version; rows.len()]))),
    ];
    let fields: Vec<Field> =
        columns.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), false)).collect();
    debug_assert!(fields.iter().all(|f| f.data_type() != &DataType::Null));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns.into_iter().map(|(_, a)| a).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_take_the_smallest_id_and_merge_transitively() {
        let edges = [("anon-2", "user@x"), ("anon-1", "user@x"), ("zed", "yak"), ("", "ignored")];
        let mapping = components(edges);
        assert_eq!(mapping["anon-2"], "anon-1");
        assert_eq!(mapping["user@x"], "anon-1");
        assert_eq!(mapping["anon-1"], "anon-1");
        assert_eq!(mapping["zed"], "yak");
        assert!(!mapping.contains_key(""));
        // A later link merging two components moves one of them.
        let merged = components(edges.into_iter().chain([("yak", "user@x")]));
        assert_eq!(merged["zed"], "anon-1");
    }

    #[test]
    fn only_changed_ids_are_written() {
        let resolved = components([("a", "b"), ("b", "c")]);
        let mut stored = HashMap::new();
        assert_eq!(changes(&resolved, &stored), vec![("b".into(), "a".into()), ("c".into(), "a".into())]);
        stored.insert("b".to_string(), "a".to_string());
        stored.insert("c".to_string(), "b".to_string());
        assert_eq!(changes(&resolved, &stored), vec![("c".into(), "a".into())]);
        let batch = mapping_batch(7, &changes(&resolved, &stored), 3).unwrap();
        assert_eq!(batch.num_rows(), 1);
        assert_eq!(batch.schema().field(3).name(), "version");
    }
}
