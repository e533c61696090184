//! Who is asking: an API token (`Authorization: Bearer TOKEN`) or a session cookie from
//! logging in. A request made with a session cookie that changes something must carry
//! the session's CSRF token (`X-CSRF-Token`), so another site cannot make the browser act
//! on its own. Roles are enforced here, for every route ([`Authed::require`]).

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, extract::rejection::JsonRejection};
use rapport_core::access::{Action, allows};
use rapport_store::{Login, User};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::ApiError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "rapport_session";
/// The header that carries the CSRF token of a cookie session.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a session lasts.
pub const SESSION_TTL: std::time::Duration = std::time::Duration::from_secs(12 * 3600);

/// How the request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// An API token.
    Token,
    /// A session cookie, with the session's CSRF token.
    Session {
        /// The CSRF token.
        csrf: String,
    },
}

/// An authenticated request's user.
#[derive(Debug, Clone)]
pub struct Authed {
    /// The user.
    pub user: User,
    /// How.
    pub via: Via,
}

impl Authed {
    /// Refuses (403) unless the user's role allows `action`.
    pub fn require(&self, action: Action) -> Result<(), ApiError> {
        if allows(self.user.role, action) {
            Ok(())
        } else {
            Err(ApiError::forbidden(self.user.role.as_str(), verb(action)))
        }
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let now = state.now();
        if let Some(token) = bearer(&parts.headers) {
            return match state.store().user_by_token(token, now).await? {
                Some(user) => Ok(Authed {
                    user,
                    via: Via::Token,
                }),
                None => Err(ApiError::unauthenticated()),
            };
        }
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(ApiError::unauthenticated());
        };
        let Some((user, csrf)) = state.store().session(token, now).await? else {
            return Err(ApiError::unauthenticated());
        };
        if changes_state(&parts.method) {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !constant_time_eq(sent.as_bytes(), csrf.as_bytes()) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "this request changes something and lacks the session's CSRF token: send it \
                     as the X-CSRF-Token header (GET /api/v1/session gives it)",
                ));
            }
        }
        Ok(Authed {
            user,
            via: Via::Session { csrf },
        })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `POST /api/v1/session`'s body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The user's name.
    pub name: String,
    /// The password.
    pub password: String,
}

fn session_cookie(state: &AppState, value: &str, max_age: u64) -> Option<HeaderValue> {
    let secure = if state.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .ok()
}

/// Logs in: sets the session cookie and returns the user and the session's CSRF token.
#[utoipa::path(post, path = "/api/v1/session", tag = "session",
    request_body = LoginRequest,
    responses((status = 200, description = "logged in: the user and the CSRF token; the session cookie is set"),
              (status = 401, description = "wrong name or password"),
              (status = 429, description = "too many failed logins: wait Retry-After seconds")))]
pub async fn login(
    State(state): State<AppState>,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let now = state.now();
    match state.store().login(&body.name, &body.password, now).await? {
        Login::Ok(user) => {
            let session = state
                .store()
                .create_session(user.id, now, SESSION_TTL)
                .await?;
            let mut response = Json(json!({"user": user, "csrf": session.csrf})).into_response();
            if let Some(cookie) = session_cookie(&state, &session.token, SESSION_TTL.as_secs()) {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            Ok(response)
        }
        Login::Refused => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "wrong name or password",
        )),
        Login::Locked { retry_after } => {
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "locked",
                format!(
                    "too many failed logins for {:?}: try again in {} s",
                    body.name,
                    retry_after.as_secs().max(1)
                ),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&retry_after.as_secs().max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(response)
        }
    }
}

/// The current session's user and CSRF token.
#[utoipa::path(get, path = "/api/v1/session", tag = "session",
    responses((status = 200, description = "the user, and the CSRF token when logged in with a cookie"),
              (status = 401, description = "not logged in")))]
pub async fn current(authed: Authed) -> Json<serde_json::Value> {
    let csrf = match &authed.via {
        Via::Session { csrf } => Some(csrf.clone()),
        Via::Token => None,
    };
    Json(json!({"user": authed.user, "csrf": csrf}))
}

/// Logs out: ends the session and clears its cookie.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses((status = 204, description = "logged out")))]
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        state.store().end_session(token).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(cookie) = session_cookie(&state, "", 0) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// An action in words, for 403s.
pub fn verb(action: Action) -> &'static str {
    match action {
        Action::Read => "read the inbox",
        Action::Reply => "reply",
        Action::Assign => "assign conversations",
        Action::SetStatus => "change a conversation's status",
        Action::Note => "write notes",
        Action::Label => "label conversations",
        Action::Reports => "read reports",
        Action::Settings => "read the settings",
        Action::ManageUsers => "manage users",
        Action::OwnTokens => "create API tokens",
        Action::MergePeople => "merge people",
    }
}
