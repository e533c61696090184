//! `rapport tribe` on the demo data: the pile-ons around high-reach complaints make
//! communities; the JSON's reply total matches an independent count in SQL; the GraphML
//! is XML with as many nodes and edges as the JSON; a window that ends before it starts
//! is refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use tempfile::TempDir;

mod backend;
use backend::RapportEnv;

const NOW: &str = "2026-11-23T12:00:00Z";
const GRAPHML: &str = "http://graphml.graphdrawing.org/xmlns";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_has_communities_and_consistent_exports() {
    let tmp = TempDir::new().unwrap();
    let env = RapportEnv::new(tmp.path().join("demo"), NOW).await;
    env.ok(&["demo", "--no-serve"]);

    let out: Value =
        serde_json::from_str(&env.ok(&["tribe", "--days", "90", "--format", "json"])).unwrap();
    let t = &out["tribe"];
    let s = &t["summary"];
    assert_eq!(out["until"], NOW);
    assert_eq!(out["since"], "2026-08-25T12:00:00Z");
    let communities = t["communities"].as_array().unwrap();
    assert!(communities.len() >= 2, "{s:#}");
    assert_eq!(
        s["communities"].as_u64().unwrap() as usize,
        communities.len()
    );
    assert!(s["modularity"].as_f64().unwrap() > 0.3, "{s:#}");
    for c in communities {
        assert!(c["size"].as_u64().unwrap() >= 2);
        // Every community here gathers around a complaint: the organisation's account is
        // among those it talks with.
        assert!(
            c["accounts"][0]["id"]
                .as_str()
                .unwrap()
                .starts_with("account:lumen"),
            "{c:#}"
        );
    }
    let nodes = t["nodes"].as_array().unwrap();
    let edges = t["edges"].as_array().unwrap();
    assert_eq!(s["nodes"].as_u64().unwrap() as usize, nodes.len());
    assert_eq!(s["edges"].as_u64().unwrap() as usize, edges.len());
    // The organisation's accounts are nodes, in no community.
    let accounts: Vec<&Value> = nodes.iter().filter(|n| n["kind"] == "account").collect();
    assert_eq!(accounts.len(), 4, "{accounts:#?}");
    assert!(accounts.iter().all(|n| n["community"].is_null()));
    // Members listed per node agree with the sizes.
    for c in communities {
        let members = nodes.iter().filter(|n| n["community"] == c["id"]).count();
        assert_eq!(members as u64, c["size"].as_u64().unwrap());
    }
    // Mentions were resolved, and nobody reshared (rapport does not ingest reposts).
    assert!(s["mentions"].as_u64().unwrap() > 0);
    assert_eq!(s["reshares"], 0);

    // Replies: an independent count of replies between two different nodes (a person
    // answering their own thread, or the organisation its own post, is no edge).
    let pool = env.pool().await;
    let (replies,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM messages c \
         JOIN messages p ON p.platform = c.platform AND p.platform_id = c.in_reply_to \
         WHERE c.created_at >= $1 AND c.created_at < $2 \
         AND NOT (c.direction = 'outbound' AND p.direction = 'outbound') \
         AND NOT (c.direction = 'inbound' AND p.direction = 'inbound' AND c.person_id = p.person_id)",
    )
    .bind(1_787_659_200_000_i64)
    .bind(1_795_435_200_000_i64)
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    let reply_total: u64 = edges
        .iter()
        .filter(|e| e["kind"] == "reply")
        .map(|e| e["weight"].as_u64().unwrap())
        .sum();
    assert!(replies > 1_000);
    assert_eq!(reply_total, replies as u64);
    assert_eq!(s["replies"].as_u64().unwrap(), replies as u64);

    // GraphML, to a file: the same nodes and edges.
    let file = tmp.path().join("tribe.graphml");
    env.ok(&[
        "tribe",
        "--days",
        "90",
        "--format",
        "graphml",
        "--out",
        file.to_str().unwrap(),
    ]);
    let xml = std::fs::read_to_string(&file).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let count = |tag: &str| {
        doc.descendants()
            .filter(|n| n.has_tag_name((GRAPHML, tag)))
            .count()
    };
    assert_eq!(count("node"), nodes.len());
    assert_eq!(count("edge"), edges.len());
    let ids: std::collections::HashSet<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name((GRAPHML, "node")))
        .filter_map(|n| n.attribute("id"))
        .collect();
    assert!(
        doc.descendants()
            .filter(|n| n.has_tag_name((GRAPHML, "edge")))
            .all(|e| ids.contains(e.attribute("source").unwrap())
                && ids.contains(e.attribute("target").unwrap()))
    );

    // Text: the summary and the communities.
    let text = env.ok(&["tribe", "--days", "90"]);
    assert!(
        text.contains(&format!("{} communities hold", communities.len())),
        "{text}"
    );
    assert!(text.contains("#1 "), "{text}");

    // A window that ends before it starts.
    let (code, _, err) = env.run(&["tribe", "--since", "2026-11-20", "--until", "2026-11-10"]);
    assert_ne!(code, 0);
    assert!(err.contains("is not before --until"), "{err}");
}
