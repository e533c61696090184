//! Tests of the pure Mastodon layer against fixtures in the real wire shapes
//! (`tests/fixtures/mastodon/`): a notifications page with its `Link` header, a timeline,
//! a streaming capture fed in odd chunks, character counting and reply requests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rapport_connectors::mastodon::convert::{
    html_to_text, mentions_account, notification_to_message, qualify_acct, status_to_message,
};
use rapport_connectors::mastodon::outbound::{
    DEFAULT_MAX_CHARS, character_count, check_length, ensure_mention, idempotency_key,
    reply_request, reply_request_with_limit, reply_visibility,
};
use rapport_connectors::mastodon::pagination::{
    self, compare_ids, newest_id, notifications_query, parse_link_header, sort_oldest_first,
};
use rapport_connectors::mastodon::sse::{
    SseEvent, SseFrame, SseParser, StreamItem, decode_stream_event, hashtag_stream_path,
};
use rapport_connectors::mastodon::wire::{
    self, Notification, NotificationType, Status, StatusRequest, Visibility,
};
use rapport_connectors::mastodon::{MastodonError, PLATFORM};
use rapport_core::{Direction, NewMessage};

const HOST: &str = "social.example";
const ORG: &str = "northwind";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mastodon")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

fn time(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn page() -> Vec<Notification> {
    wire::parse_notifications(&read("notifications_page.json"))
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

fn statuses() -> Vec<Status> {
    serde_json::from_str(&read("statuses.json")).unwrap()
}

// ---------------------------------------------------------------- notifications page

#[test]
fn notifications_page_parses_every_type() {
    let kinds: Vec<NotificationType> = page().into_iter().map(|n| n.kind).collect();
    assert_eq!(
        kinds,
        vec![
            NotificationType::Other("admin.sign_up".into()),
            NotificationType::Mention,
            NotificationType::Reblog,
            NotificationType::Favourite,
            NotificationType::Follow,
            NotificationType::Mention,
        ]
    );
}

#[test]
fn notifications_page_gives_one_message_per_mention() {
    let mut notifications = page();
    sort_oldest_first(&mut notifications);
    let ids: Vec<&str> = notifications.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["1041", "1042", "1043", "1044", "1045", "1046"]);

    let converted: Vec<_> = notifications
        .iter()
        .filter_map(|n| notification_to_message(n, HOST, ORG))
        .collect();
    assert_eq!(converted.len(), 2, "only the two mentions are messages");

    // A remote account replying to the organisation's post, with a content warning, a
    // mention, an entity, a <br>, a link and a hashtag.
    let remote = &converted[0];
    assert_eq!(
        remote.message,
        NewMessage {
            platform: "mastodon".into(),
            platform_id: "113500000000000102".into(),
            author: "lena@fedi.example".into(),
            author_name: Some("Lena Hart".into()),
            followers: Some(1843),
            text: "CW: order complaint\n\
                   @northwind my order #4417 arrived broken & support hasn't answered.\n\
                   Photos: https://pics.fedi.example/album/8812\n\
                   \n\
                   Please help #customerservice"
                .into(),
            created_at: time("2026-03-14T09:12:45.120Z"),
            in_reply_to: Some("113500000000000050".into()),
            reshares: 2,
            replies: 1,
            direction: Direction::Inbound,
            automated: false,
            url: Some("https://fedi.example/@lena/110022334455667788".into()),
        }
    );
    assert!(remote.html.starts_with("<p><span class=\"h-card\""));
    assert!(remote.html.contains("broken &amp; support hasn&#39;t"));
    assert_eq!(remote.visibility, Visibility::Public);
    assert_eq!(
        remote.uri,
        "https://fedi.example/users/lena/statuses/110022334455667788"
    );
    assert_eq!(
        remote.mentions,
        vec!["northwind@social.example".to_string()]
    );
    assert_eq!(remote.edited_at, None);

    // A local account: its bare acct is qualified with the instance's domain.
    let local = &converted[1];
    assert_eq!(local.message.platform, PLATFORM);
    assert_eq!(local.message.platform_id, "113500000000000140");
    assert_eq!(local.message.author, "tomas@social.example");
    assert_eq!(local.message.author_name.as_deref(), Some("Tomás Ruiz"));
    assert_eq!(local.message.followers, Some(12));
    assert_eq!(
        local.message.text,
        "Hey @northwind, are you open on Sunday? 🙂"
    );
    assert_eq!(local.message.in_reply_to, None);
    assert_eq!(local.message.direction, Direction::Inbound);
    assert_eq!(
        local.message.url.as_deref(),
        Some("https://social.example/@tomas/113500000000000140")
    );

    // The cursor after the page: the newest notification id, whatever its type.
    assert_eq!(newest_id(ids.iter().copied()), Some("1046"));
}

#[test]
fn follow_favourite_reblog_and_unknown_types_are_not_messages() {
    for n in page() {
        let converted = notification_to_message(&n, HOST, ORG);
        match n.kind {
            NotificationType::Mention => assert!(converted.is_some(), "{}", n.id),
            _ => assert!(converted.is_none(), "{} ({:?})", n.id, n.kind),
        }
    }
}

#[test]
fn notifications_page_link_header() {
    let links = parse_link_header(read("notifications_page.link").trim());
    assert_eq!(
        links.next.as_deref(),
        Some("https://social.example/api/v1/notifications?max_id=1041&types%5B%5D=mention")
    );
    assert_eq!(
        links.prev.as_deref(),
        Some("https://social.example/api/v1/notifications?min_id=1046&types%5B%5D=mention")
    );
    assert_eq!(links.next_max_id().as_deref(), Some("1041"));
    assert_eq!(links.prev_min_id().as_deref(), Some("1046"));
}

#[test]
fn a_malformed_notification_fails_alone() {
    let body = r#"[
      {"id":"9","type":"follow","created_at":"2026-03-14T09:20:00.000Z",
       "account":{"id":"1","username":"a","acct":"a"}},
      {"id":"8","type":"mention","created_at":"not a time"},
      {"id":"7","type":"some.future_type","created_at":"2026-03-14T09:00:00Z","future_field":[1,2]}
    ]"#;
    let items = wire::parse_notifications(body).unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].as_ref().unwrap().kind, NotificationType::Follow);
    let err = items[1].as_ref().unwrap_err();
    assert!(
        matches!(err, MastodonError::Json { what, .. } if what == "notification 8"),
        "{err}"
    );
    assert!(err.to_string().contains("notification 8"), "{err}");
    let unknown = items[2].as_ref().unwrap();
    assert_eq!(
        unknown.kind,
        NotificationType::Other("some.future_type".into())
    );
    assert_eq!(unknown.account, None);

    let not_a_page = wire::parse_notifications(r#"{"error":"The access token is invalid"}"#);
    assert!(
        matches!(not_a_page, Err(MastodonError::Json { what, .. }) if what == "notifications page")
    );
    assert_eq!(
        wire::parse_api_error(r#"{"error":"The access token is invalid"}"#)
            .unwrap()
            .error,
        "The access token is invalid"
    );
    assert_eq!(wire::parse_api_error("<html>502 Bad Gateway</html>"), None);
}

// ---------------------------------------------------------------- statuses

#[test]
fn the_organisations_own_status_is_outbound() {
    let s = &statuses()[0];
    let c = status_to_message(s, HOST, ORG).unwrap();
    assert_eq!(c.message.author, "northwind@social.example");
    assert_eq!(c.message.direction, Direction::Outbound);
    assert_eq!(c.message.in_reply_to.as_deref(), Some("113500000000000102"));
    assert_eq!(
        c.message.text,
        "@lena we are so sorry! A replacement ships today, tracking follows by DM."
    );
    assert_eq!(c.mentions, vec!["lena@fedi.example".to_string()]);
    // Every spelling of the organisation's account, case-insensitively.
    for org in [
        "northwind",
        "@northwind",
        "NorthWind@Social.Example",
        "@northwind@social.example",
    ] {
        let c = status_to_message(s, "https://social.example/", org).unwrap();
        assert_eq!(c.message.direction, Direction::Outbound, "{org}");
    }
    // Another account of the same name elsewhere is not the organisation.
    let c = status_to_message(s, HOST, "northwind@elsewhere.example").unwrap();
    assert_eq!(c.message.direction, Direction::Inbound);
}

#[test]
fn a_reblog_is_not_a_message() {
    let boost = &statuses()[1];
    assert!(boost.reblog.is_some());
    assert_eq!(status_to_message(boost, HOST, ORG), None);
    // The boosted status itself converts.
    let inner = status_to_message(boost.reblog.as_ref().unwrap(), HOST, ORG).unwrap();
    assert_eq!(inner.message.platform_id, "113500000000000050");
    assert_eq!(inner.message.direction, Direction::Outbound);
}

#[test]
fn attachments_become_lines_of_text() {
    let media = &statuses()[2];
    let c = status_to_message(media, HOST, ORG).unwrap();
    assert_eq!(
        c.message.text,
        "[image: A torn parcel on a doorstep]\n[video]"
    );
    assert_eq!(c.html, "");
}

#[test]
fn bots_are_automated_and_followers_may_be_hidden() {
    let json = r#"{"id":"5","created_at":"2026-03-14T11:00:00Z","content":null,
      "account":{"id":"3","username":"relay","acct":"relay@bots.example","display_name":null,
                 "bot":true,"followers_count":-1}}"#;
    let s: Status = serde_json::from_str(json).unwrap();
    let c = status_to_message(&s, HOST, ORG).unwrap();
    assert!(c.message.automated);
    assert_eq!(c.message.followers, None);
    assert_eq!(c.message.author_name, None);
    assert_eq!(c.message.text, "");
    assert_eq!(c.message.url, None);
    assert_eq!(c.visibility, Visibility::Public);
}

#[test]
fn html_to_text_is_safe_plain_text() {
    assert_eq!(
        html_to_text(
            "<p>one<br>two<br />three</p><p>four &lt;b&gt;not bold&lt;/b&gt; &#x1F600; caf&eacute;</p>"
        ),
        "one\ntwo\nthree\n\nfour <b>not bold</b> 😀 café"
    );
    assert_eq!(
        html_to_text(
            "<p><script>alert(1)</script><a href=\"javascript:alert(1)\">click</a> \
             <strong>bold</strong> <em>it</em> <img src=\"x\" onerror=\"alert(1)\"></p>"
        ),
        "click bold it"
    );
    // A long link keeps its full visible text, never wrapped.
    let long = format!(
        "<p><a href=\"https://example.com/{0}\"><span class=\"invisible\">https://</span>\
         <span class=\"ellipsis\">example.com/{1}</span><span class=\"invisible\">{2}</span></a></p>",
        "a".repeat(300),
        "a".repeat(20),
        "a".repeat(280)
    );
    assert_eq!(
        html_to_text(&long),
        format!("https://example.com/{}", "a".repeat(300))
    );
    assert_eq!(html_to_text(""), "");
    assert_eq!(html_to_text("plain & simple"), "plain & simple");
}

#[test]
fn accts_are_qualified() {
    assert_eq!(qualify_acct("ann", "Social.Example"), "ann@social.example");
    assert_eq!(qualify_acct("ann@Far.Example", HOST), "ann@far.example");
    let s = &statuses()[0];
    assert!(mentions_account(s, HOST, "@lena@fedi.example"));
    assert!(!mentions_account(s, HOST, "lena"));
}

// ---------------------------------------------------------------- streaming

/// Feeds `bytes` in chunks of `size` (0: all at once) and collects the frames, with
/// errors as their messages.
fn parse_in_chunks(bytes: &[u8], size: usize) -> Vec<Result<SseFrame, String>> {
    let mut parser = SseParser::new();
    let mut out = Vec::new();
    let chunks: Vec<&[u8]> = if size == 0 {
        vec![bytes]
    } else {
        bytes.chunks(size).collect()
    };
    for chunk in chunks {
        out.extend(
            parser
                .feed(chunk)
                .into_iter()
                .map(|r| r.map_err(|e| e.to_string())),
        );
    }
    out
}

fn event(frame: &Result<SseFrame, String>) -> &SseEvent {
    match frame {
        Ok(SseFrame::Event(ev)) => ev,
        other => panic!("expected an event, got {other:?}"),
    }
}

#[test]
fn sse_capture_gives_the_same_frames_in_any_chunking() {
    let capture = read("stream_user.txt");
    let whole = parse_in_chunks(capture.as_bytes(), 0);
    let names: Vec<String> = whole
        .iter()
        .map(|f| match f {
            Ok(SseFrame::Event(ev)) => ev.event.clone(),
            Ok(SseFrame::Comment(c)) => format!(":{c}"),
            Err(e) => format!("error {e}"),
        })
        .collect();
    assert_eq!(
        names,
        [
            ":)",
            "update",
            ":thump",
            "notification",
            "update",
            "status.update",
            ":thump",
            "delete",
            "filters_changed",
            "notification",
            "notification",
            ":",
        ]
    );
    assert_eq!(event(&whole[7]).data, "113500000000000199");
    assert_eq!(event(&whole[8]).data, "undefined");
    // Two data lines joined by a newline.
    assert_eq!(event(&whole[10]).data.matches('\n').count(), 1);

    for size in [1, 2, 3, 7, 64, 1000] {
        assert_eq!(
            parse_in_chunks(capture.as_bytes(), size),
            whole,
            "chunks of {size}"
        );
    }
    let crlf = capture.replace('\n', "\r\n");
    for size in [0, 1, 7] {
        assert_eq!(
            parse_in_chunks(crlf.as_bytes(), size),
            whole,
            "CRLF, chunks of {size}"
        );
    }
    let cr = capture.replace('\n', "\r");
    for size in [0, 1, 7] {
        assert_eq!(
            parse_in_chunks(cr.as_bytes(), size),
            whole,
            "CR, chunks of {size}"
        );
    }
}

#[test]
fn sse_events_decode_and_a_malformed_one_errors_alone() {
    let capture = read("stream_user.txt");
    let decoded: Vec<Result<StreamItem, MastodonError>> = parse_in_chunks(capture.as_bytes(), 7)
        .iter()
        .filter_map(|f| match f {
            Ok(SseFrame::Event(ev)) => Some(decode_stream_event(ev)),
            _ => None,
        })
        .collect();
    assert_eq!(decoded.len(), 8);

    let Ok(StreamItem::Update(update)) = &decoded[0] else {
        panic!("{:?}", decoded[0])
    };
    assert!(mentions_account(update, HOST, ORG));
    let c = status_to_message(update, HOST, ORG).unwrap();
    assert_eq!(c.message.author, "ines@remote.example");
    assert!(c.message.automated);
    assert_eq!(c.message.text, "Grüße @northwind 👋 日本 shipping update?");

    let Ok(StreamItem::Notification(n)) = &decoded[1] else {
        panic!("{:?}", decoded[1])
    };
    let c = notification_to_message(n, HOST, ORG).unwrap();
    assert_eq!(c.message.platform_id, "113500000000000210");
    assert_eq!(c.message.in_reply_to.as_deref(), Some("113500000000000160"));
    assert_eq!(c.visibility, Visibility::Direct);
    assert_eq!(reply_visibility(&c.visibility), Visibility::Direct);

    let err = decoded[2].as_ref().unwrap_err();
    assert!(
        matches!(err, MastodonError::BadEvent { event, .. } if event == "update"),
        "{err}"
    );
    assert!(err.to_string().contains("stream goes on"), "{err}");

    let Ok(StreamItem::StatusUpdate(edit)) = &decoded[3] else {
        panic!("{:?}", decoded[3])
    };
    let c = status_to_message(edit, HOST, ORG).unwrap();
    assert_eq!(c.message.platform_id, "113500000000000201");
    assert_eq!(c.edited_at, Some(time("2026-03-14T11:02:30Z")));
    assert_eq!(
        c.message.text,
        "Grüße @northwind 👋 any shipping update for Japan?"
    );

    assert!(matches!(&decoded[4], Ok(StreamItem::Delete(id)) if id == "113500000000000199"));
    assert!(matches!(&decoded[5], Ok(StreamItem::Ignored(name)) if name == "filters_changed"));
    let Ok(StreamItem::Notification(follow)) = &decoded[6] else {
        panic!("{:?}", decoded[6])
    };
    assert_eq!(follow.kind, NotificationType::Follow);
    assert_eq!(notification_to_message(follow, HOST, ORG), None);
    let Ok(StreamItem::Notification(fav)) = &decoded[7] else {
        panic!("{:?}", decoded[7])
    };
    assert_eq!(fav.kind, NotificationType::Favourite);
    assert_eq!(fav.status.as_ref().unwrap().id, "113500000000000050");
}

#[test]
fn sse_parser_follows_the_event_stream_rules() {
    let stream = "\u{FEFF}data: first\n\
                  data:second\n\
                  id: 42\n\
                  retry: 3000\n\
                  \n\
                  event: heartbeat-only\n\
                  \n\
                  event\n\
                  data\n\
                  \n\
                  unknown: field\n\
                  data:  two spaces\n\
                  \n\
                  data: never finished";
    let frames = parse_in_chunks(stream.as_bytes(), 1);
    assert_eq!(
        frames,
        vec![
            Ok(SseFrame::Event(SseEvent {
                event: "message".into(),
                data: "first\nsecond".into(),
                id: Some("42".into()),
            })),
            // `event` with no value and empty `data`: an event of type "message", data "".
            Ok(SseFrame::Event(SseEvent {
                event: "message".into(),
                data: "".into(),
                id: Some("42".into()),
            })),
            Ok(SseFrame::Event(SseEvent {
                event: "message".into(),
                data: " two spaces".into(),
                id: Some("42".into()),
            })),
        ]
    );
    let mut parser = SseParser::new();
    parser.feed(stream.as_bytes());
    assert_eq!(parser.retry_ms(), Some(3000));
    assert_eq!(parser.last_event_id(), Some("42"));
}

#[test]
fn sse_utf8_split_across_chunks_and_invalid_bytes() {
    let stream = "event: update\ndata: 👋 日本\n\n".as_bytes();
    for size in 1..=5 {
        let frames = parse_in_chunks(stream, size);
        assert_eq!(event(&frames[0]).data, "👋 日本", "chunks of {size}");
    }
    let frames = parse_in_chunks(b"data: a\xFFb\n\n", 1);
    assert_eq!(event(&frames[0]).data, "a\u{FFFD}b");
}

#[test]
fn sse_an_oversized_event_is_dropped_and_the_next_one_comes_through() {
    let big = format!("data: {}\n\n", "x".repeat(5000));
    let stream = format!("{big}event: delete\ndata: 7\n\n");
    for size in [0, 1, 100] {
        let mut parser = SseParser::with_max_event_bytes(1024);
        let chunks: Vec<&[u8]> = if size == 0 {
            vec![stream.as_bytes()]
        } else {
            stream.as_bytes().chunks(size).collect()
        };
        let frames: Vec<_> = chunks.into_iter().flat_map(|c| parser.feed(c)).collect();
        assert_eq!(frames.len(), 2, "chunks of {size}");
        assert!(matches!(
            frames[0],
            Err(MastodonError::EventTooLarge { limit: 1024 })
        ));
        let Ok(SseFrame::Event(ev)) = &frames[1] else {
            panic!("{:?}", frames[1])
        };
        assert_eq!(
            decode_stream_event(ev).unwrap(),
            StreamItem::Delete("7".into())
        );
    }
}

#[test]
fn delete_ids_and_unknown_events() {
    let ev = |event: &str, data: &str| SseEvent {
        event: event.into(),
        data: data.into(),
        id: None,
    };
    assert_eq!(
        decode_stream_event(&ev("delete", "\"1234\"")).unwrap(),
        StreamItem::Delete("1234".into())
    );
    assert!(decode_stream_event(&ev("delete", "")).is_err());
    assert!(decode_stream_event(&ev("notification", "{}")).is_err());
    assert_eq!(
        decode_stream_event(&ev("announcement.delete", "1")).unwrap(),
        StreamItem::Ignored("announcement.delete".into())
    );
    assert_eq!(
        hashtag_stream_path("#café", true),
        "/api/v1/streaming/hashtag/local?tag=caf%C3%A9"
    );
}

// ---------------------------------------------------------------- pagination

#[test]
fn link_headers() {
    let links = parse_link_header(
        "<https://h.example/api/v1/notifications?max_id=123&limit=40>; rel=\"next\", \
         <https://h.example/api/v1/notifications?min_id=456>; rel=\"prev\"",
    );
    assert_eq!(links.next_max_id().as_deref(), Some("123"));
    assert_eq!(links.prev_min_id().as_deref(), Some("456"));

    // Only a prev link (the last page), odd spacing, upper-case REL, unquoted value.
    let links = parse_link_header("  < https://h.example/x?min_id=9 >;REL=prev");
    assert_eq!(links.next, None);
    assert_eq!(links.prev.as_deref(), Some("https://h.example/x?min_id=9"));

    // Several relations, a comma inside a quoted parameter, unknown relations.
    let links = parse_link_header(
        "<https://h.example/a?max_id=1>; title=\"a, b\"; rel=\"next last\", \
         <https://h.example/b>; rel=\"self\"",
    );
    assert_eq!(links.next.as_deref(), Some("https://h.example/a?max_id=1"));
    assert_eq!(links.prev, None);

    assert_eq!(parse_link_header(""), pagination::Links::default());
    assert_eq!(
        parse_link_header("garbage, <unclosed"),
        pagination::Links::default()
    );
}

#[test]
fn ids_in_urls_and_their_order() {
    let url = "https://h.example/api/v1/notifications?types%5B%5D=mention&since_id=117020577157693549&max_id=&min_id=5#x";
    assert_eq!(
        pagination::since_id(url).as_deref(),
        Some("117020577157693549")
    );
    assert_eq!(pagination::max_id(url), None);
    assert_eq!(pagination::min_id(url).as_deref(), Some("5"));
    assert_eq!(
        pagination::query_param(url, "types[]").as_deref(),
        Some("mention")
    );
    assert_eq!(pagination::max_id("https://h.example/no/query"), None);

    use std::cmp::Ordering;
    assert_eq!(compare_ids("99", "100"), Ordering::Less);
    assert_eq!(
        compare_ids("117020577157693549", "117020577157693548"),
        Ordering::Greater
    );
    assert_eq!(newest_id(["9", "10", "8"]), Some("10"));
    assert_eq!(newest_id(std::iter::empty()), None);

    assert_eq!(
        notifications_query(Some("1046"), 40),
        "/api/v1/notifications?types%5B%5D=mention&limit=40&min_id=1046"
    );
    assert_eq!(
        notifications_query(None, 500),
        "/api/v1/notifications?types%5B%5D=mention&limit=80"
    );
}

// ---------------------------------------------------------------- outbound

#[test]
fn characters_are_counted_like_mastodon() {
    assert_eq!(character_count(""), 0);
    assert_eq!(character_count("hello"), 5);
    assert_eq!(character_count("café ünïcödé"), 12);
    // A URL counts 23 however long it is.
    let url = format!("https://example.com/{}", "p".repeat(200));
    assert_eq!(character_count(&format!("see {url} now")), 4 + 23 + 4);
    assert_eq!(character_count("http://a.example"), 23);
    // Trailing punctuation and an unbalanced bracket are not part of the URL.
    assert_eq!(character_count("(see https://example.com/x)."), 5 + 23 + 2);
    assert_eq!(
        character_count("https://en.example.org/wiki/Rust_(language)"),
        23
    );
    // A remote mention counts as @user; a local one as itself.
    assert_eq!(character_count("@lena@fedi.example hi"), 5 + 3);
    assert_eq!(character_count("@lena hi"), 5 + 3);
    assert_eq!(
        character_count("@lena@fedi.example @tom@x.example."),
        5 + 1 + 4 + 1
    );
    // Not mentions or URLs: an e-mail address, a scheme glued to a word, no dot.
    assert_eq!(character_count("ann@mail.example"), 16);
    assert_eq!(character_count("xhttps://example.com"), 20);
    assert_eq!(character_count("https://localhost"), 17);
    // One per user-perceived character: a family emoji and a flag are one each.
    assert_eq!(character_count("👨‍👩‍👧 🇫🇷"), 3);
}

#[test]
fn reply_request_shape_and_limit() {
    let text = "@lena@fedi.example Sorry about that! Tracking: https://track.example/p/4417";
    let request = reply_request(text, "113500000000000102", Visibility::Direct).unwrap();
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        serde_json::json!({
            "status": text,
            "in_reply_to_id": "113500000000000102",
            "visibility": "direct",
        })
    );
    assert_eq!(
        request.to_form(),
        "status=%40lena%40fedi.example+Sorry+about+that%21+Tracking%3A+\
         https%3A%2F%2Ftrack.example%2Fp%2F4417&in_reply_to_id=113500000000000102\
         &visibility=direct"
    );
    let back: StatusRequest =
        serde_json::from_value(serde_json::to_value(&request).unwrap()).unwrap();
    assert_eq!(back, request);

    // Exactly at the limit passes; one over names the count and the limit.
    let link = format!("https://example.com/{}", "z".repeat(100));
    let at_limit = format!("{} {link}", "a".repeat(DEFAULT_MAX_CHARS - 24));
    assert_eq!(character_count(&at_limit), DEFAULT_MAX_CHARS);
    assert!(reply_request(&at_limit, "1", Visibility::Public).is_ok());
    let over = format!("a{at_limit}");
    let err = reply_request(&over, "1", Visibility::Public).unwrap_err();
    assert!(matches!(
        err,
        MastodonError::TooLong {
            count: 501,
            limit: 500
        }
    ));
    let message = err.to_string();
    assert!(
        message.contains("501") && message.contains("500"),
        "{message}"
    );
    // A content warning counts too.
    let mut with_cw = reply_request(&at_limit, "1", Visibility::Public).unwrap();
    with_cw.spoiler_text = Some("ü".into());
    assert!(matches!(
        check_length(&with_cw, DEFAULT_MAX_CHARS),
        Err(MastodonError::TooLong {
            count: 501,
            limit: 500
        })
    ));
    // An instance with a larger limit.
    assert!(reply_request_with_limit(&over, "1", Visibility::Public, 1000).is_ok());

    assert!(matches!(
        reply_request("   ", "1", Visibility::Public),
        Err(MastodonError::EmptyStatus)
    ));
    assert!(matches!(
        reply_request("hi", " ", Visibility::Public),
        Err(MastodonError::MissingReplyTarget)
    ));
}

#[test]
fn idempotency_keys_are_stable_and_distinct() {
    assert_eq!(idempotency_key(12, 345), "rapport-reply-12-345");
    assert_eq!(idempotency_key(12, 345), idempotency_key(12, 345));
    assert_ne!(idempotency_key(12, 345), idempotency_key(12, 346));
    assert_ne!(idempotency_key(1, 23), idempotency_key(12, 3));
}

#[test]
fn replies_mention_the_author_once() {
    assert_eq!(
        ensure_mention("Sorry about that!", "lena@fedi.example"),
        "@lena@fedi.example Sorry about that!"
    );
    assert_eq!(
        ensure_mention("Thanks @Lena@Fedi.Example.", "@lena@fedi.example"),
        "Thanks @Lena@Fedi.Example."
    );
    assert_eq!(
        ensure_mention("Thanks @lena@fedi.example.org", "lena@fedi.example"),
        "@lena@fedi.example Thanks @lena@fedi.example.org"
    );
    assert_eq!(reply_visibility(&Visibility::Private), Visibility::Private);
    assert_eq!(
        reply_visibility(&Visibility::Other("limited".into())),
        Visibility::Direct
    );
}
