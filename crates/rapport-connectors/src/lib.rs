//! rapport's sources of messages.
//!
//! - [`import`] reads CSV and JSONL exports into [`rapport_core::NewMessage`]s, row by
//!   row, reporting each bad row with its line.
//! - One module per platform, each with its wire types (`wire.rs`, the JSON or XML shapes
//!   the service really sends) kept apart from the conversion into rapport's domain types
//!   (`convert.rs`): [`bluesky`], [`mastodon`], [`rss`] and [`webhook`].
#![deny(missing_docs)]

pub mod alerts;
pub mod bluesky;
pub mod credentials;
pub mod html;
pub mod import;
pub mod listen;
pub mod mastodon;
pub mod net;
pub mod outbound;
pub mod rss;
pub mod webhook;
