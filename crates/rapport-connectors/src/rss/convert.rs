//! One feed-rs entry → one [`NewMessage`].

use feed_rs::model::{Entry, Feed, Link, Person};
use rapport_core::{Direction, NewMessage};
use sha2::{Digest, Sha256};

use super::wire::RawEntry;
use super::{EntryError, EntryNote, PLATFORM};
use crate::import::MAX_TEXT_BYTES;

/// What one entry became: a message (maybe with notes about fallbacks) or an error.
pub(crate) enum Converted {
    Message(Box<NewMessage>, Vec<String>),
    Error(EntryError),
}

/// Converts entry `index` of `feed`; `raw` is what the raw XML said about it, when known.
pub(crate) fn entry(feed: &Feed, index: usize, e: &Entry, raw: Option<&RawEntry>) -> Converted {
    let mut notes = Vec::new();
    let url = entry_link(&e.links).map(str::to_owned);
    let title = e
        .title
        .as_ref()
        .map(|t| t.content.trim().to_owned())
        .filter(|t| !t.is_empty());
    let Some(created_at) = e.published.or(e.updated) else {
        return Converted::Error(EntryError {
            index,
            id: id_for_error(e, url.as_deref()),
            reason: "no date: the entry has no parsable pubDate, published or updated, so \
                     it cannot be placed in time; fix the feed or ask its publisher to"
                .into(),
        });
    };

    let text = match entry_text(e, title.as_deref()) {
        Some(t) => t,
        None => {
            return Converted::Error(EntryError {
                index,
                id: id_for_error(e, url.as_deref()),
                reason: "no text: the entry has no content, summary or title".into(),
            });
        }
    };
    let text = if text.len() > MAX_TEXT_BYTES {
        notes.push(format!(
            "text is {} bytes: cut to the 64 KiB limit",
            text.len()
        ));
        truncate(text, MAX_TEXT_BYTES)
    } else {
        text
    };

    let id = e.id.trim();
    let platform_id = if !id.is_empty() {
        id.to_owned()
    } else if let Some(link) = &url {
        notes.push(format!("no id or guid: using its link {link} as the id"));
        link.clone()
    } else {
        let hashed = hash_id(title.as_deref().unwrap_or(&text), &created_at.to_rfc3339());
        notes.push(format!(
            "no id, guid or link: using a hash of its title (or text) and date ({hashed}) as the id; \
             an edited entry will look like a new one"
        ));
        hashed
    };

    let (author, author_name) = author(feed, e);

    let in_reply_to = raw
        .and_then(|r| r.reply_ref.clone().or_else(|| r.reply_href.clone()))
        .or_else(|| url.as_deref().and_then(thread_parent))
        .filter(|parent| *parent != platform_id);

    Converted::Message(
        Box::new(NewMessage {
            platform: PLATFORM.into(),
            platform_id,
            author,
            author_name,
            followers: None,
            text,
            created_at,
            in_reply_to,
            reshares: 0,
            replies: 0,
            direction: Direction::Inbound,
            automated: false,
            url,
        }),
        notes,
    )
}

/// Turns the notes of entry `index` into [`EntryNote`]s.
pub(crate) fn notes(index: usize, id: &str, notes: Vec<String>) -> Vec<EntryNote> {
    notes
        .into_iter()
        .map(|note| EntryNote {
            index,
            id: id.to_owned(),
            note,
        })
        .collect()
}

/// The link to the entry itself: `rel="alternate"` (feed-rs's default for a link without
/// `rel`), else the first link.
fn entry_link(links: &[Link]) -> Option<&str> {
    links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate") && !l.href.trim().is_empty())
        .or_else(|| links.iter().find(|l| !l.href.trim().is_empty()))
        .map(|l| l.href.trim())
}

/// Whatever names the entry in an error, before its id is settled.
fn id_for_error(e: &Entry, url: Option<&str>) -> Option<String> {
    let id = e.id.trim();
    if id.is_empty() {
        url.map(str::to_owned)
    } else {
        Some(id.to_owned())
    }
}

/// A stable id for an entry with neither id nor link.
fn hash_id(title: &str, date: &str) -> String {
    let mut h = Sha256::new();
    h.update(title.as_bytes());
    h.update([0u8]);
    h.update(date.as_bytes());
    let digest = h.finalize();
    format!("sha256:{}", hex::encode(&digest[..16]))
}

/// The post a comment belongs to, from the comment's link: WordPress links each comment as
/// `https://blog/post-slug/#comment-12` (or `.../post-slug/comment-page-2/#comment-12` when
/// comments are paged). A link without a fragment is an entry of its own, not a reply.
pub(crate) fn thread_parent(link: &str) -> Option<String> {
    let (base, fragment) = link.split_once('#')?;
    if fragment.is_empty() || base.is_empty() {
        return None;
    }
    let trimmed = base.trim_end_matches('/');
    let base = match trimmed.rsplit_once('/') {
        Some((parent, last))
            if last
                .strip_prefix("comment-page-")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) =>
        {
            format!("{parent}/")
        }
        _ => base.to_owned(),
    };
    Some(base)
}

/// The entry's author: its first named author, else the feed's, else the feed's title.
/// Returns (author, author_name).
fn author(feed: &Feed, e: &Entry) -> (String, Option<String>) {
    fn named(people: &[Person]) -> Option<String> {
        people
            .iter()
            .filter_map(|p| p.name.as_deref().or(p.email.as_deref()))
            .map(unwrap_name)
            .find(|n| !n.is_empty())
            .map(str::to_owned)
    }
    if let Some(name) = named(&e.authors).or_else(|| named(&feed.authors)) {
        return (name.clone(), Some(name));
    }
    let title = feed
        .title
        .as_ref()
        .map(|t| crate::html::to_text(&t.content))
        .filter(|t| !t.is_empty());
    match title {
        Some(t) => (t.clone(), Some(t)),
        None => ("unknown".into(), None),
    }
}

/// A name without the brackets RSS `<author>` puts around it (`jane@x (Jane Doe)`, of
/// which feed-rs keeps `(Jane Doe)` as the name).
fn unwrap_name(name: &str) -> &str {
    let name = name.trim();
    [('(', ')'), ('<', '>'), ('[', ']'), ('"', '"')]
        .iter()
        .find_map(|(open, close)| name.strip_prefix(*open)?.strip_suffix(*close))
        .map_or(name, str::trim)
}

/// The entry's text: its content, else its summary, else its title; HTML turned into
/// plain text; `None` when all are empty.
fn entry_text(e: &Entry, title: Option<&str>) -> Option<String> {
    let content = e.content.as_ref().and_then(|c| {
        let body = c.body.as_deref()?;
        render(c.content_type.as_ref(), body)
    });
    content
        .or_else(|| {
            e.summary
                .as_ref()
                .and_then(|s| render(s.content_type.as_ref(), &s.content))
        })
        .or_else(|| title.map(crate::html::to_text).filter(|t| !t.is_empty()))
}

/// Plain text of a body of media type `mime`; `None` when empty or not text at all.
fn render(mime: &str, body: &str) -> Option<String> {
    let mime = mime.to_ascii_lowercase();
    let text = if mime.starts_with("text/plain") {
        crate::html::tidy(body)
    } else if mime.contains("html") || mime.starts_with("text/") {
        crate::html::to_text(body)
    } else {
        return None;
    };
    (!text.is_empty()).then_some(text)
}

/// Cuts `text` to at most `max` bytes on a character boundary.
fn truncate(mut text: String, max: usize) -> String {
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_parent_of_wordpress_comment_links() {
        assert_eq!(
            thread_parent("https://blog.example/hello/#comment-12").as_deref(),
            Some("https://blog.example/hello/")
        );
        assert_eq!(
            thread_parent("https://blog.example/hello/comment-page-2/#comment-12").as_deref(),
            Some("https://blog.example/hello/")
        );
        assert_eq!(
            thread_parent("https://blog.example/?p=7#comment-3").as_deref(),
            Some("https://blog.example/?p=7")
        );
        assert_eq!(thread_parent("https://blog.example/hello/"), None);
        assert_eq!(thread_parent("https://blog.example/hello/#"), None);
    }

    #[test]
    fn html_becomes_plain_text() {
        let text = crate::html::to_text(
            "<p>Fish &amp; chips, <em>please</em> &#8212; <a href=\"https://x\">now</a>.</p>\
             <p>Second<br/>line</p>",
        );
        assert_eq!(text, "Fish & chips, please \u{2014} now.\n\nSecond\nline");
    }

    #[test]
    fn long_paragraphs_do_not_wrap_and_tables_stay_cheap() {
        let words = "word ".repeat(5000);
        let text = crate::html::to_text(&format!("<p>{words}</p>"));
        assert_eq!(text, words.trim());
        let started = std::time::Instant::now();
        let text = crate::html::to_text(
            "<ul><li>one</li><li>two</li></ul>\
             <table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>",
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert!(!text.contains('<'), "{text}");
        for word in ["one", "two", "a", "b", "c", "d"] {
            assert!(text.contains(word), "{text}");
        }
    }

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("aé".into(), 2), "a");
        assert_eq!(truncate("abc".into(), 2), "ab");
    }
}
