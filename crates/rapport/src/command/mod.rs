//! One module per verb; `run` dispatches.

mod act;
pub mod alerts;
mod bench_embed;
mod bench_jetstream;
mod bench_peer;
mod bench_pipeline;
mod bench_search;
mod bench_sentiment;
mod correct;
mod demo;
mod digest;
mod draft;
mod explain;
mod ideas;
mod import;
mod inbox;
mod init;
mod listen;
mod migrate;
mod people;
mod report;
mod search;
pub mod semantic;
mod serve;
mod topics;
mod train;
mod triage;
mod tribe;
mod user;
pub mod worker;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use rapport_core::config::Config;
use rapport_store::Store;

use crate::cli::{Cli, Command};

/// What every command may need.
pub struct Ctx {
    /// The data directory.
    pub data_dir: PathBuf,
    /// The database, when not the data directory's SQLite file.
    pub database_url: Option<String>,
    /// The configuration file.
    pub config_path: PathBuf,
    /// `RAPPORT_*` environment.
    pub env: BTreeMap<String, String>,
    /// Who acts.
    pub actor: String,
}

impl Ctx {
    /// Now, or `RAPPORT_NOW` (RFC 3339) for reproducible runs.
    pub fn now(&self) -> Result<DateTime<Utc>> {
        match self.env.get("RAPPORT_NOW") {
            Some(s) => Ok(DateTime::parse_from_rfc3339(s)
                .with_context(|| {
                    format!(
                        "RAPPORT_NOW={s:?} is not an RFC 3339 time such as 2026-11-23T09:00:00Z"
                    )
                })?
                .with_timezone(&Utc)),
            None => Ok(Utc::now()),
        }
    }

    /// The database URL, when the store is not the data directory's SQLite file.
    fn database_url(&self) -> Option<&str> {
        self.database_url.as_deref().filter(|u| !u.is_empty())
    }

    /// Opens the existing store: the database URL's, or the data directory's.
    pub async fn store(&self) -> Result<Store> {
        match self.database_url() {
            Some(url) => Ok(Store::connect(url).await?),
            None => Ok(Store::open(&self.data_dir).await?),
        }
    }

    /// Creates the store (or opens it if it exists), with its schema up to date. With a
    /// database URL the data directory is still created: rapport.toml lives there.
    pub async fn create_store(&self) -> Result<Store> {
        match self.database_url() {
            Some(url) => {
                std::fs::create_dir_all(&self.data_dir)
                    .with_context(|| format!("cannot create {}", self.data_dir.display()))?;
                Ok(Store::connect(url).await?)
            }
            None => Ok(Store::create(&self.data_dir).await?),
        }
    }

    /// Where the store is, for messages: the database URL without its password, or the
    /// data directory.
    pub fn store_location(&self) -> String {
        match self.database_url() {
            Some(url) => rapport_store::redact(url),
            None => self.data_dir.display().to_string(),
        }
    }

    /// Loads the configuration.
    pub fn config(&self) -> Result<Config> {
        crate::config::load(&self.config_path, &self.env)
    }
}

/// Runs a command; the exit code says whether everything went through.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let env = crate::config::process_env();
    let config_path = cli
        .config
        .clone()
        .unwrap_or_else(|| cli.data_dir.join("rapport.toml"));
    let ctx = Ctx {
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
        config_path,
        env,
        actor: cli.actor.clone(),
    };
    match cli.command {
        Command::Init { force } => init::run(&ctx, force).await,
        Command::DefaultConfig => {
            print!("{}", crate::config::DEFAULT_CONFIG);
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(args) => demo::run(&ctx, &args).await,
        Command::Import(args) => import::run(&ctx, &args).await,
        Command::Triage { jsonl } => triage::run(&ctx, jsonl),
        Command::Inbox(args) => inbox::list(&ctx, &args).await,
        Command::Show { id, json } => inbox::show(&ctx, id, json).await,
        Command::Explain { id, json } => explain::run(&ctx, id, json).await,
        Command::Report(args) => report::run(&ctx, &args).await,
        Command::Quarantine { limit, json } => inbox::quarantine(&ctx, limit, json).await,
        Command::Reply {
            id,
            text,
            channel,
            local,
            json,
        } => act::reply(&ctx, id, &text, channel.as_deref(), local, json).await,
        Command::Listen(args) => listen::run(&ctx, &args).await,
        Command::Worker(args) => worker::run(&ctx, &args).await,
        Command::MigrateStore { from, to, json } => migrate::run(&from, &to, json).await,
        Command::Outbox { send, json } => act::outbox(&ctx, send, json).await,
        Command::User(args) => user::user(&ctx, &args).await,
        Command::Serve {
            listen,
            secure_cookies,
        } => serve::run(&ctx, &listen, secure_cookies).await,
        Command::Token(args) => user::token(&ctx, &args).await,
        Command::Assign { id, to, team } => {
            act::assign(&ctx, id, to.as_deref(), team.as_deref()).await
        }
        Command::Resolve { id } => act::status(&ctx, id, "resolved").await,
        Command::Reopen { id } => act::status(&ctx, id, "open").await,
        Command::Status { id, status } => act::status(&ctx, id, &status).await,
        Command::Note { id, text } => act::note(&ctx, id, &text).await,
        Command::Label { id, label } => act::label(&ctx, id, &label).await,
        Command::Alerts(args) => alerts::run(&ctx, &args).await,
        Command::Topics { command, json } => topics::run(&ctx, command.as_ref(), json).await,
        Command::Draft { command } => draft::run(&ctx, &command).await,
        Command::Publish { id, json } => draft::publish(&ctx, id, json).await,
        Command::Search(args) => search::run(&ctx, &args).await,
        Command::Digest(args) => digest::run(&ctx, &args).await,
        Command::Reindex { verify, json } => search::reindex(&ctx, verify, json).await,
        Command::Person { id, json } => people::person(&ctx, id, json).await,
        Command::People { command, json } => people::run(&ctx, command.as_ref(), json).await,
        Command::Advocates { days, limit, json } => {
            people::advocates(&ctx, days, limit, json).await
        }
        Command::Semantic { command } => match command {
            crate::cli::SemanticCommand::Install { dir, python } => {
                semantic::install(&ctx, dir.as_deref(), &python)
            }
            crate::cli::SemanticCommand::Status { json } => semantic::status(&ctx, json).await,
            crate::cli::SemanticCommand::Index {
                limit,
                device,
                json,
            } => semantic::index(&ctx, limit, device, json).await,
        },
        Command::Embed { jsonl, device } => semantic::embed(&ctx, jsonl, device),
        Command::Similar { id, limit, json } => semantic::similar(&ctx, id, limit, json).await,
        Command::Bench { command } => match command {
            crate::cli::BenchCommand::Search {
                messages,
                runs,
                dir,
                json,
            } => bench_search::run(messages, runs, dir.as_deref(), json).await,
            crate::cli::BenchCommand::Pipeline {
                messages,
                threads,
                batch,
                statements,
                input,
                dir,
                json,
            } => {
                bench_pipeline::run(
                    messages,
                    threads,
                    batch.max(1),
                    statements,
                    input.as_deref(),
                    dir.as_deref(),
                    json,
                )
                .await
            }
            crate::cli::BenchCommand::Generate {
                messages,
                out,
                cues,
            } => {
                let bytes = bench_pipeline::generate(messages, &out)?;
                if let Some(path) = cues {
                    bench_pipeline::write_cues(&path)?;
                }
                // One line a script can read: what was written, and whose traffic it is.
                println!(
                    "{}",
                    serde_json::json!({
                        "events": messages,
                        "bytes": bytes,
                        "file": out,
                        "org_did": bench_jetstream::ORG_DID,
                        "org_handle": bench_jetstream::ORG_HANDLE,
                    })
                );
                Ok(ExitCode::SUCCESS)
            }
            crate::cli::BenchCommand::Embed {
                sentences,
                device,
                batch,
                python,
                json,
            } => bench_embed::run(
                &ctx,
                &bench_embed::Options {
                    sentences,
                    device,
                    batch,
                    python: python.as_deref(),
                    json,
                },
            ),
            crate::cli::BenchCommand::Sentiment {
                sentences,
                python,
                json,
            } => bench_sentiment::run(sentences, &python, json).await,
        },
        Command::Tribe(args) => tribe::run(&ctx, &args).await,
        Command::Correct {
            message_id,
            intent,
            sentiment,
            json,
        } => {
            correct::run(
                &ctx,
                message_id,
                intent.as_deref(),
                sentiment.as_deref(),
                json,
            )
            .await
        }
        Command::Train(args) => train::run(&ctx, &args).await,
        Command::Ideas { command, json } => ideas::run(&ctx, command.as_ref(), json).await,
    }
}
