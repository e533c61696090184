//! `/login` and `/logout`: the session cookie of `POST /api/v1/session`, from a form.

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use maud::html;
use rapport_store::Login;
use serde::Deserialize;

use super::{
    Nav, Session, WebError, layout, local_path, missing_csrf, page_response, see_other,
    session_cookie, with_header,
};
use crate::AppState;
use crate::auth::{SESSION_COOKIE, SESSION_TTL, cookie};

/// `GET /login?next=…`.
#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// The login form's fields.
#[derive(Debug, Default, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

fn login_page(
    state: &AppState,
    status: StatusCode,
    next: &str,
    name: &str,
    error: Option<&str>,
) -> Response {
    let body = html! {
        div.login {
            h1 { "Log in to rapport" }
            @if let Some(e) = error {
                p.error role="alert" { (e) }
            }
            form #login method="post" action="/login" {
                input type="hidden" name="next" value=(next);
                div.field {
                    label for="login-name" { "Name" }
                    input #login-name type="text" name="name" value=(name) autocomplete="username"
                        autocapitalize="none" spellcheck="false" required;
                }
                div.field {
                    label for="login-password" { "Password" }
                    input #login-password type="password" name="password"
                        autocomplete="current-password" required;
                }
                button type="submit" { "Log in" }
            }
        }
    };
    page_response(status, layout("Log in", None, Nav::None, state.now(), body))
}

/// The login form; a browser already logged in goes on to `next`.
pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<NextQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    let next = query.ok().and_then(|Query(q)| q.next);
    let next = local_path(next.as_deref());
    if let Some(token) = cookie(&headers, SESSION_COOKIE)
        && state.store().session(token, state.now()).await?.is_some()
    {
        return Ok(see_other(next));
    }
    Ok(login_page(&state, StatusCode::OK, next, "", None))
}

/// Checks the name and password: sets the session cookie and goes on to `next` (a path
/// on this site), or shows the form again with what went wrong.
pub async fn submit(
    State(state): State<AppState>,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, WebError> {
    let Form(form) = form.map_err(|e| WebError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let next = local_path(form.next.as_deref());
    let name = form.name.trim();
    if name.is_empty() || form.password.is_empty() {
        return Ok(login_page(
            &state,
            StatusCode::UNAUTHORIZED,
            next,
            name,
            Some("Enter your name and your password."),
        ));
    }
    let now = state.now();
    match state.store().login(name, &form.password, now).await? {
        Login::Ok(user) => {
            let session = state
                .store()
                .create_session(user.id, now, SESSION_TTL)
                .await?;
            let mut response = see_other(next);
            if let Some(c) = session_cookie(&state, &session.token, SESSION_TTL.as_secs()) {
                response.headers_mut().insert(header::SET_COOKIE, c);
            }
            Ok(response)
        }
        Login::Refused => Ok(login_page(
            &state,
            StatusCode::UNAUTHORIZED,
            next,
            name,
            Some("Wrong name or password."),
        )),
        Login::Locked { retry_after } => {
            let seconds = retry_after.as_secs().max(1);
            let wait = if seconds < 120 {
                format!("{seconds} seconds")
            } else {
                format!("{} minutes", seconds.div_ceil(60))
            };
            let message = format!(
                "Too many failed logins for this name: try again in {wait}, or ask an admin to \
                 reset your password."
            );
            Ok(with_header(
                login_page(
                    &state,
                    StatusCode::TOO_MANY_REQUESTS,
                    next,
                    name,
                    Some(&message),
                ),
                header::RETRY_AFTER,
                &seconds.to_string(),
            ))
        }
    }
}

/// `POST /logout`'s fields.
#[derive(Debug, Default, Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: Option<String>,
}

/// Ends the session, clears the cookie, and goes to the login form.
pub async fn logout(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<LogoutForm>, FormRejection>,
) -> Result<Response, WebError> {
    let Form(form) = form.map_err(|_| missing_csrf())?;
    session.check_csrf(form.csrf.as_deref())?;
    state.store().end_session(&session.token).await?;
    let mut response = see_other("/login");
    if let Some(c) = session_cookie(&state, "", 0) {
        response.headers_mut().insert(header::SET_COOKIE, c);
    }
    Ok(response)
}
