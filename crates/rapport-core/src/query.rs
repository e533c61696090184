//! rapport's search query language: what `rapport search`, the API and the web UI accept.
//!
//! ```text
//! refund                      a word (case-insensitive, whole word)
//! "battery drain"             a phrase: these words, next to each other, in this order
//! refund broken               both (AND is implied between terms)
//! refund OR return            either
//! NOT spam   -spam            without
//! (refund OR return) -spam    parentheses group
//! author:alice.bsky.social    the author's handle (a leading @ is ignored)
//! platform:mastodon           bluesky, mastodon, rss, webhook, import, …
//! intent:complaint            complaint, question, praise, idea, lead, spam, other
//! sentiment:neg               neg / neu / pos (or negative / neutral / positive)
//! team:support                the conversation's team
//! conversation:42             one conversation
//! date:2026-11-01             one day (UTC); date:2026-11-01..2026-11-07 a range of
//!                             days, either end may be left open (date:2026-11-01..)
//! since:2026-11-01  until:2026-11-07   the same, one end each; since:7d  since:24h
//! ```
//!
//! Words are matched the way the index splits text: runs of letters and digits,
//! lowercased; so `e-mail` is the phrase "e mail" and `#lumen` is the word `lumen`.
//! [`Query::matches`] decides a query against one message in memory: the search index
//! must return exactly the messages it accepts (a property test holds the two together).

use chrono::{DateTime, Duration, NaiveDate, TimeZone as _, Utc};

use crate::{Intent, SentimentBand};

/// One word of text as the index stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Byte offset of its first character in the text.
    pub start: usize,
    /// Byte offset just past it.
    pub end: usize,
    /// Lowercased.
    pub text: String,
}

/// Splits text into words: maximal runs of alphanumeric characters, lowercased. The
/// search index uses exactly this, so a query and the index agree on what a word is.
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            if start.is_none() {
                start = Some(i);
            }
        } else if let Some(s) = start.take() {
            out.push(token(text, s, i));
        }
    }
    if let Some(s) = start {
        out.push(token(text, s, text.len()));
    }
    out
}

/// The byte ranges of `text` holding one of `words` (lowercased tokens, as
/// [`Query::highlight_words`] gives them), in order: what a hit shows in bold.
pub fn highlight_ranges(text: &str, words: &[String]) -> Vec<(usize, usize)> {
    tokenize(text)
        .into_iter()
        .filter(|t| words.contains(&t.text))
        .map(|t| (t.start, t.end))
        .collect()
}

fn token(text: &str, start: usize, end: usize) -> Token {
    Token {
        start,
        end,
        text: text[start..end].to_lowercase(),
    }
}

/// A field that holds one value per message, matched exactly (ignoring case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The author's handle, lowercased, without a leading `@`.
    Author,
    /// The platform name.
    Platform,
    /// The message's intent.
    Intent,
    /// The sentiment band: `negative`, `neutral` or `positive`.
    Sentiment,
    /// The team of the message's conversation.
    Team,
}

impl Field {
    /// Every field, in a stable order.
    pub const ALL: [Field; 5] = [
        Field::Author,
        Field::Platform,
        Field::Intent,
        Field::Sentiment,
        Field::Team,
    ];

    /// Its name in queries and in the index.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Author => "author",
            Field::Platform => "platform",
            Field::Intent => "intent",
            Field::Sentiment => "sentiment",
            Field::Team => "team",
        }
    }
}

/// The form a keyword value is stored and compared in.
pub fn normalize_keyword(field: Field, value: &str) -> String {
    let v = value.trim().to_lowercase();
    match field {
        Field::Author => v.trim_start_matches('@').to_string(),
        _ => v,
    }
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// Every message.
    All,
    /// A word of the text (one token, lowercased).
    Word(String),
    /// Words next to each other in this order (two or more tokens).
    Phrase(Vec<String>),
    /// A keyword field equal to a value (normalised by [`normalize_keyword`]).
    Keyword(Field, String),
    /// One conversation.
    Conversation(i64),
    /// Created at or after `from` and before `to` (milliseconds since the epoch).
    Created {
        /// Inclusive lower bound.
        from: Option<i64>,
        /// Exclusive upper bound.
        to: Option<i64>,
    },
    /// All of these.
    And(Vec<Query>),
    /// Any of these.
    Or(Vec<Query>),
    /// Not this.
    Not(Box<Query>),
}

/// What a query is decided against: one message as the index sees it.
#[derive(Debug, Clone, Copy)]
pub struct Doc<'a> {
    /// The message text.
    pub text: &'a str,
    /// The author's handle.
    pub author: &'a str,
    /// The platform.
    pub platform: &'a str,
    /// The intent.
    pub intent: &'a str,
    /// The sentiment compound score.
    pub compound: f64,
    /// The conversation's team, if any.
    pub team: Option<&'a str>,
    /// The conversation, if any.
    pub conversation: Option<i64>,
    /// When it was written, milliseconds since the epoch.
    pub created_at: i64,
}

/// A query that cannot be read; the message says where and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("search query, at character {at}: {message}")]
pub struct QueryError {
    /// Character position (0-based) where the problem is.
    pub at: usize,
    /// What is wrong and what to write instead.
    pub message: String,
}

fn err<T>(at: usize, message: impl Into<String>) -> Result<T, QueryError> {
    Err(QueryError {
        at,
        message: message.into(),
    })
}

impl Query {
    /// Parses a query; relative dates (`since:7d`) count back from `now`. An empty query
    /// is [`Query::All`].
    pub fn parse(text: &str, now: DateTime<Utc>) -> Result<Query, QueryError> {
        let lexed = lex(text)?;
        let mut p = Parser {
            toks: lexed,
            pos: 0,
            now,
            end: text.chars().count(),
        };
        if p.toks.is_empty() {
            return Ok(Query::All);
        }
        let q = p.or()?;
        if let Some((at, t)) = p.toks.get(p.pos) {
            return err(
                *at,
                match t {
                    Lexeme::Close => "a ) without its ( : remove it or add the (".to_string(),
                    _ => "unexpected text here".to_string(),
                },
            );
        }
        Ok(q.simplify())
    }

    /// Whether this message matches.
    pub fn matches(&self, doc: &Doc<'_>) -> bool {
        match self {
            Query::All => true,
            Query::Word(w) => tokenize(doc.text).iter().any(|t| &t.text == w),
            Query::Phrase(words) => {
                let toks: Vec<String> = tokenize(doc.text).into_iter().map(|t| t.text).collect();
                !words.is_empty() && toks.windows(words.len()).any(|w| w == words.as_slice())
            }
            Query::Keyword(f, v) => {
                let actual = match f {
                    Field::Author => normalize_keyword(*f, doc.author),
                    Field::Platform => normalize_keyword(*f, doc.platform),
                    Field::Intent => normalize_keyword(*f, doc.intent),
                    Field::Sentiment => SentimentBand::of(doc.compound).as_str().to_string(),
                    Field::Team => match doc.team {
                        Some(t) => normalize_keyword(*f, t),
                        None => return false,
                    },
                };
                &actual == v
            }
            Query::Conversation(c) => doc.conversation == Some(*c),
            Query::Created { from, to } => {
                from.is_none_or(|f| doc.created_at >= f) && to.is_none_or(|t| doc.created_at < t)
            }
            Query::And(qs) => qs.iter().all(|q| q.matches(doc)),
            Query::Or(qs) => qs.iter().any(|q| q.matches(doc)),
            Query::Not(q) => !q.matches(doc),
        }
    }

    /// The words and phrases a match shows, for highlighting (those under a NOT are not).
    pub fn highlight_words(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_words(&mut out);
        out.sort();
        out.dedup();
        out
    }

    fn collect_words(&self, out: &mut Vec<String>) {
        match self {
            Query::Word(w) => out.push(w.clone()),
            Query::Phrase(ws) => out.extend(ws.iter().cloned()),
            Query::And(qs) | Query::Or(qs) => qs.iter().for_each(|q| q.collect_words(out)),
            _ => {}
        }
    }

    /// Flattens nested AND/OR and drops what cannot change the result.
    fn simplify(self) -> Query {
        match self {
            Query::And(qs) => {
                let mut flat = Vec::new();
                for q in qs.into_iter().map(Query::simplify) {
                    match q {
                        Query::All => {}
                        Query::And(inner) => flat.extend(inner),
                        q => flat.push(q),
                    }
                }
                match flat.len() {
                    0 => Query::All,
                    1 => flat.pop().unwrap_or(Query::All),
                    _ => Query::And(flat),
                }
            }
            Query::Or(qs) => {
                let mut flat = Vec::new();
                for q in qs.into_iter().map(Query::simplify) {
                    match q {
                        Query::All => return Query::All,
                        Query::Or(inner) => flat.extend(inner),
                        q => flat.push(q),
                    }
                }
                match flat.len() {
                    0 => Query::All,
                    1 => flat.pop().unwrap_or(Query::All),
                    _ => Query::Or(flat),
                }
            }
            Query::Not(q) => match q.simplify() {
                Query::Not(inner) => *inner,
                q => Query::Not(Box::new(q)),
            },
            q => q,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Lexeme {
    Open,
    Close,
    Minus,
    And,
    Or,
    Not,
    /// A bare word (may hold several tokens).
    Text(String),
    /// A quoted phrase.
    Quoted(String),
    /// `field:value`, the value possibly quoted.
    Pair(String, String),
}

/// Splits the query into lexemes with their character positions.
fn lex(text: &str) -> Result<Vec<(usize, Lexeme)>, QueryError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let quoted = |start: usize| -> Result<(String, usize), QueryError> {
        // chars[start] is the opening quote.
        let mut j = start + 1;
        let mut s = String::new();
        while j < chars.len() && chars[j] != '"' {
            s.push(chars[j]);
            j += 1;
        }
        if j >= chars.len() {
            return err(start, "this quote is not closed: add the closing \"");
        }
        Ok((s, j + 1))
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push((i, Lexeme::Open));
            i += 1;
        } else if c == ')' {
            out.push((i, Lexeme::Close));
            i += 1;
        } else if c == '"' {
            let (s, next) = quoted(i)?;
            out.push((i, Lexeme::Quoted(s)));
            i = next;
        } else if c == '-' && i + 1 < chars.len() && !chars[i + 1].is_whitespace() && {
            // A minus that starts a term negates it; "-" inside a word is part of it.
            i == 0 || chars[i - 1].is_whitespace() || chars[i - 1] == '('
        } {
            out.push((i, Lexeme::Minus));
            i += 1;
        } else {
            let start = i;
            let mut word = String::new();
            while i < chars.len()
                && !chars[i].is_whitespace()
                && !matches!(chars[i], '(' | ')' | '"')
            {
                word.push(chars[i]);
                i += 1;
            }
            if let Some((field, value)) = word.split_once(':')
                && is_field_name(field)
                && (!value.is_empty()
                    || FIELD_NAMES
                        .split(", ")
                        .any(|f| f.eq_ignore_ascii_case(field)))
            {
                let value = if value.is_empty() && i < chars.len() && chars[i] == '"' {
                    let (s, next) = quoted(i)?;
                    i = next;
                    s
                } else {
                    value.to_string()
                };
                out.push((start, Lexeme::Pair(field.to_lowercase(), value)));
                continue;
            }
            out.push((
                start,
                match word.as_str() {
                    "AND" => Lexeme::And,
                    "OR" => Lexeme::Or,
                    "NOT" => Lexeme::Not,
                    _ => Lexeme::Text(word),
                },
            ));
        }
    }
    Ok(out)
}

const FIELD_NAMES: &str =
    "author, platform, intent, sentiment, team, conversation, date, since, until";

/// A `name:` prefix that may name a field: letters only, not a URL scheme. An unknown
/// name is an error when a value follows (a misspelt field), text when none does.
fn is_field_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphabetic())
        && !matches!(name.to_ascii_lowercase().as_str(), "http" | "https")
}

struct Parser {
    toks: Vec<(usize, Lexeme)>,
    pos: usize,
    now: DateTime<Utc>,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Lexeme> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(a, _)| *a)
    }

    fn or(&mut self) -> Result<Query, QueryError> {
        let mut parts = vec![self.and()?];
        while self.peek() == Some(&Lexeme::Or) {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Query::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Query, QueryError> {
        let mut parts = vec![self.unary()?];
        loop {
            match self.peek() {
                None | Some(Lexeme::Or) | Some(Lexeme::Close) => break,
                Some(Lexeme::And) => {
                    self.pos += 1;
                }
                _ => {}
            }
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Query::And(parts)
        })
    }

    fn unary(&mut self) -> Result<Query, QueryError> {
        match self.peek() {
            Some(Lexeme::Not) | Some(Lexeme::Minus) => {
                self.pos += 1;
                Ok(Query::Not(Box::new(self.unary()?)))
            }
            _ => self.atom(),
        }
    }

    fn atom(&mut self) -> Result<Query, QueryError> {
        let at = self.at();
        let Some(t) = self.peek().cloned() else {
            return err(
                at,
                "the query ends where a term was expected: add a word after it",
            );
        };
        self.pos += 1;
        match t {
            Lexeme::Open => {
                if self.peek() == Some(&Lexeme::Close) {
                    return err(at, "empty parentheses: put a term inside or remove them");
                }
                let q = self.or()?;
                if self.peek() != Some(&Lexeme::Close) {
                    return err(at, "this ( is not closed: add the )");
                }
                self.pos += 1;
                Ok(q)
            }
            Lexeme::Close => err(at, "a ) without its ( : remove it or add the ("),
            Lexeme::And | Lexeme::Or => err(
                at,
                "AND / OR needs a term on each side (write and / or in lowercase to search for the word)",
            ),
            Lexeme::Not | Lexeme::Minus => err(at, "NOT needs a term after it"),
            Lexeme::Text(s) | Lexeme::Quoted(s) => Ok(words(&s)),
            Lexeme::Pair(field, value) => self.pair(at, &field, &value),
        }
    }

    fn pair(&self, at: usize, field: &str, value: &str) -> Result<Query, QueryError> {
        if value.trim().is_empty() {
            return err(
                at,
                format!("{field}: needs a value, e.g. {field}:something"),
            );
        }
        let keyword = |f: Field| Ok(Query::Keyword(f, normalize_keyword(f, value)));
        match field {
            "author" | "from" => keyword(Field::Author),
            "platform" => keyword(Field::Platform),
            "team" => keyword(Field::Team),
            "intent" => match value.parse::<Intent>() {
                Ok(i) => Ok(Query::Keyword(Field::Intent, i.as_str().to_string())),
                Err(e) => err(at, e.to_string()),
            },
            "sentiment" => {
                let band = match value.trim().to_ascii_lowercase().as_str() {
                    "neg" | "negative" => SentimentBand::Negative,
                    "neu" | "neutral" => SentimentBand::Neutral,
                    "pos" | "positive" => SentimentBand::Positive,
                    _ => {
                        return err(
                            at,
                            format!("unknown sentiment {value:?}: use neg, neu or pos"),
                        );
                    }
                };
                Ok(Query::Keyword(Field::Sentiment, band.as_str().to_string()))
            }
            "conversation" | "conv" => match value.trim().parse::<i64>() {
                Ok(c) => Ok(Query::Conversation(c)),
                Err(_) => err(
                    at,
                    format!("conversation:{value} is not a number, e.g. conversation:42"),
                ),
            },
            "date" => {
                let (from, to) = match value.split_once("..") {
                    Some((a, b)) => (a, b),
                    None => (value, value),
                };
                if from.is_empty() && to.is_empty() {
                    return err(at, "date:.. needs at least one end, e.g. date:2026-11-01..");
                }
                let from = (!from.is_empty())
                    .then(|| self.day_start(at, from))
                    .transpose()?;
                let to = (!to.is_empty()).then(|| self.day_end(at, to)).transpose()?;
                Ok(Query::Created { from, to })
            }
            "since" | "after" => Ok(Query::Created {
                from: Some(self.day_start(at, value)?),
                to: None,
            }),
            "until" | "before" => Ok(Query::Created {
                from: None,
                to: Some(self.day_end(at, value)?),
            }),
            _ => err(
                at,
                format!(
                    "unknown field {field}: use one of {FIELD_NAMES}, or put the word in quotes to search for it"
                ),
            ),
        }
    }

    /// The first millisecond of a day, or of a relative span back from now (`7d`, `24h`).
    fn day_start(&self, at: usize, s: &str) -> Result<i64, QueryError> {
        if let Some(span) = relative(s) {
            return Ok((self.now - span).timestamp_millis());
        }
        Ok(Utc
            .from_utc_datetime(&day(at, s)?.and_time(chrono::NaiveTime::MIN))
            .timestamp_millis())
    }

    /// Just past the last millisecond of a day (relative spans count back from now).
    fn day_end(&self, at: usize, s: &str) -> Result<i64, QueryError> {
        if let Some(span) = relative(s) {
            return Ok((self.now - span).timestamp_millis());
        }
        let next = day(at, s)?.succ_opt().ok_or_else(|| QueryError {
            at,
            message: format!("{s} is past the last day rapport can handle"),
        })?;
        Ok(Utc
            .from_utc_datetime(&next.and_time(chrono::NaiveTime::MIN))
            .timestamp_millis())
    }
}

fn day(at: usize, s: &str) -> Result<NaiveDate, QueryError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").or_else(|_| {
        err(
            at,
            format!("{s:?} is not a day: write YYYY-MM-DD (e.g. 2026-11-01) or a span back from now such as 7d or 24h"),
        )
    })
}

/// `7d`, `24h`, `2w`, `30m`.
fn relative(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.len().checked_sub(1)?);
    let n: i64 = n.parse().ok()?;
    match unit {
        "m" => Some(Duration::minutes(n)),
        "h" => Some(Duration::hours(n)),
        "d" => Some(Duration::days(n)),
        "w" => Some(Duration::weeks(n)),
        _ => None,
    }
}

/// A bare word or a quoted phrase: one token is a word, several a phrase, none matches
/// everything (it has nothing the index could hold, e.g. only punctuation or emoji).
fn words(s: &str) -> Query {
    let mut toks: Vec<String> = tokenize(s).into_iter().map(|t| t.text).collect();
    match toks.len() {
        0 => Query::All,
        1 => Query::Word(toks.remove(0)),
        _ => Query::Phrase(toks),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn p(s: &str) -> Query {
        match Query::parse(s, now()) {
            Ok(q) => q,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn w(s: &str) -> Query {
        Query::Word(s.into())
    }

    #[test]
    fn tokens_are_lowercased_alphanumeric_runs_with_offsets() {
        let t = tokenize("Hey @Lumen.app — the Café's #firmware-2 broke!!");
        let words: Vec<&str> = t.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(
            words,
            [
                "hey", "lumen", "app", "the", "café", "s", "firmware", "2", "broke"
            ]
        );
        assert_eq!(&"Hey @Lumen.app"[t[1].start..t[1].end], "Lumen");
        assert!(tokenize("🎉 !!! …").is_empty());
    }

    #[test]
    fn highlights_cover_the_query_words_as_written() {
        let q = p("Firmware \"battery drain\" -refund");
        let text = "FIRMWARE update: battery drain, refund?";
        let spans: Vec<&str> = highlight_ranges(text, &q.highlight_words())
            .into_iter()
            .map(|(a, b)| &text[a..b])
            .collect();
        assert_eq!(spans, ["FIRMWARE", "battery", "drain"]);
    }

    #[test]
    fn implicit_and_or_not_and_groups_follow_precedence() {
        assert_eq!(
            p("refund broken"),
            Query::And(vec![w("refund"), w("broken")])
        );
        assert_eq!(p("refund AND broken"), p("refund broken"));
        assert_eq!(
            p("a b OR c"),
            Query::Or(vec![Query::And(vec![w("a"), w("b")]), w("c")])
        );
        assert_eq!(
            p("(refund OR return) -spam"),
            Query::And(vec![
                Query::Or(vec![w("refund"), w("return")]),
                Query::Not(Box::new(w("spam")))
            ])
        );
        assert_eq!(p("NOT NOT x"), w("x"));
        // Lowercase operators are words.
        assert_eq!(
            p("this or that"),
            Query::And(vec![w("this"), w("or"), w("that")])
        );
        // A hyphen inside a word is part of it: a phrase of its tokens.
        assert_eq!(p("e-mail"), Query::Phrase(vec!["e".into(), "mail".into()]));
        assert_eq!(p(""), Query::All);
        assert_eq!(p("🎉"), Query::All);
    }

    #[test]
    fn fields_are_normalised_and_checked() {
        assert_eq!(
            p("author:@Alice.bsky.social"),
            Query::Keyword(Field::Author, "alice.bsky.social".into())
        );
        assert_eq!(
            p("sentiment:neg"),
            Query::Keyword(Field::Sentiment, "negative".into())
        );
        assert_eq!(
            p("intent:Complaint"),
            Query::Keyword(Field::Intent, "complaint".into())
        );
        assert_eq!(p("conversation:42"), Query::Conversation(42));
        assert_eq!(
            p("team:\"Customer Care\""),
            Query::Keyword(Field::Team, "customer care".into())
        );
        assert_eq!(
            p("\"battery drain\""),
            Query::Phrase(vec!["battery".into(), "drain".into()])
        );
        // A URL is text, not a field.
        assert!(matches!(p("https://lumen.app/x"), Query::Phrase(_)));
    }

    #[test]
    fn dates_are_utc_days_and_relative_spans() {
        let day = |s: &str| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(|d| {
                    Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN))
                        .timestamp_millis()
                })
                .unwrap_or_default()
        };
        assert_eq!(
            p("date:2026-11-01"),
            Query::Created {
                from: Some(day("2026-11-01")),
                to: Some(day("2026-11-02"))
            }
        );
        assert_eq!(
            p("date:2026-11-01..2026-11-07"),
            Query::Created {
                from: Some(day("2026-11-01")),
                to: Some(day("2026-11-08"))
            }
        );
        assert_eq!(
            p("date:..2026-11-07"),
            Query::Created {
                from: None,
                to: Some(day("2026-11-08"))
            }
        );
        assert_eq!(
            p("since:7d"),
            Query::Created {
                from: Some((now() - Duration::days(7)).timestamp_millis()),
                to: None
            }
        );
    }

    #[test]
    fn mistakes_say_where_and_what_to_write() {
        let e = |s: &str| {
            Query::parse(s, now())
                .err()
                .map(|e| (e.at, e.message))
                .unwrap_or_default()
        };
        assert_eq!(e("refund \"battery").0, 7);
        assert!(e("(refund OR x").1.contains("not closed"));
        assert!(e("refund)").1.contains("without its ("));
        assert!(e("refund OR").1.contains("ends where a term"));
        assert!(e("OR refund").1.contains("needs a term on each side"));
        assert!(e("intent:rant").1.contains("complaint"));
        assert!(e("sentiment:angry").1.contains("neg, neu or pos"));
        assert!(e("date:yesterday").1.contains("YYYY-MM-DD"));
        assert!(e("autor:x").1.contains("unknown field autor"));
        assert!(e("team:").1.contains("needs a value"));
        // "re: refund" is text: an unknown name with nothing after its colon.
        assert_eq!(p("re: refund"), Query::And(vec![w("re"), w("refund")]));
    }

    #[test]
    fn matching_decides_each_kind_of_term() {
        let doc = Doc {
            text: "The new firmware drains my battery — refund please!",
            author: "Alice.bsky.social",
            platform: "bluesky",
            intent: "complaint",
            compound: -0.6,
            team: Some("Support"),
            conversation: Some(7),
            created_at: now().timestamp_millis(),
        };
        for (q, want) in [
            ("firmware", true),
            ("FIRMWARE battery", true),
            ("firm", false),
            ("\"drains my battery\"", true),
            ("\"my drains battery\"", false),
            ("refund OR nothing", true),
            ("-refund", false),
            ("author:@alice.bsky.social", true),
            ("platform:mastodon", false),
            ("intent:complaint sentiment:neg", true),
            ("sentiment:pos", false),
            ("team:support", true),
            ("conversation:7", true),
            ("date:2026-11-23", true),
            ("date:2026-11-22", false),
            ("since:1h", true),
            ("until:2026-11-22", false),
            ("🎉", true),
        ] {
            assert_eq!(p(q).matches(&doc), want, "{q}");
        }
        let no_team = Doc { team: None, ..doc };
        assert!(!p("team:support").matches(&no_team));
    }
}
