//! Users, API tokens, sessions and the login lockout, through the store's public API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rapport_core::access::Role;
use rapport_store::{LOGIN_WINDOW, Login, MAX_FAILED_LOGINS, Store, StoreError};

mod common;
use common::TestDb;

const PASSWORD: &str = "correct horse battery";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap()
}

fn secs(s: i64) -> DateTime<Utc> {
    t0() + chrono::Duration::seconds(s)
}

async fn store() -> (TestDb, Store) {
    let db = TestDb::new().await;
    let store = db.create().await;
    (db, store)
}

/// The stored password hash, read from the database itself.
async fn stored_hash(db: &TestDb, name: &str) -> String {
    use sqlx::Row;
    sqlx::query("SELECT password_hash FROM users WHERE name = $1")
        .bind(name)
        .fetch_one(&db.raw().await)
        .await
        .unwrap()
        .get(0)
}

fn ok(login: Login) -> rapport_store::User {
    match login {
        Login::Ok(user) => user,
        other => panic!("expected a login, got {other:?}"),
    }
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_hashes() {
    let (db, store) = store().await;
    let user = store
        .add_user("ana", Role::Agent, PASSWORD, t0())
        .await
        .unwrap();
    assert_eq!(user.name, "ana");
    assert_eq!(user.role, Role::Agent);
    assert_eq!(user.created_at, t0());
    assert!(!user.disabled);

    let hash = stored_hash(&db, "ana").await;
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
    // A fresh salt each time: the same password hashes differently.
    store
        .add_user("bea", Role::Agent, PASSWORD, t0())
        .await
        .unwrap();
    assert_ne!(hash, stored_hash(&db, "bea").await);

    assert_eq!(
        ok(store.login("ana", PASSWORD, t0()).await.unwrap()).id,
        user.id
    );
    assert!(matches!(
        store.login("ana", "wrong password!", t0()).await.unwrap(),
        Login::Refused
    ));
    assert!(matches!(
        store.login("nobody", PASSWORD, t0()).await.unwrap(),
        Login::Refused
    ));
}

#[tokio::test]
async fn names_are_unique_ignoring_case_and_checked() {
    let (_dir, store) = store().await;
    store
        .add_user("Ana", Role::Admin, PASSWORD, t0())
        .await
        .unwrap();
    let err = store
        .add_user("ana", Role::Viewer, PASSWORD, t0())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert!(err.to_string().contains("\"ana\" already exists"), "{err}");

    assert_eq!(store.user("ANA").await.unwrap().unwrap().name, "Ana");
    assert!(store.user("bob").await.unwrap().is_none());

    for bad in ["", "ana lima", "ana/x", &"x".repeat(65)] {
        let err = store
            .add_user(bad, Role::Agent, PASSWORD, t0())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("cannot be a user name"), "{err}");
    }
    let err = store
        .add_user("bob", Role::Agent, "short", t0())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at least 10"), "{err}");
    assert_eq!(store.users().await.unwrap().len(), 1);
}

#[tokio::test]
async fn roles_round_trip() {
    let (_dir, store) = store().await;
    for (i, role) in Role::ALL.into_iter().enumerate() {
        let name = format!("user{i}");
        let added = store.add_user(&name, role, PASSWORD, t0()).await.unwrap();
        assert_eq!(store.user(&name).await.unwrap().unwrap().role, role);
        assert_eq!(
            store.user_by_id(added.id).await.unwrap().unwrap().role,
            role
        );
    }
    store.set_role("user3", Role::Leader).await.unwrap();
    assert_eq!(
        store.user("user3").await.unwrap().unwrap().role,
        Role::Leader
    );
    let names: Vec<_> = store
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["user0", "user1", "user2", "user3"]);

    let err = store.set_role("nobody", Role::Admin).await.unwrap_err();
    assert!(matches!(err, StoreError::UnknownUser(_)), "{err:?}");
    assert!(store.user_by_id(999).await.unwrap().is_none());

    let json = serde_json::to_value(store.user("user0").await.unwrap().unwrap()).unwrap();
    assert_eq!(json["role"], "admin");
    assert_eq!(json["disabled"], false);
    assert!(json.get("password_hash").is_none());
}

#[tokio::test]
async fn a_new_password_replaces_the_old_and_ends_sessions() {
    let (_dir, store) = store().await;
    let ana = store
        .add_user("ana", Role::Agent, PASSWORD, t0())
        .await
        .unwrap();
    let session = store
        .create_session(ana.id, t0(), Duration::from_secs(3600))
        .await
        .unwrap();
    store
        .set_password("ana", "a better passphrase")
        .await
        .unwrap();
    assert!(matches!(
        store.login("ana", PASSWORD, t0()).await.unwrap(),
        Login::Refused
    ));
    ok(store
        .login("ana", "a better passphrase", t0())
        .await
        .unwrap());
    assert!(store.session(&session.token, t0()).await.unwrap().is_none());
    assert!(store.set_password("ana", "short").await.is_err());
    assert!(matches!(
        store.set_password("nobody", PASSWORD).await.unwrap_err(),
        StoreError::UnknownUser(_)
    ));
}

#[tokio::test]
async fn five_failures_lock_the_name_until_they_age_out() {
    let (_dir, store) = store().await;
    store
        .add_user("ana", Role::Agent, PASSWORD, t0())
        .await
        .unwrap();
    // Failures a minute apart: 0, 60, 120, 180, 240 s.
    for i in 0..MAX_FAILED_LOGINS {
        let at = secs(60 * i64::from(i));
        assert!(matches!(
            store.login("ana", "wrong password!", at).await.unwrap(),
            Login::Refused
        ));
    }
    // Locked, even with the right password (and however the name is typed), until the
    // first failure leaves the window.
    let at = secs(300);
    for name in ["ana", "ANA"] {
        match store.login(name, PASSWORD, at).await.unwrap() {
            Login::Locked { retry_after } => {
                assert_eq!(retry_after, LOGIN_WINDOW - Duration::from_secs(300));
            }
            other => panic!("expected a lockout, got {other:?}"),
        }
    }
    // Being locked does not extend the lockout.
    let just_before = secs(LOGIN_WINDOW.as_secs() as i64 - 1);
    match store.login("ana", PASSWORD, just_before).await.unwrap() {
        Login::Locked { retry_after } => assert_eq!(retry_after, Duration::from_secs(1)),
        other => panic!("expected a lockout, got {other:?}"),
    }
    // The first failure has left the window: four remain, the right password works…
    let after = secs(LOGIN_WINDOW.as_secs() as i64);
    ok(store.login("ana", PASSWORD, after).await.unwrap());
    // … and clears them: four more failures do not lock.
    for _ in 0..MAX_FAILED_LOGINS - 1 {
        store.login("ana", "wrong password!", after).await.unwrap();
    }
    ok(store.login("ana", PASSWORD, after).await.unwrap());
}

#[tokio::test]
async fn unknown_names_are_locked_out_too() {
    let (_dir, store) = store().await;
    for _ in 0..MAX_FAILED_LOGINS {
        assert!(matches!(
            store.login("ghost", "whatever it is", t0()).await.unwrap(),
            Login::Refused
        ));
    }
    assert!(matches!(
        store.login("ghost", "whatever it is", t0()).await.unwrap(),
        Login::Locked { retry_after } if retry_after == LOGIN_WINDOW
    ));
    // Other names are not affected.
    store
        .add_user("ana", Role::Agent, PASSWORD, t0())
        .await
        .unwrap();
    ok(store.login("ana", PASSWORD, t0()).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_guesses_gets_no_more_than_the_limit() {
    let (_dir, store) = store().await;
    store
        .add_user("ana", Role::Agent, PASSWORD, t0())
        .await
        .unwrap();
    let mut guesses = tokio::task::JoinSet::new();
    for i in 0..20 {
        let store = store.clone();
        guesses.spawn(async move { store.login("ana", &format!("guess number {i}"), t0()).await });
    }
    let mut refused = 0;
    while let Some(outcome) = guesses.join_next().await {
        match outcome.unwrap().unwrap() {
            Login::Refused => refused += 1,
            Login::Locked { .. } => {}
            Login::Ok(_) => panic!("a wrong password logged in"),
        }
    }
    // Only the guesses that were checked are refused; the others were locked out.
    assert!(
        refused <= MAX_FAILED_LOGINS,
        "{refused} guesses were checked"
    );
    // Locked attempts leave nothing behind: the name is locked only if five were refused.
    let locked = matches!(
        store.login("ana", PASSWORD, t0()).await.unwrap(),
        Login::Locked { .. }
    );
    assert_eq!(locked, refused == MAX_FAILED_LOGINS, "{refused} refused");
}

#[tokio::test]
async fn api_tokens_are_shown_once_looked_up_and_revoked() {
    let (db, store) = store().await;
    let ana = store
        .add_user("ana", Role::Agent, PASSWORD, t0())
        .await
        .unwrap();
    store
        .add_user("bea", Role::Viewer, PASSWORD, t0())
        .await
        .unwrap();
    let (token, info) = store.create_token("ana", "ci", t0()).await.unwrap();
    assert!(token.starts_with("rpt_"), "{token}");
    assert_eq!(token.len(), 4 + 64);
    assert_eq!(info.user, "ana");
    assert_eq!(info.label, "ci");
    assert!(info.last_used_at.is_none());
    assert!(!info.revoked);
    let (other, _) = store.create_token("bea", "laptop", t0()).await.unwrap();
    assert_ne!(token, other);

    // Only the hash is stored.
    assert_token_not_stored(&db, &token).await;

    let user = store
        .user_by_token(&token, secs(10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.id, ana.id);
    let listed = store.tokens(Some("ana")).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_used_at, Some(secs(10)));
    assert_eq!(store.tokens(None).await.unwrap().len(), 2);
    assert!(matches!(
        store.tokens(Some("nobody")).await.unwrap_err(),
        StoreError::UnknownUser(_)
    ));

    assert!(
        store
            .user_by_token("rpt_0000", t0())
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.user_by_token("", t0()).await.unwrap().is_none());

    store.revoke_token(info.id, secs(20)).await.unwrap();
    store.revoke_token(info.id, secs(30)).await.unwrap();
    assert!(
        store
            .user_by_token(&token, secs(40))
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.tokens(Some("ana")).await.unwrap()[0].revoked);
    assert!(
        store
            .user_by_token(&other, secs(40))
            .await
            .unwrap()
            .is_some()
    );
    let err = store.revoke_token(999, t0()).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("rapport token list"), "{err}");

    assert!(matches!(
        store.create_token("nobody", "x", t0()).await.unwrap_err(),
        StoreError::UnknownUser(_)
    ));
    assert!(store.create_token("ana", "  ", t0()).await.is_err());
}

#[tokio::test]
async fn sessions_expire_and_end() {
    let (_dir, store) = store().await;
    let ana = store
        .add_user("ana", Role::Leader, PASSWORD, t0())
        .await
        .unwrap();
    let ttl = Duration::from_secs(3600);
    let session = store.create_session(ana.id, t0(), ttl).await.unwrap();
    assert_eq!(session.expires_at, secs(3600));
    assert_eq!(session.token.len(), 64);
    assert_eq!(session.csrf.len(), 64);
    assert_ne!(session.token, session.csrf);

    let (user, csrf) = store
        .session(&session.token, secs(3599))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.name, "ana");
    assert_eq!(user.role, Role::Leader);
    assert_eq!(csrf, session.csrf);
    assert!(
        store
            .session(&session.token, secs(3600))
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.session(&session.csrf, t0()).await.unwrap().is_none());

    let second = store.create_session(ana.id, t0(), ttl).await.unwrap();
    assert_ne!(second.token, session.token);
    store.end_session(&second.token).await.unwrap();
    store.end_session(&second.token).await.unwrap();
    assert!(store.session(&second.token, t0()).await.unwrap().is_none());

    assert!(matches!(
        store.create_session(999, t0(), ttl).await.unwrap_err(),
        StoreError::NotFound { .. }
    ));
}

#[tokio::test]
async fn a_disabled_user_loses_sessions_tokens_and_logins() {
    let (_dir, store) = store().await;
    let ana = store
        .add_user("ana", Role::Agent, PASSWORD, t0())
        .await
        .unwrap();
    let bea = store
        .add_user("bea", Role::Agent, PASSWORD, t0())
        .await
        .unwrap();
    let ttl = Duration::from_secs(3600);
    let session = store.create_session(ana.id, t0(), ttl).await.unwrap();
    let (token, _) = store.create_token("ana", "ci", t0()).await.unwrap();
    let bea_session = store.create_session(bea.id, t0(), ttl).await.unwrap();
    let (bea_token, _) = store.create_token("bea", "ci", t0()).await.unwrap();

    store.disable_user("ana", secs(1)).await.unwrap();
    store.disable_user("ana", secs(2)).await.unwrap();
    assert!(store.user("ana").await.unwrap().unwrap().disabled);
    assert!(
        store
            .session(&session.token, secs(3))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .user_by_token(&token, secs(3))
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.tokens(Some("ana")).await.unwrap()[0].revoked);
    assert!(matches!(
        store.login("ana", PASSWORD, secs(3)).await.unwrap(),
        Login::Refused
    ));
    assert!(store.create_session(ana.id, secs(3), ttl).await.is_err());
    assert!(store.create_token("ana", "again", secs(3)).await.is_err());

    // Others keep theirs.
    assert!(
        store
            .session(&bea_session.token, secs(3))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .user_by_token(&bea_token, secs(3))
            .await
            .unwrap()
            .is_some()
    );
    assert!(matches!(
        store.disable_user("nobody", secs(3)).await.unwrap_err(),
        StoreError::UnknownUser(_)
    ));
}

#[tokio::test]
async fn accounts_survive_reopening() {
    let (db, store) = store().await;
    store
        .add_user("ana", Role::Admin, PASSWORD, t0())
        .await
        .unwrap();
    let (token, _) = store.create_token("ana", "ci", t0()).await.unwrap();
    store.close().await;
    let store = db.open().await;
    assert_eq!(store.users().await.unwrap().len(), 1);
    assert!(store.user_by_token(&token, t0()).await.unwrap().is_some());
    ok(store.login("ana", PASSWORD, t0()).await.unwrap());
}

/// The plain token is nowhere in the database: not in SQLite's file or its WAL, not in
/// any column of PostgreSQL's `api_tokens`.
async fn assert_token_not_stored(db: &TestDb, token: &str) {
    match db.backend() {
        rapport_store::Backend::Sqlite => {
            let raw = std::fs::read(db.dir.path().join(rapport_store::DB_FILE)).unwrap();
            let wal = std::fs::read(
                db.dir
                    .path()
                    .join(format!("{}-wal", rapport_store::DB_FILE)),
            )
            .unwrap_or_default();
            for bytes in [raw, wal] {
                assert!(
                    !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
                    "the plain token is in the database file"
                );
            }
        }
        rapport_store::Backend::Postgres => {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM api_tokens t WHERE position($1 in t::text) > 0",
            )
            .bind(token)
            .fetch_one(&db.raw().await)
            .await
            .unwrap();
            assert_eq!(n, 0, "the plain token is in api_tokens");
        }
    }
}
