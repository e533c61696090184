//! Turning one row's cells into a [`NewMessage`], with a precise reason when it cannot.

use std::borrow::Cow;

use rapport_core::{Direction, NewMessage};

use super::MAX_TEXT_BYTES;
use super::dates::DateParser;
use super::fields::Field;

/// A value read for a field, and where from.
pub(crate) struct Cell<'a> {
    pub value: Cow<'a, str>,
    /// The column (CSV) or key (JSONL) it was read from.
    pub name: &'a str,
}

/// One row, CSV or JSONL, as seen by [`build`].
pub(crate) trait Row {
    /// "column" or "key", for messages.
    fn kind(&self) -> &'static str;
    /// The value for `field`: `Ok(None)` when the row has no source for it (no column, an
    /// absent or null key), `Err` when the source cannot be read (invalid UTF-8, a JSON
    /// object where a value belongs).
    fn get(&self, field: Field) -> Result<Option<Cell<'_>>, String>;
    /// Why a required field has no source in this row.
    fn missing(&self, field: Field) -> String;
}

/// Settings that apply to every row.
pub(crate) struct Ctx {
    /// `--platform`, lowercased.
    pub platform: Option<String>,
    /// `--author`, without its `@`.
    pub author: Option<String>,
    /// `--direction`.
    pub direction: Option<Direction>,
    pub dates: DateParser,
}

/// Builds the message, or the reasons (all of them, `; `-joined) the row is bad.
pub(crate) fn build(row: &dyn Row, ctx: &Ctx) -> Result<NewMessage, String> {
    let mut errors: Vec<String> = Vec::new();
    macro_rules! take {
        ($e:expr) => {
            match $e {
                Ok(v) => Some(v),
                Err(e) => {
                    errors.push(e);
                    None
                }
            }
        };
    }

    let text = take!(required(row, Field::Text).and_then(|c| clean_text(&c.value)));
    let author = take!(
        match (optional(row, Field::Author, clean_author), &ctx.author) {
            (Ok(Some(a)), _) => Ok(a),
            (Ok(None), Some(default)) => Ok(default.clone()),
            (Ok(None), None) => required(row, Field::Author).and_then(|c| {
                clean_author(&c.value)?.ok_or_else(|| empty(row, Field::Author, &c))
            }),
            (Err(e), _) => Err(e),
        }
    );
    let platform_id = take!(required(row, Field::PlatformId).and_then(|c| {
        match clean_id(&c.value) {
            Ok(Some(id)) => Ok(id),
            Ok(None) => Err(empty(row, Field::PlatformId, &c)),
            Err(why) => Err(bad(row, Field::PlatformId, &c, &why)),
        }
    }));
    let created_at = take!(required(row, Field::CreatedAt).and_then(|c| {
        ctx.dates.parse(&c.value).ok_or_else(|| {
            let hint = match ctx.dates.custom() {
                Some(f) => format!("it matches neither --date-format '{f}' nor a built-in format"),
                None => "not a date format known without --date-format; pass one, \
                         e.g. --date-format '%m/%d/%Y %H:%M'"
                    .to_string(),
            };
            bad(row, Field::CreatedAt, &c, &hint)
        })
    }));
    let followers = take!(optional(row, Field::Followers, parse_count)).flatten();
    let in_reply_to = take!(optional(row, Field::InReplyTo, clean_id)).flatten();
    let reshares = take!(optional(row, Field::Reshares, parse_count))
        .flatten()
        .unwrap_or(0);
    let replies = take!(optional(row, Field::Replies, parse_count))
        .flatten()
        .unwrap_or(0);
    let direction = match take!(optional(row, Field::Direction, parse_direction)).flatten() {
        Some(d) => d,
        None => match take!(optional(row, Field::Inbound, parse_bool)).flatten() {
            Some(true) => Direction::Inbound,
            Some(false) => Direction::Outbound,
            None => ctx.direction.unwrap_or(Direction::Inbound),
        },
    };
    let automated = take!(optional(row, Field::Automated, parse_bool))
        .flatten()
        .unwrap_or(false);
    let author_name = take!(optional(row, Field::AuthorName, |s| Ok(non_empty(s)))).flatten();
    let url = take!(optional(row, Field::Url, |s| Ok(non_empty(s)))).flatten();
    let platform = take!(optional(row, Field::Platform, |s| {
        Ok(non_empty(s).map(|p| p.to_lowercase()))
    }))
    .flatten()
    .or_else(|| ctx.platform.clone())
    .unwrap_or_else(|| "import".to_string());

    match (text, author, platform_id, created_at) {
        (Some(text), Some(author), Some(platform_id), Some(created_at)) if errors.is_empty() => {
            Ok(NewMessage {
                platform,
                platform_id,
                author,
                author_name,
                followers,
                text,
                created_at,
                in_reply_to,
                reshares,
                replies,
                direction,
                automated,
                url,
            })
        }
        _ => Err(errors.join("; ")),
    }
}

/// Reads a required field. Empty is an error; for ids and dates so are `nan`/`null`/`None`
/// (a text or a handle may really be "None").
fn required<'r>(row: &'r dyn Row, field: Field) -> Result<Cell<'r>, String> {
    let lenient = matches!(field, Field::Text | Field::Author);
    match row.get(field)? {
        Some(c) if lenient && !c.value.trim().is_empty() => Ok(c),
        Some(c) if !lenient && !is_none_like(&c.value) => Ok(c),
        Some(c) => Err(empty(row, field, &c)),
        None => Err(row.missing(field)),
    }
}

/// Reads an optional field: absent, empty or `nan`/`null`/`None` is `None`.
fn optional<T>(
    row: &dyn Row,
    field: Field,
    parse: impl Fn(&str) -> Result<Option<T>, String>,
) -> Result<Option<T>, String> {
    match row.get(field)? {
        Some(c) if !is_none_like(&c.value) => {
            parse(c.value.trim()).map_err(|why| bad(row, field, &c, &why))
        }
        _ => Ok(None),
    }
}

fn empty(row: &dyn Row, field: Field, cell: &Cell<'_>) -> String {
    format!("{field} is empty ({} '{}')", row.kind(), cell.name)
}

fn bad(row: &dyn Row, field: Field, cell: &Cell<'_>, why: &str) -> String {
    format!(
        "{field}: {} ({} '{}'): {why}",
        quote_value(&cell.value),
        row.kind(),
        cell.name
    )
}

/// A value quoted for a message, cut to 80 characters.
fn quote_value(v: &str) -> String {
    let v = v.trim();
    let mut out: String = v.chars().take(80).collect();
    if out.len() < v.len() {
        out.push('…');
    }
    format!("'{out}'")
}

/// Empty and the spellings exports use for a missing value (pandas writes `nan`).
pub(crate) fn is_none_like(v: &str) -> bool {
    matches!(
        v.trim(),
        "" | "nan" | "NaN" | "NAN" | "null" | "NULL" | "None" | "none" | "N/A" | "n/a"
    )
}

/// A handle without its leading `@`; `None` when nothing is left. `nan`/`None` are kept:
/// they may be real handles.
pub(crate) fn clean_author(v: &str) -> Result<Option<String>, String> {
    let a = v.trim().trim_start_matches('@').trim();
    Ok((!a.is_empty()).then(|| a.to_string()))
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// Whether a text is HTML markup (a Mastodon `content`, a blog comment) rather than plain
/// text that happens to hold a `<`: it must close one of the tags such exports use, or
/// break a line with `<br>`.
fn looks_like_html(value: &str) -> bool {
    const MARKS: [&str; 11] = [
        "</p>",
        "</a>",
        "</span>",
        "</div>",
        "</li>",
        "</em>",
        "</strong>",
        "</blockquote>",
        "<br>",
        "<br/>",
        "<br />",
    ];
    if !value.contains('<') {
        return false;
    }
    let lower = value.to_ascii_lowercase();
    MARKS.iter().any(|m| lower.contains(m))
}

/// Turns HTML markup into text (a Mastodon export's `content`), or else decodes HTML
/// entities; trims, and enforces the size limit.
pub(crate) fn clean_text(value: &str) -> Result<String, String> {
    let decoded = if looks_like_html(value) {
        std::borrow::Cow::Owned(crate::html::to_text(value))
    } else {
        html_escape::decode_html_entities(value)
    };
    let text = decoded.trim();
    if text.is_empty() {
        return Err("text is empty once HTML entities are decoded".to_string());
    }
    if text.len() > MAX_TEXT_BYTES {
        return Err(format!(
            "text is {} bytes, over the 64 KiB limit",
            text.len()
        ));
    }
    if text.contains('\0') {
        return Err("text contains a NUL character (a binary or UTF-16 file?)".to_string());
    }
    Ok(text.to_string())
}

/// An id as text: `None` when none-like; `119237.0` (a pandas float column) becomes
/// `119237`; scientific notation is refused, because the exact id is already lost.
pub(crate) fn clean_id(v: &str) -> Result<Option<String>, String> {
    let v = v.trim();
    if is_none_like(v) {
        return Ok(None);
    }
    if let Some((int, frac)) = v.split_once('.')
        && !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && !frac.is_empty()
        && frac.bytes().all(|b| b == b'0')
    {
        return Ok(Some(int.to_string()));
    }
    let looks_scientific = v.len() > 2
        && v.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && v.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        && v.bytes().any(|b| b == b'e' || b == b'E');
    if looks_scientific {
        return Err(
            "an id in scientific notation has lost digits; export the column as text".to_string(),
        );
    }
    Ok(Some(v.to_string()))
}

/// A count: `1234`, `1,234`, `1234.0`; anything else is an error.
pub(crate) fn parse_count(v: &str) -> Result<Option<u64>, String> {
    let v = v.trim();
    if is_none_like(v) {
        return Ok(None);
    }
    let int = match v.split_once('.') {
        Some((int, frac)) if !frac.is_empty() && frac.bytes().all(|b| b == b'0') => int,
        Some(_) => return Err("not a whole number".to_string()),
        None => v,
    };
    let digits: Cow<'_, str> = if int.contains(',') {
        let groups: Vec<&str> = int.split(',').collect();
        let ok = groups.first().is_some_and(|g| (1..=3).contains(&g.len()))
            && groups[1..].iter().all(|g| g.len() == 3);
        if !ok {
            return Err("not a whole number".to_string());
        }
        Cow::Owned(groups.concat())
    } else {
        Cow::Borrowed(int)
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not a whole number".to_string());
    }
    digits
        .parse::<u64>()
        .map(Some)
        .map_err(|_| "too large".to_string())
}

/// `true/false`, `t/f`, `yes/no`, `y/n`, `1/0` (and `1.0/0.0`), any case.
pub(crate) fn parse_bool(v: &str) -> Result<Option<bool>, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "1" | "1.0" => Ok(Some(true)),
        "false" | "f" | "no" | "n" | "0" | "0.0" => Ok(Some(false)),
        _ => Err("expected true/false, yes/no or 1/0".to_string()),
    }
}

fn parse_direction(v: &str) -> Result<Option<Direction>, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "inbound" | "in" | "incoming" | "received" => Ok(Some(Direction::Inbound)),
        "outbound" | "out" | "outgoing" | "sent" => Ok(Some(Direction::Outbound)),
        _ => Err("expected inbound or outbound".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(clean_id("119237.0").unwrap().as_deref(), Some("119237"));
        assert_eq!(clean_id(" 119237 ").unwrap().as_deref(), Some("119237"));
        assert_eq!(
            clean_id("at://did:plc:x/app.bsky.feed.post/3k")
                .unwrap()
                .as_deref(),
            Some("at://did:plc:x/app.bsky.feed.post/3k")
        );
        assert_eq!(clean_id("1.5").unwrap().as_deref(), Some("1.5"));
        for none in ["", "nan", "NaN", "null", "None"] {
            assert_eq!(clean_id(none).unwrap(), None, "{none}");
        }
        let e = clean_id("1.2345678901234568e+18").unwrap_err();
        assert!(e.contains("scientific notation"), "{e}");
        assert!(clean_id("1e21").is_err());
    }

    #[test]
    fn counts() {
        assert_eq!(parse_count("1234").unwrap(), Some(1234));
        assert_eq!(parse_count("1,234").unwrap(), Some(1234));
        assert_eq!(parse_count("1,234,567").unwrap(), Some(1_234_567));
        assert_eq!(parse_count("1234.0").unwrap(), Some(1234));
        assert_eq!(parse_count("").unwrap(), None);
        assert_eq!(parse_count("nan").unwrap(), None);
        for bad in [
            "abc",
            "12.5",
            "-3",
            "1,23",
            "12,",
            "1.2K",
            "99999999999999999999999",
        ] {
            assert!(parse_count(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bools() {
        for t in ["true", "True", "TRUE", "1", "yes", "Y", "t", "1.0"] {
            assert_eq!(parse_bool(t).unwrap(), Some(true), "{t}");
        }
        for f in ["false", "False", "0", "no", "N", "f", "0.0"] {
            assert_eq!(parse_bool(f).unwrap(), Some(false), "{f}");
        }
        assert!(parse_bool("maybe").is_err());
    }

    #[test]
    fn html_markup_becomes_text_but_a_lone_angle_bracket_stays() {
        assert_eq!(
            clean_text("<p>Hi <span class=\"h-card\"><a href=\"https://m.example/@lumen\">@<span>lumen</span></a></span> it&#39;s broken</p><p>again</p>").unwrap(),
            "Hi @lumen it's broken\n\nagain"
        );
        assert_eq!(
            clean_text("I <3 you &amp; a < b").unwrap(),
            "I <3 you & a < b"
        );
        assert_eq!(
            clean_text("line one<br>line two").unwrap(),
            "line one\nline two"
        );
    }

    #[test]
    fn text_cleaning() {
        assert_eq!(
            clean_text("  Tom &amp; Jerry &lt;3 it&#39;s &#x1F600; &quot;ok&quot;  ").unwrap(),
            "Tom & Jerry <3 it's 😀 \"ok\""
        );
        assert!(clean_text(" &nbsp; ").unwrap_err().contains("empty"));
        assert_eq!(
            clean_text(&"a".repeat(MAX_TEXT_BYTES + 1)).unwrap_err(),
            "text is 65537 bytes, over the 64 KiB limit"
        );
        assert!(clean_text(&"a".repeat(MAX_TEXT_BYTES)).is_ok());
        // the limit applies to the decoded text: 20,000 × "&amp;" is 20,000 bytes
        assert!(clean_text(&"&amp;".repeat(20_000)).is_ok());
    }
}
