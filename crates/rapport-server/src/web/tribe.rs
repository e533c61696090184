//! `/tribe`: the tribe graph (docs/tribe.md) as a picture, with its communities and
//! bridges beside it and the GraphML and JSON to download.
//!
//! The picture is SVG drawn here, with a deterministic layout and no script: the
//! largest communities sit around a circle, each member placed by a few rounds of a
//! force-directed layout (Fruchterman–Reingold) inside its community's disc, starting
//! from a sunflower spiral; the organisation's accounts are squares in the middle, with
//! one line from each community to each account it talks with, as thick as the
//! interactions. A node's size follows its degree, its colour its community; bridges
//! have a dark ring. People with no tie to another person are not drawn (they are
//! counted).

use std::collections::{HashMap, HashSet};
use std::f64::consts::PI;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use rapport_core::access::Action;
use rapport_core::tribe::Tribe;
use serde::Deserialize;

use super::{Nav, Session, WebError, layout, page_response};
use crate::AppState;
use crate::api::tribe::{LoadError, TribeQuery, load};

/// The spans offered.
const SPANS: [u32; 4] = [7, 30, 90, 365];
/// Communities drawn.
const DRAWN: usize = 12;
/// Members drawn per community, the most connected first.
const MEMBERS: usize = 40;
const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 640.0;
/// Fill colours by community (1-based id modulo their number).
const COLOURS: [&str; 12] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939",
];

/// `?days=`.
#[derive(Debug, Deserialize)]
pub struct SpanQuery {
    /// The last N days (30 when absent).
    pub days: Option<u32>,
}

fn colour(community: u32) -> &'static str {
    COLOURS[(community as usize + COLOURS.len() - 1) % COLOURS.len()]
}

fn c(v: f64) -> String {
    format!("{v:.1}")
}

/// A node placed in the picture.
struct Placed {
    x: f64,
    y: f64,
    r: f64,
}

/// Positions: members of the drawn communities, and the accounts, by node index.
fn layout_graph(t: &Tribe) -> HashMap<usize, Placed> {
    let (cx, cy) = (WIDTH / 2.0, HEIGHT / 2.0);
    let index: HashMap<&str, usize> = t
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let mut neighbours: HashMap<usize, Vec<usize>> = HashMap::new();
    for e in &t.edges {
        if let (Some(&a), Some(&b)) = (index.get(e.source.as_str()), index.get(e.target.as_str())) {
            neighbours.entry(a).or_default().push(b);
            neighbours.entry(b).or_default().push(a);
        }
    }
    let mut placed: HashMap<usize, Placed> = HashMap::new();
    let shown = t.communities.len().min(DRAWN);
    let ring = (WIDTH.min(HEIGHT) / 2.0) - 95.0;
    for (k, community) in t.communities.iter().take(DRAWN).enumerate() {
        let angle = -PI / 2.0 + 2.0 * PI * k as f64 / shown.max(1) as f64;
        let (ox, oy) = (cx + ring * angle.cos(), cy + ring * angle.sin());
        let mut members: Vec<usize> = (0..t.nodes.len())
            .filter(|&i| t.nodes[i].community == Some(community.id))
            .collect();
        members.sort_by(|&a, &b| t.nodes[b].weight.cmp(&t.nodes[a].weight).then(a.cmp(&b)));
        members.truncate(MEMBERS);
        let disc = (18.0 + 9.0 * (members.len() as f64).sqrt()).min(80.0);
        // A sunflower spiral, then force-directed rounds inside the disc.
        let mut pos: Vec<(f64, f64)> = (0..members.len())
            .map(|j| {
                let r = disc * ((j as f64 + 0.5) / members.len() as f64).sqrt();
                let a = j as f64 * 2.399_963;
                (r * a.cos(), r * a.sin())
            })
            .collect();
        let local: HashMap<usize, usize> =
            members.iter().enumerate().map(|(j, &i)| (i, j)).collect();
        let ideal = disc / (members.len() as f64).sqrt().max(1.0);
        for round in 0..40 {
            let step = ideal * (1.0 - round as f64 / 40.0) * 0.5;
            let mut push = vec![(0.0, 0.0); members.len()];
            for a in 0..members.len() {
                for b in 0..members.len() {
                    if a == b {
                        continue;
                    }
                    let (dx, dy) = (pos[a].0 - pos[b].0, pos[a].1 - pos[b].1);
                    let d = (dx * dx + dy * dy).sqrt().max(0.01);
                    let f = ideal * ideal / d;
                    push[a].0 += dx / d * f;
                    push[a].1 += dy / d * f;
                }
                for n in neighbours.get(&members[a]).into_iter().flatten() {
                    if let Some(&b) = local.get(n) {
                        let (dx, dy) = (pos[a].0 - pos[b].0, pos[a].1 - pos[b].1);
                        let d = (dx * dx + dy * dy).sqrt().max(0.01);
                        let f = d * d / ideal;
                        push[a].0 -= dx / d * f;
                        push[a].1 -= dy / d * f;
                    }
                }
            }
            for (p, f) in pos.iter_mut().zip(&push) {
                let len = (f.0 * f.0 + f.1 * f.1).sqrt().max(0.01);
                p.0 += f.0 / len * len.min(step);
                p.1 += f.1 / len * len.min(step);
                let d = (p.0 * p.0 + p.1 * p.1).sqrt();
                if d > disc {
                    p.0 *= disc / d;
                    p.1 *= disc / d;
                }
            }
        }
        for (j, &i) in members.iter().enumerate() {
            placed.insert(
                i,
                Placed {
                    x: ox + pos[j].0,
                    y: oy + pos[j].1,
                    r: (2.0 + (t.nodes[i].degree as f64).sqrt()).min(9.0),
                },
            );
        }
    }
    let accounts: Vec<usize> = (0..t.nodes.len())
        .filter(|&i| t.nodes[i].kind == "account")
        .collect();
    for (k, &i) in accounts.iter().enumerate() {
        let a = -PI / 2.0 + 2.0 * PI * k as f64 / accounts.len().max(1) as f64;
        let r = if accounts.len() > 1 { 45.0 } else { 0.0 };
        placed.insert(
            i,
            Placed {
                x: cx + r * a.cos(),
                y: cy + r * a.sin(),
                r: 8.0,
            },
        );
    }
    placed
}

/// The picture.
fn picture(t: &Tribe) -> Markup {
    let placed = layout_graph(t);
    let index: HashMap<&str, usize> = t
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let bridges: HashSet<&str> = t.bridges.iter().map(|b| b.id.as_str()).collect();
    // Lines between drawn people.
    let mut lines: Vec<(&Placed, &Placed, u64)> = Vec::new();
    for e in &t.edges {
        let (Some(a), Some(b)) = (index.get(e.source.as_str()), index.get(e.target.as_str()))
        else {
            continue;
        };
        if t.nodes[*a].kind == "account" || t.nodes[*b].kind == "account" {
            continue;
        }
        if let (Some(pa), Some(pb)) = (placed.get(a), placed.get(b)) {
            lines.push((pa, pb, e.weight));
        }
    }
    // One line per community and account.
    let mut spokes: Vec<(f64, f64, &Placed, u64, u32)> = Vec::new();
    for community in t.communities.iter().take(DRAWN) {
        let members: Vec<&Placed> = (0..t.nodes.len())
            .filter(|&i| t.nodes[i].community == Some(community.id))
            .filter_map(|i| placed.get(&i))
            .collect();
        if members.is_empty() {
            continue;
        }
        let n = members.len() as f64;
        let mx = members.iter().map(|p| p.x).sum::<f64>() / n;
        let my = members.iter().map(|p| p.y).sum::<f64>() / n;
        for a in &community.accounts {
            if let Some(p) = index.get(a.id.as_str()).and_then(|i| placed.get(i)) {
                spokes.push((mx, my, p, a.weight, community.id));
            }
        }
    }
    let drawn_people = placed.len() - t.nodes.iter().filter(|n| n.kind == "account").count();
    html! {
        figure #tribe-picture {
            svg #tribe-svg class="tribe-svg" viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img"
                aria-labelledby="tribe-caption" {
                @for (x, y, p, w, community) in &spokes {
                    line x1=(c(*x)) y1=(c(*y)) x2=(c(p.x)) y2=(c(p.y)) stroke=(colour(*community))
                        stroke-opacity="0.35" stroke-width=(c((1.0 + (*w as f64).log2()).min(8.0))) {}
                }
                @for (a, b, w) in &lines {
                    line x1=(c(a.x)) y1=(c(a.y)) x2=(c(b.x)) y2=(c(b.y)) stroke="#999"
                        stroke-width=(c((0.6 + 0.4 * (*w as f64)).min(3.0))) {}
                }
                @for (i, n) in t.nodes.iter().enumerate() {
                    @if let Some(p) = placed.get(&i) {
                        @if n.kind == "account" {
                            g.tribe-account {
                                rect x=(c(p.x - p.r)) y=(c(p.y - p.r)) width=(c(2.0 * p.r)) height=(c(2.0 * p.r))
                                    fill="#222" { title { (n.label) " (the organisation's account)" } }
                                text x=(c(p.x)) y=(c(p.y + p.r + 11.0)) text-anchor="middle" font-size="10" { (n.label) }
                            }
                        } @else if let Some(id) = n.person_id {
                            a href=(format!("/people/{id}")) {
                                circle.tribe-node cx=(c(p.x)) cy=(c(p.y)) r=(c(p.r))
                                    fill=(colour(n.community.unwrap_or(0)))
                                    stroke=[bridges.contains(n.id.as_str()).then_some("#000")]
                                    stroke-width=[bridges.contains(n.id.as_str()).then_some("2")] {
                                    title { (n.label) " · community " (n.community.unwrap_or(0)) " · " (n.degree) " ties" }
                                }
                            }
                        }
                    }
                }
                @for community in t.communities.iter().take(DRAWN) {
                    @let members: Vec<&Placed> = (0..t.nodes.len())
                        .filter(|&i| t.nodes[i].community == Some(community.id))
                        .filter_map(|i| placed.get(&i)).collect();
                    @if let Some(top) = members.iter().map(|p| p.y - p.r).reduce(f64::min) {
                        text x=(c(members.iter().map(|p| p.x).sum::<f64>() / members.len() as f64)) y=(c((top - 6.0).max(10.0)))
                            text-anchor="middle" font-size="12" font-weight="bold" fill=(colour(community.id)) {
                            "#" (community.id)
                        }
                    }
                }
            }
            figcaption #tribe-caption {
                "The " (t.communities.len().min(DRAWN)) " largest communities (" (drawn_people)
                " people drawn, at most " (MEMBERS) " per community), coloured by community; "
                "squares are the organisation's accounts; a dark ring marks a bridge. "
                (t.summary.unattached) " people who talk only with the organisation are not drawn."
            }
        }
    }
}

/// The tribe page.
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<SpanQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    session.require(Action::Read)?;
    let Query(q) = query.map_err(|e| WebError::invalid(e.body_text()))?;
    let days = q.days.unwrap_or(30);
    let (since, until, t) = load(
        &state,
        &TribeQuery {
            days: Some(days),
            ..TribeQuery::default()
        },
    )
    .await
    .map_err(|e| match e {
        LoadError::Invalid(m) => WebError::invalid(m),
        LoadError::Store(e) => WebError::from(e),
    })?;
    let s = &t.summary;
    let body = html! {
        div.titlebar {
            h1 { "Tribe" }
            a #tribe-graphml.button href=(format!("/api/v1/tribe?days={days}&format=graphml")) download="tribe.graphml" { "Download GraphML" }
            a #tribe-json.button href=(format!("/api/v1/tribe?days={days}")) download="tribe.json" { "Download JSON" }
        }
        form #tribe-span method="get" action="/tribe" aria-label="Span" {
            div.field {
                label for="tribe-days" { "Span" }
                select #tribe-days name="days" {
                    @for d in SPANS {
                        option value=(d) selected[d == days] { "last " (d) " days" }
                    }
                }
            }
            button type="submit" { "Show" }
        }
        p.period #tribe-summary {
            "Who replied to and mentioned whom from " (since.format("%Y-%m-%d %H:%M")) " to "
            (until.format("%Y-%m-%d %H:%M UTC")) ": " (s.people) " people and " (s.accounts)
            " of the organisation's accounts, " (s.replies) " replies and " (s.mentions) " mentions. "
            (s.communities) " communities hold " (s.in_communities) " people"
            @if let Some(q) = s.modularity { " (modularity " (format!("{q:.2}")) ")" }
            "; " (s.bridges) " bridges. Definitions: docs/tribe.md."
        }
        @if s.nodes == 0 {
            p.empty { "Nobody replied to or mentioned anyone in this span: choose a longer one." }
        } @else {
            div.tribe {
                (picture(&t))
                section #tribe-communities aria-labelledby="tribe-communities-h" {
                    h2 #tribe-communities-h { "Communities" }
                    @if t.communities.is_empty() {
                        p { "No two people talk with each other here: everyone talks only with the organisation." }
                    }
                    ol {
                        @for community in &t.communities {
                            li id=(format!("community-{}", community.id)) {
                                strong { "#" (community.id) } " · " (community.size) " people: "
                                @for (k, m) in community.members.iter().enumerate() {
                                    @if k > 0 { ", " }
                                    @if let Some(id) = m.person_id {
                                        a href=(format!("/people/{id}")) { (m.label) }
                                    } @else { (m.label) }
                                }
                                @if !community.accounts.is_empty() {
                                    br; "talks with "
                                    @for (k, a) in community.accounts.iter().enumerate() {
                                        @if k > 0 { ", " }
                                        (a.label) " (" (a.weight) ")"
                                    }
                                }
                                @if !community.intents.is_empty() {
                                    br; "writes "
                                    @for (k, i) in community.intents.iter().enumerate() {
                                        @if k > 0 { ", " }
                                        (i.intent) " " (i.messages)
                                    }
                                }
                            }
                        }
                    }
                }
                section #tribe-bridges aria-labelledby="tribe-bridges-h" {
                    h2 #tribe-bridges-h { "Bridges" }
                    @if t.bridges.is_empty() {
                        p { "No one's ties reach two communities." }
                    } @else {
                        ol {
                            @for b in t.bridges.iter().take(20) {
                                li {
                                    a href=(format!("/people/{}", b.person_id)) { (b.label) }
                                    " · in #" (b.community) ", reaches "
                                    @for (k, r) in b.reaches.iter().enumerate() {
                                        @if k > 0 { ", " }
                                        "#" (r)
                                    }
                                    " · participation " (format!("{:.2}", b.participation))
                                    @if b.articulation { " · the only link for some" }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page_response(
        StatusCode::OK,
        layout("Tribe", Some(&session), Nav::Tribe, state.now(), body),
    ))
}
