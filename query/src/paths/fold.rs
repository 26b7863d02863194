//! Counted paths → a Sankey chart: nodes `step:name` (step 1 = first), edges between nodes of
//! consecutive steps weighted by sessions, and per node the sessions whose path ends there
//! (drop-off). Step by step, the `edges_per_step` heaviest edges are kept and every other
//! edge is routed to that step's `other` node (one per step, id `step:$other`), whose own
//! onward edges are counted like any node's.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

/// The answer of a paths question.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct PathsAnswer {
    pub from_ms: i64,
    pub to_ms: i64,
    /// Sessions with a path.
    pub total: u64,
    /// By step, then weight (heaviest first).
    pub nodes: Vec<PathNode>,
    /// By step, then weight.
    pub edges: Vec<PathEdge>,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct PathNode {
    /// `step:name`, or `step:$other`.
    pub id: String,
    /// 1 = the first node of the paths.
    pub step: usize,
    /// The event name or grouped page path (`other` for the other node).
    pub name: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub other: bool,
    /// Sessions through this node.
    pub weight: u64,
    /// Sessions whose path ends here.
    pub dropoff: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct PathEdge {
    pub source: String,
    pub target: String,
    pub weight: u64,
}

/// A node name; `None` is the step's "other".
type Name = Option<String>;

fn id(step: usize, name: &Name) -> String {
    match name {
        Some(name) => format!("{step}:{name}"),
        None => format!("{step}:$other"),
    }
}

/// The chart of `counted` paths (each at most `steps` long).
pub fn sankey(
    counted: Vec<(Vec<String>, u64)>,
    steps: usize,
    keep: usize,
    from_ms: i64,
    to_ms: i64,
) -> PathsAnswer {
    let mut paths: Vec<(Vec<Name>, u64)> = counted
        .into_iter()
        .filter(|(p, w)| !p.is_empty() && *w > 0)
        .map(|(p, w)| (p.into_iter().take(steps).map(Some).collect(), w))
        .collect();
    for i in 0..steps.saturating_sub(1) {
        let mut weights: HashMap<(Name, Name), u64> = HashMap::new();
        for (p, w) in paths.iter().filter(|(p, _)| p.len() > i + 1) {
            *weights.entry((p[i].clone(), p[i + 1].clone())).or_default() += w;
        }
        let mut ranked: Vec<((Name, Name), u64)> = weights.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let kept: Vec<(Name, Name)> = ranked.into_iter().take(keep).map(|(edge, _)| edge).collect();
        for (p, _) in paths.iter_mut().filter(|(p, _)| p.len() > i + 1) {
            if !kept.contains(&(p[i].clone(), p[i + 1].clone())) {
                p[i + 1] = None;
            }
        }
    }
    let mut nodes: HashMap<(usize, Name), (u64, u64)> = HashMap::new();
    let mut edges: HashMap<(usize, Name, Name), u64> = HashMap::new();
    for (p, w) in &paths {
        for (i, name) in p.iter().enumerate() {
            let node = nodes.entry((i + 1, name.clone())).or_default();
            node.0 += w;
            if i + 1 == p.len() {
                node.1 += w;
            } else {
                *edges.entry((i + 1, name.clone(), p[i + 1].clone())).or_default() += w;
            }
        }
    }
    let mut nodes: Vec<PathNode> = nodes
        .into_iter()
        .map(|((step, name), (weight, dropoff))| PathNode {
            id: id(step, &name),
            step,
            other: name.is_none(),
            name: name.unwrap_or_else(|| "other".into()),
            weight,
            dropoff,
        })
        .collect();
    nodes.sort_by(|a, b| (a.step, b.weight, &a.id).cmp(&(b.step, a.weight, &b.id)));
    let mut edges: Vec<(usize, PathEdge)> = edges
        .into_iter()
        .map(|((step, from, to), weight)| {
            (step, PathEdge { source: id(step, &from), target: id(step + 1, &to), weight })
        })
        .collect();
    edges.sort_by(|(sa, a), (sb, b)| {
        (sa, b.weight, &a.source, &a.target).cmp(&(sb, a.weight, &b.source, &b.target))
    });
    PathsAnswer {
        from_ms,
        to_ms,
        total: paths.iter().map(|(_, w)| w).sum(),
        nodes,
        edges: edges.into_iter().map(|(_, e)| e).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(names: &[&str], weight: u64) -> (Vec<String>, u64) {
        (names.iter().map(|n| n.to_string()).collect(), weight)
    }

    #[test]
    fn edges_beyond_the_top_go_to_other_and_flows_balance() {
        let answer = sankey(
            vec![path(&["a", "b", "c"], 5), path(&["a", "x"], 2), path(&["a", "y", "c"], 1), path(&["a"], 4)],
            3,
            1,
            0,
            1,
        );
        assert_eq!(answer.total, 12);
        let node = |id: &str| answer.nodes.iter().find(|n| n.id == id).cloned().unwrap();
        assert_eq!((node("1:a").weight, node("1:a").dropoff), (12, 4));
        assert_eq!((node("2:b").weight, node("2:$other").weight, node("2:$other").dropoff), (5, 3, 2));
        let edge =
            |s: &str, t: &str| answer.edges.iter().find(|e| e.source == s && e.target == t).map(|e| e.weight);
        assert_eq!(edge("1:a", "2:b"), Some(5));
        assert_eq!(edge("1:a", "2:$other"), Some(3));
        // Step 2 keeps one edge: b → c (5); other → c (1) becomes other → other.
        assert_eq!(edge("2:b", "3:c"), Some(5));
        assert_eq!(edge("2:$other", "3:$other"), Some(1));
    }
}
