//! `rapport triage`: stdin to stdout, one JSON object per input line, in order, in
//! constant memory. The same triage code as import.

use std::io::{BufRead, BufWriter, Write};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use rapport_core::triage::{Reach, Triage, Triager};
use serde::Serialize;

use super::Ctx;

#[derive(Serialize)]
struct Out<'a> {
    compound: f64,
    pos: f64,
    neu: f64,
    neg: f64,
    sentiment: &'static str,
    intent: &'static str,
    intent_rule: &'a str,
    intent_weight: f64,
    negativity: f64,
    reach: f64,
    velocity: f64,
    priority_score: f64,
    priority: &'static str,
}

impl<'a> Out<'a> {
    fn from(t: &'a Triage) -> Self {
        Out {
            compound: t.scores.compound,
            pos: t.scores.pos,
            neu: t.scores.neu,
            neg: t.scores.neg,
            sentiment: t.scores.band().as_str(),
            intent: t.intent.intent.as_str(),
            intent_rule: &t.intent.rule,
            intent_weight: t.priority.intent_weight,
            negativity: t.priority.negativity,
            reach: t.priority.reach,
            velocity: t.priority.velocity,
            priority_score: t.priority.score,
            priority: t.priority.band.as_str(),
        }
    }
}

fn count(v: &serde_json::Value, key: &str) -> u64 {
    match v.get(key) {
        Some(serde_json::Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().map(|f| f.max(0.0) as u64))
            .unwrap_or(0),
        Some(serde_json::Value::String(s)) => s
            .trim()
            .replace(',', "")
            .parse::<f64>()
            .map(|f| f.max(0.0) as u64)
            .unwrap_or(0),
        _ => 0,
    }
}

pub fn run(ctx: &Ctx, jsonl: bool) -> Result<ExitCode> {
    // The configuration is optional here: triage works with the defaults anywhere.
    let config = if ctx.config_path.exists() {
        ctx.config()?
    } else {
        rapport_core::config::Config::default()
    };
    let triager = Triager::new(&config.intent, &config.priority)?;
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut buf = Vec::with_capacity(4096);
    let mut line_no = 0u64;
    let mut bad = 0u64;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf).context("reading stdin")? == 0 {
            break;
        }
        line_no += 1;
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        let text = String::from_utf8_lossy(&buf);
        if jsonl {
            match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(v) => match v.get("text").and_then(|t| t.as_str()) {
                    Some(t) => {
                        let reach = Reach {
                            followers: count(&v, "followers"),
                            reshares: count(&v, "reshares"),
                            replies: count(&v, "replies"),
                        };
                        let triage = triager.triage(t, reach);
                        serde_json::to_writer(&mut out, &Out::from(&triage))?;
                    }
                    None => {
                        bad += 1;
                        serde_json::to_writer(
                            &mut out,
                            &serde_json::json!({"error": format!("line {line_no}: no string field \"text\"")}),
                        )?;
                    }
                },
                Err(e) => {
                    bad += 1;
                    serde_json::to_writer(
                        &mut out,
                        &serde_json::json!({"error": format!("line {line_no}: not JSON: {e}")}),
                    )?;
                }
            }
        } else {
            let triage = triager.triage(&text, Reach::default());
            serde_json::to_writer(&mut out, &Out::from(&triage))?;
        }
        out.write_all(b"\n")?;
    }
    out.flush()?;
    if bad > 0 {
        eprintln!(
            "rapport: {bad} of {line_no} lines could not be triaged (see the \"error\" objects)"
        );
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}
