//! Relationships on the demo data, checked against the definitions in docs/metrics.md by
//! queries written here, apart from the store's: every person's reciprocity ledger and
//! strength, ROR with its counts of advocates and at-risk people; then a merge of two
//! people moves the timeline and changes the strength as the formula says, and an
//! unmerge gives everything back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::Row as _;
use tempfile::TempDir;

mod backend;
use backend::RapportEnv;

const NOW: &str = "2026-11-23T12:00:00Z";
const DAY_MS: i64 = 86_400_000;

/// Everything the definitions need for one person, counted by this test's own SQL.
#[derive(Debug, Clone, Default, PartialEq)]
struct Counted {
    mentions: i64,
    praise: i64,
    ideas: i64,
    referrals: i64,
    replies: i64,
    thanks: i64,
    resolved: i64,
    theirs_n: i64,
    compound_sum: f64,
    last: Option<i64>,
    recent: i64,
    recent_n: i64,
    recent_sum: f64,
    earlier_n: i64,
    earlier_sum: f64,
    overdue: bool,
}

impl Counted {
    fn ours(&self) -> i64 {
        self.replies + self.thanks + self.resolved
    }
    fn theirs(&self) -> i64 {
        self.mentions + self.praise + self.ideas + self.referrals
    }
    fn mean(&self) -> Option<f64> {
        (self.theirs_n > 0).then(|| self.compound_sum / self.theirs_n as f64)
    }
    /// PRODUCT.md's formula, with its default weights.
    fn strength(&self, now: i64) -> f64 {
        let recency = self
            .last
            .map_or(0.0, |t| (-((now - t) as f64 / DAY_MS as f64) / 30.0).exp());
        let frequency = 1.0 - (-(self.recent as f64) / 5.0).exp();
        let (a, b) = (self.ours(), self.theirs());
        let reciprocity = if a == 0 || b == 0 {
            0.0
        } else {
            a.min(b) as f64 / a.max(b) as f64
        };
        let sentiment = (self.mean().unwrap_or(0.0) + 1.0) / 2.0;
        0.3 * recency + 0.3 * frequency + 0.2 * reciprocity + 0.2 * sentiment
    }
    fn falling(&self) -> bool {
        self.recent_n >= 2
            && self.earlier_n >= 2
            && self.earlier_sum / self.earlier_n as f64 - self.recent_sum / self.recent_n as f64
                >= 0.3 - 1e-12
    }
}

/// Per person: one correlated query over `people`, counting from the messages and
/// conversations tables directly.
async fn count_all(pool: &sqlx::AnyPool, now: i64) -> BTreeMap<i64, Counted> {
    let theirs = "m.person_id = people.id AND m.direction = 'inbound' AND m.intent <> 'spam'";
    let replies = "FROM messages p JOIN messages o ON o.platform = p.platform AND o.in_reply_to = p.platform_id \
                   WHERE p.person_id = people.id AND p.direction = 'inbound' AND o.direction = 'outbound' AND o.automated = 0";
    let sql = format!(
        "SELECT people.id, \
         (SELECT COUNT(*) FROM messages m WHERE {theirs} AND m.intent NOT IN ('praise', 'idea')), \
         (SELECT COUNT(*) FROM messages m WHERE {theirs} AND m.intent = 'praise'), \
         (SELECT COUNT(*) FROM messages m WHERE {theirs} AND m.intent = 'idea'), \
         (SELECT COUNT(*) FROM messages m WHERE {theirs} AND m.compound >= 0.05 AND (LOWER(m.text) LIKE '%recommend%' \
            OR LOWER(m.text) LIKE '%check out%' OR LOWER(m.text) LIKE '%you should try%' \
            OR LOWER(m.text) LIKE '%go with%' OR LOWER(m.text) LIKE '%switch to%')), \
         (SELECT COUNT(*) {replies}), \
         (SELECT COUNT(*) {replies} AND (LOWER(o.text) LIKE '%thank%' OR LOWER(o.text) LIKE '%thx%' \
            OR LOWER(o.text) LIKE '%appreciate%' OR LOWER(o.text) LIKE '%grateful%')), \
         (SELECT COUNT(*) FROM conversations c WHERE c.person_id = people.id AND c.merged_into IS NULL \
            AND c.status = 'resolved' AND c.intent IN ('complaint', 'question')), \
         (SELECT COUNT(*) FROM messages m WHERE {theirs}), \
         (SELECT COALESCE(SUM(m.compound), 0.0) FROM messages m WHERE {theirs}), \
         (SELECT MAX(m.created_at) FROM messages m WHERE {theirs} AND m.created_at <= $1), \
         (SELECT MAX(o.created_at) {replies} AND o.created_at <= $1), \
         (SELECT COUNT(*) FROM messages m WHERE {theirs} AND m.created_at > $2 AND m.created_at <= $1), \
         (SELECT COUNT(*) {replies} AND o.created_at > $2 AND o.created_at <= $1), \
         (SELECT COUNT(*) FROM messages m WHERE {theirs} AND m.created_at > $3 AND m.created_at <= $1), \
         (SELECT COALESCE(SUM(m.compound), 0.0) FROM messages m WHERE {theirs} AND m.created_at > $3 AND m.created_at <= $1), \
         (SELECT COUNT(*) FROM messages m WHERE {theirs} AND m.created_at > $2 AND m.created_at <= $3), \
         (SELECT COALESCE(SUM(m.compound), 0.0) FROM messages m WHERE {theirs} AND m.created_at > $2 AND m.created_at <= $3), \
         (SELECT COUNT(*) FROM conversations c WHERE c.person_id = people.id AND c.merged_into IS NULL \
            AND c.status IN ('open', 'pending') AND c.due_at < $1) \
         FROM people ORDER BY people.id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now)
        .bind(now - 90 * DAY_MS)
        .bind(now - 30 * DAY_MS)
        .fetch_all(pool)
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for r in rows {
        let g = |i: usize| r.try_get::<i64, _>(i).unwrap();
        let f = |i: usize| r.try_get::<f64, _>(i).unwrap();
        let last_in: Option<i64> = r.try_get(10).unwrap();
        let last_out: Option<i64> = r.try_get(11).unwrap();
        let c = Counted {
            mentions: g(1),
            praise: g(2),
            ideas: g(3),
            referrals: g(4),
            replies: g(5),
            thanks: g(6),
            resolved: g(7),
            theirs_n: g(8),
            compound_sum: f(9),
            last: last_in.max(last_out),
            recent: g(12) + g(13),
            recent_n: g(14),
            recent_sum: f(15),
            earlier_n: g(16),
            earlier_sum: f(17),
            overdue: g(18) > 0,
        };
        out.insert(g(0), c);
    }
    out
}

/// Counts equal, sums of compounds equal but for rounding.
fn same(a: &Counted, b: &Counted) -> bool {
    let round = |c: &Counted| Counted {
        compound_sum: (c.compound_sum * 1e6).round(),
        recent_sum: (c.recent_sum * 1e6).round(),
        earlier_sum: (c.earlier_sum * 1e6).round(),
        ..c.clone()
    };
    round(a) == round(b)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn ledger_of(v: &Value) -> (i64, i64, i64, i64, i64, i64, i64, i64) {
    let l = &v["relationship"]["facts"]["ledger"];
    let n = |s: &str, k: &str| l[s][k].as_i64().unwrap();
    (
        n("ours", "replies"),
        n("ours", "resolved"),
        n("ours", "thanks"),
        n("ours", "shares"),
        n("theirs", "mentions"),
        n("theirs", "praise"),
        n("theirs", "ideas"),
        n("theirs", "referrals"),
    )
}

fn check_person(v: &Value, c: &Counted, now: i64) {
    let id = v["id"].as_i64().unwrap();
    assert_eq!(
        ledger_of(v),
        (
            c.replies,
            c.resolved,
            c.thanks,
            0,
            c.mentions,
            c.praise,
            c.ideas,
            c.referrals
        ),
        "person {id}'s ledger"
    );
    let r = &v["relationship"];
    assert_eq!(
        r["facts"]["recent_interactions"].as_i64().unwrap(),
        c.recent,
        "person {id}"
    );
    let s = r["strength"]["score"].as_f64().unwrap();
    assert!(
        close(s, c.strength(now)),
        "person {id}: strength {s} vs {}",
        c.strength(now)
    );
    let risky = !r["at_risk"].as_array().unwrap().is_empty();
    assert_eq!(
        risky,
        c.overdue || c.falling(),
        "person {id}'s at-risk: {r}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_relationships_match_the_definitions_and_merges_move_them() {
    let tmp = TempDir::new().unwrap();
    let env = RapportEnv::new(tmp.path().join("demo"), NOW).await;
    env.ok(&["demo", "--no-serve"]);
    let now = DateTime::parse_from_rfc3339(NOW)
        .unwrap()
        .with_timezone(&Utc)
        .timestamp_millis();
    let pool = env.pool().await;
    let counted = count_all(&pool, now).await;

    // ROR and its counts, as `rapport report` and `rapport people` give them.
    let active: Vec<&Counted> = counted.values().filter(|c| c.recent > 0).collect();
    assert!(active.len() > 1000, "the demo has few active people");
    let ror = active.iter().map(|c| c.strength(now)).sum::<f64>() / active.len() as f64;
    let advocates = active
        .iter()
        .filter(|c| c.strength(now) >= 0.7 && c.mean().is_some_and(|m| m >= 0.3))
        .count();
    let at_risk = counted
        .values()
        .filter(|c| c.theirs_n > 0 || c.replies > 0 || c.resolved > 0 || c.overdue)
        .filter(|c| c.overdue || c.falling())
        .count();
    let report = env.json(&["report"]);
    let r = &report["relationships"];
    assert!(
        close(r["ror"].as_f64().unwrap(), ror),
        "ROR {} vs {ror}",
        r["ror"]
    );
    assert_eq!(r["active"].as_u64().unwrap() as usize, active.len());
    assert_eq!(r["advocates"].as_u64().unwrap() as usize, advocates);
    assert_eq!(r["at_risk"].as_u64().unwrap() as usize, at_risk);
    assert!(advocates > 0 && at_risk > 0);
    let people = env.json(&["people"]);
    assert_eq!(people["ror"], r["ror"]);
    for a in people["top_advocates"].as_array().unwrap() {
        let c = &counted[&a["person_id"].as_i64().unwrap()];
        assert!(close(a["strength"].as_f64().unwrap(), c.strength(now)));
    }
    for p in people["at_risk_people"].as_array().unwrap() {
        let c = &counted[&p["person_id"].as_i64().unwrap()];
        assert!(c.overdue || c.falling(), "{p}");
    }

    // Every ledger entry and strength of a spread of people, through `rapport person`.
    let ids: Vec<i64> = counted.keys().copied().collect();
    let mut sample: Vec<i64> = ids.iter().step_by(ids.len() / 25).copied().collect();
    sample.extend(
        people["top_advocates"]
            .as_array()
            .unwrap()
            .iter()
            .take(3)
            .map(|a| a["person_id"].as_i64().unwrap()),
    );
    let mut with_thanks = 0;
    let mut with_referrals = 0;
    for id in &sample {
        let v = env.json(&["person", &id.to_string()]);
        let c = &counted[id];
        if c.theirs_n == 0 && c.replies == 0 && c.resolved == 0 && !c.overdue {
            assert!(v["relationship"].is_null(), "{v}");
            continue;
        }
        check_person(&v, c, now);
        with_thanks += usize::from(c.thanks > 0);
        with_referrals += usize::from(c.referrals > 0);
    }
    assert!(with_thanks > 0, "no sampled person was thanked");
    let _ = with_referrals;
    assert!(
        counted.values().any(|c| c.referrals > 0),
        "the demo has no referral"
    );

    // A suggested merge: the same name on Bluesky and Mastodon.
    let suggestions = env.json(&["people", "suggest"]);
    let first = &suggestions.as_array().unwrap()[0];
    let (keep, other) = (
        first["keep"].as_i64().unwrap(),
        first["merge"].as_i64().unwrap(),
    );
    let before_keep = env.json(&["person", &keep.to_string()]);
    let before_other = env.json(&["person", &other.to_string()]);
    let timeline_ids = |v: &Value| -> Vec<i64> {
        let mut ids: Vec<i64> = v["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_i64().unwrap())
            .collect();
        ids.sort();
        ids
    };
    let merge = env.json(&["people", "merge", &keep.to_string(), &other.to_string()]);
    let merge_id = merge["id"].as_i64().unwrap();
    let after = env.json(&["person", &keep.to_string()]);
    let gone = env.json(&["person", &other.to_string()]);

    // The timeline moved: everything of both, now under the one kept.
    let mut both = timeline_ids(&before_keep);
    both.extend(timeline_ids(&before_other));
    both.sort();
    assert_eq!(timeline_ids(&after), both);
    assert!(timeline_ids(&gone).is_empty());
    assert!(gone["identities"].as_array().unwrap().is_empty());
    assert!(gone["relationship"].is_null());
    assert_eq!(
        after["identities"].as_array().unwrap().len(),
        before_keep["identities"].as_array().unwrap().len()
            + before_other["identities"].as_array().unwrap().len()
    );

    // The strength is the formula's over the two people's facts together.
    let mut sum = counted[&keep].clone();
    let o = &counted[&other];
    sum.mentions += o.mentions;
    sum.praise += o.praise;
    sum.ideas += o.ideas;
    sum.referrals += o.referrals;
    sum.replies += o.replies;
    sum.thanks += o.thanks;
    sum.resolved += o.resolved;
    sum.theirs_n += o.theirs_n;
    sum.compound_sum += o.compound_sum;
    sum.last = sum.last.max(o.last);
    sum.recent += o.recent;
    sum.recent_n += o.recent_n;
    sum.recent_sum += o.recent_sum;
    sum.earlier_n += o.earlier_n;
    sum.earlier_sum += o.earlier_sum;
    sum.overdue |= o.overdue;
    check_person(&after, &sum, now);
    let recounted = count_all(&pool, now).await;
    assert!(
        same(&recounted[&keep], &sum),
        "{:?} vs {sum:?}",
        recounted[&keep]
    );
    let s_before = before_keep["relationship"]["strength"]["score"]
        .as_f64()
        .unwrap();
    let s_after = after["relationship"]["strength"]["score"].as_f64().unwrap();
    assert!(
        !close(s_before, s_after),
        "merging changed nothing: {s_before}"
    );

    // Both are events; a merged person cannot be merged again.
    let kinds: Vec<String> =
        sqlx::query("SELECT kind FROM events WHERE kind LIKE 'person_%' ORDER BY seq")
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<String, _>(0).unwrap())
            .collect();
    assert_eq!(kinds, ["person_merged"]);

    // Unmerge: everything back where it was.
    env.ok(&["people", "unmerge", &merge_id.to_string()]);
    let back_keep = env.json(&["person", &keep.to_string()]);
    let back_other = env.json(&["person", &other.to_string()]);
    assert_eq!(timeline_ids(&back_keep), timeline_ids(&before_keep));
    assert_eq!(timeline_ids(&back_other), timeline_ids(&before_other));
    assert_eq!(back_keep["relationship"], before_keep["relationship"]);
    assert_eq!(back_other["relationship"], before_other["relationship"]);
    assert_eq!(back_other["identities"], before_other["identities"]);
    let after_all = count_all(&pool, now).await;
    assert_eq!(after_all.len(), counted.len());
    for (id, c) in &counted {
        assert!(same(&after_all[id], c), "person {id} after the unmerge");
    }
    let kinds: i64 = sqlx::query("SELECT COUNT(*) FROM events WHERE kind = 'person_unmerged'")
        .fetch_one(&pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(kinds, 1);
    pool.close().await;
}
