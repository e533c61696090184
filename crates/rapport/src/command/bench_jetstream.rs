//! Generated Bluesky Jetstream traffic for the benchmarks: what an organisation's
//! channel hears from the firehose, one JSON event per line, in the exact shape
//! Jetstream sends (`{"did", "time_us", "kind": "commit", "commit": {"rev",
//! "operation": "create", "collection": "app.bsky.feed.post", "rkey", "record": {...},
//! "cid"}}`).
//!
//! The mix, per 100 posts: about 65 mention the organisation (a mention facet and
//! `@handle` in the text), 10 are the organisation's own answers (replies to a recent
//! mention), 25 are people answering back (replies whose parent is one of those
//! answers). Texts are tweet-length (about 100 characters): complaints, questions,
//! praise, ideas, purchase intent, spam, some French, German and Spanish, emoji, hashtags,
//! ALL CAPS. Authors follow a long tail (a few write a lot); each author's reach
//! ([`followers_of`]) is what the listener would learn from their profile.
//!
//! Deterministic: the same count gives the same file.

use std::io::Write;

use chrono::{DateTime, TimeZone as _, Utc};
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use rapport_connectors::bluesky::tid::tid;
use serde_json::json;

/// The organisation the generated traffic speaks to.
pub const ORG_DID: &str = "did:plc:lumenlights2345abcdefghij";
/// Its handle.
pub const ORG_HANDLE: &str = "lumen.bsky.social";

const AUTHORS: u64 = 200_000;
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

const OPENERS: &[&str] = &[
    "",
    "hey ",
    "Hi! ",
    "so ",
    "Honestly, ",
    "ok ",
    "Bonjour ",
    "Hallo ",
    "hola ",
];

const BODIES: &[&str] = &[
    "my order #{n} never arrived 😞 can you help?",
    "the app keeps crashing since the update, please fix it",
    "love the new Aurora lamp, thank you! 💡✨",
    "do you ship to Canada? 🇨🇦",
    "would be great if the app had a dark mode and schedules",
    "where can I buy the Halo desk light in Lisbon?",
    "still waiting on my refund for order {n}. This is ridiculous.",
    "THIS IS THE WORST SUPPORT EVER. three weeks and no answer!!!",
    "Thanks for the quick help yesterday, you folks are great 🙏",
    "is the Beam strip compatible with HomeKit?",
    "you should add a sunrise alarm, my mornings would be so much better",
    "the lamp flickers when dimmed below 20% 🤔 known issue?",
    "just ordered my third one. obsessed 😍 #lumenlights",
    "FREE followers!!! click here 👉 bit.ly/{n}",
    "ma commande {n} n'est jamais arrivée, pouvez-vous m'aider ?",
    "die Lampe ist super, danke! Lieferung war schnell",
    "mi pedido {n} llegó roto 😡 ¿qué hago?",
    "meh. it's fine I guess, not worth the price though",
    "can someone from support DM me? it's about my warranty",
    "switched from Philips Hue to you and not looking back 🔥",
];

const EXTRAS: &[&str] = &[
    "",
    " Ordered it on the 3rd and the tracking hasn't moved since.",
    " Any update would be appreciated, thanks in advance.",
    " My partner loves it too, we're getting one for the kitchen.",
    " Tried turning it off and on again, no luck.",
    " Been a customer for years and never had this happen.",
    " Would pay extra for that honestly.",
    " Please let me know what you need from me.",
];

const FOLLOW_UPS: &[&str] = &[
    "thanks, that worked! 🙌 you saved my evening, really appreciate the quick answer",
    "still not fixed, tried everything you said and it keeps dropping off the wifi",
    "ok sent you a DM with the order number",
    "great, thank you so much for sorting it out 💛",
    "no reply to my email yet… any news? it's been four days now",
    "that's not an answer. I want a refund.",
    "perfect, will try tonight",
    "merci beaucoup !",
];

const ANSWERS: &[&str] = &[
    "Sorry to hear that! We've sent you a DM to sort it out 🙏",
    "Thanks so much for the kind words, it means a lot to the team 💛",
    "Yes! We ship to Canada, 3-5 business days.",
    "We're on it: a fix ships in the next update. Thanks for your patience.",
    "Great idea, we've passed it to the product team!",
];

const TAGS: &[&str] = &[
    "",
    "",
    "",
    " #lumenlights",
    " #smarthome",
    " #help",
    " #design",
];
const LANGS: &[&str] = &["en", "en", "en", "en", "fr", "de", "es"];

/// The DID of generated author `i`.
pub fn author_did(i: u64) -> String {
    let mut s = String::with_capacity(32);
    s.push_str("did:plc:");
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5DEE_CE66_D1CE_4E5B;
    for _ in 0..24 {
        s.push(char::from(BASE32[(x & 31) as usize]));
        x = x.rotate_right(5) ^ (x >> 7).wrapping_mul(31);
    }
    s
}

/// An author's reach: a long tail (most have tens of followers, a few have hundreds of
/// thousands), the same every time for the same DID.
pub fn followers_of(did: &str) -> u64 {
    // FNV-1a: stable across runs and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in did.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let u = ((h >> 11) as f64 / (1u64 << 53) as f64).max(1e-9);
    (20.0 / u.powf(0.9)).min(2_000_000.0) as u64
}

fn cid(rng: &mut ChaCha8Rng) -> String {
    let mut s = String::with_capacity(59);
    s.push_str("bafyrei");
    for _ in 0..52 {
        s.push(char::from(BASE32[rng.random_range(0..32)]));
    }
    s
}

fn fill(template: &str, rng: &mut ChaCha8Rng) -> String {
    template.replace("{n}", &rng.random_range(1000..99_999).to_string())
}

#[derive(Clone)]
struct Posted {
    uri: String,
    cid: String,
    author: u64,
    root_uri: String,
    root_cid: String,
}

/// Writes `n` post events to `out`, one per line; returns the bytes written.
pub fn write(n: usize, out: &mut impl Write) -> std::io::Result<u64> {
    let mut rng = ChaCha8Rng::seed_from_u64(0x6a65_7473);
    let start: DateTime<Utc> = Utc
        .with_ymd_and_hms(2026, 11, 23, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let start_us = start.timestamp_micros();
    // A day of traffic, whatever n.
    let step = (86_400_000_000_i64 / n.max(1) as i64).max(1);
    let mut mentions: Vec<Posted> = Vec::with_capacity(1024);
    let mut answers: Vec<Posted> = Vec::with_capacity(1024);
    let mut bytes = 0u64;
    let mut line = Vec::with_capacity(1024);
    for i in 0..n {
        let at_us = start_us + i as i64 * step;
        let created = DateTime::from_timestamp_micros(at_us).unwrap_or(start);
        // Jetstream's clock: after the post's own, and always increasing (it is the cursor).
        let time_us = at_us + 300_000;
        let rkey = tid(at_us as u64, (i % 1024) as u16);
        let roll: u32 = rng.random_range(0..100);
        // A long tail of authors: u^3 puts most posts on few authors.
        let u: f64 = rng.random();
        let mut author = ((u * u * u) * AUTHORS as f64) as u64;
        let mut record = json!({
            "$type": "app.bsky.feed.post",
            "createdAt": created.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            "langs": [LANGS[rng.random_range(0..LANGS.len())]],
        });
        let did;
        let mut kind = 0;
        if roll < 10 && !mentions.is_empty() {
            // The organisation answers a recent mention.
            let m = mentions[rng.random_range(0..mentions.len())].clone();
            did = ORG_DID.to_owned();
            record["text"] = json!(ANSWERS[rng.random_range(0..ANSWERS.len())]);
            record["reply"] = json!({
                "root": {"uri": m.root_uri, "cid": m.root_cid},
                "parent": {"uri": m.uri, "cid": m.cid},
            });
            author = m.author;
            kind = 1;
        } else if roll < 35 && !answers.is_empty() {
            // Someone answers the organisation back.
            let a = answers[rng.random_range(0..answers.len())].clone();
            author = a.author;
            did = author_did(author);
            record["text"] = json!(FOLLOW_UPS[rng.random_range(0..FOLLOW_UPS.len())]);
            record["reply"] = json!({
                "root": {"uri": a.root_uri, "cid": a.root_cid},
                "parent": {"uri": a.uri, "cid": a.cid},
            });
        } else {
            did = author_did(author);
            let mention = format!("@{ORG_HANDLE}");
            let body = fill(BODIES[rng.random_range(0..BODIES.len())], &mut rng)
                + EXTRAS[rng.random_range(0..EXTRAS.len())];
            let opener = OPENERS[rng.random_range(0..OPENERS.len())];
            let tag = TAGS[rng.random_range(0..TAGS.len())];
            let text = if rng.random_range(0..4) == 0 {
                format!("{opener}{body} {mention}{tag}")
            } else {
                format!("{mention} {opener}{body}{tag}")
            };
            let start = text.find(&mention).unwrap_or(0);
            record["facets"] = json!([{
                "features": [{"$type": "app.bsky.richtext.facet#mention", "did": ORG_DID}],
                "index": {"byteStart": start, "byteEnd": start + mention.len()},
            }]);
            record["text"] = json!(text);
            kind = 2;
        }
        let cid = cid(&mut rng);
        let uri = format!("at://{did}/app.bsky.feed.post/{rkey}");
        let event = json!({
            "did": did,
            "time_us": time_us,
            "kind": "commit",
            "commit": {
                "rev": tid(time_us as u64, 0),
                "operation": "create",
                "collection": "app.bsky.feed.post",
                "rkey": rkey,
                "record": record,
                "cid": cid,
            },
        });
        line.clear();
        serde_json::to_writer(&mut line, &event)?;
        line.push(b'\n');
        out.write_all(&line)?;
        bytes += line.len() as u64;
        let recent = |list: &mut Vec<Posted>, p: Posted| {
            if list.len() < 1024 {
                list.push(p);
            } else {
                let slot = i % 1024;
                list[slot] = p;
            }
        };
        match kind {
            1 => {
                let root_uri = record_str(&event, "root", "uri").unwrap_or_else(|| uri.clone());
                let root_cid = record_str(&event, "root", "cid").unwrap_or_else(|| cid.clone());
                recent(
                    &mut answers,
                    Posted {
                        uri,
                        cid,
                        author,
                        root_uri,
                        root_cid,
                    },
                );
            }
            2 => recent(
                &mut mentions,
                Posted {
                    root_uri: uri.clone(),
                    root_cid: cid.clone(),
                    uri,
                    cid,
                    author,
                },
            ),
            _ => {}
        }
    }
    Ok(bytes)
}

fn record_str(event: &serde_json::Value, which: &str, field: &str) -> Option<String> {
    event["commit"]["record"]["reply"][which][field]
        .as_str()
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_connectors::bluesky::convert::{
        JetstreamOutcome, Listen, MatchReason, from_jetstream_line,
    };

    fn listen() -> Listen {
        Listen {
            org_did: ORG_DID.into(),
            org_handle: ORG_HANDLE.into(),
            mentions: true,
            replies: true,
            topics: vec![],
            all: false,
        }
    }

    #[test]
    fn every_generated_event_is_a_post_the_channel_keeps() {
        let mut out = Vec::new();
        write(3000, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let (mut own, mut mention, mut reply, mut chars) = (0, 0, 0, 0);
        for line in text.lines() {
            let JetstreamOutcome::Keep(kept) = from_jetstream_line(line, &listen()).unwrap() else {
                panic!("skipped: {line}");
            };
            chars += kept.message.text.chars().count();
            match kept.reasons[0] {
                MatchReason::Own => own += 1,
                MatchReason::Mention => mention += 1,
                MatchReason::Reply => reply += 1,
                ref other => panic!("{other:?}"),
            }
        }
        assert_eq!(text.lines().count(), 3000);
        assert!((200..400).contains(&own), "own {own}");
        assert!((500..1000).contains(&reply), "replies {reply}");
        assert!(mention > 1800, "mentions {mention}");
        let mean = chars / 3000;
        assert!((40..140).contains(&mean), "mean length {mean}");
    }

    #[test]
    fn the_same_count_gives_the_same_file() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        write(200, &mut a).unwrap();
        write(200, &mut b).unwrap();
        assert_eq!(a, b);
        assert_ne!(author_did(1), author_did(2));
        assert_eq!(followers_of(&author_did(7)), followers_of(&author_did(7)));
    }
}
