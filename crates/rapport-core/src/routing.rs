//! Routing: `[[rule]]`s in `rapport.toml` pick a team (and may raise the priority, add
//! labels, or ask that leaders be notified); inside a team, conversations are assigned
//! round robin, skipping members at capacity.
//!
//! Rules are tried in the order they are written; the first whose `when` holds decides.
//! A rule with an empty `when` always holds, so a catch-all goes last.

use serde::{Deserialize, Serialize};

use crate::model::{Band, Intent, SentimentBand};

/// One value or a list of values in TOML (`intent = "lead"` or `intent = ["lead", "question"]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// A single value.
    One(T),
    /// Several values; any of them matches.
    Many(Vec<T>),
}

impl<T: PartialEq> OneOrMany<T> {
    /// Whether `value` is (one of) the values.
    pub fn contains(&self, value: &T) -> bool {
        match self {
            OneOrMany::One(v) => v == value,
            OneOrMany::Many(vs) => vs.contains(value),
        }
    }
}

/// The conditions of a rule; all that are given must hold.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct When {
    /// The message's intent is (one of) these.
    pub intent: Option<OneOrMany<Intent>>,
    /// The author has at least this many followers.
    pub min_followers: Option<u64>,
    /// The author has at most this many followers.
    pub max_followers: Option<u64>,
    /// The message came from (one of) these platforms.
    pub platform: Option<OneOrMany<String>>,
    /// The priority band is this urgent or more (`"P2"` matches P1 and P2).
    pub priority: Option<Band>,
    /// The sentiment band is this.
    pub sentiment: Option<SentimentBand>,
    /// The text contains any of these words or phrases (case-insensitive).
    pub text_contains: Option<Vec<String>>,
}

/// What a matching rule does.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Then {
    /// The team that owns the conversation.
    pub team: Option<String>,
    /// Raise the priority to at least this band.
    pub priority: Option<Band>,
    /// Who to notify at once (e.g. `"leaders"`); recorded as an event.
    pub notify: Option<String>,
    /// Labels to add.
    pub labels: Vec<String>,
}

/// A routing rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The rule's name, shown by `rapport explain`.
    pub name: String,
    /// Conditions; empty matches everything.
    #[serde(default)]
    pub when: When,
    /// Effects.
    #[serde(default)]
    pub then: Then,
}

/// What routing looks at.
#[derive(Debug, Clone, Copy)]
pub struct RouteInput<'a> {
    /// Intent of the message.
    pub intent: Intent,
    /// Priority band from the score.
    pub band: Band,
    /// Compound sentiment.
    pub compound: f64,
    /// Author's followers (0 when unknown).
    pub followers: u64,
    /// Platform name.
    pub platform: &'a str,
    /// The text.
    pub text: &'a str,
}

/// What routing decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteDecision {
    /// The rule that matched, if any.
    pub rule: Option<String>,
    /// The owning team, if a rule named one.
    pub team: Option<String>,
    /// The band after any raise by the rule.
    pub band: Band,
    /// Whether the rule raised the band.
    pub raised: bool,
    /// Who to notify.
    pub notify: Option<String>,
    /// Labels to add.
    pub labels: Vec<String>,
}

impl When {
    /// Whether every given condition holds.
    pub fn matches(&self, input: &RouteInput<'_>) -> bool {
        if let Some(i) = &self.intent
            && !i.contains(&input.intent)
        {
            return false;
        }
        if self.min_followers.is_some_and(|m| input.followers < m) {
            return false;
        }
        if self.max_followers.is_some_and(|m| input.followers > m) {
            return false;
        }
        if let Some(p) = &self.platform {
            let ok = match p {
                OneOrMany::One(v) => v.eq_ignore_ascii_case(input.platform),
                OneOrMany::Many(vs) => vs.iter().any(|v| v.eq_ignore_ascii_case(input.platform)),
            };
            if !ok {
                return false;
            }
        }
        if self.priority.is_some_and(|b| input.band > b) {
            return false;
        }
        if self
            .sentiment
            .is_some_and(|s| SentimentBand::of(input.compound) != s)
        {
            return false;
        }
        if let Some(words) = &self.text_contains {
            let lower = input.text.to_lowercase();
            if !words.iter().any(|w| lower.contains(&w.to_lowercase())) {
                return false;
            }
        }
        true
    }
}

/// Applies the first matching rule.
pub fn route(rules: &[Rule], input: &RouteInput<'_>) -> RouteDecision {
    for rule in rules {
        if rule.when.matches(input) {
            let band = match rule.then.priority {
                Some(b) if b < input.band => b,
                _ => input.band,
            };
            return RouteDecision {
                rule: Some(rule.name.clone()),
                team: rule.then.team.clone(),
                band,
                raised: band != input.band,
                notify: rule.then.notify.clone(),
                labels: rule.then.labels.clone(),
            };
        }
    }
    RouteDecision {
        rule: None,
        team: None,
        band: input.band,
        raised: false,
        notify: None,
        labels: Vec::new(),
    }
}

/// A team member as the assigner sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberLoad {
    /// The member's user name.
    pub name: String,
    /// The most open conversations they take; `None` is no limit.
    pub capacity: Option<u32>,
    /// Open conversations assigned to them now.
    pub open: u32,
}

/// Round robin: starting at `cursor`, the first member below capacity. Returns the
/// member's index and the cursor for the next assignment, or `None` when everyone is
/// at capacity (the conversation then waits in the team's queue, unassigned).
pub fn pick_assignee(members: &[MemberLoad], cursor: usize) -> Option<(usize, usize)> {
    let n = members.len();
    (0..n)
        .map(|k| (cursor + k) % n)
        .find(|&i| members[i].capacity.is_none_or(|c| members[i].open < c))
        .map(|i| (i, (i + 1) % n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct R {
        rule: Vec<Rule>,
    }

    /// The example rules of ARCHITECTURE.md, in JSON (the binary parses the TOML form).
    fn rules() -> Vec<Rule> {
        let json = r#"{"rule": [
          {"name": "high-reach complaint", "when": {"intent": "complaint", "min_followers": 100000},
           "then": {"team": "comms", "priority": "P1", "notify": "leaders"}},
          {"name": "purchase intent", "when": {"intent": ["lead"]}, "then": {"team": "sales", "labels": ["lead"]}},
          {"name": "everything else", "then": {"team": "care"}}
        ]}"#;
        serde_json::from_str::<R>(json).unwrap().rule
    }

    fn input(intent: Intent, followers: u64, band: Band) -> RouteInput<'static> {
        RouteInput {
            intent,
            band,
            compound: -0.5,
            followers,
            platform: "bluesky",
            text: "it broke",
        }
    }

    #[test]
    fn first_matching_rule_decides() {
        let r = rules();
        let d = route(&r, &input(Intent::Complaint, 250_000, Band::P2));
        assert_eq!(d.team.as_deref(), Some("comms"));
        assert_eq!(d.band, Band::P1);
        assert!(d.raised);
        assert_eq!(d.notify.as_deref(), Some("leaders"));
        let d = route(&r, &input(Intent::Complaint, 99_999, Band::P2));
        assert_eq!(d.team.as_deref(), Some("care"));
        assert_eq!(d.band, Band::P2);
        let d = route(&r, &input(Intent::Lead, 10, Band::P4));
        assert_eq!(d.rule.as_deref(), Some("purchase intent"));
        assert_eq!(d.labels, vec!["lead".to_string()]);
    }

    #[test]
    fn a_rule_never_lowers_priority() {
        let mut r = rules();
        r[0].then.priority = Some(Band::P3);
        let d = route(&r, &input(Intent::Complaint, 250_000, Band::P1));
        assert_eq!(d.band, Band::P1);
        assert!(!d.raised);
    }

    #[test]
    fn priority_condition_means_at_least_as_urgent() {
        let when = When {
            priority: Some(Band::P2),
            ..When::default()
        };
        assert!(when.matches(&input(Intent::Other, 0, Band::P1)));
        assert!(when.matches(&input(Intent::Other, 0, Band::P2)));
        assert!(!when.matches(&input(Intent::Other, 0, Band::P3)));
    }

    #[test]
    fn round_robin_skips_members_at_capacity() {
        let m = |name: &str, capacity: Option<u32>, open: u32| MemberLoad {
            name: name.into(),
            capacity,
            open,
        };
        let members = vec![m("ana", Some(2), 2), m("bo", Some(5), 1), m("cy", None, 40)];
        assert_eq!(pick_assignee(&members, 0), Some((1, 2)));
        assert_eq!(pick_assignee(&members, 2), Some((2, 0)));
        let full = vec![m("ana", Some(1), 1), m("bo", Some(0), 0)];
        assert_eq!(pick_assignee(&full, 1), None);
        assert_eq!(pick_assignee(&[], 0), None);
    }
}
