//! `rapport demo`: a realistic data set with a fixed seed, triaged and routed through the
//! same pipeline as an import, then a summary a newcomer can read.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use rapport_core::metrics::{Period, report};
use rapport_core::{Band, Status};
use rapport_store::{HistoryItem, InboxFilter, Store};
use serde_json::json;

use super::Ctx;
use crate::cli::DemoArgs;
use crate::demo_data::generate;
use crate::output::{json, opt_duration, pct};
use rapport_server::pipeline::Pipeline;

/// The demo configuration: the default one, speaking for the demo's organisation and
/// staffed by the agents who answer in the demo data.
pub(crate) fn demo_config(accounts: &[String]) -> String {
    let list = accounts
        .iter()
        .map(|a| format!("{a:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut text = crate::config::DEFAULT_CONFIG
        .replace("name = \"Example Org\"", "name = \"Lumen\"")
        .replace(
            "accounts = [\"example.bsky.social\", \"example@mastodon.social\"]",
            &format!("accounts = [{list}]"),
        );
    for (team, members) in crate::demo_data::teams() {
        let capacity = if team == "care" { 60 } else { 40 };
        let members = members
            .iter()
            .map(|m| format!("{{ name = {m:?}, capacity = {capacity} }}"))
            .collect::<Vec<_>>()
            .join(", ");
        let header = format!("[[team]]\nname = {team:?}\nmembers = [");
        if let Some(start) = text.find(&header) {
            let from = start + header.len() - 1;
            if let Some(len) = text[from..].find(']') {
                text.replace_range(from..=from + len, &format!("[{members}]"));
            }
        }
    }
    text.push_str(DEMO_TOPICS);
    text
}

/// What the demo listens for: Lumen, two of its products, and the brands people
/// compare it with.
const DEMO_TOPICS: &str = r##"
[[topic]]
name = "lumen"
kind = "brand"
any = ["lumen", "@lumen.bsky.social", "@lumen.example", "@lumen", "#lumenlights"]

[[topic]]
name = "firmware"
kind = "product"
any = ["firmware", "update", "4.2"]

[[topic]]
name = "lightstrip"
kind = "product"
any = ["lightstrip", "lightstrip plus", "outdoor strip"]

[[topic]]
name = "philips-hue"
kind = "competitor"
any = ["philips hue", "hue"]

[[topic]]
name = "lifx"
kind = "competitor"
any = ["lifx"]

[[topic]]
name = "nanoleaf"
kind = "competitor"
any = ["nanoleaf"]

[[topic]]
name = "govee"
kind = "competitor"
any = ["govee"]
"##;

pub async fn run(ctx: &Ctx, args: &DemoArgs) -> Result<ExitCode> {
    let started = Instant::now();
    if let Ok(existing) = ctx.store().await {
        let s = existing.summary().await?;
        if s.messages > 0 {
            bail!(
                "{} already holds a store with {} messages: the demo needs an empty store; run `rapport --data-dir ./demo-data demo`, or delete {} first",
                ctx.store_location(),
                s.messages,
                ctx.store_location()
            );
        }
    }
    let now = ctx.now()?;
    let store = ctx.create_store().await?;
    let data = generate(args.seed, now);
    if !ctx.config_path.exists() {
        std::fs::write(&ctx.config_path, demo_config(&data.org_accounts))
            .with_context(|| format!("cannot write {}", ctx.config_path.display()))?;
    }
    let config = ctx.config()?;
    let pipeline = Pipeline::new(&config)?;
    let mut ingestor = store.ingestor(&config).await?;

    // Replay history in time order: messages, and the team resolving conversations,
    // interleaved so that members' loads (and so round-robin assignment) stay true.
    let mut items: Vec<(chrono::DateTime<chrono::Utc>, u8, HistoryItem)> =
        Vec::with_capacity(data.messages.len() + data.resolutions.len());
    for m in data.messages {
        items.push((
            m.created_at,
            0,
            HistoryItem::Message(Box::new(pipeline.prepare(m))),
        ));
    }
    for r in data.resolutions.into_iter().filter(|r| r.at <= now) {
        items.push((
            r.at,
            1,
            HistoryItem::Resolve {
                platform: r.platform,
                platform_id: r.root_platform_id,
                at: r.at,
                actor: r.actor,
            },
        ));
    }
    // Stable: messages keep the generator's order; a resolution at the same instant as a
    // message comes after it.
    items.sort_by_key(|(at, kind, _)| (*at, *kind));
    let items: Vec<HistoryItem> = items.into_iter().map(|(_, _, item)| item).collect();
    let (mut stored, mut resolved) = (0u64, 0u64);
    for chunk in items.chunks(4096) {
        let (out, r) = ingestor.write_history(chunk).await?;
        stored += out.inserted;
        resolved += r;
    }
    let elapsed = started.elapsed();

    let summary = store.summary().await?;
    let facts = store.report_facts(None, None, None).await?;
    let rep = report(
        &facts.conversations,
        &facts.outbound,
        &facts.inbound,
        &Period::default(),
        now,
    );
    let p1 = store
        .inbox(&InboxFilter {
            status: Some(Status::Open),
            band: Some(Band::P1),
            limit: 5,
            by_score: true,
            after: None,
            ..InboxFilter::default()
        })
        .await?;
    let relationships = rapport_server::relationships::ror_report(&store, &config, now, 5).await?;
    if args.json {
        json(&json!({
            "relationships": relationships,
            "data_dir": ctx.data_dir,
            "seconds": elapsed.as_secs_f64(),
            "stored": stored,
            "resolved": resolved,
            "summary": summary,
            "report": rep,
            "top_p1": p1,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    let dir = ctx.data_dir.display();
    println!("rapport demo: Lumen, a (made-up) maker of smart lighting, over the last 90 days");
    println!(
        "  {} messages ({} inbound) from {} people on {} platforms → {} conversations, in {:.1}s",
        summary.messages,
        summary.inbound,
        summary.people,
        summary.by_platform.len(),
        summary.conversations,
        elapsed.as_secs_f64()
    );
    let fmt = |m: &std::collections::BTreeMap<String, i64>| {
        m.iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("  platforms:        {}", fmt(&summary.by_platform));
    println!("  intent:           {}", fmt(&summary.by_intent));
    println!("  status:           {}", fmt(&summary.by_status));
    println!("  still open, team: {}", fmt(&summary.open_by_team));
    println!("  still open, band: {}", fmt(&summary.open_by_priority));
    println!("\nhow the team did (every number defined in docs/metrics.md):");
    println!(
        "  response rate {}, first response median {} (p90 {}), SLA attainment {}, engagement ratio {}, net sentiment {}",
        pct(rep.overall.response_rate),
        opt_duration(rep.overall.frt_median_s),
        opt_duration(rep.overall.frt_p90_s),
        pct(rep.overall.sla_attainment),
        pct(rep.engagement_ratio),
        rep.net_sentiment
            .map(|v| format!("{v:+.3}"))
            .unwrap_or_else(|| "-".into()),
    );
    println!(
        "  return on relationship {:.3} over {} people active in {} days: {} advocates, {} relationships at risk (docs/people.md)",
        relationships.ror.ror,
        relationships.ror.active,
        relationships.window_days,
        relationships.ror.advocates,
        relationships.ror.at_risk
    );
    println!("\nthe open P1 conversations with the highest priority scores:");
    super::inbox::print_rows(&p1, now);
    if p1.is_empty() {
        println!("  none open");
    }
    let first = p1.first().map(|c| c.id).unwrap_or(1);
    println!("\nwhat to run next:");
    println!("  rapport --data-dir {dir} inbox                  the inbox, most urgent first");
    println!("  rapport --data-dir {dir} inbox --team comms     one team's queue");
    println!("  rapport --data-dir {dir} show {first}                 a thread with its events");
    println!(
        "  rapport --data-dir {dir} explain {first}              why it is {}",
        p1.first()
            .map(|c| c.priority.as_str())
            .unwrap_or("where it is")
    );
    println!("  rapport --data-dir {dir} report --since 7d      last week's numbers");
    if let Some(a) = relationships.top_advocates.first() {
        println!(
            "  rapport --data-dir {dir} person {:<10}        {}'s relationship: ledger, strength, timeline",
            a.person_id, a.name
        );
    }
    println!(
        "  rapport --data-dir {dir} reply {first} \"Sorry about this, we're on it\" --as mara"
    );
    if args.no_serve {
        store.close().await;
        return Ok(ExitCode::SUCCESS);
    }
    serve(ctx, store, &args.listen, first).await
}

/// Ends the demo by serving its data, with an admin login made for it.
async fn serve(ctx: &Ctx, store: Store, listen: &str, first: i64) -> Result<ExitCode> {
    use rand::Rng as _;
    let password: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(16)
        .map(char::from)
        .collect();
    let now = chrono::Utc::now();
    store
        .add_user("demo", rapport_core::access::Role::Admin, &password, now)
        .await?;
    let (token, _) = store.create_token("demo", "demo", now).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| {
            format!(
                "the demo data is stored, but cannot serve it on {listen}: run `rapport --data-dir {} serve --listen HOST:PORT` with a free port",
                ctx.data_dir.display()
            )
        })?;
    let addr = listener.local_addr()?;
    println!("\nserving the demo data (Ctrl-C stops it):");
    println!("  open http://{addr}/ in a browser and log in as demo / {password} (admin)");
    println!("  or use the REST API with this token:");
    println!(
        "  curl -s -H 'Authorization: Bearer {token}' 'http://{addr}/api/v1/conversations?priority=P1&limit=5'"
    );
    println!(
        "  curl -s -H 'Authorization: Bearer {token}' http://{addr}/api/v1/conversations/{first}"
    );
    println!("  the API is described at http://{addr}/api/v1/openapi.json (docs/api.md)");
    let config = ctx.config()?;
    let mut state = rapport_server::AppState::new(store, config);
    if let Some(embedder) = super::semantic::for_server(ctx, state.config()) {
        state = state.with_embedder(embedder);
    }
    rapport_server::serve_with_listener(listener, state, super::serve::shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_config_is_staffed_by_the_demo_agents() {
        let text = demo_config(&["lumen.bsky.social".to_string()]);
        let config = crate::config::parse(&text, "demo", &Default::default()).unwrap();
        assert_eq!(config.organisation.name, "Lumen");
        assert!(config.is_own_account("lumen.bsky.social"));
        for (team, members) in crate::demo_data::teams() {
            let names: Vec<&str> = config
                .team(team)
                .unwrap()
                .members
                .iter()
                .map(|m| m.name.as_str())
                .collect();
            assert_eq!(names, members, "{team}");
        }
    }
}
