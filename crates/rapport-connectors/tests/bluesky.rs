//! Bluesky wire types and conversion, against fixtures in the real shapes
//! (`tests/fixtures/bluesky/`, invented accounts and content).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, TimeZone, Utc};
use rapport_connectors::bluesky::BlueskyError;
use rapport_connectors::bluesky::convert::{
    JetstreamOutcome, KeptPost, Listen, MatchReason, ReplyTarget, SkipReason, convert_notification,
    from_jetstream_line, from_notification,
};
use rapport_connectors::bluesky::richtext::{
    MAX_GRAPHEMES, create_record_request, detect_facets, format_datetime, grapheme_len,
    post_record, reply_record,
};
use rapport_connectors::bluesky::tid::{parse_tid, tid};
use rapport_connectors::bluesky::wire::{
    ByteSlice, CreateRecordOutput, CreateSessionOutput, Facet, FacetFeature, GetProfileOutput,
    JetstreamEvent, ListNotificationsOutput, Notification, PostRecord, XrpcError,
};
use rapport_core::{Direction, NewMessage};
use serde_json::{Value, json};

const ORG: &str = "did:plc:orgacmecoffee234567abcde";
const ORG_HANDLE: &str = "acmecoffee.bsky.social";
const ALICE: &str = "did:plc:aliceujzdegxdncf32epf3dh";
const BOB: &str = "did:plc:bobcis2jhtlgmxgedn73u55x";
const CAROL: &str = "did:plc:carolpft7v4seh2kvj72ceuv";
const DAVE: &str = "did:plc:daver6edt4sywb5wkh7dnsip";
const ERIN: &str = "did:plc:erink4zri3r2wyojfljooa7l";
const IVY: &str = "did:plc:ivybr6qmw4wxfogo6mvn6a6w";
/// The organisation's post that carol and dave answer (not in the stream itself).
const P0_URI: &str = "at://did:plc:orgacmecoffee234567abcde/app.bsky.feed.post/3mflvtp7u2225";
const P0_CID: &str = "bafyreii3mnbqnspuq2idw52ijb4lajlj6hdu6gdpmrcg4be4umr46pqm4i";
const CAROL_POST: &str = "at://did:plc:carolpft7v4seh2kvj72ceuv/app.bsky.feed.post/3mfogcq4i7626";
const CAROL_CID: &str = "bafyreifqfjzczbttofjyu7jsjc3ibofbcixgy4dbp7qa5efe6qeqpno57y";

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/bluesky/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The `time_us` of fixture line `n` (1-based): every event's cursor.
fn time_us(n: i64) -> i64 {
    1_772_013_600_000_000 + n * 1_000_137
}

fn listen() -> Listen {
    Listen {
        org_did: ORG.into(),
        org_handle: ORG_HANDLE.into(),
        mentions: true,
        replies: true,
        topics: vec!["Oat Flat White".into(), "cold brew".into()],
        all: false,
    }
}

fn run(listen: &Listen) -> Vec<Result<JetstreamOutcome, BlueskyError>> {
    fixture("jetstream_events.jsonl")
        .lines()
        .map(|line| from_jetstream_line(line, listen))
        .collect()
}

/// 1-based line numbers of the kept posts.
fn kept_lines(results: &[Result<JetstreamOutcome, BlueskyError>]) -> Vec<usize> {
    results
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r, Ok(JetstreamOutcome::Keep(_))))
        .map(|(i, _)| i + 1)
        .collect()
}

fn kept(results: &[Result<JetstreamOutcome, BlueskyError>], line: usize) -> &KeptPost {
    match &results[line - 1] {
        Ok(JetstreamOutcome::Keep(kept)) => kept,
        other => panic!("line {line}: expected a kept post, got {other:?}"),
    }
}

fn skipped(results: &[Result<JetstreamOutcome, BlueskyError>], line: usize) -> &SkipReason {
    match &results[line - 1] {
        Ok(JetstreamOutcome::Skip { reason, .. }) => reason,
        other => panic!("line {line}: expected a skip, got {other:?}"),
    }
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn jetstream_keeps_exactly_the_posts_listened_to() {
    let results = run(&listen());
    assert_eq!(results.len(), 17);
    assert_eq!(kept_lines(&results), vec![1, 2, 4, 6, 7, 8, 14, 16]);

    let reasons: Vec<(usize, Vec<MatchReason>)> = kept_lines(&results)
        .into_iter()
        .map(|line| (line, kept(&results, line).reasons.clone()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (1, vec![MatchReason::Mention]),
            (2, vec![MatchReason::Mention]),
            (4, vec![MatchReason::Reply]),
            (6, vec![MatchReason::Own, MatchReason::Reply]),
            (7, vec![MatchReason::Reply]),
            (8, vec![MatchReason::Topic("Oat Flat White".into())]),
            (14, vec![MatchReason::Mention]),
            (
                16,
                vec![MatchReason::Own, MatchReason::Topic("cold brew".into())]
            ),
        ]
    );

    assert_eq!(
        *skipped(&results, 3),
        SkipReason::OtherCollection("app.bsky.feed.like".into())
    );
    assert_eq!(*skipped(&results, 5), SkipReason::Identity);
    // A sunset, and a near miss: "goat flat whitewashed", an email address and a longer
    // handle are neither the topic nor a mention.
    assert_eq!(*skipped(&results, 9), SkipReason::NoMatch);
    assert_eq!(*skipped(&results, 10), SkipReason::NoMatch);
    assert_eq!(
        *skipped(&results, 12),
        SkipReason::PostDeleted {
            uri: format!("at://{ALICE}/app.bsky.feed.post/3mfogcxqnrg2g")
        }
    );
    assert_eq!(*skipped(&results, 15), SkipReason::Account);
}

#[test]
fn jetstream_cursor_advances_on_every_line_and_bad_lines_do_not_stop_the_rest() {
    let results = run(&listen());
    for (i, result) in results.iter().enumerate() {
        let line = i as i64 + 1;
        let cursor = match result {
            Ok(outcome) => Some(outcome.cursor()),
            Err(err) => err.cursor(),
        };
        // Line 11 is cut off mid-JSON: its cursor cannot be read.
        let expected = (line != 11).then(|| time_us(line));
        assert_eq!(cursor, expected, "line {line}");
    }

    match &results[10] {
        Err(err @ BlueskyError::MalformedEvent { cursor: None, .. }) => {
            assert!(
                err.to_string()
                    .starts_with("malformed Jetstream event: EOF"),
                "{err}"
            );
        }
        other => panic!("line 11: {other:?}"),
    }
    match &results[12] {
        Err(BlueskyError::InvalidPost {
            uri,
            reason,
            cursor,
        }) => {
            assert_eq!(
                uri,
                "at://did:plc:hank6kbnxjbtfqxkwovompzo/app.bsky.feed.post/3mfogcyp6hp2h"
            );
            assert_eq!(reason, "missing field `createdAt`");
            assert_eq!(*cursor, Some(time_us(13)));
        }
        other => panic!("line 13: {other:?}"),
    }
    match &results[16] {
        Err(BlueskyError::MalformedEvent { reason, cursor }) => {
            assert!(reason.starts_with("missing field `rkey`"), "{reason}");
            assert_eq!(*cursor, Some(time_us(17)));
        }
        other => panic!("line 17: {other:?}"),
    }
    // Lines after each error were still decided.
    assert!(results[11].is_ok() && results[13].is_ok() && results[15].is_ok());
}

#[test]
fn jetstream_mention_by_facet_maps_every_field() {
    let results = run(&listen());
    let post = kept(&results, 1);
    let uri = format!("at://{ALICE}/app.bsky.feed.post/3mfogcnaw4d23");
    let cid = "bafyrei2hz4uep3enthjxjqi5ogz7kok3zv2mwufxbv54byvsehogfqrclr";
    assert_eq!(
        post.message,
        NewMessage {
            platform: "bluesky".into(),
            platform_id: uri.clone(),
            author: ALICE.into(),
            author_name: None,
            followers: None,
            text: "@acmecoffee.bsky.social my order #4411 never arrived 😞 can you help?".into(),
            created_at: at("2026-02-25T10:00:00.600Z"),
            in_reply_to: None,
            reshares: 0,
            replies: 0,
            direction: Direction::Inbound,
            automated: false,
            url: Some(format!(
                "https://bsky.app/profile/{ALICE}/post/3mfogcnaw4d23"
            )),
        }
    );
    // A top-level post is its own thread root.
    assert_eq!(
        post.target,
        ReplyTarget {
            uri: uri.clone(),
            cid: cid.into(),
            root_uri: uri,
            root_cid: cid.into(),
        }
    );
    assert_eq!(post.cursor, time_us(1));
}

#[test]
fn jetstream_mention_by_text_replies_topics_and_own_posts() {
    let results = run(&listen());

    // No facets; the handle written in another case, ending a sentence.
    let bob = &kept(&results, 2).message;
    assert_eq!(bob.author, BOB);
    assert_eq!(
        bob.text,
        "Café crème this morning, thank you @AcmeCoffee.bsky.social."
    );

    // A direct reply to the organisation's post.
    let carol = kept(&results, 4);
    assert_eq!(carol.message.author, CAROL);
    assert_eq!(carol.message.in_reply_to.as_deref(), Some(P0_URI));
    assert_eq!(carol.message.direction, Direction::Inbound);
    assert_eq!(
        carol.target,
        ReplyTarget {
            uri: CAROL_POST.into(),
            cid: CAROL_CID.into(),
            root_uri: P0_URI.into(),
            root_cid: P0_CID.into(),
        }
    );

    // The organisation's own answer to carol: outbound.
    let answer = kept(&results, 6);
    assert_eq!(answer.message.author, ORG);
    assert_eq!(answer.message.direction, Direction::Outbound);
    assert_eq!(answer.message.in_reply_to.as_deref(), Some(CAROL_POST));
    assert_eq!(answer.target.root_uri, P0_URI);

    // Dave answers carol, deeper in the organisation's thread: a reply by its root.
    let dave = kept(&results, 7);
    assert_eq!(dave.message.author, DAVE);
    assert_eq!(dave.message.in_reply_to.as_deref(), Some(CAROL_POST));
    assert_eq!(
        (dave.target.root_uri.as_str(), dave.target.root_cid.as_str()),
        (P0_URI, P0_CID)
    );

    // Topic in capitals, with a link facet, an unknown facet feature and an embed.
    let erin = kept(&results, 8);
    assert_eq!(erin.message.author, ERIN);
    assert_eq!(erin.message.created_at, at("2026-02-25T10:00:07.601Z"));

    // createdAt that is not a time: the event's time_us stands in.
    let ivy = kept(&results, 14);
    assert_eq!(ivy.message.author, IVY);
    assert_eq!(
        ivy.message.created_at,
        DateTime::from_timestamp_micros(time_us(14)).unwrap()
    );

    // The organisation's own top-level post: its own root.
    let own = kept(&results, 16);
    assert_eq!(own.message.direction, Direction::Outbound);
    assert_eq!(own.target.root_uri, own.target.uri);
    assert_eq!(own.target.uri, own.message.platform_id);
}

#[test]
fn jetstream_listen_modes_combine() {
    let all_only = Listen {
        all: true,
        ..Listen {
            org_did: ORG.into(),
            org_handle: ORG_HANDLE.into(),
            ..Listen::default()
        }
    };
    let results = run(&all_only);
    assert_eq!(kept_lines(&results), vec![1, 2, 4, 6, 7, 8, 9, 10, 14, 16]);
    assert_eq!(kept(&results, 9).reasons, vec![MatchReason::All]);
    assert_eq!(
        kept(&results, 6).reasons,
        vec![MatchReason::Own, MatchReason::All]
    );

    let mentions_only = Listen {
        replies: false,
        topics: vec![],
        ..listen()
    };
    assert_eq!(kept_lines(&run(&mentions_only)), vec![1, 2, 6, 14, 16]);

    let replies_only = Listen {
        mentions: false,
        topics: vec![],
        ..listen()
    };
    assert_eq!(kept_lines(&run(&replies_only)), vec![4, 6, 7, 16]);

    let topics_only = Listen {
        mentions: false,
        replies: false,
        ..listen()
    };
    assert_eq!(kept_lines(&run(&topics_only)), vec![6, 8, 16]);
}

#[test]
fn unknown_facet_features_and_fields_survive_a_round_trip() {
    let line = fixture("jetstream_events.jsonl")
        .lines()
        .nth(7)
        .unwrap()
        .to_owned();
    let event: JetstreamEvent = serde_json::from_str(&line).unwrap();
    let record_value = event.commit.unwrap().record.unwrap();
    let record: PostRecord = serde_json::from_value(record_value.clone()).unwrap();
    let facets = record.facets.clone().unwrap();
    assert_eq!(
        facets[0].features,
        vec![FacetFeature::Link {
            uri: "https://blog.example.net/oat-flat-white".into()
        }]
    );
    assert_eq!(
        facets[0].index,
        ByteSlice {
            byte_start: 45,
            byte_end: 84
        }
    );
    assert_eq!(
        facets[1].features,
        vec![FacetFeature::Other(json!({
            "$type": "app.bsky.richtext.facet#highlight",
            "color": "amber"
        }))]
    );
    assert_eq!(record.tags, Some(vec!["coffee".to_owned()]));
    assert_eq!(
        record.embed.as_ref().unwrap()["$type"],
        "app.bsky.embed.external"
    );
    // Everything the record had comes back out unchanged.
    assert_eq!(serde_json::to_value(&record).unwrap(), record_value);
}

#[test]
fn notifications_page_converts_mentions_replies_and_quotes_only() {
    let page: ListNotificationsOutput =
        serde_json::from_str(&fixture("list_notifications.json")).unwrap();
    assert_eq!(page.cursor.as_deref(), Some("2026-02-25T10:57:00.900Z"));
    assert_eq!(page.seen_at.as_deref(), Some("2026-02-25T10:58:30.000Z"));
    assert_eq!(page.notifications.len(), 5);
    let reasons: Vec<&str> = page
        .notifications
        .iter()
        .map(|n| n.reason.as_str())
        .collect();
    assert_eq!(reasons, vec!["mention", "reply", "like", "follow", "quote"]);

    let converted: Vec<Option<NewMessage>> = page
        .notifications
        .iter()
        .map(|n| from_notification(n, ORG))
        .collect();
    assert!(converted[2].is_none(), "like");
    assert!(converted[3].is_none(), "follow");

    let mention = converted[0].clone().unwrap();
    assert_eq!(
        mention,
        NewMessage {
            platform: "bluesky".into(),
            platform_id: format!("at://{ALICE}/app.bsky.feed.post/3mfoh2kq7tc2s"),
            author: "alice.bsky.social".into(),
            author_name: Some("Alice Martin".into()),
            followers: None,
            text: "hey @acmecoffee.bsky.social, is the Riverside shop hiring?".into(),
            created_at: at("2026-02-25T11:02:03.456Z"),
            in_reply_to: None,
            reshares: 0,
            replies: 0,
            direction: Direction::Inbound,
            automated: false,
            url: Some(format!(
                "https://bsky.app/profile/{ALICE}/post/3mfoh2kq7tc2s"
            )),
        }
    );

    let reply = converted[1].clone().unwrap();
    assert_eq!(reply.author, "carol.example.com");
    assert_eq!(reply.author_name, None);
    assert_eq!(reply.text, "Still waiting on that refund…");
    // "+01:00" in the record, normalised to UTC.
    assert_eq!(reply.created_at, at("2026-02-25T10:01:00Z"));
    assert_eq!(reply.in_reply_to.as_deref(), Some(P0_URI));

    let quote = converted[4].clone().unwrap();
    assert_eq!(quote.author, "erin.bsky.social");
    assert_eq!(quote.author_name.as_deref(), Some("Erin ☕"));
    assert_eq!(quote.in_reply_to, None);

    let with_target = convert_notification(&page.notifications[1], ORG)
        .unwrap()
        .unwrap();
    assert_eq!(with_target.reason, "reply");
    assert_eq!(
        with_target.target,
        ReplyTarget {
            uri: format!("at://{CAROL}/app.bsky.feed.post/3mfoh2jx5mk2w"),
            cid: "bafyreiaq4notificationreplyexampleexampleexample2345ab".into(),
            root_uri: P0_URI.into(),
            root_cid: P0_CID.into(),
        }
    );
}

#[test]
fn a_notification_whose_post_lacks_text_is_an_error_not_a_message() {
    let page: ListNotificationsOutput =
        serde_json::from_str(&fixture("list_notifications.json")).unwrap();
    let mut broken: Notification = page.notifications[0].clone();
    broken.record = json!({"$type": "app.bsky.feed.post", "createdAt": "2026-02-25T11:02:03.456Z"});
    assert!(from_notification(&broken, ORG).is_none());
    match convert_notification(&broken, ORG) {
        Err(BlueskyError::InvalidPost {
            uri,
            reason,
            cursor,
        }) => {
            assert_eq!(uri, broken.uri);
            assert_eq!(reason, "missing field `text`");
            assert_eq!(cursor, None);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn reply_record_serialises_exactly_as_the_lexicon_wants() {
    let results = run(&listen());
    let target = kept(&results, 1).target.clone();
    let text = "Désolé 😞 @alice.bsky.social, we're on it: https://acmecoffee.example/orders/4411. #OrderHelp";
    let facets = detect_facets(text, |handle| {
        (handle == "alice.bsky.social").then(|| ALICE.to_owned())
    });
    let slices: Vec<&str> = facets
        .iter()
        .map(|f| &text[f.index.byte_start..f.index.byte_end])
        .collect();
    assert_eq!(
        slices,
        vec![
            "@alice.bsky.social",
            "https://acmecoffee.example/orders/4411",
            "#OrderHelp"
        ]
    );
    let created_at =
        Utc.with_ymd_and_hms(2026, 2, 25, 10, 30, 0).unwrap() + chrono::Duration::milliseconds(250);
    let record = reply_record(text, &target, facets, created_at).unwrap();
    let request = create_record_request(ORG, &record);

    let expected: Value = serde_json::from_str(&fixture("reply_create_record.json")).unwrap();
    assert_eq!(serde_json::to_value(&request).unwrap(), expected);
    // Byte offsets, not characters: "Désolé 😞 " is 14 bytes but 9 characters.
    assert_eq!(
        expected["record"]["facets"][0]["index"],
        json!({"byteStart": 14, "byteEnd": 32})
    );

    let serialised = serde_json::to_string(&request).unwrap();
    assert!(
        serialised.contains(r#""$type":"app.bsky.feed.post""#),
        "{serialised}"
    );
    assert!(
        serialised.contains(r#""createdAt":"2026-02-25T10:30:00.250Z""#),
        "{serialised}"
    );
    assert!(
        !serialised.contains("null"),
        "optional fields are left out: {serialised}"
    );

    // And it parses back to the same record.
    let back: PostRecord = serde_json::from_str(&serde_json::to_string(&record).unwrap()).unwrap();
    assert_eq!(back, record);
}

#[test]
fn top_level_post_has_no_reply_and_no_empty_facets() {
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
    let record = post_record("Open late tonight", vec![], at).unwrap();
    assert_eq!(
        serde_json::to_value(&record).unwrap(),
        json!({
            "$type": "app.bsky.feed.post",
            "text": "Open late tonight",
            "createdAt": "2026-03-01T09:00:00.000Z"
        })
    );
    assert_eq!(format_datetime(at), "2026-03-01T09:00:00.000Z");
}

#[test]
fn facet_detection_edges() {
    let resolve = |handle: &str| match handle {
        "bob.example.com" => Some(BOB.to_owned()),
        _ => None,
    };
    let spans = |text: &str| -> Vec<(String, FacetFeature)> {
        detect_facets(text, resolve)
            .into_iter()
            .map(|f| {
                let slice = text[f.index.byte_start..f.index.byte_end].to_owned();
                (slice, f.features[0].clone())
            })
            .collect()
    };

    // Trailing punctuation and an unbalanced parenthesis stay out of links.
    assert_eq!(
        spans("ça marche (voir https://example.com/a_(b)/c). Ok? http://x.example/q?a=1!"),
        vec![
            (
                "https://example.com/a_(b)/c".into(),
                FacetFeature::Link {
                    uri: "https://example.com/a_(b)/c".into()
                }
            ),
            (
                "http://x.example/q?a=1".into(),
                FacetFeature::Link {
                    uri: "http://x.example/q?a=1".into()
                }
            ),
        ]
    );
    // Handles: case-insensitive resolution, sentence-final dot left out; unresolved handles,
    // email addresses and bare words get nothing.
    assert_eq!(
        spans("👋🏽 @Bob.Example.com. cc @nobody.example.org, mail me@bob.example.com @bob"),
        vec![(
            "@Bob.Example.com".into(),
            FacetFeature::Mention { did: BOB.into() }
        )]
    );
    // Tags: not only digits, trailing punctuation out, not inside a word, not the keycap.
    assert_eq!(
        spans("#1 #café! a#b #️⃣ ＃全角 #x_y,"),
        vec![
            (
                "#café".into(),
                FacetFeature::Tag {
                    tag: "café".into()
                }
            ),
            (
                "＃全角".into(),
                FacetFeature::Tag {
                    tag: "全角".into()
                }
            ),
            ("#x_y".into(), FacetFeature::Tag { tag: "x_y".into() }),
        ]
    );
    // Exact byte offsets after emoji and accents.
    let text = "é🎉 #launch";
    let facets = detect_facets(text, resolve);
    assert_eq!(facets.len(), 1);
    assert_eq!(
        facets[0].index,
        ByteSlice {
            byte_start: 7,
            byte_end: 14
        }
    );
}

#[test]
fn grapheme_limit() {
    assert_eq!(grapheme_len("e\u{301}"), 1);
    assert_eq!(grapheme_len("👨‍👩‍👧‍👦"), 1);
    assert_eq!(grapheme_len("Désolé 😞"), 8);
    assert_eq!(MAX_GRAPHEMES, 300);

    let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
    let fits = "👍🏽".repeat(300);
    assert!(post_record(&fits, vec![], at).is_ok());

    let too_long = "👍🏽".repeat(301);
    let err = post_record(&too_long, vec![], at).unwrap_err();
    assert!(
        matches!(
            err,
            BlueskyError::TextTooLong {
                graphemes: 301,
                bytes: 2408,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "post text is 301 graphemes and 2408 bytes; Bluesky allows at most 300 graphemes and 3000 bytes: shorten it or split it into a thread"
    );

    // 300 graphemes but 7500 bytes: over the byte limit.
    let heavy = "👨‍👩‍👧‍👦".repeat(300);
    assert!(matches!(
        post_record(&heavy, vec![], at),
        Err(BlueskyError::TextTooLong {
            graphemes: 300,
            bytes: 7500,
            ..
        })
    ));

    assert!(matches!(
        post_record("  \n", vec![], at),
        Err(BlueskyError::EmptyText)
    ));

    let target = ReplyTarget {
        uri: CAROL_POST.into(),
        cid: CAROL_CID.into(),
        root_uri: P0_URI.into(),
        root_cid: P0_CID.into(),
    };
    let outside = Facet {
        index: ByteSlice {
            byte_start: 1,
            byte_end: 3,
        },
        features: vec![FacetFeature::Tag { tag: "x".into() }],
    };
    // Byte 1 is inside "é".
    assert!(matches!(
        reply_record("é ok", &target, vec![outside], at),
        Err(BlueskyError::FacetOutOfRange {
            byte_start: 1,
            byte_end: 3,
            text_bytes: 5
        })
    ));
}

#[test]
fn session_profile_record_and_error_bodies() {
    let session: CreateSessionOutput =
        serde_json::from_str(&fixture("create_session.json")).unwrap();
    assert_eq!(session.did, ORG);
    assert_eq!(session.handle, ORG_HANDLE);
    assert_eq!(session.active, Some(true));
    let shown = format!("{session:?}");
    assert!(!shown.contains("eyJ"), "tokens leak into Debug: {shown}");

    let profile: GetProfileOutput = serde_json::from_str(&fixture("get_profile.json")).unwrap();
    assert_eq!(profile.did, ALICE);
    assert_eq!(profile.display_name.as_deref(), Some("Alice Martin"));
    assert_eq!(profile.followers_count, Some(12_873));
    assert_eq!(profile.posts_count, Some(3_307));

    let created: CreateRecordOutput =
        serde_json::from_str(&fixture("create_record_output.json")).unwrap();
    assert_eq!(
        created.uri,
        format!("at://{ORG}/app.bsky.feed.post/3mfoh5a2c6k2q")
    );
    assert_eq!(
        created.commit.map(|c| c.rev).as_deref(),
        Some("3mfoh5a2dkc2q")
    );
    assert_eq!(created.validation_status.as_deref(), Some("valid"));

    let error: XrpcError = serde_json::from_str(&fixture("xrpc_error.json")).unwrap();
    assert_eq!(error.to_string(), "ExpiredToken: Token has expired");
}

#[test]
fn tids_encode_time_and_sort() {
    let micros = 1_772_013_600_000_000;
    let key = tid(micros, 7);
    assert_eq!(key.len(), 13);
    assert_eq!(parse_tid(&key), Some((micros, 7)));
    assert!(tid(micros, 0) < tid(micros + 1, 0));
    assert!(parse_tid("not-a-tid-abc").is_none());
    // A record key from the fixture decodes to a moment just before its event.
    let (rkey_micros, _) = parse_tid("3mfogcnaw4d23").unwrap();
    assert_eq!(rkey_micros as i64, time_us(1) - 400_000);
}
