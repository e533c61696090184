//! The digest written out: aligned text for a terminal, markdown (headings and tables,
//! for chat and mail), and one self-contained HTML page (inline style, every value
//! escaped). The JSON form is the [`Digest`] serialised as it is.

use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use rapport_core::digest::{Trend, compact, duration, percent, signed, thousands};

use super::{ConversationLine, Digest, SemanticTheme, SemanticThemes, SlaLine};

/// The headings of the digest's sections, in order, as markdown and HTML write them.
pub const SECTIONS: [&str; 7] = [
    "Themes",
    "Net sentiment",
    "Escalations and open P1s",
    "SLA attainment",
    "Top advocates",
    "New ideas",
    "Spikes",
];

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn title(d: &Digest) -> String {
    let org = if d.organisation.trim().is_empty() {
        "rapport".to_string()
    } else {
        d.organisation.clone()
    };
    match &d.team {
        Some(t) => format!("{org} — {} digest, team {t}", d.period.adjective()),
        None => format!("{org} — {} digest", d.period.adjective()),
    }
}

fn span(d: &Digest) -> String {
    format!(
        "{} to {}, compared with the {} before",
        d.since.format("%Y-%m-%d %H:%M"),
        when(d.until),
        d.period.as_str()
    )
}

fn count(t: &Trend) -> String {
    thousands(current(t))
}

fn current(t: &Trend) -> u64 {
    t.current.unwrap_or(0.0).max(0.0) as u64
}

/// `1 idea`, `2,000 ideas`.
fn n(count: u64, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        thousands(count),
        if count == 1 { one } else { many }
    )
}

fn who(c: &ConversationLine) -> String {
    match c.followers {
        Some(f) if f > 0 => format!("{} ({} followers)", c.who, compact(f as u64)),
        _ => c.who.clone(),
    }
}

/// [`who`], short: `handle (905k)`.
fn who_short(c: &ConversationLine) -> String {
    match c.followers {
        Some(f) if f > 0 => format!("{} ({})", c.who, compact(f as u64)),
        _ => c.who.clone(),
    }
}

fn owner(c: &ConversationLine) -> String {
    match (&c.team, &c.owner) {
        (Some(t), Some(o)) => format!("{t} / {o}"),
        (Some(t), None) => format!("{t} (unassigned)"),
        (None, Some(o)) => o.clone(),
        (None, None) => "unrouted".to_string(),
    }
}

fn open_for(c: &ConversationLine) -> String {
    match c.open_for_s {
        Some(s) => duration(Some(s)),
        None => c.status.clone(),
    }
}

fn escalation_summary(d: &Digest) -> String {
    let e = &d.escalations;
    format!(
        "{} ({}) in {}: {} moved up a band, {} at once",
        n(current(&e.count), "escalation", "escalations"),
        e.count.label,
        n(e.conversations, "conversation", "conversations"),
        n(e.sla_breaches, "SLA breach", "SLA breaches"),
        n(
            e.rule_notifications,
            "routing rule notifying",
            "routing rules notifying"
        )
    )
}

fn escalation_tail(d: &Digest) -> Option<String> {
    let e = &d.escalations;
    let mut parts = Vec::new();
    if e.more > 0 {
        parts.push(format!("{} more at P1 or P2 not shown", e.more));
    }
    if e.below_p2 > 0 {
        parts.push(format!(
            "{} now at P3 or P4 {} counted, not listed",
            n(
                e.below_p2,
                "escalated conversation",
                "escalated conversations"
            ),
            if e.below_p2 == 1 { "is" } else { "are" }
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn p1_summary(d: &Digest) -> String {
    let p = &d.open_p1;
    let mut s = format!(
        "{} not resolved ({} opened in the last {}, {})",
        n(p.total, "P1 conversation is", "P1 conversations are"),
        count(&p.opened),
        last(d),
        p.opened.label
    );
    if !p.listed.is_empty() {
        s.push_str(&format!(
            "; the {} with the highest priority score",
            p.listed.len()
        ));
    }
    s
}

/// `24 hours` or `7 days`.
fn last(d: &Digest) -> &'static str {
    match d.period {
        rapport_core::digest::DigestPeriod::Day => "24 hours",
        rapport_core::digest::DigestPeriod::Week => "7 days",
    }
}

fn sentiment_summary(d: &Digest) -> (String, String) {
    let s = &d.sentiment;
    if s.net_sentiment.current.is_none() {
        return (
            "–".to_string(),
            format!("no inbound messages in the last {}", last(d)),
        );
    }
    (
        format!(
            "{} ({})",
            signed(s.net_sentiment.current),
            s.net_sentiment.label
        ),
        format!(
            "over {} inbound messages ({}): {} positive, {} negative",
            count(&s.inbound),
            s.inbound.label,
            thousands(s.positive),
            thousands(s.negative)
        ),
    )
}

fn ideas_summary(d: &Digest) -> String {
    let i = &d.ideas;
    let mut s = format!(
        "{} ({}) from {}",
        n(current(&i.count), "idea", "ideas"),
        i.count.label,
        n(i.authors, "person", "people")
    );
    if i.ungrouped > 0 {
        s.push_str(&format!(
            "; {} more in smaller groups",
            thousands(i.ungrouped)
        ));
    }
    s
}

fn spikes_summary(d: &Digest) -> String {
    let s = &d.spikes;
    let scope = if s.organisation_wide {
        " (whole organisation)"
    } else {
        ""
    };
    format!(
        "{} raised{scope} ({})",
        n(current(&s.count), "spike alert", "spike alerts"),
        s.count.label
    )
}

// ---------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------

/// Pads or cuts `text` to `width` characters.
fn cell(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n > width {
        let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
        s.push('…');
        s
    } else {
        format!("{text}{}", " ".repeat(width - n))
    }
}

/// Right-aligns `text` in `width` characters.
fn right(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n >= width {
        text.to_string()
    } else {
        format!("{}{text}", " ".repeat(width - n))
    }
}

/// The line that introduces the themes by meaning: the model and how many of the period's
/// messages were clustered; or, when they are off, how to turn them on.
fn semantic_summary(s: &SemanticThemes) -> String {
    if !s.on {
        return cap(s.hint.as_deref().unwrap_or(super::SEMANTIC_OFF_HINT));
    }
    let mut out = format!(
        "Themes by meaning ({}): {} of {} clustered",
        s.model,
        thousands(s.embedded),
        n(s.messages, "inbound message", "inbound messages")
    );
    if s.not_embedded > 0 {
        out.push_str(&format!(
            "; {} not embedded yet (`rapport semantic index` embeds them, `rapport serve` does it in the background)",
            n(s.not_embedded, "message", "messages")
        ));
    }
    if s.themes.is_empty() {
        out.push_str("; no theme found");
    }
    out
}

/// A theme's name: its words.
fn theme_name(t: &SemanticTheme) -> String {
    if t.words.is_empty() {
        "–".to_string()
    } else {
        t.words.join(", ")
    }
}

/// A theme's sentiment in a few words: `-0.412, 88% negative`.
fn theme_sentiment(t: &SemanticTheme) -> String {
    format!(
        "{}, {:.0}% negative",
        signed(Some(t.mean_compound)),
        t.negative_share * 100.0
    )
}

/// The digest for a terminal: aligned columns, no markup.
pub fn text(d: &Digest) -> String {
    let mut o = String::new();
    let mut line = |s: String| {
        o.push_str(s.trim_end());
        o.push('\n');
    };
    line(title(d));
    line(span(d));

    line(String::new());
    line("THEMES".into());
    let t = &d.themes;
    if t.topics.is_empty() {
        line(
            "  no listening topic matched a message (topics are [[topic]] in rapport.toml)".into(),
        );
    } else {
        line(format!(
            "  {} {} {} {} {}",
            cell("TOPIC", 20),
            cell("KIND", 11),
            right("MESSAGES", 9),
            cell("  TREND", 10),
            right("NET SENT", 9)
        ));
        for x in &t.topics {
            line(format!(
                "  {} {} {} {} {}",
                cell(&x.topic, 20),
                cell(&x.kind, 11),
                right(&count(&x.messages), 9),
                cell(&format!("  {}", x.messages.label), 10),
                right(&signed(x.net_sentiment), 9)
            ));
        }
    }
    if let Some(sov) = &t.share_of_voice {
        line(format!(
            "  share of voice {} ({})",
            percent(sov.current),
            sov.label
        ));
    }
    if !t.labels.is_empty() {
        line(format!(
            "  {} {} {}",
            cell("LABEL", 20),
            right("CONVERSATIONS", 13),
            cell("  TREND", 10)
        ));
        for l in &t.labels {
            line(format!(
                "  {} {} {}",
                cell(&l.label, 20),
                right(&count(&l.conversations), 13),
                cell(&format!("  {}", l.conversations.label), 10)
            ));
        }
    }
    if t.organisation_wide {
        line("  (topics and share of voice: whole organisation)".into());
    }
    let st = &t.semantic_themes;
    line(format!("  {}", semantic_summary(st)));
    if !st.themes.is_empty() {
        line(format!(
            "  {} {} {} {} {}",
            cell("THEME", 36),
            right("MESSAGES", 9),
            right("SHARE", 7),
            cell("  TREND", 10),
            cell("SENTIMENT", 22)
        ));
        for x in &st.themes {
            line(format!(
                "  {} {} {} {} {}",
                cell(&theme_name(x), 36),
                right(&thousands(x.size), 9),
                right(&percent(Some(x.share)), 7),
                cell(&format!("  {}", x.messages.label), 10),
                cell(&theme_sentiment(x), 22)
            ));
            for e in &x.examples {
                line(format!("      “{}” — {}", e.text, e.author));
            }
        }
    }

    line(String::new());
    line("NET SENTIMENT".into());
    let (head, tail) = sentiment_summary(d);
    line(format!("  {head} {tail}"));

    line(String::new());
    line("ESCALATIONS AND OPEN P1s".into());
    line(format!("  {}", escalation_summary(d)));
    let conv_header = || {
        format!(
            "    {} {} {} {} {} {}",
            right("ID", 6),
            cell("PRI", 3),
            cell("WHO (FOLLOWERS)", 38),
            cell("WHAT", 42),
            cell("OWNER", 18),
            right("OPEN FOR", 9)
        )
    };
    let conv_line = |c: &ConversationLine| {
        format!(
            "    {} {} {} {} {} {}",
            right(&c.conversation.to_string(), 6),
            cell(c.band.as_str(), 3),
            cell(&who_short(c), 38),
            cell(&c.what, 42),
            cell(&owner(c), 18),
            right(&open_for(c), 9)
        )
    };
    if !d.escalations.listed.is_empty() {
        line(conv_header());
        for c in &d.escalations.listed {
            line(conv_line(c));
            if let Some(why) = &c.why {
                line(format!("               {why}"));
            }
        }
    }
    if let Some(tail) = escalation_tail(d) {
        line(format!("  ({tail})"));
    }
    line(format!("  {}", p1_summary(d)));
    if !d.open_p1.listed.is_empty() {
        line(conv_header());
        for c in &d.open_p1.listed {
            line(conv_line(c));
        }
    }

    line(String::new());
    line("SLA ATTAINMENT".into());
    line(format!(
        "  {} {} {} {} {} {} {}",
        cell("TEAM", 10),
        right("CONVERSATIONS", 13),
        cell("  TREND", 9),
        right("SLA", 7),
        cell("  TREND", 13),
        right("FRT MEDIAN", 10),
        cell("  TREND", 9)
    ));
    let sla_row = |s: &SlaLine| {
        format!(
            "  {} {} {} {} {} {} {}",
            cell(&s.team, 10),
            right(&count(&s.conversations), 13),
            cell(&format!("  {}", s.conversations.label), 9),
            right(&percent(s.attainment.current), 7),
            cell(&format!("  {}", s.attainment.label), 13),
            right(&duration(s.frt_median_s.current), 10),
            cell(&format!("  {}", s.frt_median_s.label), 9)
        )
    };
    line(sla_row(&d.sla.overall));
    for s in &d.sla.teams {
        line(sla_row(s));
    }

    line(String::new());
    line("TOP ADVOCATES".into());
    if d.advocates.people.is_empty() {
        line("  nobody wrote a positive message".into());
    } else {
        line(format!(
            "  {} {} {} {} {} {}",
            right("#", 2),
            cell("NAME", 24),
            cell("ACCOUNT", 42),
            right("POSITIVE", 8),
            right("FOLLOWERS", 9),
            right("SCORE¹", 6)
        ));
        for (i, a) in d.advocates.people.iter().enumerate() {
            line(format!(
                "  {} {} {} {} {} {}",
                right(&(i + 1).to_string(), 2),
                cell(&a.name, 24),
                cell(&format!("{} ({})", a.account, a.platform), 42),
                right(&a.positive.to_string(), 8),
                right(&compact(a.followers), 9),
                right(&format!("{:.1}", a.score), 6)
            ));
        }
        line(format!(
            "  ({} wrote positively; ¹ {})",
            n(d.advocates.positive_authors, "person", "people"),
            d.advocates.formula
        ));
    }

    line(String::new());
    line("NEW IDEAS".into());
    line(format!("  {}", ideas_summary(d)));
    if !d.ideas.groups.is_empty() {
        line(format!(
            "  {} {} {}",
            right("IDEAS", 5),
            cell("ABOUT", 22),
            cell("EXAMPLE", 70)
        ));
        for g in &d.ideas.groups {
            line(format!(
                "  {} {} {}",
                right(&g.count.to_string(), 5),
                cell(&group_name(&g.kind, &g.key), 22),
                cell(&g.example, 70)
            ));
        }
    }

    line(String::new());
    line("SPIKES".into());
    line(format!("  {}", spikes_summary(d)));
    for a in &d.spikes.alerts {
        line(format!("    {}  {}", when(a.bucket_start), a.headline));
    }

    line(String::new());
    line("NOTES".into());
    for n in &d.notes {
        line(format!("  - {n}"));
    }
    o
}

fn group_name(kind: &str, key: &str) -> String {
    match kind {
        "topic" => format!("topic {key}"),
        "label" => format!("label {key}"),
        "text" => "–".to_string(),
        _ => format!("“{key}”"),
    }
}

// ---------------------------------------------------------------------------------------
// Markdown
// ---------------------------------------------------------------------------------------

/// `text` for a markdown table cell or paragraph, on one line, read the same by
/// CommonMark renderers and by Slack: `<`, `>` and `&` as entities (so no one's message
/// becomes HTML); backslash, `|`, `*`, backtick, `[`, `]`, `~`, and a `_` or `#` that
/// could start emphasis or a heading, escaped with a backslash; and `@channel`, `@here`, `@all` and `@everyone`
/// broken with a word joiner so that a customer's message never pings a whole channel.
pub fn md(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let alnum = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(|c| c.is_alphanumeric())
        };
        match c {
            '\\' | '|' | '*' | '`' | '[' | ']' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '_' if !(alnum(i.checked_sub(1)) && alnum(Some(i + 1))) => out.push_str("\\_"),
            '#' if i == 0 => out.push_str("\\#"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '@' => {
                out.push('@');
                let rest: String = chars[i + 1..]
                    .iter()
                    .take_while(|c| c.is_alphanumeric())
                    .collect();
                if ["channel", "here", "all", "everyone"].contains(&rest.to_lowercase().as_str()) {
                    out.push('\u{2060}');
                }
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn md_conv_table(o: &mut String, lines: &[ConversationLine], with_why: bool) {
    if with_why {
        o.push_str("| # | Band | Who | What | Owner | Open for | Why |\n");
        o.push_str("| ---: | --- | --- | --- | --- | --- | --- |\n");
    } else {
        o.push_str("| # | Who | What | Owner | Open for |\n");
        o.push_str("| ---: | --- | --- | --- | --- |\n");
    }
    for c in lines {
        let mut row = format!("| {} |", c.conversation);
        if with_why {
            row.push_str(&format!(" {} |", c.band.as_str()));
        }
        row.push_str(&format!(
            " {} | {} | {} | {} |",
            md(&who(c)),
            md(&c.what),
            md(&owner(c)),
            md(&open_for(c))
        ));
        if with_why {
            row.push_str(&format!(" {} |", md(c.why.as_deref().unwrap_or(""))));
        }
        o.push_str(&row);
        o.push('\n');
    }
    o.push('\n');
}

/// The digest in markdown: a heading per section, tables for lists.
pub fn markdown(d: &Digest) -> String {
    let mut o = String::new();
    o.push_str(&format!("# {}\n\n", md(&title(d))));
    o.push_str(&format!("{}.\n\n", md(&span(d))));

    let t = &d.themes;
    o.push_str(&format!("## {}\n\n", SECTIONS[0]));
    if t.topics.is_empty() {
        o.push_str(
            "No listening topic matched a message (topics are `[[topic]]` in rapport.toml).\n\n",
        );
    } else {
        o.push_str("| Topic | Kind | Messages | Trend | Net sentiment |\n");
        o.push_str("| --- | --- | ---: | --- | ---: |\n");
        for x in &t.topics {
            o.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                md(&x.topic),
                md(&x.kind),
                count(&x.messages),
                x.messages.label,
                signed(x.net_sentiment)
            ));
        }
        o.push('\n');
    }
    if let Some(sov) = &t.share_of_voice {
        o.push_str(&format!(
            "Share of voice: **{}** ({}).\n\n",
            percent(sov.current),
            sov.label
        ));
    }
    if !t.labels.is_empty() {
        o.push_str("| Label | Conversations | Trend |\n| --- | ---: | --- |\n");
        for l in &t.labels {
            o.push_str(&format!(
                "| {} | {} | {} |\n",
                md(&l.label),
                count(&l.conversations),
                l.conversations.label
            ));
        }
        o.push('\n');
    }
    if t.organisation_wide {
        o.push_str("Topics and share of voice cover the whole organisation.\n\n");
    }
    let st = &t.semantic_themes;
    o.push_str(&format!("{}.\n\n", semantic_summary(st)));
    if !st.themes.is_empty() {
        o.push_str("| Theme | Messages | Share | Trend | Sentiment | Examples |\n");
        o.push_str("| --- | ---: | ---: | --- | --- | --- |\n");
        for x in &st.themes {
            let examples: Vec<String> = x
                .examples
                .iter()
                .map(|e| format!("“{}” — {}", md(&e.text), md(&e.author)))
                .collect();
            o.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                md(&theme_name(x)),
                thousands(x.size),
                percent(Some(x.share)),
                x.messages.label,
                theme_sentiment(x),
                examples.join(" · ")
            ));
        }
        o.push('\n');
    }

    o.push_str(&format!("## {}\n\n", SECTIONS[1]));
    let (head, tail) = sentiment_summary(d);
    o.push_str(&format!("**{head}** {tail}.\n\n"));

    o.push_str(&format!("## {}\n\n", SECTIONS[2]));
    o.push_str(&format!("{}.\n\n", escalation_summary(d)));
    if !d.escalations.listed.is_empty() {
        md_conv_table(&mut o, &d.escalations.listed, true);
    }
    if let Some(tail) = escalation_tail(d) {
        o.push_str(&format!("{}.\n\n", md(&cap(&tail))));
    }
    o.push_str(&format!("{}.\n\n", p1_summary(d)));
    if !d.open_p1.listed.is_empty() {
        md_conv_table(&mut o, &d.open_p1.listed, false);
    }

    o.push_str(&format!("## {}\n\n", SECTIONS[3]));
    o.push_str("| Team | Conversations | Trend | SLA attainment | Trend | FRT median | Trend |\n");
    o.push_str("| --- | ---: | --- | ---: | --- | ---: | --- |\n");
    for s in std::iter::once(&d.sla.overall).chain(&d.sla.teams) {
        o.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            md(&s.team),
            count(&s.conversations),
            s.conversations.label,
            percent(s.attainment.current),
            s.attainment.label,
            duration(s.frt_median_s.current),
            s.frt_median_s.label
        ));
    }
    o.push('\n');

    o.push_str(&format!("## {}\n\n", SECTIONS[4]));
    if d.advocates.people.is_empty() {
        o.push_str("Nobody wrote a positive message.\n\n");
    } else {
        o.push_str("| # | Person | Account | Positive messages | Followers | Score¹ |\n");
        o.push_str("| ---: | --- | --- | ---: | ---: | ---: |\n");
        for (i, a) in d.advocates.people.iter().enumerate() {
            o.push_str(&format!(
                "| {} | {} | {} ({}) | {} | {} | {:.1} |\n",
                i + 1,
                md(&a.name),
                md(&a.account),
                md(&a.platform),
                a.positive,
                compact(a.followers),
                a.score
            ));
        }
        o.push_str(&format!(
            "\n{} wrote positively. ¹ {}.\n\n",
            n(d.advocates.positive_authors, "person", "people"),
            md(&cap(&d.advocates.formula))
        ));
    }

    o.push_str(&format!("## {}\n\n", SECTIONS[5]));
    o.push_str(&format!("{}.\n\n", ideas_summary(d)));
    if !d.ideas.groups.is_empty() {
        o.push_str("| About | Ideas | Example |\n| --- | ---: | --- |\n");
        for g in &d.ideas.groups {
            o.push_str(&format!(
                "| {} | {} | {} |\n",
                md(&group_name(&g.kind, &g.key)),
                g.count,
                md(&g.example)
            ));
        }
        o.push('\n');
    }

    o.push_str(&format!("## {}\n\n", SECTIONS[6]));
    o.push_str(&format!("{}.\n\n", spikes_summary(d)));
    for a in &d.spikes.alerts {
        o.push_str(&format!(
            "- {}: {}\n",
            when(a.bucket_start),
            md(&a.headline)
        ));
    }
    if !d.spikes.alerts.is_empty() {
        o.push('\n');
    }

    o.push_str("---\n\n**Notes**\n\n");
    for n in &d.notes {
        o.push_str(&format!("- {}\n", md(n)));
    }
    o
}

fn cap(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------------------

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1f2328;line-height:1.45}\
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}\
.span{color:#59636e;margin-top:0}table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.92rem}\
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f6f8fa}\
td.n{text-align:right;font-variant-numeric:tabular-nums}.up{color:#1a7f37}.down{color:#cf222e}.flat,.note{color:#59636e}\
.notes{font-size:.85rem;color:#59636e}";

fn trend_cell(t: &Trend) -> Markup {
    let class = match t.direction {
        rapport_core::digest::TrendDirection::Up | rapport_core::digest::TrendDirection::New => {
            "up"
        }
        rapport_core::digest::TrendDirection::Down => "down",
        _ => "flat",
    };
    html! { td class=(class) { (t.label) } }
}

fn html_conv_table(lines: &[ConversationLine], with_why: bool) -> Markup {
    html! {
        table {
            thead { tr {
                th { "#" }
                @if with_why { th { "Band" } }
                th { "Who" } th { "What" } th { "Owner" } th { "Open for" }
                @if with_why { th { "Why" } }
            } }
            tbody {
                @for c in lines {
                    tr {
                        td class="n" { (c.conversation) }
                        @if with_why { td { (c.band.as_str()) } }
                        td { (who(c)) }
                        td { (c.what) }
                        td { (owner(c)) }
                        td { (open_for(c)) }
                        @if with_why { td { (c.why.as_deref().unwrap_or("")) } }
                    }
                }
            }
        }
    }
}

/// The digest as one self-contained HTML page (inline style, no script, every value
/// escaped).
pub fn html(d: &Digest) -> String {
    let t = &d.themes;
    let (sent_head, sent_tail) = sentiment_summary(d);
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title(d)) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { (title(d)) }
                p class="span" { (span(d)) "." }

                h2 { (SECTIONS[0]) }
                @if t.topics.is_empty() {
                    p { "No listening topic matched a message (topics are [[topic]] in rapport.toml)." }
                } @else {
                    table {
                        thead { tr { th { "Topic" } th { "Kind" } th { "Messages" } th { "Trend" } th { "Net sentiment" } } }
                        tbody {
                            @for x in &t.topics {
                                tr {
                                    td { (x.topic) } td { (x.kind) }
                                    td class="n" { (count(&x.messages)) }
                                    (trend_cell(&x.messages))
                                    td class="n" { (signed(x.net_sentiment)) }
                                }
                            }
                        }
                    }
                }
                @if let Some(sov) = &t.share_of_voice {
                    p { "Share of voice: " strong { (percent(sov.current)) } " (" (sov.label) ")." }
                }
                @if !t.labels.is_empty() {
                    table {
                        thead { tr { th { "Label" } th { "Conversations" } th { "Trend" } } }
                        tbody {
                            @for l in &t.labels {
                                tr { td { (l.label) } td class="n" { (count(&l.conversations)) } (trend_cell(&l.conversations)) }
                            }
                        }
                    }
                }
                @if t.organisation_wide {
                    p class="note" { "Topics and share of voice cover the whole organisation." }
                }
                p class=[(!t.semantic_themes.on).then_some("note")] { (semantic_summary(&t.semantic_themes)) "." }
                @if !t.semantic_themes.themes.is_empty() {
                    table {
                        thead { tr { th { "Theme" } th { "Messages" } th { "Share" } th { "Trend" } th { "Sentiment" } th { "Examples" } } }
                        tbody {
                            @for x in &t.semantic_themes.themes {
                                tr {
                                    td { (theme_name(x)) }
                                    td class="n" { (thousands(x.size)) }
                                    td class="n" { (percent(Some(x.share))) }
                                    (trend_cell(&x.messages))
                                    td { (theme_sentiment(x)) }
                                    td { @for e in &x.examples { div { "“" (e.text) "” — " (e.author) } } }
                                }
                            }
                        }
                    }
                }

                h2 { (SECTIONS[1]) }
                p { strong { (sent_head) } " " (sent_tail) "." }

                h2 { (SECTIONS[2]) }
                p { (escalation_summary(d)) "." }
                @if !d.escalations.listed.is_empty() {
                    (html_conv_table(&d.escalations.listed, true))
                }
                @if let Some(tail) = escalation_tail(d) {
                    p class="note" { (cap(&tail)) "." }
                }
                p { (p1_summary(d)) "." }
                @if !d.open_p1.listed.is_empty() {
                    (html_conv_table(&d.open_p1.listed, false))
                }

                h2 { (SECTIONS[3]) }
                table {
                    thead { tr { th { "Team" } th { "Conversations" } th { "Trend" } th { "SLA attainment" } th { "Trend" } th { "FRT median" } th { "Trend" } } }
                    tbody {
                        @for s in std::iter::once(&d.sla.overall).chain(&d.sla.teams) {
                            tr {
                                td { (s.team) }
                                td class="n" { (count(&s.conversations)) }
                                (trend_cell(&s.conversations))
                                td class="n" { (percent(s.attainment.current)) }
                                (trend_cell(&s.attainment))
                                td class="n" { (duration(s.frt_median_s.current)) }
                                (trend_cell(&s.frt_median_s))
                            }
                        }
                    }
                }

                h2 { (SECTIONS[4]) }
                @if d.advocates.people.is_empty() {
                    p { "Nobody wrote a positive message." }
                } @else {
                    table {
                        thead { tr { th { "#" } th { "Person" } th { "Account" } th { "Positive messages" } th { "Followers" } th { "Score¹" } } }
                        tbody {
                            @for (i, a) in d.advocates.people.iter().enumerate() {
                                tr {
                                    td class="n" { (i + 1) }
                                    td { (a.name) }
                                    td { (a.account) " (" (a.platform) ")" }
                                    td class="n" { (a.positive) }
                                    td class="n" { (compact(a.followers)) }
                                    td class="n" { (format!("{:.1}", a.score)) }
                                }
                            }
                        }
                    }
                    p class="note" {
                        (n(d.advocates.positive_authors, "person", "people")) " wrote positively. ¹ " (cap(&d.advocates.formula)) "."
                    }
                }

                h2 { (SECTIONS[5]) }
                p { (ideas_summary(d)) "." }
                @if !d.ideas.groups.is_empty() {
                    table {
                        thead { tr { th { "About" } th { "Ideas" } th { "Example" } } }
                        tbody {
                            @for g in &d.ideas.groups {
                                tr { td { (group_name(&g.kind, &g.key)) } td class="n" { (g.count) } td { (g.example) } }
                            }
                        }
                    }
                }

                h2 { (SECTIONS[6]) }
                p { (spikes_summary(d)) "." }
                @if !d.spikes.alerts.is_empty() {
                    ul {
                        @for a in &d.spikes.alerts {
                            li { (when(a.bucket_start)) ": " (a.headline) }
                        }
                    }
                }

                footer class="notes" {
                    h2 { "Notes" }
                    ul { @for n in &d.notes { li { (n) } } }
                }
            }
        }
    };
    page.into_string()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rapport_core::Band;
    use rapport_core::digest::{ADVOCATE_FORMULA, DigestPeriod, IdeaGroup};

    use super::super::*;
    use super::*;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, h, 0, 0).unwrap()
    }

    /// A digest with hostile text wherever a customer's words can appear.
    fn sample() -> Digest {
        let evil =
            "<script>alert(1)</script> | **bold** [x](http://evil.example) @channel _hi_ a&b";
        let conv = ConversationLine {
            conversation: 42,
            band: Band::P1,
            intent: "complaint".into(),
            status: "open".into(),
            who: "jane_doe<b>".into(),
            platform: "bluesky".into(),
            followers: Some(905_000),
            what: evil.into(),
            team: Some("comms".into()),
            owner: None,
            opened_at: at(9),
            open_for_s: Some(3.0 * 3600.0),
            escalated_at: Some(at(10)),
            why: Some("rule \"high-reach complaint\": notify leaders".into()),
        };
        let sla = SlaLine {
            team: "all".into(),
            conversations: Trend::count(10, 8),
            attainment: Trend::points(Some(0.6), Some(0.5)),
            met: 6,
            breached: 4,
            pending: 0,
            frt_median_s: Trend::relative(Some(600.0), Some(900.0)),
        };
        Digest {
            organisation: "Acme <Lights>".into(),
            period: DigestPeriod::Week,
            team: None,
            since: at(0) - chrono::TimeDelta::days(7),
            until: at(12),
            previous_since: at(0) - chrono::TimeDelta::days(14),
            generated_at: at(12),
            themes: Themes {
                semantic_themes: SemanticThemes {
                    on: true,
                    model: "all-MiniLM-L6-v2".into(),
                    messages: 12,
                    embedded: 10,
                    not_embedded: 2,
                    themes: vec![SemanticTheme {
                        words: vec!["battery".into(), "<b>dies</b>".into()],
                        size: 6,
                        share: 0.6,
                        messages: Trend::count(6, 3),
                        mean_compound: -0.4,
                        negative_share: 0.75,
                        positive_share: 0.0,
                        examples: vec![ThemeExample {
                            message: 7,
                            author: "ana<i>".into(),
                            text: evil.into(),
                        }],
                    }],
                    hint: None,
                },
                topics: vec![TopicTheme {
                    topic: "acme".into(),
                    kind: "brand".into(),
                    messages: Trend::count(12, 10),
                    net_sentiment: Some(0.25),
                }],
                labels: vec![LabelTheme {
                    label: "<i>label</i>".into(),
                    conversations: Trend::count(3, 0),
                }],
                share_of_voice: Some(Trend::points(Some(0.9), Some(0.8))),
                organisation_wide: false,
            },
            sentiment: SentimentSection {
                net_sentiment: Trend::difference(Some(0.3), Some(0.25)),
                inbound: Trend::count(100, 90),
                positive: 50,
                negative: 20,
            },
            escalations: Escalations {
                count: Trend::count(1, 0),
                conversations: 1,
                sla_breaches: 0,
                rule_notifications: 1,
                listed: vec![conv.clone()],
                below_p2: 3,
                more: 0,
            },
            open_p1: OpenP1 {
                total: 1,
                opened: Trend::count(1, 1),
                listed: vec![conv],
            },
            sla: SlaSection {
                overall: sla.clone(),
                teams: vec![SlaLine {
                    team: "comms".into(),
                    ..sla
                }],
            },
            advocates: Advocates {
                formula: ADVOCATE_FORMULA.into(),
                positive_authors: 1,
                people: vec![AdvocateLine {
                    person: 7,
                    name: "<img src=x onerror=alert(1)>".into(),
                    account: "fan.example".into(),
                    platform: "bluesky".into(),
                    positive: 3,
                    followers: 1_200,
                    score: 9.2,
                }],
            },
            ideas: Ideas {
                count: Trend::count(2, 1),
                authors: 2,
                groups: vec![IdeaGroup {
                    key: "dark mode".into(),
                    kind: "words".into(),
                    count: 2,
                    example: "a dark mode <please>".into(),
                }],
                ungrouped: 0,
            },
            spikes: Spikes {
                count: Trend::count(1, 0),
                alerts: vec![SpikeLine {
                    bucket_start: at(8),
                    bucket_end: at(8) + chrono::TimeDelta::minutes(5),
                    headline: "Spike: 40 messages in 5 min about <acme>".into(),
                }],
                organisation_wide: false,
            },
            notes: vec!["a note".into()],
        }
    }

    #[test]
    fn html_escapes_every_value_and_stands_alone() {
        let page = html(&sample());
        assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
        assert!(!page.contains("<script"), "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(!page.contains("<b>") && !page.contains("<i>"), "{page}");
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{page}"
        );
        assert!(page.contains("Acme &lt;Lights&gt;"), "{page}");
        // Nothing fetched from elsewhere.
        assert!(
            !page.contains("<link") && !page.contains("src=\""),
            "{page}"
        );
        for section in SECTIONS {
            assert!(page.contains(&format!("<h2>{section}</h2>")), "{section}");
        }
    }

    #[test]
    fn markdown_has_every_heading_and_escapes_customer_text() {
        let m = markdown(&sample());
        assert!(
            m.starts_with("# Acme &lt;Lights&gt; — weekly digest\n"),
            "{m}"
        );
        for section in SECTIONS {
            assert!(m.contains(&format!("\n## {section}\n")), "{section}");
        }
        assert!(!m.contains("<script>"), "{m}");
        assert!(m.contains("&lt;script&gt;alert(1)&lt;/script&gt; \\| \\*\\*bold\\*\\* \\[x\\](http://evil.example) @\u{2060}channel \\_hi\\_ a&amp;b"), "{m}");
        // An underscore inside a handle stays as it is.
        assert!(m.contains("jane_doe&lt;b&gt; (905k followers)"), "{m}");
        assert!(m.contains("| 42 | P1 |"), "{m}");
        assert!(
            m.contains("3 escalated conversations now at P3 or P4 are counted, not listed"),
            "{m}"
        );
        assert!(m.contains("1 escalation (▲ new) in 1 conversation: 0 SLA breaches moved up a band, 1 routing rule notifying at once."), "{m}");
    }

    #[test]
    fn md_escapes() {
        assert_eq!(md("#1 fan"), "\\#1 fan");
        assert_eq!(md("we're #1"), "we're #1");
        assert_eq!(md("line\nbreak|pipe"), "line break\\|pipe");
        assert_eq!(md("@here and @hereford"), "@\u{2060}here and @hereford");
    }

    #[test]
    fn text_is_aligned_and_plain() {
        let t = text(&sample());
        assert!(t.starts_with("Acme <Lights> — weekly digest\n"), "{t}");
        for heading in [
            "THEMES",
            "NET SENTIMENT",
            "ESCALATIONS AND OPEN P1s",
            "SLA ATTAINMENT",
            "TOP ADVOCATES",
            "NEW IDEAS",
            "SPIKES",
        ] {
            assert!(t.contains(&format!("\n{heading}\n")), "{heading}: {t}");
        }
        // The SLA table's columns line up: every row as long as its header.
        let rows: Vec<&str> = t
            .lines()
            .skip_while(|l| *l != "SLA ATTAINMENT")
            .skip(1)
            .take(3)
            .collect();
        let width = |s: &str| s.chars().count();
        assert_eq!(width(rows[1]), width(rows[2]), "{rows:?}");
    }
    #[test]
    fn themes_by_meaning_are_in_every_form_escaped_or_say_how_to_turn_them_on() {
        let d = sample();
        let t = text(&d);
        assert!(
            t.contains("Themes by meaning (all-MiniLM-L6-v2): 10 of 12 inbound messages clustered; 2 messages not embedded yet"),
            "{t}"
        );
        assert!(t.contains("battery, <b>dies</b>"), "{t}");
        assert!(t.contains("60.0%") && t.contains("▲ 100%"), "{t}");
        assert!(t.contains("-0.400, 75% negative"), "{t}");
        assert!(t.contains("— ana<i>"), "{t}");
        let m = markdown(&d);
        assert!(
            m.contains("| battery, &lt;b&gt;dies&lt;/b&gt; | 6 | 60.0% | ▲ 100% | -0.400, 75% negative | “&lt;script&gt;"),
            "{m}"
        );
        assert!(m.contains("— ana&lt;i&gt; |"), "{m}");
        let h = html(&d);
        assert!(
            h.contains("<td>battery, &lt;b&gt;dies&lt;/b&gt;</td>"),
            "{h}"
        );
        assert!(h.contains("2 messages not embedded yet"), "{h}");

        let mut off = sample();
        off.themes.semantic_themes = SemanticThemes {
            on: false,
            model: "all-MiniLM-L6-v2".into(),
            messages: 12,
            embedded: 0,
            not_embedded: 12,
            themes: Vec::new(),
            hint: Some(super::super::SEMANTIC_OFF_HINT.into()),
        };
        let lines: Vec<String> = [text(&off), markdown(&off), html(&off)]
            .iter()
            .map(|f| {
                f.lines()
                    .filter(|l| l.contains("rapport semantic install"))
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .collect();
        for l in &lines {
            assert!(l.contains("Themes by meaning are off"), "{l}");
            assert!(l.contains("docs/semantic.md"), "{l}");
            assert!(!l.contains("battery"), "{l}");
        }
    }
}
