//! HTML to plain text, the one way every connector and the import do it: html2text with
//! no decoration and no link footnotes, then tidy whitespace. Nothing in the HTML is
//! executed or fetched.

use html2text::render::TrivialDecorator;

/// Lines are never wrapped below this many columns (a status is far shorter).
const TEXT_WIDTH: usize = 1 << 20;

/// Turns status HTML into plain text: paragraphs are separated by a blank line, `<br>`
/// becomes a line break, a link becomes its visible text (so a mention reads `@user`
/// and a hashtag `#tag`), entities are decoded, no markup is left, and nothing in the
/// HTML is executed or fetched. Trailing spaces and runs of blank lines are removed.
pub fn to_text(html: &str) -> String {
    let rendered = html2text::config::with_decorator(TrivialDecorator::new())
        .link_footnotes(false)
        .allow_width_overflow()
        .no_table_borders()
        .string_from_read(html.as_bytes(), TEXT_WIDTH);
    let raw = rendered.unwrap_or_else(|_| strip_tags(html));
    tidy(&raw)
}

/// Trailing spaces off every line, at most one blank line in a row, none at either end,
/// and the whole trimmed.
pub fn tidy(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut blank_run = 0usize;
    for line in raw.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        out.push_str(line);
    }
    out.trim().to_string()
}

/// A fallback should the renderer ever refuse: drop tags, break lines at `<br>` and
/// block ends, decode entities.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let end = after.find('>').map_or(after.len(), |i| i + 1);
        let tag = after[..end].to_ascii_lowercase();
        if tag.starts_with("<br") || tag.starts_with("</p") || tag.starts_with("</li") {
            out.push('\n');
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    html_escape::decode_html_entities(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_strips_tags() {
        assert_eq!(
            strip_tags("<p>a &amp; b<br>c</p><p>d</p>"),
            "a & b\nc\nd\n".to_string()
        );
    }
}
