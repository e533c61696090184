//! `rapport user …` and `rapport token …`: the people who use the web UI and the API,
//! and their API tokens.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, Utc};
use rapport_store::accounts::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};

use super::Ctx;
use crate::cli::{TokenArgs, TokenCommand, UserArgs, UserCommand};
use crate::output::json;

/// Runs `rapport user …`.
pub async fn user(ctx: &Ctx, args: &UserArgs) -> Result<ExitCode> {
    match &args.command {
        UserCommand::Add {
            name,
            role,
            password_stdin,
        } => {
            let store = ctx.store().await?;
            let password = read_password(name, *password_stdin)?;
            let user = store.add_user(name, *role, &password, ctx.now()?).await?;
            println!("user {} added (role {})", user.name, user.role);
        }
        UserCommand::List { json: as_json } => {
            let users = ctx.store().await?.users().await?;
            if *as_json {
                json(&users)?;
            } else if users.is_empty() {
                println!("no users yet: `rapport user add NAME --role admin` adds the first");
            } else {
                let width = users.iter().map(|u| u.name.len()).max().unwrap_or(0).max(4);
                println!("{:<width$}  {:<6}  {:<17}  STATE", "NAME", "ROLE", "ADDED");
                for u in &users {
                    println!(
                        "{:<width$}  {:<6}  {:<17}  {}",
                        u.name,
                        u.role.as_str(),
                        when(u.created_at),
                        if u.disabled { "disabled" } else { "active" }
                    );
                }
            }
        }
        UserCommand::Role { name, role } => {
            ctx.store().await?.set_role(name, *role).await?;
            println!("user {name} is now {role}");
        }
        UserCommand::Disable { name } => {
            ctx.store().await?.disable_user(name, ctx.now()?).await?;
            println!("user {name} disabled: their sessions ended and their API tokens are revoked");
        }
        UserCommand::Password {
            name,
            password_stdin,
        } => {
            let store = ctx.store().await?;
            if store.user(name).await?.is_none() {
                return Err(rapport_store::StoreError::UnknownUser(name.clone()).into());
            }
            let password = read_password(name, *password_stdin)?;
            store.set_password(name, &password).await?;
            println!("password of {name} changed: their sessions ended");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `rapport token …`.
pub async fn token(ctx: &Ctx, args: &TokenArgs) -> Result<ExitCode> {
    match &args.command {
        TokenCommand::Create { user, label } => {
            let store = ctx.store().await?;
            let (token, info) = store.create_token(user, label, ctx.now()?).await?;
            // Only the token on stdout, so `TOKEN=$(rapport token create --user ana)` works.
            println!("{token}");
            eprintln!(
                "API token {} for {} ({}): it is shown this once, keep it now; \
                 `rapport token revoke {}` revokes it",
                info.id, info.user, info.label, info.id
            );
        }
        TokenCommand::List {
            user,
            json: as_json,
        } => {
            let tokens = ctx.store().await?.tokens(user.as_deref()).await?;
            if *as_json {
                json(&tokens)?;
            } else if tokens.is_empty() {
                println!("no API tokens: `rapport token create --user NAME` creates one");
            } else {
                let user_w = tokens
                    .iter()
                    .map(|t| t.user.len())
                    .max()
                    .unwrap_or(0)
                    .max(4);
                let label_w = tokens
                    .iter()
                    .map(|t| t.label.chars().count())
                    .max()
                    .unwrap_or(0)
                    .max(5);
                println!(
                    "{:>4}  {:<user_w$}  {:<label_w$}  {:<17}  {:<17}  STATE",
                    "ID", "USER", "LABEL", "CREATED", "LAST USED"
                );
                for t in &tokens {
                    println!(
                        "{:>4}  {:<user_w$}  {:<label_w$}  {:<17}  {:<17}  {}",
                        t.id,
                        t.user,
                        t.label,
                        when(t.created_at),
                        t.last_used_at.map_or_else(|| "never".to_owned(), when),
                        if t.revoked { "revoked" } else { "active" }
                    );
                }
            }
        }
        TokenCommand::Revoke { id } => {
            ctx.store().await?.revoke_token(*id, ctx.now()?).await?;
            println!("API token {id} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%MZ").to_string()
}

/// The new password: the first line of stdin with `--password-stdin`, otherwise typed
/// twice on the terminal without echo.
fn read_password(name: &str, from_stdin: bool) -> Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin: write it there, on one line")?;
        let password = line.strip_suffix('\n').unwrap_or(&line);
        let password = password.strip_suffix('\r').unwrap_or(password);
        if password.is_empty() {
            bail!(
                "no password on stdin: write it there, on the first line (`--password-stdin` \
                 reads it from stdin)"
            );
        }
        return Ok(password.to_owned());
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "stdin is not a terminal, so the password cannot be typed: write it to stdin and \
             pass --password-stdin"
        );
    }
    let first = rpassword::prompt_password(format!("password for {name}: "))
        .context("cannot read the password from the terminal: pass --password-stdin")?;
    let chars = first.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        bail!(
            "the password has {chars} characters: use {MIN_PASSWORD_CHARS} to \
             {MAX_PASSWORD_CHARS}, and run the command again"
        );
    }
    let again = rpassword::prompt_password("again: ")
        .context("cannot read the password from the terminal: pass --password-stdin")?;
    if first != again {
        bail!("the two passwords differ: run the command again and type the same one twice");
    }
    Ok(first)
}
