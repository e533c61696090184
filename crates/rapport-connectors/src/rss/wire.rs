//! The few things feed-rs does not expose, read from the raw XML.
//!
//! feed-rs parses the feed itself; what it drops is the threading extension of RFC 4685
//! (`<thr:in-reply-to ref="..." href="..."/>`). This module walks the raw bytes just far
//! enough to find each `<entry>` / `<item>` and the first `in-reply-to` inside it. It is
//! not an XML parser: it skips comments, CDATA sections, processing instructions and
//! declarations, honours quoted attribute values, and matches element names by their
//! local part (any prefix). Its result is used only when it found exactly as many entries
//! as feed-rs did, so a feed it misreads loses its `thr` threading, never a message.

/// What the raw XML says about one entry, in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RawEntry {
    /// The `ref` attribute of the entry's first `in-reply-to` element: the id of the entry
    /// it answers (RFC 4685 makes it required).
    pub reply_ref: Option<String>,
    /// The `href` attribute of that element: a link to what it answers.
    pub reply_href: Option<String>,
}

/// Finds every `<entry>` (Atom) and `<item>` (RSS) in `body`, in document order.
pub(crate) fn scan_entries(body: &[u8]) -> Vec<RawEntry> {
    let text = String::from_utf8_lossy(body);
    let s = text.as_ref();
    let mut out = Vec::new();
    let mut current: Option<RawEntry> = None;
    // `entry` or `item`: what opened the current entry, so only its own end closes it.
    let mut open_name = "";
    let mut pos = 0;
    while let Some(off) = s[pos..].find('<') {
        let start = pos + off;
        let rest = &s[start..];
        // Skip the constructs that may contain a literal `<entry` without being one.
        let skip_to = if rest.starts_with("<!--") {
            Some("-->")
        } else if rest.starts_with("<![CDATA[") {
            Some("]]>")
        } else if rest.starts_with("<?") {
            Some("?>")
        } else if rest.starts_with("<!") {
            Some(">")
        } else {
            None
        };
        if let Some(end) = skip_to {
            match rest.find(end) {
                Some(e) => {
                    pos = start + e + end.len();
                    continue;
                }
                None => break,
            }
        }
        let Some(tag_len) = tag_end(rest) else { break };
        let tag = &rest[1..tag_len - 1];
        pos = start + tag_len;
        if let Some(name) = tag.strip_prefix('/') {
            if current.is_some()
                && local_name(name.trim()) == open_name
                && let Some(entry) = current.take()
            {
                out.push(entry);
            }
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.strip_suffix('/').unwrap_or(tag);
        let name_end = tag
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(tag.len());
        let local = local_name(&tag[..name_end]);
        if is_entry(local) {
            if self_closing {
                out.push(RawEntry::default());
            } else if current.is_none() {
                current = Some(RawEntry::default());
                open_name = if local == "entry" { "entry" } else { "item" };
            }
        } else if local == "in-reply-to"
            && let Some(entry) = current.as_mut()
            && entry.reply_ref.is_none()
            && entry.reply_href.is_none()
        {
            let attrs = &tag[name_end..];
            entry.reply_ref = attribute(attrs, "ref");
            entry.reply_href = attribute(attrs, "href");
        }
    }
    out
}

fn is_entry(local: &str) -> bool {
    local == "entry" || local == "item"
}

fn local_name(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// The length of the tag that opens `rest` (which starts with `<`), up to and including
/// its `>`, with `>` inside quoted attribute values ignored.
fn tag_end(rest: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in rest.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// The value of attribute `want` (by local name) in `attrs`, entities decoded, trimmed;
/// `None` when absent or empty.
fn attribute(attrs: &str, want: &str) -> Option<String> {
    let mut rest = attrs;
    loop {
        rest = rest.trim_start();
        let eq = rest.find('=')?;
        let name = rest[..eq].trim();
        let after = rest[eq + 1..].trim_start();
        let quote = after.chars().next()?;
        if quote != '"' && quote != '\'' {
            return None;
        }
        let close = after[1..].find(quote)?;
        let value = &after[1..1 + close];
        if local_name(name) == want {
            let value = html_escape::decode_html_entities(value).trim().to_owned();
            return (!value.is_empty()).then_some(value);
        }
        rest = &after[close + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_thread_refs_and_skips_cdata_and_comments() {
        let xml = r#"<?xml version="1.0"?>
<!-- <entry> in a comment -->
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:thr="http://purl.org/syndication/thread/1.0">
  <entry><id>a</id><content type="html"><![CDATA[<entry><thr:in-reply-to ref="no"/>]]></content></entry>
  <entry><id>b</id><thr:in-reply-to type="text/html" href="https://x/a?p=1&amp;q=2" ref='tag:x,2024:a'/></entry>
  <entry><id>c</id><media:item><thr:in-reply-to ref="x"/></media:item></entry>
  <atom:entry title="a > b"/>
</feed>"#;
        let got = scan_entries(xml.as_bytes());
        assert_eq!(got.len(), 4);
        assert_eq!(got[0], RawEntry::default());
        assert_eq!(got[1].reply_ref.as_deref(), Some("tag:x,2024:a"));
        assert_eq!(got[1].reply_href.as_deref(), Some("https://x/a?p=1&q=2"));
        // An `item` inside an Atom entry neither opens nor closes an entry.
        assert_eq!(got[2].reply_ref.as_deref(), Some("x"));
        assert_eq!(got[3], RawEntry::default());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        for xml in [
            "<feed><entry",
            "<feed><entry><thr:in-reply-to ref=\"a",
            "<!--",
            "<",
        ] {
            let _ = scan_entries(xml.as_bytes());
        }
    }
}
