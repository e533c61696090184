//! Loading `rapport.toml`: defaults, then the file, then `RAPPORT_<SECTION>__<KEY>`
//! environment variables. The loader takes the environment as a map so tests never
//! touch the process environment.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use rapport_core::config::Config;

/// The commented configuration `rapport init` writes.
pub const DEFAULT_CONFIG: &str = include_str!("default_config.toml");

/// The sections an environment variable may set (`RAPPORT_<SECTION>__<KEY>`); other
/// `RAPPORT_*` variables (`RAPPORT_DATA_DIR`, `RAPPORT_NOW`, ...) are not configuration.
const SECTIONS: &[&str] = &[
    "organisation",
    "priority",
    "intent",
    "sla",
    "alerts",
    "cadence",
    "engagement",
    "publishing",
    "relationships",
    "learning",
    "ideas",
    "semantic",
];

/// Parses configuration text with the environment layered over it.
pub fn parse(text: &str, origin: &str, env: &BTreeMap<String, String>) -> Result<Config> {
    let mut value: toml::Table = toml::from_str(text)
        .with_context(|| format!("{origin} is not valid TOML: fix the line it names"))?;
    for (key, raw) in env {
        let Some(path) = key.strip_prefix("RAPPORT_") else {
            continue;
        };
        let parts: Vec<String> = path.split("__").map(|p| p.to_ascii_lowercase()).collect();
        if parts.len() < 2 || !SECTIONS.contains(&parts[0].as_str()) {
            continue;
        }
        set_path(&mut value, &parts, raw).with_context(|| format!("environment variable {key}"))?;
    }
    let config: Config = toml::Value::Table(value).try_into().with_context(|| {
        format!("{origin} does not match rapport's configuration: see docs/configuration.md")
    })?;
    config
        .validate()
        .with_context(|| format!("{origin} is not a working configuration"))?;
    Ok(config)
}

fn set_path(table: &mut toml::Table, parts: &[String], raw: &str) -> Result<()> {
    let Some((last, rest)) = parts.split_last() else {
        bail!("names no key");
    };
    let mut t = table;
    for p in rest {
        let entry = t
            .entry(p.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = match entry {
            toml::Value::Table(inner) => inner,
            _ => bail!("{p} is not a section"),
        };
    }
    // The value as TOML if it parses as one (numbers, booleans, arrays), else a string.
    let parsed = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    t.insert(last.clone(), parsed);
    Ok(())
}

/// Loads the configuration file, or the defaults when there is none.
pub fn load(path: &Path, env: &BTreeMap<String, String>) -> Result<Config> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text, &path.display().to_string(), env),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            parse(DEFAULT_CONFIG, "the built-in default configuration", env)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// The process environment's `RAPPORT_*` variables.
pub fn process_env() -> BTreeMap<String, String> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with("RAPPORT_"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_core::Band;

    #[test]
    fn default_config_parses_and_matches_core_defaults() {
        let c = parse(DEFAULT_CONFIG, "default", &BTreeMap::new()).unwrap();
        // The file's numbers are the same as the code's defaults: the docs cannot drift.
        let d = Config::default();
        assert_eq!(c.priority, d.priority);
        assert_eq!(c.sla, d.sla);
        assert_eq!(c.semantic, d.semantic);
        assert_eq!(c.ideas.semantic_similarity, d.ideas.semantic_similarity);
        assert_eq!(c.intent.complaint_compound, d.intent.complaint_compound);
        assert_eq!(c.intent.praise_compound, d.intent.praise_compound);
        assert!(c.teams.iter().any(|t| t.name == "care"));
        assert_eq!(c.rules.last().unwrap().name, "everything else");
    }

    #[test]
    fn environment_overrides_keys() {
        let env: BTreeMap<String, String> = [
            ("RAPPORT_PRIORITY__BANDS__P1".to_string(), "25".to_string()),
            (
                "RAPPORT_ORGANISATION__NAME".to_string(),
                "Lumen Ltd".to_string(),
            ),
            ("RAPPORT_DATA_DIR".to_string(), "/tmp/x".to_string()),
            (
                "RAPPORT_TEST_DATABASE_URL".to_string(),
                "postgres://x".to_string(),
            ),
        ]
        .into();
        let c = parse(DEFAULT_CONFIG, "default", &env).unwrap();
        assert_eq!(c.priority.bands.p1, 25.0);
        assert_eq!(c.organisation.name, "Lumen Ltd");
        assert_eq!(c.priority.bands.band(24.0), Band::P2);
    }

    /// The default file with the commented example block that starts at `marker`
    /// (up to the next blank line) uncommented.
    fn uncommented(marker: &str) -> String {
        let start = DEFAULT_CONFIG.find(marker).unwrap();
        let len = DEFAULT_CONFIG[start..]
            .find("\n\n")
            .unwrap_or(DEFAULT_CONFIG.len() - start);
        let examples: String = DEFAULT_CONFIG[start..start + len]
            .lines()
            .map(|l| l.trim_start_matches('#').trim_start())
            .collect::<Vec<_>>()
            .join("\n");
        format!(
            "{}\n{examples}\n{}",
            &DEFAULT_CONFIG[..start],
            &DEFAULT_CONFIG[start + len..]
        )
    }

    #[test]
    fn the_commented_channel_examples_are_valid() {
        // Uncommenting the examples of the default file gives a working configuration.
        let c = parse(
            &uncommented("# [[channel]]"),
            "uncommented default",
            &BTreeMap::new(),
        )
        .unwrap();
        assert_eq!(c.channels.len(), 4);
    }

    #[test]
    fn the_commented_topic_examples_are_valid() {
        let c = parse(
            &uncommented("# [[topic]]"),
            "uncommented default",
            &BTreeMap::new(),
        )
        .unwrap();
        assert_eq!(c.topics.len(), 2);
        assert_eq!(c.alerts.bucket_minutes, 5);
    }

    #[test]
    fn the_commented_principle_examples_are_valid() {
        let c = parse(
            &uncommented("# [[principle]]"),
            "uncommented default",
            &BTreeMap::new(),
        )
        .unwrap();
        assert_eq!(c.principles.len(), 3);
        assert_eq!(c.cadence.key_messages_per_day, 2);
        assert_eq!(c.engagement.target, 0.8);
    }

    #[test]
    fn unknown_team_in_rule_is_an_error() {
        let text = "[[rule]]\nname = \"x\"\nthen = { team = \"nope\" }\n";
        let err = parse(text, "t.toml", &BTreeMap::new()).unwrap_err();
        assert!(format!("{err:#}").contains("nope"), "{err:#}");
    }
}
