//! Mastodon's REST and streaming APIs over HTTP, with the account's access token.

use reqwest::Response;
use serde::Deserialize;

use super::outbound::{IDEMPOTENCY_KEY_HEADER, STATUSES_PATH};
use super::wire::{Status, StatusRequest};
use crate::net::{Http, NetError};

/// What rapport needs to know of an instance (`GET /api/v2/instance`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceInfo {
    /// The domain of its handles (`user@domain`).
    pub domain: String,
    /// The base URL of its streaming API, as `https://` (or `http://`).
    pub streaming: String,
    /// The most characters a status may have.
    pub max_characters: usize,
}

#[derive(Deserialize)]
struct InstanceV2 {
    #[serde(default)]
    domain: Option<String>,
    #[serde(default)]
    configuration: Option<Configuration>,
}

#[derive(Deserialize)]
struct Configuration {
    #[serde(default)]
    urls: Option<Urls>,
    #[serde(default)]
    statuses: Option<StatusLimits>,
}

#[derive(Deserialize)]
struct Urls {
    #[serde(default)]
    streaming: Option<String>,
}

#[derive(Deserialize)]
struct StatusLimits {
    #[serde(default)]
    max_characters: Option<usize>,
}

/// A Mastodon account's client; cheap to clone.
#[derive(Clone)]
pub struct MastodonClient {
    http: Http,
    instance: String,
    token: String,
}

impl std::fmt::Debug for MastodonClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MastodonClient")
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

/// `wss://host` → `https://host`, `ws://host` → `http://host`; others unchanged.
pub fn streaming_http_base(url: &str) -> String {
    let url = url.trim_end_matches('/');
    if let Some(rest) = url.strip_prefix("wss://") {
        format!("https://{rest}")
    } else if let Some(rest) = url.strip_prefix("ws://") {
        format!("http://{rest}")
    } else {
        url.to_owned()
    }
}

impl MastodonClient {
    /// A client of `instance` (base URL) with an access token.
    pub fn new(http: Http, instance: &str, token: String) -> MastodonClient {
        MastodonClient {
            http,
            instance: instance.trim_end_matches('/').to_owned(),
            token,
        }
    }

    /// The instance's base URL.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The instance's domain, streaming base and status limit; what cannot be read falls
    /// back to the instance URL and 500 characters.
    pub async fn instance_info(&self) -> Result<InstanceInfo, NetError> {
        let url = format!("{}/api/v2/instance", self.instance);
        let client = self.http.client().clone();
        let (info, _) = self
            .http
            .json::<InstanceV2>("read the Mastodon instance", || client.get(&url))
            .await?;
        let configuration = info.configuration;
        Ok(InstanceInfo {
            domain: info
                .domain
                .unwrap_or_else(|| super::convert::normalize_host(&self.instance)),
            streaming: configuration
                .as_ref()
                .and_then(|c| c.urls.as_ref())
                .and_then(|u| u.streaming.as_deref())
                .map(streaming_http_base)
                .unwrap_or_else(|| self.instance.clone()),
            max_characters: configuration
                .as_ref()
                .and_then(|c| c.statuses.as_ref())
                .and_then(|s| s.max_characters)
                .unwrap_or(super::DEFAULT_MAX_CHARS),
        })
    }

    /// `GET {instance}{path}` with `query`, authenticated: the body and the `Link` header.
    pub async fn list(
        &self,
        what: &str,
        path: &str,
        query: &[(String, String)],
    ) -> Result<(String, Option<String>), NetError> {
        let url = format!("{}{path}", self.instance);
        let client = self.http.client().clone();
        let response = self
            .http
            .send(what, || {
                client.get(&url).bearer_auth(&self.token).query(query)
            })
            .await?;
        if !response.status().is_success() {
            return Err(Http::error_for(what, response).await);
        }
        let link = response
            .headers()
            .get(reqwest::header::LINK)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.text().await.map_err(|e| NetError::Body {
            what: what.into(),
            url: url.clone(),
            reason: e.to_string(),
        })?;
        Ok((body, link))
    }

    /// Opens a stream (`GET {streaming}{path}`, `text/event-stream`), once: the response
    /// to read chunks from. Reconnecting is the caller's.
    pub async fn open_stream(&self, streaming: &str, path: &str) -> Result<Response, NetError> {
        let url = format!("{}{path}", streaming.trim_end_matches('/'));
        let what = "open the Mastodon stream";
        // A stream has no end, so no overall timeout: only the connection is bounded,
        // by the client's connect timeout.
        let response = self
            .http
            .client()
            .get(&url)
            .bearer_auth(&self.token)
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .timeout(std::time::Duration::from_secs(24 * 3600))
            .send()
            .await
            .map_err(|source| NetError::Transport {
                what: what.into(),
                url: url.clone(),
                attempts: 1,
                source,
            })?;
        if !response.status().is_success() {
            return Err(Http::error_for(what, response).await);
        }
        Ok(response)
    }

    /// `POST /api/v1/statuses` with an `Idempotency-Key`: Mastodon answers a repeated
    /// key with the status it already made, so retries never post twice.
    pub async fn post_status(
        &self,
        request: &StatusRequest,
        idempotency_key: &str,
    ) -> Result<Status, NetError> {
        let url = format!("{}{STATUSES_PATH}", self.instance);
        let client = self.http.client().clone();
        let (status, _) = self
            .http
            .json::<Status>("post to Mastodon", || {
                client
                    .post(&url)
                    .bearer_auth(&self.token)
                    .header(IDEMPOTENCY_KEY_HEADER, idempotency_key)
                    .json(request)
            })
            .await?;
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_streaming_url_is_read_over_https() {
        assert_eq!(
            streaming_http_base("wss://streaming.example.social/"),
            "https://streaming.example.social"
        );
        assert_eq!(
            streaming_http_base("ws://127.0.0.1:4000"),
            "http://127.0.0.1:4000"
        );
        assert_eq!(
            streaming_http_base("https://example.social"),
            "https://example.social"
        );
    }
}
