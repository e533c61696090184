//! `rapport user …` and `rapport token …`, driven as an operator would.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

const NOW: &str = "2026-11-05T12:00:00Z";

struct Env {
    dir: TempDir,
}

impl Env {
    fn new() -> Self {
        let env = Env {
            dir: TempDir::new().unwrap(),
        };
        env.cmd().arg("init").assert().success();
        env
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("rapport").unwrap();
        c.env_remove("RAPPORT_DATA_DIR")
            .env_remove("RAPPORT_CONFIG")
            .env("RAPPORT_NOW", NOW)
            .arg("--data-dir")
            .arg(self.data());
        c
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self.cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "rapport {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn add(&self, name: &str, role: &str) {
        self.cmd()
            .args(["user", "add", name, "--role", role, "--password-stdin"])
            .write_stdin("a long enough password\n")
            .assert()
            .success()
            .stdout(format!("user {name} added (role {role})\n"));
    }
}

/// One line on stderr, starting `rapport: `, containing `what`.
fn one_line_error(out: &std::process::Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("rapport: "), "{stderr}");
    assert!(stderr.contains(what), "{stderr}");
}

#[test]
fn users_are_added_listed_changed_and_disabled() {
    let env = Env::new();
    env.add("ana", "admin");
    env.add("bea", "agent");

    let users = env.json(&["user", "list", "--json"]);
    let users = users.as_array().unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0]["name"], "ana");
    assert_eq!(users[0]["role"], "admin");
    assert_eq!(users[0]["disabled"], false);
    assert_eq!(users[0]["created_at"], "2026-11-05T12:00:00Z");
    assert!(users[0].get("password_hash").is_none());

    env.cmd()
        .args(["user", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ana").and(predicate::str::contains("admin")));

    env.cmd()
        .args(["user", "role", "bea", "leader"])
        .assert()
        .success()
        .stdout("user bea is now leader\n");
    env.cmd()
        .args(["user", "disable", "bea"])
        .assert()
        .success();
    let users = env.json(&["user", "list", "--json"]);
    assert_eq!(users[1]["role"], "leader");
    assert_eq!(users[1]["disabled"], true);

    env.cmd()
        .args(["user", "password", "ana", "--password-stdin"])
        .write_stdin("another long password\r\n")
        .assert()
        .success();
}

#[test]
fn mistakes_are_one_line_errors() {
    let env = Env::new();
    env.add("ana", "admin");

    let out = env
        .cmd()
        .args(["user", "add", "bob", "--role", "owner", "--password-stdin"])
        .write_stdin("a long enough password\n")
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(1 | 2)), "{out:?}");
    one_line_error(
        &out,
        "unknown role \"owner\": roles are admin, leader, agent, viewer",
    );

    let out = env
        .cmd()
        .args(["user", "add", "ANA", "--role", "agent", "--password-stdin"])
        .write_stdin("a long enough password\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    one_line_error(&out, "already exists");

    let out = env
        .cmd()
        .args(["user", "add", "bob", "--role", "agent", "--password-stdin"])
        .write_stdin("short\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    one_line_error(&out, "at least 10");

    // No terminal to type on, and no --password-stdin.
    let out = env
        .cmd()
        .args(["user", "add", "bob", "--role", "agent"])
        .write_stdin("a long enough password\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    one_line_error(&out, "pass --password-stdin");

    let out = env
        .cmd()
        .args(["user", "role", "nobody", "agent"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    one_line_error(&out, "no user named \"nobody\"");

    let out = env.cmd().args(["token", "revoke", "42"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    one_line_error(&out, "API token 42 not found");

    assert_eq!(
        env.json(&["user", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_token_is_printed_once_listed_without_itself_and_revoked() {
    let env = Env::new();
    env.add("ana", "agent");

    let out = env
        .cmd()
        .args(["token", "create", "--user", "ana", "--label", "ci"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout.trim_end();
    assert_eq!(stdout, format!("{token}\n"), "only the token on stdout");
    assert!(token.starts_with("rpt_"), "{token}");
    assert_eq!(token.len(), 68);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("shown this once"), "{stderr}");

    let tokens = env.json(&["token", "list", "--json"]);
    let tokens = tokens.as_array().unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0]["user"], "ana");
    assert_eq!(tokens[0]["label"], "ci");
    assert_eq!(tokens[0]["revoked"], false);
    let id = tokens[0]["id"].as_i64().unwrap();
    assert!(!tokens[0].to_string().contains(token));

    let listed = env.cmd().args(["token", "list"]).output().unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(
        listed.contains("ci") && listed.contains("active"),
        "{listed}"
    );
    assert!(!listed.contains(token), "{listed}");
    assert!(!listed.contains(&token[4..20]), "{listed}");

    assert_eq!(
        env.json(&["token", "list", "--user", "ana", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );

    env.cmd()
        .args(["token", "revoke", &id.to_string()])
        .assert()
        .success()
        .stdout(format!("API token {id} revoked\n"));
    let tokens = env.json(&["token", "list", "--json"]);
    assert_eq!(tokens[0]["revoked"], true);
    env.cmd()
        .args(["token", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("revoked"));

    // A second token is different; an unknown user has none.
    let again = env
        .cmd()
        .args(["token", "create", "--user", "ana"])
        .output()
        .unwrap();
    assert_ne!(String::from_utf8(again.stdout).unwrap().trim_end(), token);
    let out = env
        .cmd()
        .args(["token", "create", "--user", "nobody"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    one_line_error(&out, "no user named \"nobody\"");
}

#[test]
fn user_commands_need_a_store() {
    let dir = TempDir::new().unwrap();
    let out = Command::cargo_bin("rapport")
        .unwrap()
        .env_remove("RAPPORT_DATA_DIR")
        .arg("--data-dir")
        .arg(dir.path().join("none"))
        .args(["user", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    one_line_error(&out, "rapport init");
}
