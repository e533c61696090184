//! Users, their API tokens and their login sessions.
//!
//! Nothing secret is stored in the clear. Passwords are hashed with argon2id (a PHC
//! string with its own random salt and parameters); API and session tokens are 32
//! random bytes from the operating system, shown once, and stored only as their SHA-256.
//! A token is looked up by that hash, so the lookup's timing tells nothing about the
//! token itself; argon2 compares password hashes in constant time.
//!
//! Logins are rate-limited per name: after [`MAX_FAILED_LOGINS`] failures within
//! [`LOGIN_WINDOW`], [`Store::login`] answers [`Login::Locked`], even with the right
//! password, until the failures age out of the window.

use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Utc};
use rapport_core::access::Role;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use crate::{Store, StoreError, ms, time};

/// Failed logins for one name within [`LOGIN_WINDOW`] that lock it.
pub const MAX_FAILED_LOGINS: u32 = 5;
/// How long a failed login counts towards the lockout.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);
/// The shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest password accepted, in characters.
pub const MAX_PASSWORD_CHARS: usize = 1024;
/// The longest user name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// What every API token starts with, so it is recognised in a config file or a log.
pub const API_TOKEN_PREFIX: &str = "rpt_";

/// The longest token label, in characters.
const MAX_LABEL_CHARS: usize = 100;

/// An argon2id hash (default parameters) of a random password nobody knows: a login for
/// a name that is not a user is verified against it, so it takes as long as a real one.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$3D0SV0bvPNEt0Yt5v2JSmg$5YnW7uiuNc8lYt3GCWwzVDNG7OA+KBGBa/hiZ1VBTKI";

/// A person who uses rapport.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    /// The user's id.
    pub id: i64,
    /// The name they log in with (unique, ignoring case).
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// When the user was added.
    pub created_at: DateTime<Utc>,
    /// Whether the user was disabled: they can no longer log in nor use their tokens.
    pub disabled: bool,
}

/// An API token, without the token itself (only its hash is kept).
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    /// The token's id (what `rapport token revoke` takes).
    pub id: i64,
    /// The user it acts as.
    pub user: String,
    /// What it is for.
    pub label: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last used, if ever.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Whether it was revoked (or its user disabled).
    pub revoked: bool,
}

/// A new login session: the token goes in the session cookie, the CSRF token with every
/// request that changes something.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The session's token (only its hash is stored).
    pub token: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
}

/// What a login attempt gives.
#[derive(Debug, Clone)]
pub enum Login {
    /// The name and password match an enabled user.
    Ok(User),
    /// Wrong name or password (or a disabled user): the caller is not told which.
    Refused,
    /// Too many failed logins for this name lately: try again after `retry_after`.
    Locked {
        /// How long until a login for this name is tried again.
        retry_after: Duration,
    },
}

type UserRow = (i64, String, String, i64, Option<i64>);

const USER_COLUMNS: &str = "id, name, role, created_at, disabled_at";

fn user_from(row: UserRow) -> Result<User, StoreError> {
    let (id, name, role, created_at, disabled_at) = row;
    let role = role
        .parse::<Role>()
        .map_err(|e| StoreError::Corrupt(format!("user {name:?} has a bad role: {e}")))?;
    Ok(User {
        id,
        name,
        role,
        created_at: time(created_at),
        disabled: disabled_at.is_some(),
    })
}

type TokenRow = (
    i64,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// A token's id and last use, with its user's row.
type TokenUserRow = (i64, Option<i64>, i64, String, String, i64, Option<i64>);

/// How stale a token's `last_used_at` may get before it is written again.
const LAST_USED_EVERY_MS: i64 = 60_000;

const TOKEN_SELECT: &str = "SELECT t.id, u.name, t.label, t.created_at, t.last_used_at, \
                            t.revoked_at, u.disabled_at FROM api_tokens t JOIN users u ON u.id = t.user_id";

fn token_from(row: TokenRow) -> TokenInfo {
    let (id, user, label, created_at, last_used_at, revoked_at, disabled_at) = row;
    TokenInfo {
        id,
        user,
        label,
        created_at: time(created_at),
        last_used_at: last_used_at.map(time),
        revoked: revoked_at.is_some() || disabled_at.is_some(),
    }
}

fn check_name(name: &str) -> Result<(), StoreError> {
    let ok = (1..=MAX_NAME_CHARS).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "{name:?} cannot be a user name: use 1 to {MAX_NAME_CHARS} letters, digits, `.`, `_` or `-`"
        )))
    }
}

fn check_password(password: &str) -> Result<(), StoreError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(StoreError::Invalid(format!(
            "the password has {chars} characters: use at least {MIN_PASSWORD_CHARS}"
        )));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(StoreError::Invalid(format!(
            "the password has {chars} characters: use at most {MAX_PASSWORD_CHARS}"
        )));
    }
    Ok(())
}

/// Hashes a password with argon2id and a fresh random salt, off the async threads.
async fn hash_password(password: &str) -> Result<String, StoreError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| StoreError::Crypto(format!("cannot hash the password: {e}")))
    })
    .await
    .map_err(|e| StoreError::Crypto(format!("the password hasher stopped: {e}")))?
}

/// Whether `password` matches the PHC string `hash`, off the async threads.
async fn verify_password(password: &str, hash: String) -> Result<bool, StoreError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok()
    })
    .await
    .map_err(|e| StoreError::Crypto(format!("the password hasher stopped: {e}")))
}

/// 32 random bytes from the operating system, as hex.
fn random_hex() -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::Crypto(format!("cannot get random bytes from the system: {e}")))?;
    Ok(hex::encode(bytes))
}

/// The SHA-256 of a token, as hex: what is stored and looked up.
fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The key failed logins are counted under: the name as typed, ignoring case (as names
/// are unique), cut short so junk names stay small.
fn failure_key(name: &str) -> String {
    name.trim()
        .chars()
        .take(MAX_NAME_CHARS * 2)
        .collect::<String>()
        .to_lowercase()
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

async fn user_id(conn: &mut AnyConnection, name: &str) -> Result<i64, StoreError> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE LOWER(name) = LOWER($1)")
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|(id,)| id)
        .ok_or_else(|| StoreError::UnknownUser(name.to_owned()))
}

impl Store {
    /// Adds a user. The name is 1–64 letters, digits, `.`, `_` or `-`, unique ignoring
    /// case; the password has at least [`MIN_PASSWORD_CHARS`] characters.
    pub async fn add_user(
        &self,
        name: &str,
        role: Role,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<User, StoreError> {
        check_name(name)?;
        check_password(password)?;
        let hash = hash_password(password).await?;
        let at = ms(now);
        let inserted: Result<(i64,), sqlx::Error> = sqlx::query_as(
            "INSERT INTO users (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(&hash)
        .bind(at)
        .fetch_one(&self.pool)
        .await;
        let (id,) = match inserted {
            Ok(row) => row,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::Invalid(format!(
                    "a user named {name:?} already exists (names ignore case): pick another name, \
                     or change theirs with `rapport user role` / `rapport user password`"
                )));
            }
            Err(e) => return Err(e.into()),
        };
        Ok(User {
            id,
            name: name.to_owned(),
            role,
            created_at: time(at),
            disabled: false,
        })
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        let rows: Vec<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY name, id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(user_from).collect()
    }

    /// The user with this name (ignoring case), disabled or not.
    pub async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE LOWER(name) = LOWER($1)"
        )))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(user_from).transpose()
    }

    /// The user with this id, disabled or not.
    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(user_from).transpose()
    }

    /// Changes a user's role; it applies to their sessions and tokens at once.
    pub async fn set_role(&self, name: &str, role: Role) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE users SET role = $1 WHERE LOWER(name) = LOWER($2)")
            .bind(role.as_str())
            .bind(name)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::UnknownUser(name.to_owned()));
        }
        Ok(())
    }

    /// Sets a user's password (at least [`MIN_PASSWORD_CHARS`] characters) and ends their
    /// sessions, so whoever knew the old one is logged out. API tokens stay valid.
    pub async fn set_password(&self, name: &str, password: &str) -> Result<(), StoreError> {
        check_password(password)?;
        let hash = hash_password(password).await?;
        let mut tx = self.begin_write().await?;
        let id = user_id(&mut tx, name).await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(&hash)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Disables a user: they can no longer log in, their sessions end and their API
    /// tokens are revoked. Disabling a disabled user changes nothing.
    pub async fn disable_user(&self, name: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let at = ms(now);
        let mut tx = self.begin_write().await?;
        let id = user_id(&mut tx, name).await?;
        sqlx::query("UPDATE users SET disabled_at = COALESCE(disabled_at, $1) WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Checks a name and password. Unknown names, wrong passwords and disabled users are
    /// all [`Login::Refused`], in about the same time, and each counts as a failure for
    /// the name; [`MAX_FAILED_LOGINS`] failures within [`LOGIN_WINDOW`] lock the name
    /// (even the right password is then [`Login::Locked`]) until enough of them age out.
    /// A successful login clears the name's failures.
    pub async fn login(
        &self,
        name: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<Login, StoreError> {
        let at = ms(now);
        let key = failure_key(name);
        let window_start = at.saturating_sub(millis(LOGIN_WINDOW));
        sqlx::query("DELETE FROM login_failures WHERE at <= $1")
            .bind(window_start)
            .execute(&self.pool)
            .await?;
        // The attempt counts as a failure from the start, so attempts made at the same
        // time see each other: a burst of guesses cannot all pass the check below.
        let (attempt,): (i64,) =
            sqlx::query_as("INSERT INTO login_failures (name, at) VALUES ($1, $2) RETURNING id")
                .bind(&key)
                .bind(at)
                .fetch_one(&self.pool)
                .await?;
        let others: Vec<(i64,)> = sqlx::query_as(
            "SELECT at FROM login_failures WHERE name = $1 AND at > $2 AND id != $3 ORDER BY at",
        )
        .bind(&key)
        .bind(window_start)
        .bind(attempt)
        .fetch_all(&self.pool)
        .await?;
        let max = MAX_FAILED_LOGINS as usize;
        if others.len() >= max {
            // Attempts while locked do not extend the lockout.
            sqlx::query("DELETE FROM login_failures WHERE id = $1")
                .bind(attempt)
                .execute(&self.pool)
                .await?;
            // Unlocked once all but MAX - 1 of the failures have left the window.
            let (freeing,) = others[others.len() - max];
            let wait = freeing
                .saturating_add(millis(LOGIN_WINDOW))
                .saturating_sub(at)
                .max(1);
            return Ok(Login::Locked {
                retry_after: Duration::from_millis(u64::try_from(wait).unwrap_or(1)),
            });
        }

        let row: Option<(i64, String, String, i64, Option<i64>, String)> = sqlx::query_as(
            "SELECT id, name, role, created_at, disabled_at, password_hash FROM users WHERE LOWER(name) = LOWER($1)",
        )
        .bind(name.trim())
        .fetch_optional(&self.pool)
        .await?;
        let (user, hash) = match row {
            Some((id, name, role, created_at, disabled_at, hash)) => (
                Some(user_from((id, name, role, created_at, disabled_at))?),
                hash,
            ),
            None => (None, DUMMY_HASH.to_owned()),
        };
        let matches = verify_password(password, hash).await?;
        match user {
            Some(user) if matches && !user.disabled => {
                sqlx::query("DELETE FROM login_failures WHERE name = $1")
                    .bind(&key)
                    .execute(&self.pool)
                    .await?;
                Ok(Login::Ok(user))
            }
            // The attempt's row stays: it was a failure.
            _ => Ok(Login::Refused),
        }
    }

    /// Creates an API token for a user; the token (`rpt_` and 64 hex digits) is in this
    /// answer only: keep it, it cannot be shown again.
    pub async fn create_token(
        &self,
        user: &str,
        label: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, TokenInfo), StoreError> {
        let label = label.trim();
        if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
            return Err(StoreError::Invalid(format!(
                "a token's label says what it is for: use 1 to {MAX_LABEL_CHARS} characters"
            )));
        }
        let token = format!("{API_TOKEN_PREFIX}{}", random_hex()?);
        let at = ms(now);
        let mut tx = self.begin_write().await?;
        let row: Option<(i64, String, Option<i64>)> =
            sqlx::query_as("SELECT id, name, disabled_at FROM users WHERE LOWER(name) = LOWER($1)")
                .bind(user)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((user_id, name, disabled_at)) = row else {
            return Err(StoreError::UnknownUser(user.to_owned()));
        };
        if disabled_at.is_some() {
            return Err(StoreError::Invalid(format!(
                "user {name:?} is disabled and cannot have API tokens: create the token for an \
                 enabled user"
            )));
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO api_tokens (user_id, label, token_hash, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id",
        )
        .bind(user_id)
        .bind(label)
        .bind(token_hash(&token))
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((
            token,
            TokenInfo {
                id,
                user: name,
                label: label.to_owned(),
                created_at: time(at),
                last_used_at: None,
                revoked: false,
            },
        ))
    }

    /// API tokens, oldest first: every user's, or only `user`'s.
    pub async fn tokens(&self, user: Option<&str>) -> Result<Vec<TokenInfo>, StoreError> {
        let rows: Vec<TokenRow> = match user {
            Some(name) => {
                let mut conn = self.pool.acquire().await?;
                let id = user_id(&mut conn, name).await?;
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{TOKEN_SELECT} WHERE t.user_id = $1 ORDER BY t.id"
                )))
                .bind(id)
                .fetch_all(&mut *conn)
                .await?
            }
            None => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!("{TOKEN_SELECT} ORDER BY t.id")))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        Ok(rows.into_iter().map(token_from).collect())
    }

    /// Revokes an API token; revoking a revoked one changes nothing.
    pub async fn revoke_token(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2",
        )
        .bind(ms(now))
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "API token",
                id,
            });
        }
        Ok(())
    }

    /// The user an API token acts as, when it is not revoked and its user not disabled;
    /// records that the token was used.
    pub async fn user_by_token(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        let row: Option<TokenUserRow> = sqlx::query_as(
            "SELECT t.id, t.last_used_at, u.id, u.name, u.role, u.created_at, u.disabled_at FROM api_tokens t \
             JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled_at IS NULL",
        )
        .bind(token_hash(token))
        .fetch_optional(&self.pool)
        .await?;
        let Some((token_id, last_used, id, name, role, created_at, disabled_at)) = row else {
            return Ok(None);
        };
        // Written at most once a minute: a write per request would serialise every
        // API call on SQLite's one writer.
        if last_used.is_none_or(|at| ms(now) - at >= LAST_USED_EVERY_MS) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(ms(now))
                .bind(token_id)
                .execute(&self.pool)
                .await?;
        }
        user_from((id, name, role, created_at, disabled_at)).map(Some)
    }

    /// Starts a login session for a user, lasting `ttl`. Expired sessions are cleared
    /// away on the way.
    pub async fn create_session(
        &self,
        user_id: i64,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<NewSession, StoreError> {
        let token = random_hex()?;
        let csrf = random_hex()?;
        let at = ms(now);
        let expires = at.saturating_add(millis(ttl));
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(at)
            .execute(&mut *tx)
            .await?;
        let user: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT disabled_at FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
        match user {
            None => {
                return Err(StoreError::NotFound {
                    what: "user",
                    id: user_id,
                });
            }
            Some((Some(_),)) => {
                return Err(StoreError::Invalid(format!(
                    "user {user_id} is disabled and cannot log in: an admin must add a new user"
                )));
            }
            Some((None,)) => {}
        }
        sqlx::query(
            "INSERT INTO sessions (user_id, token_hash, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(user_id)
        .bind(token_hash(&token))
        .bind(&csrf)
        .bind(at)
        .bind(expires)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(NewSession {
            token,
            csrf,
            expires_at: time(expires),
        })
    }

    /// The user of a session and the session's CSRF token, while the session has not
    /// expired and the user is not disabled.
    pub async fn session(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(User, String)>, StoreError> {
        let row: Option<(i64, String, String, i64, Option<i64>, String)> = sqlx::query_as(
            "SELECT u.id, u.name, u.role, u.created_at, u.disabled_at, s.csrf FROM sessions s \
             JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
        )
        .bind(token_hash(token))
        .bind(ms(now))
        .fetch_optional(&self.pool)
        .await?;
        let Some((id, name, role, created_at, disabled_at, csrf)) = row else {
            return Ok(None);
        };
        Ok(Some((
            user_from((id, name, role, created_at, disabled_at))?,
            csrf,
        )))
    }

    /// Ends a session (logging out); ending an unknown or ended one changes nothing.
    pub async fn end_session(&self, token: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use argon2::Params;
    use argon2::password_hash::phc::PasswordHash;

    #[test]
    fn the_dummy_hash_costs_what_a_new_hash_costs() {
        let dummy = PasswordHash::new(DUMMY_HASH).unwrap();
        assert_eq!(dummy.algorithm.as_str(), "argon2id");
        let fresh = Argon2::default().hash_password(b"a new password").unwrap();
        assert_eq!(dummy.algorithm, fresh.algorithm);
        assert_eq!(dummy.version, fresh.version);
        assert_eq!(
            Params::try_from(&dummy).unwrap(),
            Params::try_from(&fresh).unwrap()
        );
        assert_eq!(dummy.salt.unwrap().len(), fresh.salt.unwrap().len());
        // It is hashed all the way and found wrong, not refused for its shape.
        assert_eq!(
            Argon2::default().verify_password(b"any password", DUMMY_HASH),
            Err(argon2::password_hash::Error::PasswordInvalid)
        );
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("ana.lima_2-x").is_ok());
        assert!(check_name(&"a".repeat(64)).is_ok());
        for bad in ["", "ana lima", "ana@x", "ána", &"a".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tokens_are_32_random_bytes() {
        let a = random_hex().unwrap();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_hex().unwrap());
        assert_eq!(token_hash("x").len(), 64);
    }
}
