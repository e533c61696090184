//! The typed form of `rapport.toml`. Parsing the file and layering the environment over
//! it happen in the binary; here are the shapes, their defaults and their checks.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::channel::{ChannelConfig, ChannelError};
use crate::draft::{PublishingConfig, PublishingError};
use crate::guards::{CadenceConfig, CadenceError, EngagementConfig, EngagementConfigError};
use crate::ideas::{IdeaError, IdeasConfig};
use crate::intent::IntentConfig;
use crate::listening::{TopicConfig, TopicError, TopicMatcher};
use crate::principles::{Principle, PrincipleError};
use crate::priority::PriorityConfig;
use crate::relationship::{RelationshipConfig, RelationshipConfigError};
use crate::routing::Rule;
use crate::sla::{BusinessHours, Calendar, SlaPolicy};
use crate::spike::{AlertsConfig, AlertsConfigError};

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Who the organisation is.
    pub organisation: Organisation,
    /// Priority weights and bands.
    pub priority: PriorityConfig,
    /// Extra intent cues and thresholds.
    pub intent: IntentConfig,
    /// Default first-response SLA per band, in minutes.
    pub sla: SlaPolicy,
    /// Teams.
    #[serde(rename = "team")]
    pub teams: Vec<TeamConfig>,
    /// Routing rules, tried in order.
    #[serde(rename = "rule")]
    pub rules: Vec<Rule>,
    /// Where rapport listens and answers.
    #[serde(rename = "channel")]
    pub channels: Vec<ChannelConfig>,
    /// Listening queries: named topics matched on every message.
    #[serde(rename = "topic")]
    pub topics: Vec<TopicConfig>,
    /// Spike alerts.
    pub alerts: AlertsConfig,
    /// The organisation's principles: every outbound draft is checked against them.
    #[serde(rename = "principle")]
    pub principles: Vec<Principle>,
    /// How often a leader may publish key messages.
    pub cadence: CadenceConfig,
    /// The engagement ratio each account should keep when it broadcasts.
    pub engagement: EngagementConfig,
    /// Who may approve which kind of draft.
    pub publishing: PublishingConfig,
    /// Relationship strength, ROR and at-risk: weights and windows.
    pub relationships: RelationshipConfig,
    /// When a model learned from the team decides over the rules.
    pub learning: crate::learn::LearningConfig,
    /// The ideas loop: how ideas group, who decides, the replies drafted.
    pub ideas: IdeasConfig,
    /// The semantic layer: the embedding model and the features that use it.
    pub semantic: crate::semantic::SemanticConfig,
}

/// The `[organisation]` section.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Organisation {
    /// Display name.
    pub name: String,
    /// The organisation's own handles on every platform: what they write is outbound.
    pub accounts: Vec<String>,
    /// Handles of bots and auto-responders: what they write is outbound and automated,
    /// and never stops a response clock.
    pub bots: Vec<String>,
}

/// A `[[team]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamConfig {
    /// The team's name, used by rules and `--team`.
    pub name: String,
    /// Members, in round-robin order.
    #[serde(default)]
    pub members: Vec<MemberConfig>,
    /// This team's SLA policy, replacing the default one.
    #[serde(default)]
    pub sla: Option<SlaPolicy>,
    /// Business hours: when given, SLA clocks run only while the team is open.
    #[serde(default)]
    pub hours: Option<BusinessHours>,
}

/// A team member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberConfig {
    /// User name.
    pub name: String,
    /// The most open conversations they take at once; no limit when absent.
    #[serde(default)]
    pub capacity: Option<u32>,
}

/// A configuration that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The `[semantic]` section cannot work.
    #[error(transparent)]
    Semantic(crate::semantic::SemanticConfigError),
    /// A rule names a team that is not configured.
    #[error(
        "rule {rule:?} sends conversations to team {team:?}, which no [[team]] defines: add the team or fix the rule"
    )]
    UnknownTeam {
        /// The rule's name.
        rule: String,
        /// The team it names.
        team: String,
    },
    /// Two teams share a name.
    #[error("team {0:?} is defined twice: give each [[team]] its own name")]
    DuplicateTeam(String),
    /// A team's business hours are wrong.
    #[error("team {team:?}")]
    Hours {
        /// The team.
        team: String,
        /// What is wrong.
        source: crate::sla::SlaError,
    },
    /// The default SLA policy is wrong.
    #[error("[sla]")]
    Sla(#[source] crate::sla::SlaError),
    /// A channel is wrong.
    #[error(transparent)]
    Channel(#[from] ChannelError),
    /// A listening topic is wrong.
    #[error(transparent)]
    Topic(#[from] TopicError),
    /// The `[alerts]` section is wrong.
    #[error(transparent)]
    Alerts(#[from] AlertsConfigError),
    /// A `[[principle]]` is wrong.
    #[error(transparent)]
    Principle(#[from] PrincipleError),
    /// The `[cadence]` section is wrong.
    #[error(transparent)]
    Cadence(#[from] CadenceError),
    /// The `[engagement]` section is wrong.
    #[error(transparent)]
    Engagement(#[from] EngagementConfigError),
    /// The `[publishing]` section is wrong.
    #[error(transparent)]
    Publishing(#[from] PublishingError),
    /// The `[relationships]` section is wrong.
    #[error(transparent)]
    Relationships(#[from] RelationshipConfigError),
    /// The `[ideas]` section is wrong.
    #[error(transparent)]
    Ideas(#[from] IdeaError),
    /// Band thresholds out of order.
    #[error("[priority.bands] must have p1 > p2 > p3 (got {p1}, {p2}, {p3})")]
    Bands {
        /// P1 threshold.
        p1: f64,
        /// P2 threshold.
        p2: f64,
        /// P3 threshold.
        p3: f64,
    },
}

impl Config {
    /// Checks what serde cannot: teams named by rules exist, hours parse, bands are
    /// ordered, principles, cadence, engagement and publishing are in range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.sla.validate().map_err(ConfigError::Sla)?;
        self.semantic.validate().map_err(ConfigError::Semantic)?;
        let mut seen = HashSet::new();
        for team in &self.teams {
            if let Some(sla) = &team.sla {
                sla.validate().map_err(|source| ConfigError::Hours {
                    team: team.name.clone(),
                    source,
                })?;
            }
            if !seen.insert(team.name.as_str()) {
                return Err(ConfigError::DuplicateTeam(team.name.clone()));
            }
            if let Some(h) = &team.hours {
                h.validate().map_err(|source| ConfigError::Hours {
                    team: team.name.clone(),
                    source,
                })?;
            }
        }
        for rule in &self.rules {
            if let Some(t) = &rule.then.team
                && !seen.contains(t.as_str())
            {
                return Err(ConfigError::UnknownTeam {
                    rule: rule.name.clone(),
                    team: t.clone(),
                });
            }
        }
        let mut names = HashSet::new();
        for channel in &self.channels {
            if !names.insert(channel.name.as_str()) {
                return Err(ChannelError::Duplicate(channel.name.clone()).into());
            }
            channel.validate()?;
        }
        TopicMatcher::new(&self.topics)?;
        self.alerts.validate()?;
        crate::principles::validate(&self.principles)?;
        self.cadence.validate()?;
        self.engagement.validate()?;
        self.publishing.validate()?;
        self.relationships.validate()?;
        self.ideas.validate()?;
        let b = &self.priority.bands;
        if !(b.p1 > b.p2 && b.p2 > b.p3) {
            return Err(ConfigError::Bands {
                p1: b.p1,
                p2: b.p2,
                p3: b.p3,
            });
        }
        Ok(())
    }

    /// The team of that name.
    pub fn team(&self, name: &str) -> Option<&TeamConfig> {
        self.teams.iter().find(|t| t.name == name)
    }

    /// The SLA policy of a team (its own, else the default).
    pub fn sla_for(&self, team: Option<&str>) -> &SlaPolicy {
        team.and_then(|t| self.team(t))
            .and_then(|t| t.sla.as_ref())
            .unwrap_or(&self.sla)
    }

    /// The business-hours calendar of a team, if it has valid hours.
    pub fn calendar_for(&self, team: Option<&str>) -> Option<Calendar> {
        team.and_then(|t| self.team(t))
            .and_then(|t| t.hours.as_ref())
            .and_then(|h| h.validate().ok())
    }

    /// Whether a handle is one of the organisation's own accounts (bots included).
    pub fn is_own_account(&self, handle: &str) -> bool {
        let o = &self.organisation;
        same_handle_in(&o.accounts, handle) || same_handle_in(&o.bots, handle)
    }

    /// Whether a handle is one of the organisation's bots.
    pub fn is_bot(&self, handle: &str) -> bool {
        same_handle_in(&self.organisation.bots, handle)
    }
}

fn same_handle_in(list: &[String], handle: &str) -> bool {
    let h = handle.trim_start_matches('@');
    list.iter()
        .any(|a| a.trim_start_matches('@').eq_ignore_ascii_case(h))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::access::Role;
    use crate::draft::DraftKind;

    #[test]
    fn a_config_without_the_talk_sections_still_loads_with_their_defaults() {
        let c: Config = toml::from_str("[organisation]\nname = \"Acme\"\n").unwrap();
        assert!(c.principles.is_empty());
        assert_eq!(c.cadence, CadenceConfig::default());
        assert_eq!(c.engagement, EngagementConfig::default());
        assert_eq!(c.publishing, PublishingConfig::default());
        assert!(c.validate().is_ok());
        assert!(Config::default().validate().is_ok());
    }

    #[test]
    fn the_talk_sections_from_toml() {
        let c: Config = toml::from_str(
            r##"
[[principle]]
name = "honest"
statement = "We say when we are paid."
required_disclosure = "#ad"
no_outcome_promises = true

[[principle]]
name = "kind"
statement = "No hostile replies."
min_sentiment = -0.05

[cadence]
key_messages_per_day = 1
timezone = "Europe/Paris"

[engagement]
target = 0.75

[publishing.approvers]
broadcast = "leader"
"##,
        )
        .unwrap();
        c.validate().unwrap();
        assert_eq!(c.principles.len(), 2);
        assert_eq!(c.principles[1].min_sentiment, Some(-0.05));
        assert_eq!(c.cadence.key_messages_per_day, 1);
        assert_eq!(c.cadence.key_messages_per_week, 6);
        assert_eq!(c.engagement.target, 0.75);
        assert_eq!(c.engagement.window_days, 30);
        assert_eq!(c.publishing.approver(DraftKind::Broadcast), Role::Leader);
        assert_eq!(c.publishing.approver(DraftKind::KeyMessage), Role::Leader);
    }

    #[test]
    fn validate_reports_the_talk_sections() {
        let mut c = Config::default();
        c.cadence.timezone = "Nowhere".into();
        assert!(matches!(c.validate(), Err(ConfigError::Cadence(_))));
        let mut c = Config::default();
        c.engagement.target = 1.5;
        assert!(matches!(c.validate(), Err(ConfigError::Engagement(_))));
        let c = Config {
            principles: vec![Principle::new("a", "x"), Principle::new("a", "y")],
            ..Config::default()
        };
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "[[principle]] \"a\" is defined twice: give each principle its own name"
        );
        let mut c = Config::default();
        c.publishing.approvers.key_message = Role::Viewer;
        assert!(matches!(c.validate(), Err(ConfigError::Publishing(_))));
    }
}
