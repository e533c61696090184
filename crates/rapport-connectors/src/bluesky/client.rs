//! XRPC over HTTP: the Bluesky calls rapport makes, with the session kept fresh.
//!
//! - On the PDS (`service`), logged in with the account's app password:
//!   `com.atproto.server.createSession` / `refreshSession`,
//!   `app.bsky.notification.listNotifications`, `com.atproto.repo.createRecord` and
//!   `com.atproto.repo.getRecord`. An expired access token (`ExpiredToken`) is refreshed
//!   once and the call made again; a refused refresh logs in again.
//! - On the AppView (`appview`), without login: `app.bsky.actor.getProfile` (the
//!   author's handle, name and followers, cached for an hour) and
//!   `com.atproto.identity.resolveHandle`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::RequestBuilder;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::wire::{
    CreateRecordInput, CreateRecordOutput, CreateSessionInput, CreateSessionOutput,
    ListNotificationsOutput, ProfileViewDetailed, ResolveHandleOutput, XrpcError,
};
use crate::net::{Http, NetError, RetryPolicy};

/// How long a looked-up profile is trusted.
pub const PROFILE_TTL: Duration = Duration::from_secs(3600);

/// The tokens of a logged-in session.
#[derive(Clone)]
struct Session {
    access: String,
    refresh: String,
    did: String,
}

/// A Bluesky account's XRPC client; cheap to clone (the session and the profile cache
/// are shared).
#[derive(Clone)]
pub struct Xrpc {
    http: Http,
    service: String,
    appview: String,
    identifier: String,
    password: Option<String>,
    session: Arc<Mutex<Option<Session>>>,
    profiles: Arc<Mutex<HashMap<String, (Instant, Profile)>>>,
}

impl std::fmt::Debug for Xrpc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Xrpc")
            .field("service", &self.service)
            .field("appview", &self.appview)
            .field("identifier", &self.identifier)
            .finish_non_exhaustive()
    }
}

/// What rapport keeps of an author's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The handle (without `@`).
    pub handle: String,
    /// The display name, when set.
    pub display_name: Option<String>,
    /// Followers, the author's reach.
    pub followers: Option<u64>,
}

/// A failed XRPC call.
#[derive(Debug, thiserror::Error)]
pub enum XrpcCallError {
    /// The account's identifier or app password was refused.
    #[error(
        "Bluesky refused the login of {identifier:?} ({reason}); create an app password \
         (Settings → Privacy and security → App passwords) and put it where the channel's \
         credentials_env or credentials_file says"
    )]
    Login {
        /// The handle or DID.
        identifier: String,
        /// What the PDS said.
        reason: String,
    },
    /// The call needs a login and the channel has no app password.
    #[error(
        "this needs a Bluesky login and the channel has no app password: set the channel's \
         credentials_env or credentials_file"
    )]
    NoPassword,
    /// The request failed.
    #[error(transparent)]
    Net(#[from] NetError),
}

impl XrpcCallError {
    /// The XRPC error name (`ExpiredToken`, `InvalidRequest`, ...), when the PDS sent one.
    pub fn xrpc_error(&self) -> Option<XrpcError> {
        match self {
            XrpcCallError::Net(e) => e.body().and_then(|b| serde_json::from_str(b).ok()),
            _ => None,
        }
    }

    /// Whether waiting and trying again may help.
    pub fn is_transient(&self) -> bool {
        match self {
            XrpcCallError::Net(e) => e.is_transient(),
            XrpcCallError::Login { .. } | XrpcCallError::NoPassword => false,
        }
    }
}

fn expired(err: &XrpcCallError) -> bool {
    match err {
        XrpcCallError::Net(e) if matches!(e.status(), Some(400 | 401)) => err
            .xrpc_error()
            .is_some_and(|x| matches!(x.error.as_str(), "ExpiredToken" | "InvalidToken")),
        _ => false,
    }
}

#[derive(Deserialize)]
struct GetRecordOutput {
    uri: String,
    #[serde(default)]
    cid: Option<String>,
}

impl Xrpc {
    /// A client of the PDS `service` and the AppView `appview`, for the account
    /// `identifier` (handle or DID), logged in with `password` when given.
    pub fn new(
        http: Http,
        service: &str,
        appview: &str,
        identifier: &str,
        password: Option<String>,
    ) -> Xrpc {
        Xrpc {
            http,
            service: service.trim_end_matches('/').to_owned(),
            appview: appview.trim_end_matches('/').to_owned(),
            identifier: identifier.trim_start_matches('@').to_owned(),
            password,
            session: Arc::new(Mutex::new(None)),
            profiles: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Whether the client can log in.
    pub fn can_login(&self) -> bool {
        self.password.is_some()
    }

    fn url(base: &str, nsid: &str) -> String {
        format!("{base}/xrpc/{nsid}")
    }

    fn current(&self) -> Option<Session> {
        self.session.lock().ok().and_then(|s| s.clone())
    }

    fn keep(&self, out: &CreateSessionOutput) {
        if let Ok(mut slot) = self.session.lock() {
            *slot = Some(Session {
                access: out.access_jwt.clone(),
                refresh: out.refresh_jwt.clone(),
                did: out.did.clone(),
            });
        }
    }

    /// Logs in (`createSession`) and returns the account's DID.
    pub async fn login(&self) -> Result<String, XrpcCallError> {
        let password = self.password.clone().ok_or(XrpcCallError::NoPassword)?;
        let input = CreateSessionInput {
            identifier: self.identifier.clone(),
            password,
            auth_factor_token: None,
        };
        let url = Self::url(&self.service, "com.atproto.server.createSession");
        let client = self.http.client().clone();
        let result = self
            .http
            .json::<CreateSessionOutput>("log in to Bluesky", || client.post(&url).json(&input))
            .await;
        match result {
            Ok((out, _)) => {
                self.keep(&out);
                Ok(out.did)
            }
            Err(e) if matches!(e.status(), Some(400 | 401)) => Err(XrpcCallError::Login {
                identifier: self.identifier.clone(),
                reason: e
                    .body()
                    .and_then(|b| serde_json::from_str::<XrpcError>(b).ok())
                    .map(|x| x.to_string())
                    .unwrap_or_else(|| e.to_string()),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// The session's DID, logging in first if needed.
    pub async fn did(&self) -> Result<String, XrpcCallError> {
        match self.current() {
            Some(s) => Ok(s.did),
            None => self.login().await,
        }
    }

    async fn refresh(&self) -> Result<(), XrpcCallError> {
        let Some(session) = self.current() else {
            return self.login().await.map(|_| ());
        };
        let url = Self::url(&self.service, "com.atproto.server.refreshSession");
        let client = self.http.client().clone();
        let result = self
            .http
            .json::<CreateSessionOutput>("refresh the Bluesky session", || {
                client.post(&url).bearer_auth(&session.refresh)
            })
            .await;
        match result {
            Ok((out, _)) => {
                self.keep(&out);
                Ok(())
            }
            Err(e) if e.is_transient() => Err(e.into()),
            Err(_) => self.login().await.map(|_| ()),
        }
    }

    /// An authenticated call: `build(access_token)` makes the request; an expired token
    /// is refreshed once.
    async fn authed<T: DeserializeOwned>(
        &self,
        what: &str,
        build: impl Fn(&reqwest::Client, &str) -> RequestBuilder,
    ) -> Result<T, XrpcCallError> {
        if self.current().is_none() {
            self.login().await?;
        }
        for round in 0..2 {
            let token = self.current().map(|s| s.access).unwrap_or_default();
            let client = self.http.client().clone();
            match self.http.json::<T>(what, || build(&client, &token)).await {
                Ok((value, _)) => return Ok(value),
                Err(e) => {
                    let err = XrpcCallError::from(e);
                    if round == 0 && expired(&err) {
                        self.refresh().await?;
                        continue;
                    }
                    return Err(err);
                }
            }
        }
        Err(XrpcCallError::NoPassword)
    }

    /// `com.atproto.identity.resolveHandle` on the AppView.
    pub async fn resolve_handle(&self, handle: &str) -> Result<String, XrpcCallError> {
        let url = Self::url(&self.appview, "com.atproto.identity.resolveHandle");
        let client = self.http.client().clone();
        let handle = handle.trim_start_matches('@');
        let (out, _) = self
            .http
            .json::<ResolveHandleOutput>("resolve a Bluesky handle", || {
                client.get(&url).query(&[("handle", handle)])
            })
            .await?;
        Ok(out.did)
    }

    /// An author's profile (`app.bsky.actor.getProfile` on the AppView), from the cache
    /// when looked up less than [`PROFILE_TTL`] ago.
    pub async fn profile(&self, actor: &str) -> Result<Profile, XrpcCallError> {
        if let Ok(cache) = self.profiles.lock()
            && let Some((at, profile)) = cache.get(actor)
            && at.elapsed() < PROFILE_TTL
        {
            return Ok(profile.clone());
        }
        let url = Self::url(&self.appview, "app.bsky.actor.getProfile");
        let client = self.http.client().clone();
        // A profile only adds to a post: never hold the stream up for long waiting on one.
        let quick = self.http.with_policy(RetryPolicy {
            attempts: 2,
            max_wait: Duration::from_secs(5),
            ..self.http.policy()
        });
        let (out, _) = quick
            .json::<ProfileViewDetailed>("look up a Bluesky profile", || {
                client.get(&url).query(&[("actor", actor)])
            })
            .await?;
        let profile = Profile {
            handle: out.handle,
            display_name: out.display_name.filter(|n| !n.trim().is_empty()),
            followers: out.followers_count,
        };
        if let Ok(mut cache) = self.profiles.lock() {
            cache.insert(actor.to_owned(), (Instant::now(), profile.clone()));
        }
        Ok(profile)
    }

    /// One page of `app.bsky.notification.listNotifications`, newest first.
    pub async fn list_notifications(
        &self,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<ListNotificationsOutput, XrpcCallError> {
        let url = Self::url(&self.service, "app.bsky.notification.listNotifications");
        let limit = limit.to_string();
        self.authed("list Bluesky notifications", |client, token| {
            let mut query = vec![("limit", limit.as_str())];
            if let Some(c) = cursor {
                query.push(("cursor", c));
            }
            client.get(&url).bearer_auth(token).query(&query)
        })
        .await
    }

    /// `com.atproto.repo.createRecord`.
    pub async fn create_record(
        &self,
        input: &CreateRecordInput,
    ) -> Result<CreateRecordOutput, XrpcCallError> {
        let url = Self::url(&self.service, "com.atproto.repo.createRecord");
        self.authed("post to Bluesky", |client, token| {
            client.post(&url).bearer_auth(token).json(input)
        })
        .await
    }

    /// `com.atproto.repo.getRecord`: the record's (uri, cid) when it exists.
    pub async fn get_record(
        &self,
        repo: &str,
        collection: &str,
        rkey: &str,
    ) -> Result<Option<(String, Option<String>)>, XrpcCallError> {
        let url = Self::url(&self.service, "com.atproto.repo.getRecord");
        let result: Result<GetRecordOutput, _> = self
            .authed("read a Bluesky record", |client, token| {
                client.get(&url).bearer_auth(token).query(&[
                    ("repo", repo),
                    ("collection", collection),
                    ("rkey", rkey),
                ])
            })
            .await;
        match result {
            Ok(out) => Ok(Some((out.uri, out.cid))),
            Err(e)
                if e.xrpc_error().is_some_and(|x| {
                    x.error == "RecordNotFound" || x.error == "InvalidRequest"
                }) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}
