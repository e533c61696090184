//! Outbound posts: length rules, facet detection and the records sent to
//! `com.atproto.repo.createRecord`.
//!
//! Bluesky counts a post's length in grapheme clusters (what a reader sees as one
//! character: `é` written as `e` + accent, a flag, a family emoji), at most
//! [`MAX_GRAPHEMES`], and its size in UTF-8 bytes, at most [`MAX_BYTES`]. Facets point
//! into the text by UTF-8 byte offsets, never by `char` or UTF-16 index.

use chrono::{DateTime, SecondsFormat, Utc};

use super::convert::ReplyTarget;
use super::wire::{
    ByteSlice, CreateRecordInput, Facet, FacetFeature, POST_TYPE, PostRecord, ReplyRef, StrongRef,
};
use super::{BlueskyError, POST_COLLECTION};

/// Most graphemes a post's text may hold (`app.bsky.feed.post` `maxGraphemes`).
pub const MAX_GRAPHEMES: usize = rapport_core::draft::BLUESKY_MAX_GRAPHEMES;

/// Most UTF-8 bytes a post's text may hold (`app.bsky.feed.post` `maxLength`).
pub const MAX_BYTES: usize = rapport_core::draft::BLUESKY_MAX_BYTES;

/// Most graphemes of a hashtag (`app.bsky.richtext.facet#tag` `maxGraphemes`).
pub const MAX_TAG_GRAPHEMES: usize = 64;

/// The length of `text` as Bluesky counts it: extended grapheme clusters (the core's
/// [`rapport_core::draft::bluesky_length`], which the draft checks use too).
pub fn grapheme_len(text: &str) -> usize {
    rapport_core::draft::bluesky_length(text)
}

/// Checks that `text` fits in one post: not blank, at most [`MAX_GRAPHEMES`] graphemes
/// and [`MAX_BYTES`] bytes.
pub fn check_text(text: &str) -> Result<(), BlueskyError> {
    if text.trim().is_empty() {
        return Err(BlueskyError::EmptyText);
    }
    let graphemes = grapheme_len(text);
    if graphemes > MAX_GRAPHEMES || text.len() > MAX_BYTES {
        return Err(BlueskyError::TextTooLong {
            graphemes,
            bytes: text.len(),
            max_graphemes: MAX_GRAPHEMES,
            max_bytes: MAX_BYTES,
        });
    }
    Ok(())
}

/// Finds the links, mentions and hashtags in `text`, as facets with UTF-8 byte offsets,
/// sorted by position.
///
/// - Links: `http://` and `https://` URLs that start the text or follow a space or `(`;
///   trailing punctuation (`.,;:!?'"`) and an unbalanced `)` are left out.
/// - Mentions: `@handle.domain` that starts the text or follows a space or `(`;
///   `resolve` gets the handle lowercased, without `@`, and returns its DID. A handle it
///   cannot resolve gets no facet (the text stays as written).
/// - Hashtags: `#tag` that starts the text or follows a space; trailing punctuation is
///   left out, a tag of only digits (`#1`) or over [`MAX_TAG_GRAPHEMES`] graphemes is not
///   a tag. The facet's `tag` has no `#`.
pub fn detect_facets(text: &str, resolve: impl Fn(&str) -> Option<String>) -> Vec<Facet> {
    let mut facets = Vec::new();
    let mut prev: Option<char> = None;
    for (start, c) in text.char_indices() {
        let at_boundary = prev.is_none_or(char::is_whitespace);
        let after_paren = prev == Some('(');
        prev = Some(c);
        let rest = &text[start..];
        let found = match c {
            'h' | 'H' if at_boundary || after_paren => link_len(rest).map(|len| {
                let uri = rest[..len].to_owned();
                facet(start, start + len, FacetFeature::Link { uri })
            }),
            '@' if at_boundary || after_paren => handle_len(&rest[1..]).and_then(|len| {
                let handle = rest[1..1 + len].to_ascii_lowercase();
                let did = resolve(&handle)?;
                Some(facet(start, start + 1 + len, FacetFeature::Mention { did }))
            }),
            '#' | '＃' if at_boundary => tag_at(&rest[c.len_utf8()..]).map(|tag| {
                let end = start + c.len_utf8() + tag.len();
                facet(
                    start,
                    end,
                    FacetFeature::Tag {
                        tag: tag.to_owned(),
                    },
                )
            }),
            _ => None,
        };
        facets.extend(found);
    }
    facets.sort_by_key(|f| (f.index.byte_start, f.index.byte_end));
    // Facets must not overlap; the earlier one wins.
    let mut last_end = 0;
    facets.retain(|f| {
        let keep = f.index.byte_start >= last_end;
        if keep {
            last_end = f.index.byte_end;
        }
        keep
    });
    facets
}

fn facet(byte_start: usize, byte_end: usize, feature: FacetFeature) -> Facet {
    Facet {
        index: ByteSlice {
            byte_start,
            byte_end,
        },
        features: vec![feature],
    }
}

/// Bytes of the URL at the start of `rest`, without trailing punctuation.
fn link_len(rest: &str) -> Option<usize> {
    let starts_with = |prefix: &[u8]| {
        rest.as_bytes()
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    let scheme = if starts_with(b"https://") {
        8
    } else if starts_with(b"http://") {
        7
    } else {
        return None;
    };
    let mut url = &rest[..rest.find(char::is_whitespace).unwrap_or(rest.len())];
    while let Some(last) = url.chars().next_back() {
        let unbalanced_paren = last == ')' && url.matches('(').count() < url.matches(')').count();
        if matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '"') || unbalanced_paren {
            url = &url[..url.len() - last.len_utf8()];
        } else {
            break;
        }
    }
    let host_starts_well = url[scheme.min(url.len())..]
        .chars()
        .next()
        .is_some_and(char::is_alphanumeric);
    (url.len() > scheme && host_starts_well).then_some(url.len())
}

/// Bytes of the handle at the start of `rest` (after the `@`), when it is a valid
/// domain-style handle (`alice.bsky.social`).
fn handle_len(rest: &str) -> Option<usize> {
    let run = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        .unwrap_or(rest.len());
    let handle = rest[..run].trim_end_matches(['.', '-']);
    let labels: Vec<&str> = handle.split('.').collect();
    let valid = labels.len() >= 2
        && handle.len() <= 253
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.starts_with(|c: char| c.is_ascii_alphabetic()));
    valid.then_some(handle.len())
}

/// The hashtag (without `#`) at the start of `rest`, when there is one.
fn tag_at(rest: &str) -> Option<&str> {
    let is_stop = |c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '\u{00AD}'
                    | '\u{2060}'
                    | '\u{200A}'
                    | '\u{200B}'
                    | '\u{200C}'
                    | '\u{200D}'
                    | '\u{20E2}'
            )
    };
    if rest.starts_with('\u{FE0F}') {
        // `#️⃣`, the keycap emoji, is not a tag.
        return None;
    }
    let run = &rest[..rest.find(is_stop).unwrap_or(rest.len())];
    let tag = run.trim_end_matches(is_punctuation);
    let has_letter = tag.chars().any(|c| !c.is_numeric() && !is_punctuation(c));
    (has_letter && grapheme_len(tag) <= MAX_TAG_GRAPHEMES).then_some(tag)
}

fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(c,
            '\u{00A1}' | '\u{00A7}' | '\u{00AB}' | '\u{00B6}' | '\u{00B7}' | '\u{00BB}' | '\u{00BF}'
            | '\u{2010}'..='\u{2027}' | '\u{2030}'..='\u{205E}'
            | '\u{3001}'..='\u{3003}' | '\u{3008}'..='\u{3011}'
            | '\u{FF01}'..='\u{FF0F}' | '\u{FF1A}' | '\u{FF1B}' | '\u{FF1F}' | '\u{FF61}'..='\u{FF65}')
}

/// A reply to `target`: `reply.parent` is the target post, `reply.root` its thread's
/// first post. Errors when the text is blank, too long, or a facet does not lie on
/// character boundaries inside it.
pub fn reply_record(
    text: &str,
    target: &ReplyTarget,
    facets: Vec<Facet>,
    created_at: DateTime<Utc>,
) -> Result<PostRecord, BlueskyError> {
    let mut record = post_record(text, facets, created_at)?;
    record.reply = Some(ReplyRef {
        root: StrongRef {
            uri: target.root_uri.clone(),
            cid: target.root_cid.clone(),
        },
        parent: StrongRef {
            uri: target.uri.clone(),
            cid: target.cid.clone(),
        },
    });
    Ok(record)
}

/// A top-level post. Errors as [`reply_record`]. `langs` is left out; set it on the
/// result when the language is known.
pub fn post_record(
    text: &str,
    facets: Vec<Facet>,
    created_at: DateTime<Utc>,
) -> Result<PostRecord, BlueskyError> {
    check_text(text)?;
    for facet in &facets {
        let ByteSlice {
            byte_start,
            byte_end,
        } = facet.index;
        if byte_start >= byte_end
            || byte_end > text.len()
            || !text.is_char_boundary(byte_start)
            || !text.is_char_boundary(byte_end)
        {
            return Err(BlueskyError::FacetOutOfRange {
                byte_start,
                byte_end,
                text_bytes: text.len(),
            });
        }
    }
    Ok(PostRecord {
        record_type: POST_TYPE.to_owned(),
        text: text.to_owned(),
        created_at: format_datetime(created_at),
        langs: None,
        reply: None,
        facets: (!facets.is_empty()).then_some(facets),
        embed: None,
        tags: None,
    })
}

/// `created_at` as the lexicon's datetime: RFC 3339, milliseconds, `Z`
/// (`2026-03-01T09:30:00.250Z`).
pub fn format_datetime(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The `createRecord` body that writes `record` to the account `repo_did`, in
/// `app.bsky.feed.post`. `rkey` is left to the server; set it (see [`super::tid`]) to
/// make retries safe.
pub fn create_record_request(repo_did: &str, record: &PostRecord) -> CreateRecordInput {
    CreateRecordInput {
        repo: repo_did.to_owned(),
        collection: POST_COLLECTION.to_owned(),
        rkey: None,
        validate: None,
        record: record.clone(),
        swap_commit: None,
    }
}
