//! Issue 7's promise: a key message goes draft → approval by a leader → scheduled → sent
//! to Bluesky and Mastodon (fake servers speaking their real APIs) exactly once, even
//! when the process is killed (SIGKILL) right after each platform took the post and
//! before it could record that, and is then started again.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

mod fakes;

use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use fakes::bluesky::{self as bsky, BlueskyConfig, FakeBluesky};
use fakes::mastodon::{self as masto, FakeMastodon, MastodonConfig};
use tempfile::TempDir;

const BSKY_PASSWORD_ENV: &str = "RAPPORT_TEST_BSKY_PASSWORD";
const MASTO_TOKEN_ENV: &str = "RAPPORT_TEST_MASTO_TOKEN";
const TEXT: &str =
    "From today our repair network covers every city we sell in: https://acme.example/repairs";

struct Data {
    dir: TempDir,
}

impl Data {
    fn path(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn cmd(&self, actor: &str) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_rapport"));
        c.env_remove("RAPPORT_DATA_DIR")
            .env_remove("RAPPORT_CONFIG")
            .env_remove("RAPPORT_DATABASE_URL")
            .env_remove("RAPPORT_NOW")
            .env(BSKY_PASSWORD_ENV, bsky::APP_PASSWORD)
            .env(MASTO_TOKEN_ENV, masto::TOKEN)
            .args(["--as", actor, "--data-dir"])
            .arg(self.path())
            .stdin(Stdio::piped())
            .kill_on_drop(true);
        c
    }

    async fn run(&self, actor: &str, args: &[&str]) -> String {
        let out = self.cmd(actor).args(args).output().await.unwrap();
        ok(&out);
        String::from_utf8(out.stdout).unwrap()
    }

    async fn draft(&self, id: &str) -> serde_json::Value {
        let v: serde_json::Value =
            serde_json::from_str(&self.run("cli", &["draft", "show", id, "--json"]).await).unwrap();
        v["draft"].clone()
    }
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts `rapport publish` and kills it (SIGKILL) once `taken` says the platform has the
/// post: its answer is being held back, so rapport has not recorded it.
async fn publish_and_kill_after(data: &Data, taken: impl Fn() -> bool) {
    let mut child = data.cmd("cli").arg("publish").spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !taken() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "publish ended before the platform had the post"
        );
        assert!(Instant::now() < deadline, "the platform never got the post");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.start_kill().unwrap();
    child.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_message_is_approved_scheduled_and_sent_once_to_each_platform_despite_sigkills() {
    let bluesky = FakeBluesky::start(BlueskyConfig::default()).await;
    let mastodon = FakeMastodon::start(MastodonConfig::default()).await;
    let data = Data {
        dir: TempDir::new().unwrap(),
    };
    data.run("cli", &["init"]).await;
    let path = data.path().join("rapport.toml");
    let mut config = std::fs::read_to_string(&path).unwrap();
    config.push_str(&format!(
        r#"
[[channel]]
name = "bsky"
kind = "bluesky"
account = "{handle}"
jetstream_url = "{jetstream}"
service = "{service}"
appview = "{service}"
credentials_env = "{BSKY_PASSWORD_ENV}"
timeout_seconds = 10

[[channel]]
name = "masto"
kind = "mastodon"
account = "{user}@{domain}"
instance = "{instance}"
credentials_env = "{MASTO_TOKEN_ENV}"
timeout_seconds = 10
"#,
        handle = bsky::ORG_HANDLE,
        jetstream = bluesky.jetstream_url(),
        service = bluesky.service_url(),
        user = masto::ORG_USERNAME,
        domain = masto::DOMAIN,
        instance = mastodon.url(),
    ));
    std::fs::write(&path, config).unwrap();
    {
        use tokio::io::AsyncWriteExt as _;
        let mut child = data
            .cmd("cli")
            .args(["user", "add", "lea", "--role", "leader", "--password-stdin"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"a long enough password\n").await.unwrap();
        drop(stdin);
        assert!(child.wait().await.unwrap().success());
    }

    // Written by the CEO, approved by a leader, scheduled for now.
    let v: serde_json::Value = serde_json::from_str(
        &data
            .run(
                "ceo",
                &[
                    "draft",
                    "new",
                    TEXT,
                    "--kind",
                    "key_message",
                    "--channel",
                    "bsky",
                    "--channel",
                    "masto",
                    "--json",
                ],
            )
            .await,
    )
    .unwrap();
    let id = v["draft"]["id"].as_i64().unwrap().to_string();
    data.run("ceo", &["draft", "submit", &id]).await;
    data.run("lea", &["draft", "approve", &id]).await;
    data.run("ceo", &["draft", "schedule", &id]).await;
    assert_eq!(data.draft(&id).await["status"], "scheduled");

    // 1. Bluesky takes the post, its answer is held back, rapport is killed.
    bluesky.delay_next(
        "/xrpc/com.atproto.repo.createRecord",
        Duration::from_secs(20),
    );
    publish_and_kill_after(&data, || bluesky.created_records().len() == 1).await;
    assert_eq!(
        data.draft(&id).await["status"],
        "scheduled",
        "nothing was recorded"
    );

    // 2. Restarted: Bluesky's post is found under its record key, not posted again;
    //    Mastodon takes its status, its answer is held back, rapport is killed again.
    mastodon.delay_next("/api/v1/statuses", Duration::from_secs(20));
    publish_and_kill_after(&data, || mastodon.created_statuses().len() == 1).await;

    // 3. Restarted: Mastodon answers the same Idempotency-Key with the same status.
    let out = data.run("cli", &["publish", "--json"]).await;
    let done: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        done.as_array()
            .unwrap()
            .iter()
            .all(|p| p["outcome"]["state"] == "sent"),
        "{done}"
    );

    assert_eq!(bluesky.created_records().len(), 1, "posted to Bluesky once");
    assert_eq!(
        mastodon.created_statuses().len(),
        1,
        "posted to Mastodon once"
    );
    let record = &bluesky.created_records()[0];
    assert_eq!(record["record"]["text"], TEXT);
    assert!(
        record["record"]["reply"].is_null(),
        "a post of its own, not a reply"
    );
    let key = mastodon.requests_to("/api/v1/statuses");
    assert!(key.len() >= 2, "Mastodon was asked again after the kill");

    let d = data.draft(&id).await;
    assert_eq!(d["status"], "published");
    for t in d["targets"].as_array().unwrap() {
        assert_eq!(t["state"], "sent", "{t}");
        assert!(t["remote_id"].as_str().is_some_and(|r| !r.is_empty()));
    }
    // Nothing is due any more: another run sends nothing.
    assert!(
        data.run("cli", &["publish"])
            .await
            .contains("nothing is due")
    );
    assert_eq!(bluesky.created_records().len(), 1);
    assert_eq!(mastodon.created_statuses().len(), 1);
}
