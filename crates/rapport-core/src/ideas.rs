//! The ideas loop ("embrace"): inbound messages of intent `idea` become idea items,
//! grouped by similarity; an item has a status (`new`, `planned`, `shipped`,
//! `declined`), and when the status changes everyone who raised the idea gets a reply
//! drafted from the `[ideas.replies]` templates.
//!
//! The rules, all pure:
//!
//! - **Words.** A text's content words are [`crate::digest::idea_words`] (lower case,
//!   mentions, hashtags and links dropped, three letters or more, stop words dropped)
//!   without the organisation's own name and handles ([`ignored_words`]), each lightly
//!   stemmed ([`stem`]: `exports`, `exporting`, `exported` → `export`).
//! - **Similarity** of two texts is the cosine of their word counts, in [0, 1]: 1 for the
//!   same words, 0 for none shared. The cosine rather than Jaccard, so that a long
//!   message that says the idea among other things still matches a short one.
//! - **Grouping** ([`Grouper`]): each new idea message, in the order they arrived, joins
//!   the item holding the message most similar to it (single link: an item is as close
//!   as its closest message) when that similarity is at least `[ideas] similarity`
//!   (0.5 by default); otherwise it starts an item of its own. Ties go to the oldest item
//!   (lowest id), so the same messages always group the same way. A message with no
//!   content word at all starts an item of its own.
//! - **Title**: the first message's text on one line, without leading mentions and
//!   links, cut at [`TITLE_CHARS`] characters.
//! - **Statuses**: any status may move to any other ([`check_change`]): a planned idea
//!   may be declined after all, a declined one shipped. Setting an item's status to the
//!   one it has is not a change; it only drafts the replies still missing (someone who
//!   raised the idea since).
//! - **Replies**: moving to `planned`, `shipped` or `declined` drafts one reply per
//!   person from that status's template ([`reply_text`]); moving back to `new` drafts
//!   none. A person gets at most one reply per item and status, ever (the store keeps
//!   the record). Replies are threaded under the person's own message, so a template
//!   need not name them: Mastodon replies get the person's mention added when sent, and
//!   Bluesky replies are threaded; `{handle}` is there for a template that wants it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::access::Role;
use crate::config::Organisation;
use crate::digest::{idea_words, one_line};

/// The most characters of an item's title.
pub const TITLE_CHARS: usize = 80;

/// Where an idea item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdeaStatus {
    /// Raised, not decided.
    New,
    /// The organisation means to do it.
    Planned,
    /// Done.
    Shipped,
    /// The organisation will not do it.
    Declined,
}

impl IdeaStatus {
    /// Every status, in the order of the loop.
    pub const ALL: [IdeaStatus; 4] = [
        IdeaStatus::New,
        IdeaStatus::Planned,
        IdeaStatus::Shipped,
        IdeaStatus::Declined,
    ];

    /// The name, as stored and as typed: `new`, `planned`, `shipped`, `declined`.
    pub fn as_str(self) -> &'static str {
        match self {
            IdeaStatus::New => "new",
            IdeaStatus::Planned => "planned",
            IdeaStatus::Shipped => "shipped",
            IdeaStatus::Declined => "declined",
        }
    }
}

impl fmt::Display for IdeaStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IdeaStatus {
    type Err = IdeaError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        IdeaStatus::ALL
            .into_iter()
            .find(|x| x.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| IdeaError::UnknownStatus(s.to_string()))
    }
}

/// What is wrong with an idea decision or the `[ideas]` section.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IdeaError {
    /// Not one of the four statuses.
    #[error("{0:?} is not an idea status: write new, planned, shipped or declined")]
    UnknownStatus(String),
    /// `[ideas] similarity` out of range.
    #[error("[ideas] similarity = {0}: write a number above 0 and at most 1 (0.5 by default)")]
    Similarity(f64),
    /// `[ideas] semantic_similarity` out of range.
    #[error(
        "[ideas] semantic_similarity = {0}: write a number above 0 and at most 1 (0.5 by default)"
    )]
    SemanticSimilarity(f64),
    /// A reply template is empty or names a placeholder there is no value for.
    #[error("[ideas.replies] {status}: {reason}")]
    Template {
        /// The template's status.
        status: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The role may not change an idea's status.
    #[error(
        "a {role} may not change an idea's status: [ideas] status_role asks for a {needed} or above"
    )]
    NotAllowed {
        /// The user's role.
        role: Role,
        /// The least role that may.
        needed: Role,
    },
}

/// The `[ideas]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdeasConfig {
    /// How similar (cosine of content words, 0–1) a new idea message must be to an
    /// item's closest message to join it.
    pub similarity: f64,
    /// With the semantic layer on (docs/semantic.md): how similar (cosine of the
    /// messages' sentence embeddings, 0–1) a new idea message must be to an item's
    /// closest message to join it; used instead of `similarity`.
    pub semantic_similarity: f64,
    /// The least role that may change an idea's status.
    pub status_role: Role,
    /// The reply drafted to each person who raised an idea, per new status.
    pub replies: ReplyTemplates,
}

impl Default for IdeasConfig {
    fn default() -> Self {
        Self {
            similarity: 0.5,
            semantic_similarity: 0.5,
            status_role: Role::Agent,
            replies: ReplyTemplates::default(),
        }
    }
}

/// `[ideas.replies]`: a template per status; `{idea}` is the item's title, `{handle}`
/// the person's handle (without `@`) on the platform answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReplyTemplates {
    /// When an idea is planned.
    pub planned: String,
    /// When it shipped.
    pub shipped: String,
    /// When it is declined.
    pub declined: String,
}

impl Default for ReplyTemplates {
    fn default() -> Self {
        Self {
            planned: "You suggested \u{201c}{idea}\u{201d} \u{2014} it's on our plan now. Thank you for the idea!".into(),
            shipped: "You suggested \u{201c}{idea}\u{201d} \u{2014} we've shipped it. Thank you!".into(),
            declined: "You suggested \u{201c}{idea}\u{201d}. We thought hard about it and decided not to do it for now \u{2014} thank you for telling us, and keep the ideas coming.".into(),
        }
    }
}

impl ReplyTemplates {
    /// The template of a status; `None` for `new`.
    pub fn of(&self, status: IdeaStatus) -> Option<&str> {
        match status {
            IdeaStatus::New => None,
            IdeaStatus::Planned => Some(&self.planned),
            IdeaStatus::Shipped => Some(&self.shipped),
            IdeaStatus::Declined => Some(&self.declined),
        }
    }
}

/// The placeholders a template may use.
const PLACEHOLDERS: [&str; 2] = ["idea", "handle"];

impl IdeasConfig {
    /// Checks the threshold's range and each template's placeholders.
    pub fn validate(&self) -> Result<(), IdeaError> {
        if !(self.similarity > 0.0 && self.similarity <= 1.0) {
            return Err(IdeaError::Similarity(self.similarity));
        }
        if !(self.semantic_similarity > 0.0 && self.semantic_similarity <= 1.0) {
            return Err(IdeaError::SemanticSimilarity(self.semantic_similarity));
        }
        for status in [
            IdeaStatus::Planned,
            IdeaStatus::Shipped,
            IdeaStatus::Declined,
        ] {
            let t = self.replies.of(status).unwrap_or_default();
            let err = |reason: String| IdeaError::Template {
                status: status.as_str(),
                reason,
            };
            if t.trim().is_empty() {
                return Err(err(
                    "the template is empty: write the reply, with {idea} where the idea goes"
                        .into(),
                ));
            }
            let mut rest = t;
            while let Some(open) = rest.find('{') {
                let after = &rest[open + 1..];
                let close = after.find('}').ok_or_else(|| {
                    err(format!(
                        "a {{ is never closed in {t:?}: write {{idea}} or {{handle}}"
                    ))
                })?;
                let name = &after[..close];
                if !PLACEHOLDERS.contains(&name) {
                    return Err(err(format!(
                        "{{{name}}} is not a placeholder: write {{idea}} (the idea's title) or {{handle}} (the person's handle)"
                    )));
                }
                rest = &after[close + 1..];
            }
        }
        Ok(())
    }

    /// Whether a user with `role` may change an idea's status.
    pub fn check_role(&self, role: Role) -> Result<(), IdeaError> {
        if rank(role) >= rank(self.status_role) {
            Ok(())
        } else {
            Err(IdeaError::NotAllowed {
                role,
                needed: self.status_role,
            })
        }
    }
}

fn rank(role: Role) -> u8 {
    match role {
        Role::Admin => 3,
        Role::Leader => 2,
        Role::Agent => 1,
        Role::Viewer => 0,
    }
}

/// A light stemmer: plural and verb endings off (`ies` → `y`, `s`, `ing`, `ed`), then a
/// final `e`, keeping at least three letters. `themes`/`theme` → `them`,
/// `exporting`/`exports` → `export`. Cheap, and only ever compared with itself.
pub fn stem(word: &str) -> String {
    let mut w = word.to_string();
    let len = |s: &str| s.chars().count();
    if let Some(base) = w.strip_suffix("ies")
        && len(base) >= 2
    {
        w = format!("{base}y");
    } else if let Some(base) = w.strip_suffix("ing")
        && len(base) >= 3
    {
        w = base.to_string();
    } else if let Some(base) = w.strip_suffix("ed")
        && len(base) >= 3
    {
        w = base.to_string();
    } else if let Some(base) = w.strip_suffix('s')
        && len(base) >= 3
        && !base.ends_with('s')
    {
        w = base.to_string();
    }
    if let Some(base) = w.strip_suffix('e')
        && len(base) >= 3
    {
        w = base.to_string();
    }
    // `syncing` → `sync`, `shipped` → `shipp` → `ship`: a doubled last letter once.
    let chars: Vec<char> = w.chars().collect();
    if chars.len() >= 4
        && chars[chars.len() - 1] == chars[chars.len() - 2]
        && !matches!(chars[chars.len() - 1], 'l' | 's' | 'z')
    {
        w = chars[..chars.len() - 1].iter().collect();
    }
    w
}

/// Words of the organisation's own name and handles: every idea names them, so they
/// tell ideas apart no better than a stop word.
pub fn ignored_words(org: &Organisation) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for s in std::iter::once(&org.name)
        .chain(&org.accounts)
        .chain(&org.bots)
    {
        for w in s.split(|c: char| !c.is_alphanumeric()) {
            if !w.is_empty() {
                out.insert(w.to_lowercase());
            }
        }
    }
    // A handle's domain parts (`bsky`, `social`, `mastodon`) go with it.
    out
}

/// A text's content words, stemmed, with their counts.
pub fn terms(text: &str, ignore: &BTreeSet<String>) -> Terms {
    let mut counts = BTreeMap::new();
    for w in idea_words(text, ignore) {
        let s = stem(&w);
        if ignore.contains(&s) {
            continue;
        }
        *counts.entry(s).or_insert(0u32) += 1;
    }
    Terms(counts)
}

/// Content words with their counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Terms(pub BTreeMap<String, u32>);

impl Terms {
    /// No content word at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The cosine of two texts' word counts, in [0, 1]; 0 when either has no word.
pub fn similarity(a: &Terms, b: &Terms) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let dot: f64 =
        a.0.iter()
            .filter_map(|(w, x)| b.0.get(w).map(|y| f64::from(*x) * f64::from(*y)))
            .sum();
    let norm = |t: &Terms| {
        t.0.values()
            .map(|x| f64::from(*x).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    (dot / (norm(a) * norm(b))).clamp(0.0, 1.0)
}

/// Where a new idea message goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Placement {
    /// Into this item: its closest message is this similar.
    Join {
        /// The item.
        item: i64,
        /// The similarity of its closest message.
        similarity: f64,
    },
    /// Into a new item of its own (the best similarity found, below the threshold).
    New {
        /// The closest any item came.
        best: f64,
    },
}

impl Placement {
    /// The placement for the closest item found (`(item, similarity)`, `None` when there
    /// are no items): joining it when it is at least `threshold` similar (and similar at
    /// all), a new item otherwise.
    pub fn of_best(best: Option<(i64, f64)>, threshold: f64) -> Self {
        match best {
            Some((item, s)) if s >= threshold && s > 0.0 => Placement::Join {
                item,
                similarity: s,
            },
            other => Placement::New {
                best: other.map_or(0.0, |(_, s)| s),
            },
        }
    }
}

/// The items as they stand, to place new idea messages in: each item's messages'
/// terms.
#[derive(Debug, Clone)]
pub struct Grouper {
    threshold: f64,
    items: BTreeMap<i64, Vec<Terms>>,
}

impl Grouper {
    /// No item yet; messages join an item at `threshold` or above.
    pub fn new(threshold: f64) -> Self {
        Self {
            threshold,
            items: BTreeMap::new(),
        }
    }

    /// Records that `item` holds a message with these terms.
    pub fn add(&mut self, item: i64, terms: Terms) {
        self.items.entry(item).or_default().push(terms);
    }

    /// Where a message with these terms goes: the item with the most similar message,
    /// the oldest on a tie, when it is similar enough.
    pub fn place(&self, terms: &Terms) -> Placement {
        let mut best: Option<(i64, f64)> = None;
        for (&item, members) in &self.items {
            let s = members
                .iter()
                .map(|m| similarity(terms, m))
                .fold(0.0, f64::max);
            if best.is_none_or(|(_, b)| s > b) {
                best = Some((item, s));
            }
        }
        Placement::of_best(best, self.threshold)
    }
}

/// An item's title from its first message: one line, leading mentions and links off,
/// at most [`TITLE_CHARS`] characters (cut at a word, with `…`).
pub fn title(text: &str) -> String {
    let line = one_line(text);
    let words: Vec<&str> = line
        .split(' ')
        .skip_while(|w| w.starts_with('@'))
        .filter(|w| !w.contains("://"))
        .collect();
    let mut t = words.join(" ");
    if t.is_empty() {
        t = line;
    }
    let t = t
        .trim()
        .trim_end_matches(['.', '!', ',', ';', ':'])
        .to_string();
    if t.chars().count() <= TITLE_CHARS {
        return t;
    }
    let cut: String = t.chars().take(TITLE_CHARS - 1).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > TITLE_CHARS / 2 => cut[..i].to_string(),
        _ => cut,
    };
    format!("{}…", cut.trim_end_matches([' ', '.', ',', ';', ':']))
}

/// What setting an item's status does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The status moves; replies are drafted for the new one.
    Move,
    /// The item already has it: nothing moves; only missing replies are drafted.
    Same,
}

/// Checks a change of status: every move is allowed (see the module's rules); the
/// same status is [`Change::Same`].
pub fn check_change(from: IdeaStatus, to: IdeaStatus) -> Change {
    if from == to {
        Change::Same
    } else {
        Change::Move
    }
}

/// The reply to someone who raised `idea` (an item's title) when it moves to
/// `status`, from the configured templates; `None` for `new`.
pub fn reply_text(
    templates: &ReplyTemplates,
    status: IdeaStatus,
    idea: &str,
    handle: &str,
) -> Option<String> {
    let t = templates.of(status)?;
    Some(
        t.replace("{idea}", idea)
            .replace("{handle}", handle.trim_start_matches('@')),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn t(s: &str) -> Terms {
        let org = Organisation {
            name: "Lumen".into(),
            accounts: vec!["lumen.bsky.social".into()],
            bots: vec![],
        };
        terms(s, &ignored_words(&org))
    }

    #[test]
    fn statuses_parse_and_print() {
        for s in IdeaStatus::ALL {
            assert_eq!(s.as_str().parse::<IdeaStatus>().unwrap(), s);
        }
        assert_eq!(
            " Shipped ".parse::<IdeaStatus>().unwrap(),
            IdeaStatus::Shipped
        );
        let e = "done".parse::<IdeaStatus>().unwrap_err().to_string();
        assert!(e.contains("\"done\"") && e.contains("shipped"), "{e}");
    }

    #[test]
    fn stemming_joins_word_forms() {
        assert_eq!(stem("exports"), stem("export"));
        assert_eq!(stem("exporting"), stem("export"));
        assert_eq!(stem("exported"), stem("export"));
        assert_eq!(stem("themes"), stem("theme"));
        assert_eq!(stem("stories"), "story");
        assert_eq!(stem("syncing"), "sync");
        assert_eq!(stem("glass"), "glass");
        assert_eq!(stem("bus"), "bus");
    }

    #[test]
    fn words_leave_out_stop_words_and_the_organisation() {
        let w = t("@lumen.bsky.social Please add a dark mode to the Lumen app!");
        let words: Vec<&str> = w.0.keys().map(String::as_str).collect();
        assert_eq!(words, ["dark", "mod"]);
    }

    #[test]
    fn similarity_is_a_cosine_of_word_counts() {
        let a = t("please add a dark mode");
        assert!((similarity(&a, &a) - 1.0).abs() < 1e-9);
        assert!((similarity(&a, &t("Dark modes would be great")) - 1.0).abs() < 1e-9);
        // dark, mode vs dark, mode, night, theme: 2 / (√2 · 2).
        let b = t("I wish for a dark theme, a night mode");
        assert!((similarity(&a, &b) - 2.0 / (2f64.sqrt() * 2.0)).abs() < 1e-9);
        assert_eq!(similarity(&a, &t("export to CSV please")), 0.0);
        assert_eq!(similarity(&a, &t("please add")), 0.0);
        assert_eq!(similarity(&b, &a), similarity(&a, &b));
    }

    #[test]
    fn grouping_joins_the_closest_item_above_the_threshold() {
        let mut g = Grouper::new(0.5);
        assert_eq!(
            g.place(&t("dark mode please")),
            Placement::New { best: 0.0 }
        );
        g.add(1, t("dark mode please"));
        g.add(2, t("export my data to csv"));
        assert!(matches!(
            g.place(&t("would love a dark theme, night mode")),
            Placement::Join { item: 1, .. }
        ));
        assert!(matches!(
            g.place(&t("csv exports of the schedules")),
            Placement::Join { item: 2, .. }
        ));
        match g.place(&t("support for zigbee bulbs")) {
            Placement::New { best } => assert_eq!(best, 0.0),
            other => panic!("{other:?}"),
        }
        // Below the threshold: a new item, with how close the best came.
        let mut strict = Grouper::new(0.9);
        strict.add(1, t("dark mode please"));
        match strict.place(&t("would love a dark theme, night mode")) {
            Placement::New { best } => assert!(best > 0.6 && best < 0.9, "{best}"),
            other => panic!("{other:?}"),
        }
        // An item is as close as its closest message.
        g.add(1, t("night theme"));
        match g.place(&t("a night theme for the lamps")) {
            Placement::Join { item, similarity } => {
                assert_eq!(item, 1);
                assert!(similarity > 0.8, "{similarity}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ties_go_to_the_oldest_item_and_empty_texts_start_their_own() {
        let mut g = Grouper::new(0.5);
        g.add(7, t("dark mode"));
        g.add(3, t("dark mode"));
        assert!(matches!(
            g.place(&t("dark mode")),
            Placement::Join { item: 3, .. }
        ));
        assert!(matches!(
            g.place(&t("please add it")),
            Placement::New { .. }
        ));
    }

    #[test]
    fn titles_are_short_and_start_with_the_idea() {
        assert_eq!(
            title("@lumen Please add a dark mode!\n\nhttps://x.example/a"),
            "Please add a dark mode"
        );
        let long = "It would be great if the app could export every schedule and every scene to a CSV file that I can open in a spreadsheet";
        let tt = title(long);
        assert!(tt.chars().count() <= TITLE_CHARS, "{tt}");
        assert!(
            tt.ends_with('…') && tt.starts_with("It would be great"),
            "{tt}"
        );
        assert_eq!(title("@lumen"), "@lumen");
    }

    #[test]
    fn every_move_is_allowed_and_the_same_status_is_a_retry() {
        for from in IdeaStatus::ALL {
            for to in IdeaStatus::ALL {
                let c = check_change(from, to);
                assert_eq!(c == Change::Same, from == to);
            }
        }
    }

    #[test]
    fn replies_fill_the_templates() {
        let c = IdeasConfig::default();
        c.validate().unwrap();
        assert_eq!(
            reply_text(&c.replies, IdeaStatus::Shipped, "Dark mode", "@ana").unwrap(),
            "You suggested \u{201c}Dark mode\u{201d} \u{2014} we've shipped it. Thank you!"
        );
        assert!(reply_text(&c.replies, IdeaStatus::New, "x", "y").is_none());
        let custom = ReplyTemplates {
            planned: "Hi @{handle}, {idea} is planned".into(),
            ..ReplyTemplates::default()
        };
        assert_eq!(
            reply_text(&custom, IdeaStatus::Planned, "CSV export", "@ana").unwrap(),
            "Hi @ana, CSV export is planned"
        );
    }

    #[test]
    fn the_section_is_checked() {
        let mut c = IdeasConfig {
            similarity: 0.0,
            ..IdeasConfig::default()
        };
        assert_eq!(c.validate(), Err(IdeaError::Similarity(0.0)));
        c.similarity = 1.5;
        assert!(c.validate().is_err());
        c.similarity = 1.0;
        c.replies.shipped = "Shipped {title}!".into();
        let e = c.validate().unwrap_err().to_string();
        assert!(
            e.contains("[ideas.replies] shipped") && e.contains("{title}"),
            "{e}"
        );
        c.replies.shipped = "  ".into();
        assert!(c.validate().unwrap_err().to_string().contains("empty"));
        c.replies.shipped = "Shipped {idea".into();
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("never closed")
        );
        let parsed: IdeasConfig =
            toml::from_str("similarity = 0.4\n[replies]\nshipped = \"Done: {idea}\"\n").unwrap();
        assert_eq!(parsed.similarity, 0.4);
        assert_eq!(parsed.replies.shipped, "Done: {idea}");
        assert_eq!(parsed.replies.planned, ReplyTemplates::default().planned);
    }

    #[test]
    fn the_status_role_is_a_least_role() {
        let c = IdeasConfig::default();
        assert!(c.check_role(Role::Agent).is_ok());
        assert!(c.check_role(Role::Admin).is_ok());
        let e = c.check_role(Role::Viewer).unwrap_err().to_string();
        assert!(e.contains("viewer") && e.contains("agent"), "{e}");
    }
}
