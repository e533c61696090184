//! The tribe graph: who replies to, mentions or reshares whom, the communities in it,
//! and the people who bridge them (docs/tribe.md).
//!
//! The input is a list of directed, counted edges between **nodes**: people (by person
//! id, so one person's accounts on several platforms are one node) and the
//! organisation's own **accounts** (by handle). [`analyse`] turns it into a [`Tribe`]:
//!
//! - **Communities** are found among people only, on the undirected graph whose edge
//!   weight between two people is the number of replies, mentions and reshares between
//!   them in either direction. The organisation's accounts stay in the graph and in the
//!   exports but take no part in this step: they touch nearly everyone, and a hub that
//!   touches everyone would merge every community into one. People with no tie to another
//!   person (most people only talk to the organisation) belong to no community: they are
//!   counted as `unattached`.
//! - The algorithm is **Louvain** modularity optimisation (Blondel et al., 2008): each
//!   person in turn moves to the neighbouring community that raises modularity most,
//!   until no move helps; communities are then folded into single nodes and the same
//!   is done again, until nothing changes. It is deterministic: people are visited in
//!   ascending order of their key, a tie between communities goes to staying put, then
//!   to the community first seen, and every sum runs in a fixed order. Louvain was
//!   chosen over label propagation because it gives the same answer every time without
//!   a random order, does not collapse a chain of groups into one label, and yields the
//!   modularity of the result, a number that says how clear the communities are (above
//!   about 0.3: clear).
//! - A **bridge** is a person whose ties to other people reach at least two communities
//!   (their own included). Bridges are ranked by the number of communities their ties
//!   reach, then by their participation coefficient `1 − Σ_c (w_c / w)²` (Guimerà and
//!   Amaral, 2005: `w_c` is the weight of their ties into community `c`, `w` of all their
//!   ties to people; 0 when all ties stay in one community, towards 1 when spread
//!   evenly), then by the weight of their ties outside their own community. Each is also
//!   marked when it is an **articulation point** of the people graph (petgraph's
//!   `articulation_points`): without them, some people would no longer be connected at
//!   all.
//!
//! [`Tribe::graphml`] and the serde form of [`Tribe`] are the exports.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use petgraph::algo::articulation_points::articulation_points;
use petgraph::graph::{NodeIndex, UnGraph};
use serde::{Deserialize, Serialize};

/// How one node touched another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeKind {
    /// A message in reply to one of theirs.
    Reply,
    /// An `@handle` of theirs in a message.
    Mention,
    /// A repost or boost of one of their messages.
    Reshare,
}

impl EdgeKind {
    /// Every kind, in order.
    pub const ALL: [EdgeKind; 3] = [EdgeKind::Reply, EdgeKind::Mention, EdgeKind::Reshare];

    /// `reply`, `mention`, `reshare`.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::Reply => "reply",
            EdgeKind::Mention => "mention",
            EdgeKind::Reshare => "reshare",
        }
    }
}

impl fmt::Display for EdgeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A node: a person, or one of the organisation's accounts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeKey {
    /// A person, by person id.
    Person(i64),
    /// One of the organisation's accounts, by handle.
    Account(String),
}

impl NodeKey {
    /// The node's id in the exports: `person:42` or `account:lumen.bsky.social`.
    pub fn id(&self) -> String {
        match self {
            NodeKey::Person(id) => format!("person:{id}"),
            NodeKey::Account(handle) => format!("account:{handle}"),
        }
    }

    /// Whether it is one of the organisation's accounts.
    pub fn is_account(&self) -> bool {
        matches!(self, NodeKey::Account(_))
    }
}

/// One counted, directed edge of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TribeEdge {
    /// Who wrote.
    pub from: NodeKey,
    /// Whom it touched.
    pub to: NodeKey,
    /// How.
    pub kind: EdgeKind,
    /// How many times.
    pub count: u64,
}

/// What [`analyse`] reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TribeInput {
    /// The edges; several with the same ends and kind add up, edges from a node to
    /// itself are ignored.
    pub edges: Vec<TribeEdge>,
    /// Labels (a display name or a handle) by node; a node without one is labelled by its
    /// id.
    pub labels: BTreeMap<NodeKey, String>,
    /// Per person, how many of their messages had each intent: what a community talks
    /// about. May be empty.
    pub intents: BTreeMap<i64, BTreeMap<String, u64>>,
}

/// The graph with its communities and bridges.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tribe {
    /// The numbers.
    pub summary: TribeSummary,
    /// Every node: people by person id, then accounts by handle.
    pub nodes: Vec<TribeNode>,
    /// Every edge, by source, target and kind.
    pub edges: Vec<TribeLink>,
    /// The communities, largest first (ids 1, 2, …).
    pub communities: Vec<Community>,
    /// The bridges, the strongest first.
    pub bridges: Vec<Bridge>,
}

/// The numbers of a [`Tribe`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TribeSummary {
    /// Nodes: people and accounts.
    pub nodes: usize,
    /// People.
    pub people: usize,
    /// The organisation's accounts.
    pub accounts: usize,
    /// Distinct edges (source, target, kind).
    pub edges: usize,
    /// Replies, mentions and reshares counted on the edges.
    pub interactions: u64,
    /// Of which replies.
    pub replies: u64,
    /// Of which mentions.
    pub mentions: u64,
    /// Of which reshares.
    pub reshares: u64,
    /// Communities (two people or more).
    pub communities: usize,
    /// People with no tie to another person (only to the organisation).
    pub unattached: usize,
    /// People in a community.
    pub in_communities: usize,
    /// Modularity of the communities on the people graph (−0.5 to 1; `None` without a
    /// tie between two people).
    pub modularity: Option<f64>,
    /// Bridges.
    pub bridges: usize,
}

/// One node of a [`Tribe`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TribeNode {
    /// `person:ID` or `account:HANDLE`.
    pub id: String,
    /// `person` or `account`.
    pub kind: &'static str,
    /// The person id, for a person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_id: Option<i64>,
    /// The handle, for an account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    /// A display name or handle.
    pub label: String,
    /// Its community's id; `None` for accounts and unattached people.
    pub community: Option<u32>,
    /// Distinct nodes it has an edge with, either way.
    pub degree: usize,
    /// Interactions on its edges, either way.
    pub weight: u64,
}

/// One edge of a [`Tribe`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TribeLink {
    /// The id of who wrote.
    pub source: String,
    /// The id of whom it touched.
    pub target: String,
    /// How.
    pub kind: EdgeKind,
    /// How many times.
    pub weight: u64,
}

/// One community.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Community {
    /// 1 for the largest, then 2, …
    pub id: u32,
    /// People in it.
    pub size: usize,
    /// Interactions between its members.
    pub internal_weight: u64,
    /// Its most central members (most interactions inside it), at most
    /// [`TOP_MEMBERS`].
    pub members: Vec<Member>,
    /// The organisation's accounts its members interact with most, at most
    /// [`TOP_ACCOUNTS`].
    pub accounts: Vec<Member>,
    /// Its members' most frequent intents, at most three.
    pub intents: Vec<IntentCount>,
}

/// A node and a weight, in a community's lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    /// The node id.
    pub id: String,
    /// The person id, for a person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_id: Option<i64>,
    /// Its label.
    pub label: String,
    /// Interactions with the community (for a member: with the other members).
    pub weight: u64,
}

/// An intent and how many messages had it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntentCount {
    /// The intent.
    pub intent: String,
    /// Messages.
    pub messages: u64,
}

/// A person whose ties reach several communities.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bridge {
    /// `person:ID`.
    pub id: String,
    /// The person id.
    pub person_id: i64,
    /// Their label.
    pub label: String,
    /// Their own community.
    pub community: u32,
    /// The communities their ties reach, their own included, ascending.
    pub reaches: Vec<u32>,
    /// `1 − Σ (w_c / w)²` over the communities their ties reach.
    pub participation: f64,
    /// Interactions with people outside their own community.
    pub cross_weight: u64,
    /// Whether removing them would disconnect part of the people graph.
    pub articulation: bool,
}

/// Members listed per community.
pub const TOP_MEMBERS: usize = 5;
/// Accounts listed per community.
pub const TOP_ACCOUNTS: usize = 3;

/// Builds the graph, finds its communities and bridges.
pub fn analyse(input: &TribeInput) -> Tribe {
    // Directed edges, summed per (from, to, kind); self-edges dropped.
    let mut directed: BTreeMap<(NodeKey, NodeKey, EdgeKind), u64> = BTreeMap::new();
    for e in &input.edges {
        if e.from == e.to || e.count == 0 {
            continue;
        }
        *directed
            .entry((e.from.clone(), e.to.clone(), e.kind))
            .or_default() += e.count;
    }
    let mut keys: BTreeSet<NodeKey> = BTreeSet::new();
    for (from, to, _) in directed.keys() {
        keys.insert(from.clone());
        keys.insert(to.clone());
    }
    let keys: Vec<NodeKey> = keys.into_iter().collect();
    let index: HashMap<&NodeKey, usize> = keys.iter().enumerate().map(|(i, k)| (k, i)).collect();
    let label = |k: &NodeKey| input.labels.get(k).cloned().unwrap_or_else(|| k.id());

    // Undirected weights between nodes (either direction, every kind).
    let mut undirected: BTreeMap<(usize, usize), u64> = BTreeMap::new();
    let mut totals = [0u64; 3];
    for ((from, to, kind), count) in &directed {
        let (a, b) = (index[from], index[to]);
        *undirected.entry((a.min(b), a.max(b))).or_default() += count;
        totals[*kind as usize] += count;
    }
    let n = keys.len();
    let mut neighbours: Vec<Vec<(usize, u64)>> = vec![Vec::new(); n];
    for (&(a, b), &w) in &undirected {
        neighbours[a].push((b, w));
        neighbours[b].push((a, w));
    }

    // The people graph: people with at least one tie to another person.
    let person_ties = |i: usize| neighbours[i].iter().filter(|(j, _)| !keys[*j].is_account());
    let attached: Vec<usize> = (0..n)
        .filter(|&i| !keys[i].is_account() && person_ties(i).next().is_some())
        .collect();
    let local: HashMap<usize, usize> = attached.iter().enumerate().map(|(l, &i)| (i, l)).collect();
    let mut people_graph: UnGraph<usize, u64> = UnGraph::with_capacity(attached.len(), 0);
    let handles: Vec<NodeIndex> = attached.iter().map(|&i| people_graph.add_node(i)).collect();
    let mut weighted: Vec<(usize, usize, f64)> = Vec::new();
    for (&(a, b), &w) in &undirected {
        if let (Some(&la), Some(&lb)) = (local.get(&a), local.get(&b)) {
            people_graph.add_edge(handles[la], handles[lb], w);
            weighted.push((la, lb, w as f64));
        }
    }
    let raw = louvain(attached.len(), &weighted);
    let modularity = (!weighted.is_empty()).then(|| modularity(attached.len(), &weighted, &raw));
    let cut: BTreeSet<usize> = articulation_points(&people_graph)
        .into_iter()
        .map(|h| people_graph[h])
        .collect();

    // Number communities: largest first, then by their first member's key.
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (l, &c) in raw.iter().enumerate() {
        groups.entry(c).or_default().push(attached[l]);
    }
    let mut groups: Vec<Vec<usize>> = groups.into_values().filter(|g| g.len() >= 2).collect();
    groups.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    let mut community_of: Vec<Option<u32>> = vec![None; n];
    for (c, members) in groups.iter().enumerate() {
        for &i in members {
            community_of[i] = Some(c as u32 + 1);
        }
    }

    let nodes: Vec<TribeNode> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| TribeNode {
            id: k.id(),
            kind: if k.is_account() { "account" } else { "person" },
            person_id: match k {
                NodeKey::Person(id) => Some(*id),
                NodeKey::Account(_) => None,
            },
            handle: match k {
                NodeKey::Account(h) => Some(h.clone()),
                NodeKey::Person(_) => None,
            },
            label: label(k),
            community: community_of[i],
            degree: neighbours[i].len(),
            weight: neighbours[i].iter().map(|(_, w)| w).sum(),
        })
        .collect();
    let member = |i: usize, weight: u64| Member {
        id: keys[i].id(),
        person_id: match &keys[i] {
            NodeKey::Person(id) => Some(*id),
            NodeKey::Account(_) => None,
        },
        label: label(&keys[i]),
        weight,
    };

    let communities: Vec<Community> = groups
        .iter()
        .enumerate()
        .map(|(c, members)| {
            let id = Some(c as u32 + 1);
            let mut inside: Vec<(u64, usize)> = Vec::with_capacity(members.len());
            let mut accounts: BTreeMap<usize, u64> = BTreeMap::new();
            let mut intents: BTreeMap<&str, u64> = BTreeMap::new();
            let mut internal = 0;
            for &i in members {
                let mut w_in = 0;
                for &(j, w) in &neighbours[i] {
                    if community_of[j] == id {
                        w_in += w;
                    } else if keys[j].is_account() {
                        *accounts.entry(j).or_default() += w;
                    }
                }
                internal += w_in;
                inside.push((w_in, i));
                if let NodeKey::Person(p) = keys[i] {
                    for (intent, count) in input.intents.get(&p).into_iter().flatten() {
                        *intents.entry(intent).or_default() += count;
                    }
                }
            }
            inside.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            let mut accounts: Vec<(usize, u64)> = accounts.into_iter().collect();
            accounts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let mut intents: Vec<(&str, u64)> = intents.into_iter().collect();
            intents.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            Community {
                id: c as u32 + 1,
                size: members.len(),
                internal_weight: internal / 2,
                members: inside
                    .iter()
                    .take(TOP_MEMBERS)
                    .map(|&(w, i)| member(i, w))
                    .collect(),
                accounts: accounts
                    .iter()
                    .take(TOP_ACCOUNTS)
                    .map(|&(i, w)| member(i, w))
                    .collect(),
                intents: intents
                    .iter()
                    .take(3)
                    .map(|&(intent, messages)| IntentCount {
                        intent: intent.to_string(),
                        messages,
                    })
                    .collect(),
            }
        })
        .collect();

    let mut bridges: Vec<Bridge> = Vec::new();
    for &i in &attached {
        let (Some(own), NodeKey::Person(person_id)) = (community_of[i], &keys[i]) else {
            continue;
        };
        let mut by_community: BTreeMap<u32, u64> = BTreeMap::new();
        by_community.insert(own, 0);
        let mut total = 0u64;
        for &(j, w) in person_ties(i) {
            total += w;
            if let Some(c) = community_of[j] {
                *by_community.entry(c).or_default() += w;
            }
        }
        if by_community.len() < 2 || total == 0 {
            continue;
        }
        let share: f64 = by_community
            .values()
            .map(|&w| (w as f64 / total as f64).powi(2))
            .sum();
        bridges.push(Bridge {
            id: keys[i].id(),
            person_id: *person_id,
            label: label(&keys[i]),
            community: own,
            reaches: by_community.keys().copied().collect(),
            participation: 1.0 - share,
            cross_weight: total - by_community.get(&own).copied().unwrap_or(0),
            articulation: cut.contains(&i),
        });
    }
    bridges.sort_by(|a, b| {
        b.reaches
            .len()
            .cmp(&a.reaches.len())
            .then(b.participation.total_cmp(&a.participation))
            .then(b.cross_weight.cmp(&a.cross_weight))
            .then(a.person_id.cmp(&b.person_id))
    });

    let edges: Vec<TribeLink> = directed
        .iter()
        .map(|((from, to, kind), &weight)| TribeLink {
            source: from.id(),
            target: to.id(),
            kind: *kind,
            weight,
        })
        .collect();
    let people = keys.iter().filter(|k| !k.is_account()).count();
    let in_communities = groups.iter().map(Vec::len).sum();
    Tribe {
        summary: TribeSummary {
            nodes: n,
            people,
            accounts: n - people,
            edges: edges.len(),
            interactions: totals.iter().sum(),
            replies: totals[EdgeKind::Reply as usize],
            mentions: totals[EdgeKind::Mention as usize],
            reshares: totals[EdgeKind::Reshare as usize],
            communities: communities.len(),
            unattached: people - in_communities,
            in_communities,
            modularity,
            bridges: bridges.len(),
        },
        nodes,
        edges,
        communities,
        bridges,
    }
}

/// Louvain on an undirected weighted graph of `n` nodes (no self-loops, each edge once):
/// the community of each node, numbered by the smallest node in it.
pub fn louvain(n: usize, edges: &[(usize, usize, f64)]) -> Vec<usize> {
    // `adj[i]`: (j, weight) with j ≠ i; `loops[i]`: A_ii (twice the self-loop weight).
    let mut adj: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    for &(a, b, w) in edges {
        if a != b {
            adj[a].push((b, w));
            adj[b].push((a, w));
        }
    }
    let mut loops = vec![0.0; n];
    // Which current (folded) node each original node is in.
    let mut member: Vec<usize> = (0..n).collect();
    loop {
        let size = adj.len();
        let degree: Vec<f64> = (0..size)
            .map(|i| adj[i].iter().map(|(_, w)| w).sum::<f64>() + loops[i])
            .collect();
        let two_m: f64 = degree.iter().sum();
        if two_m <= 0.0 {
            break;
        }
        let mut community: Vec<usize> = (0..size).collect();
        let mut tot: Vec<f64> = degree.clone();
        let mut moved_any = false;
        for _pass in 0..100 {
            let mut moved = false;
            for i in 0..size {
                let old = community[i];
                tot[old] -= degree[i];
                // Weight from i to each neighbouring community, in first-seen order.
                let mut order: Vec<usize> = Vec::new();
                let mut links: HashMap<usize, f64> = HashMap::new();
                for &(j, w) in &adj[i] {
                    let c = community[j];
                    let e = links.entry(c).or_insert_with(|| {
                        order.push(c);
                        0.0
                    });
                    *e += w;
                }
                let gain = |c: usize, k_in: f64| k_in - tot[c] * degree[i] / two_m;
                let mut best = old;
                let mut best_gain = gain(old, links.get(&old).copied().unwrap_or(0.0));
                for &c in &order {
                    let g = gain(c, links[&c]);
                    if g > best_gain + 1e-12 {
                        best = c;
                        best_gain = g;
                    }
                }
                tot[best] += degree[i];
                if best != old {
                    community[i] = best;
                    moved = true;
                    moved_any = true;
                }
            }
            if !moved {
                break;
            }
        }
        if !moved_any {
            break;
        }
        // Renumber 0.. in order of first appearance, and fold.
        let mut renumber: HashMap<usize, usize> = HashMap::new();
        for &c in &community {
            let next = renumber.len();
            renumber.entry(c).or_insert(next);
        }
        let folded = renumber.len();
        let mut new_loops = vec![0.0; folded];
        let mut weights: BTreeMap<(usize, usize), f64> = BTreeMap::new();
        for i in 0..size {
            let ci = renumber[&community[i]];
            new_loops[ci] += loops[i];
            for &(j, w) in &adj[i] {
                let cj = renumber[&community[j]];
                if ci == cj {
                    new_loops[ci] += w;
                } else if ci < cj {
                    *weights.entry((ci, cj)).or_default() += w;
                }
            }
        }
        let mut new_adj: Vec<Vec<(usize, f64)>> = vec![Vec::new(); folded];
        for (&(a, b), &w) in &weights {
            new_adj[a].push((b, w));
            new_adj[b].push((a, w));
        }
        for m in &mut member {
            *m = renumber[&community[*m]];
        }
        adj = new_adj;
        loops = new_loops;
        if folded == size {
            break;
        }
    }
    // Name each community by its smallest node.
    let mut name: HashMap<usize, usize> = HashMap::new();
    for (i, &m) in member.iter().enumerate() {
        name.entry(m).or_insert(i);
    }
    member.iter().map(|m| name[m]).collect()
}

/// The modularity of `community` (one entry per node) on the undirected graph.
pub fn modularity(n: usize, edges: &[(usize, usize, f64)], community: &[usize]) -> f64 {
    let mut degree = vec![0.0; n];
    let mut inside: BTreeMap<usize, f64> = BTreeMap::new();
    let mut two_m = 0.0;
    for &(a, b, w) in edges {
        degree[a] += w;
        degree[b] += w;
        two_m += 2.0 * w;
        if community[a] == community[b] {
            *inside.entry(community[a]).or_default() += 2.0 * w;
        }
    }
    if two_m <= 0.0 {
        return 0.0;
    }
    let mut tot: BTreeMap<usize, f64> = BTreeMap::new();
    for (i, d) in degree.iter().enumerate() {
        *tot.entry(community[i]).or_default() += d;
    }
    tot.iter()
        .map(|(c, t)| inside.get(c).copied().unwrap_or(0.0) / two_m - (t / two_m).powi(2))
        .sum()
}

impl Tribe {
    /// The graph as GraphML (<http://graphml.graphdrawing.org/>): a directed graph whose
    /// nodes carry `label`, `kind` (`person`/`account`) and `community` (0: none), and
    /// whose edges carry `kind` (`reply`/`mention`/`reshare`) and `weight` (the count).
    pub fn graphml(&self) -> String {
        let mut out = String::with_capacity(128 * (self.nodes.len() + self.edges.len()) + 1024);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str(
            "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\" \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
             xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns \
             http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n",
        );
        out.push_str(
            "  <key id=\"label\" for=\"node\" attr.name=\"label\" attr.type=\"string\"/>\n\
             \x20 <key id=\"kind\" for=\"node\" attr.name=\"kind\" attr.type=\"string\"/>\n\
             \x20 <key id=\"community\" for=\"node\" attr.name=\"community\" attr.type=\"int\">\
             <default>0</default></key>\n\
             \x20 <key id=\"degree\" for=\"node\" attr.name=\"degree\" attr.type=\"int\"/>\n\
             \x20 <key id=\"edge_kind\" for=\"edge\" attr.name=\"kind\" attr.type=\"string\"/>\n\
             \x20 <key id=\"weight\" for=\"edge\" attr.name=\"weight\" attr.type=\"int\"/>\n\
             \x20 <graph id=\"tribe\" edgedefault=\"directed\">\n",
        );
        for node in &self.nodes {
            out.push_str(&format!(
                "    <node id=\"{}\"><data key=\"label\">{}</data><data key=\"kind\">{}</data>\
                 <data key=\"community\">{}</data><data key=\"degree\">{}</data></node>\n",
                xml_escape(&node.id),
                xml_escape(&node.label),
                node.kind,
                node.community.unwrap_or(0),
                node.degree
            ));
        }
        for (i, edge) in self.edges.iter().enumerate() {
            out.push_str(&format!(
                "    <edge id=\"e{i}\" source=\"{}\" target=\"{}\"><data key=\"edge_kind\">{}</data>\
                 <data key=\"weight\">{}</data></edge>\n",
                xml_escape(&edge.source),
                xml_escape(&edge.target),
                edge.kind,
                edge.weight
            ));
        }
        out.push_str("  </graph>\n</graphml>\n");
        out
    }
}

/// `text` safe inside XML 1.0 text or a quoted attribute: the five special characters
/// escaped, characters XML 1.0 cannot hold (most control characters) replaced by U+FFFD.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The handles `@`-mentioned in `text`, lowercased, each once, in order of first
/// appearance: `@alice.bsky.social`, `@user@instance.social`, `@nick`. An `@` counts only
/// at the start or after a character that cannot be part of an address (so
/// `support@lumen.example` and `https://host/@user` are not mentions); trailing dots,
/// dashes and underscores (the end of a sentence) are not part of the handle.
pub fn mentions(text: &str) -> Vec<String> {
    let part = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts = chars[i] == '@'
            && (i == 0 || {
                let before = chars[i - 1];
                !(before.is_alphanumeric() || matches!(before, '_' | '.' | '-' | '@' | '/' | ':'))
            });
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < chars.len() && part(chars[j]) {
            j += 1;
        }
        let mut handle: String = chars[i + 1..j].iter().collect();
        // `@user@instance`: the instance must have a dot.
        if j < chars.len() && chars[j] == '@' {
            let mut k = j + 1;
            while k < chars.len() && part(chars[k]) {
                k += 1;
            }
            let host: String = chars[j + 1..k].iter().collect();
            let host = host.trim_end_matches(['.', '-', '_']);
            if host.contains('.') && !handle.is_empty() {
                handle = format!("{handle}@{host}");
                j = k;
            }
        }
        let handle = handle
            .trim_end_matches(['.', '-', '_'])
            .to_ascii_lowercase();
        if !handle.is_empty() && !out.contains(&handle) {
            out.push(handle);
        }
        i = j.max(i + 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(id: i64) -> NodeKey {
        NodeKey::Person(id)
    }

    fn edge(from: NodeKey, to: NodeKey, kind: EdgeKind, count: u64) -> TribeEdge {
        TribeEdge {
            from,
            to,
            kind,
            count,
        }
    }

    /// Two cliques of five (1–5 and 11–15), joined only through person 20, who talks
    /// with two members of each; and the organisation's account, which everyone replies
    /// to.
    fn two_cliques() -> TribeInput {
        let mut edges = Vec::new();
        for group in [[1, 2, 3, 4, 5], [11, 12, 13, 14, 15]] {
            for (n, &a) in group.iter().enumerate() {
                for &b in &group[n + 1..] {
                    edges.push(edge(p(a), p(b), EdgeKind::Reply, 2));
                }
                edges.push(edge(
                    p(a),
                    NodeKey::Account("org.example".into()),
                    EdgeKind::Mention,
                    5,
                ));
            }
        }
        for b in [1, 2, 11, 12] {
            edges.push(edge(p(20), p(b), EdgeKind::Reply, 1));
        }
        let mut labels = BTreeMap::new();
        labels.insert(p(20), "Ada <the bridge> & co".to_string());
        TribeInput {
            edges,
            labels,
            intents: BTreeMap::new(),
        }
    }

    #[test]
    fn two_cliques_and_their_bridge() {
        let t = analyse(&two_cliques());
        assert_eq!(t.summary.communities, 2, "{:?}", t.communities);
        assert_eq!(t.summary.people, 11);
        assert_eq!(t.summary.accounts, 1);
        assert_eq!(t.summary.unattached, 0);
        let community = |id: i64| {
            t.nodes
                .iter()
                .find(|n| n.person_id == Some(id))
                .and_then(|n| n.community)
        };
        for group in [[1, 2, 3, 4, 5], [11, 12, 13, 14, 15]] {
            let c = community(group[0]);
            assert!(c.is_some());
            assert!(group.iter().all(|&m| community(m) == c), "{group:?}");
        }
        assert_ne!(community(1), community(11));
        let q = t.summary.modularity.unwrap_or_default();
        assert!(q > 0.3, "modularity {q}");
        let first = &t.bridges[0];
        assert_eq!(first.person_id, 20, "{:?}", t.bridges);
        assert!(first.articulation);
        assert_eq!(first.reaches.len(), 2);
        assert!((first.participation - 0.5).abs() < 1e-9);
        // Nobody else is an articulation point, and the account is in no community.
        assert!(t.bridges[1..].iter().all(|b| !b.articulation));
        let org = t.nodes.iter().find(|n| n.kind == "account");
        assert_eq!(org.map(|n| n.community), Some(None));
        assert_eq!(org.map(|n| n.degree), Some(10));
        // Each community lists the account it talks to.
        for c in &t.communities {
            assert_eq!(c.accounts[0].id, "account:org.example");
            assert_eq!(c.accounts[0].weight, 25);
            // 20 inside each clique, and 2 more where the bridge belongs.
            let expected = if c.id == first.community { 22 } else { 20 };
            assert_eq!(c.internal_weight, expected);
            assert!(c.members.len() <= TOP_MEMBERS);
        }
    }

    #[test]
    fn the_same_input_gives_the_same_answer_in_any_order() {
        let input = two_cliques();
        let mut reversed = input.clone();
        reversed.edges.reverse();
        let a = analyse(&input);
        assert_eq!(a, analyse(&reversed));
        assert_eq!(a.graphml(), analyse(&reversed).graphml());
    }

    #[test]
    fn an_empty_graph_has_nothing() {
        let t = analyse(&TribeInput::default());
        assert_eq!(t.summary.nodes, 0);
        assert_eq!(t.summary.communities, 0);
        assert_eq!(t.summary.modularity, None);
        assert!(t.bridges.is_empty());
        let xml = t.graphml();
        assert!(xml.contains("<graph id=\"tribe\" edgedefault=\"directed\">"));
        assert!(!xml.contains("<node "));
    }

    #[test]
    fn people_who_only_talk_to_the_organisation_are_unattached() {
        let org = NodeKey::Account("org".into());
        let input = TribeInput {
            edges: vec![
                edge(p(1), org.clone(), EdgeKind::Reply, 3),
                edge(org.clone(), p(1), EdgeKind::Reply, 2),
                edge(p(2), org.clone(), EdgeKind::Mention, 1),
                edge(p(3), p(3), EdgeKind::Reply, 9),
                edge(p(4), p(5), EdgeKind::Mention, 1),
                edge(p(4), p(5), EdgeKind::Mention, 2),
            ],
            ..TribeInput::default()
        };
        let t = analyse(&input);
        // Person 3 only replied to themself: not in the graph.
        assert_eq!(t.summary.people, 4);
        assert_eq!(t.summary.communities, 1);
        assert_eq!(t.summary.unattached, 2);
        assert_eq!(t.summary.interactions, 9);
        assert_eq!(t.summary.replies, 5);
        assert_eq!(t.summary.mentions, 4);
        assert_eq!(t.summary.edges, 4);
        let e45 = t.edges.iter().find(|e| e.source == "person:4");
        assert_eq!(e45.map(|e| e.weight), Some(3));
        assert!(t.bridges.is_empty());
    }

    #[test]
    fn louvain_separates_a_ring_of_cliques() {
        // Six triangles in a ring, each joined to the next by one edge.
        let mut edges = Vec::new();
        for k in 0..6 {
            let b = 3 * k;
            edges.extend([(b, b + 1, 1.0), (b + 1, b + 2, 1.0), (b, b + 2, 1.0)]);
            edges.push((b + 2, (b + 3) % 18, 1.0));
        }
        let c = louvain(18, &edges);
        for k in 0..6 {
            let b = 3 * k;
            assert_eq!(c[b], c[b + 1]);
            assert_eq!(c[b], c[b + 2]);
        }
        let distinct: BTreeSet<usize> = c.iter().copied().collect();
        assert!(distinct.len() >= 3, "{c:?}");
        assert!(modularity(18, &edges, &c) > 0.4);
        // Everyone in one community: modularity 0.
        assert!(modularity(18, &edges, &[0; 18]).abs() < 1e-12);
    }

    #[test]
    fn mentions_are_handles_after_an_at_sign() {
        assert_eq!(
            mentions("@Alice.bsky.social thanks! cc @bob@fosstodon.org, @carol."),
            ["alice.bsky.social", "bob@fosstodon.org", "carol"]
        );
        assert!(mentions("mail support@lumen.example or see https://x.social/@dan/1").is_empty());
        assert_eq!(mentions("(@eve) @eve @ @@ x"), ["eve"]);
        assert_eq!(mentions("@frank@localhost hi"), ["frank"]);
    }

    #[test]
    fn graphml_escapes_labels() {
        let xml = analyse(&two_cliques()).graphml();
        assert!(xml.contains("Ada &lt;the bridge&gt; &amp; co"));
        assert_eq!(xml_escape("a\u{1}b\"'"), "a\u{FFFD}b&quot;&apos;");
        let doc = roxmltree::Document::parse(&xml);
        let Ok(doc) = doc else {
            panic!("not XML: {doc:?}");
        };
        let count = |tag: &str| {
            doc.descendants()
                .filter(|n| n.has_tag_name(("http://graphml.graphdrawing.org/xmlns", tag)))
                .count()
        };
        assert_eq!(count("node"), 12);
        assert_eq!(count("edge"), 20 + 10 + 4);
        assert_eq!(count("key"), 6);
    }
}
