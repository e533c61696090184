//! Spike alerts replayed from a recording: six hours of an airline's mentions with one
//! outage burst (`tests/fixtures/listening/burst.jsonl`, made by `make_burst.py` there)
//! raise exactly one alert, sent once to a Slack-compatible webhook, however often the
//! check runs; a webhook that refuses gets the alert again on the next check.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::Value;
use tempfile::TempDir;

mod backend;
use backend::fresh_database_url;

#[derive(Default)]
struct Hook {
    bodies: Vec<Value>,
    refuse: usize,
}

async fn spawn_hook(hook: Arc<Mutex<Hook>>) -> String {
    let app = Router::new()
        .route(
            "/hook",
            post(
                |State(h): State<Arc<Mutex<Hook>>>, body: axum::Json<Value>| async move {
                    let mut h = h.lock().unwrap();
                    if h.refuse > 0 {
                        h.refuse -= 1;
                        return StatusCode::INTERNAL_SERVER_ERROR;
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

const TOPICS: &str = r#"
[[topic]]
name = "skyline"
kind = "brand"
any = ["skylineair", "skyline air"]

[[topic]]
name = "jetway"
kind = "competitor"
any = ["jetway"]
"#;

struct Env {
    data: PathBuf,
    url: Option<String>,
    hook: String,
}

impl Env {
    async fn run(&self, now: &str, args: &[&str]) -> (i32, String, String) {
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_rapport"));
        c.env_remove("RAPPORT_DATA_DIR")
            .env_remove("RAPPORT_CONFIG")
            .env("RAPPORT_LOG", "warn")
            .env("RAPPORT_NOW", now)
            .env("RAPPORT_ALERTS__WEBHOOK", &self.hook)
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

    /// Stdout of a command that must succeed.
    async fn ok(&self, now: &str, args: &[&str]) -> String {
        let (code, out, err) = self.run(now, args).await;
        assert_eq!(code, 0, "rapport {args:?}: {out}{err}");
        out
    }
}

async fn setup(tmp: &Path, hook: String) -> Env {
    let url = fresh_database_url().await;
    let env = Env {
        data: tmp.join("data"),
        url,
        hook,
    };
    env.ok("2026-11-20T08:00:00Z", &["init"]).await;
    let config = env.data.join("rapport.toml");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "accounts = [\"example.bsky.social\", \"example@mastodon.social\"]",
        "accounts = [\"skylineair\"]",
    ) + TOPICS;
    std::fs::write(&config, text).unwrap();
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/listening/burst.jsonl");
    let out = env
        .ok(
            "2026-11-20T14:05:00Z",
            &["import", fixture.to_str().unwrap()],
        )
        .await;
    assert!(out.contains("911 imported"), "{out}");
    env
}

fn alerts_of(out: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(out).unwrap();
    v["raised"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_burst_raises_exactly_one_alert_sent_once() {
    let hook = Arc::new(Mutex::new(Hook::default()));
    let url = spawn_hook(hook.clone()).await;
    let tmp = TempDir::new().unwrap();
    let env = setup(tmp.path(), url).await;

    // Scored as it happens: a check every five minutes through the day, as the
    // worker's duty would, ending after the recording.
    let mut raised = Vec::new();
    let mut t = chrono::DateTime::parse_from_rfc3339("2026-11-20T08:00:00Z").unwrap();
    let end = chrono::DateTime::parse_from_rfc3339("2026-11-20T14:30:00Z").unwrap();
    while t <= end {
        let now = t.to_rfc3339();
        raised.extend(alerts_of(
            &env.ok(&now, &["alerts", "check", "--json"]).await,
        ));
        t += chrono::Duration::minutes(5);
    }
    assert_eq!(raised.len(), 1, "{raised:#?}");
    let alert = &raised[0];
    assert_eq!(alert["bucket_start"], "2026-11-20T12:00:00Z");
    let headline = alert["headline"].as_str().unwrap();
    assert!(headline.contains("about skyline"), "{headline}");
    assert!(headline.contains("negative"), "{headline}");
    let series: Vec<&str> = alert["spikes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["series"].as_str().unwrap())
        .collect();
    assert!(series.contains(&"topic:skyline"), "{series:?}");
    assert!(!series.contains(&"topic:jetway"), "{series:?}");

    // The webhook got it once, in Slack's shape.
    let bodies = hook.lock().unwrap().bodies.clone();
    assert_eq!(bodies.len(), 1, "{bodies:#?}");
    let text = bodies[0]["text"].as_str().unwrap();
    assert!(text.starts_with("Spike: "), "{text}");
    assert!(text.contains("2026-11-20 12:00–12:05 UTC"), "{text}");
    assert_eq!(bodies[0]["blocks"][0]["type"], "header");
    assert_eq!(bodies[0]["blocks"][1]["type"], "section");

    // Checking again changes nothing; the alert is in the list, the report and the
    // event log.
    let again = env
        .ok("2026-11-20T15:00:00Z", &["alerts", "check", "--json"])
        .await;
    assert!(alerts_of(&again).is_empty());
    assert_eq!(hook.lock().unwrap().bodies.len(), 1);
    let list: Value =
        serde_json::from_str(&env.ok("2026-11-20T15:00:00Z", &["alerts", "--json"]).await).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(list[0]["notified_at"].is_string(), "{list}");
    let report: Value =
        serde_json::from_str(&env.ok("2026-11-20T15:00:00Z", &["report", "--json"]).await).unwrap();
    let l = &report["listening"];
    assert_eq!(l["alerts"].as_array().unwrap().len(), 1);
    let sov = &l["share_of_voice"];
    let ours = sov["organisation"].as_i64().unwrap();
    let theirs = sov["competitors"]["jetway"].as_i64().unwrap();
    assert!(ours > 700 && theirs > 10, "{sov}");
    let share = sov["share"].as_f64().unwrap();
    assert!((share - ours as f64 / (ours + theirs) as f64).abs() < 1e-12);

    // Each matched conversation carries its topic as a label, to filter the inbox by.
    let inbox = |label: &str| {
        let env = &env;
        let label = label.to_owned();
        async move {
            let out = env
                .ok(
                    "2026-11-20T15:00:00Z",
                    &[
                        "inbox", "--status", "all", "--limit", "1000", "--label", &label, "--json",
                    ],
                )
                .await;
            serde_json::from_str::<Value>(&out)
                .unwrap()
                .as_array()
                .unwrap()
                .len()
        }
    };
    let jetway = inbox("topic:jetway").await;
    assert!(
        jetway >= 10 && jetway as i64 <= theirs,
        "{jetway} of {theirs}"
    );
    assert!(inbox("topic:skyline").await > 700);
    assert_eq!(inbox("topic:nothing").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_alert_is_sent_on_a_later_check_and_old_bursts_page_nobody() {
    let hook = Arc::new(Mutex::new(Hook {
        bodies: Vec::new(),
        // More refusals than one check's retries.
        refuse: 3,
    }));
    let url = spawn_hook(hook.clone()).await;
    let tmp = TempDir::new().unwrap();
    let env = setup(tmp.path(), url).await;

    let (code, out, err) = env
        .run("2026-11-20T12:20:00Z", &["alerts", "check", "--json"])
        .await;
    assert_eq!(code, 1, "a refused alert fails the check: {out}{err}");
    assert!(err.contains("500"), "{err}");
    assert_eq!(alerts_of(&out).len(), 1);
    assert!(hook.lock().unwrap().bodies.is_empty());
    let out = env
        .ok("2026-11-20T12:25:00Z", &["alerts", "check", "--json"])
        .await;
    assert!(alerts_of(&out).is_empty());
    assert_eq!(hook.lock().unwrap().bodies.len(), 1);

    // The same recording scored a day later: recorded, not sent.
    let hook2 = Arc::new(Mutex::new(Hook::default()));
    let url2 = spawn_hook(hook2.clone()).await;
    let tmp2 = TempDir::new().unwrap();
    let late = setup(tmp2.path(), url2).await;
    let out = late
        .ok("2026-11-21T12:00:00Z", &["alerts", "check", "--json"])
        .await;
    let raised = alerts_of(&out);
    assert_eq!(raised.len(), 1);
    assert!(
        raised[0]["notify_error"]
            .as_str()
            .unwrap()
            .starts_with("not sent:")
    );
    assert!(hook2.lock().unwrap().bodies.is_empty());
}
