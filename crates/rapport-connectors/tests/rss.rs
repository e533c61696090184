//! RSS / Atom: real-shaped feeds (WordPress comment feeds in RSS 2.0 and Atom, a forum
//! feed with broken entries) parsed into messages.

use chrono::{TimeZone, Utc};
use rapport_connectors::rss::{RssError, Validators, parse_feed};
use rapport_core::Direction;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/rss/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const POST_URL: &str = "https://blog.acme.example/2024/01/our-new-pricing/";

#[test]
fn wordpress_rss_comment_feed() {
    let page = parse_feed(
        &fixture("wordpress-comments.rss"),
        "https://blog.acme.example/comments/feed/",
    )
    .unwrap();
    assert!(page.errors.is_empty(), "{:?}", page.errors);
    assert!(page.notes.is_empty(), "{:?}", page.notes);
    assert_eq!(page.messages.len(), 3);

    let jane = &page.messages[0];
    assert_eq!(jane.platform, "rss");
    assert_eq!(
        jane.platform_id,
        "https://blog.acme.example/?p=101#comment-12"
    );
    assert_eq!(jane.author, "Jane Doe");
    assert_eq!(jane.author_name.as_deref(), Some("Jane Doe"));
    // content:encoded wins over description; paragraphs become lines, entities decoded.
    assert_eq!(
        jane.text,
        "Why did the price go up? I\u{2019}ve been a customer for years & this is the first \
         I hear of it.\n\nPlease explain."
    );
    assert_eq!(
        jane.created_at,
        Utc.with_ymd_and_hms(2024, 1, 2, 10, 0, 0).unwrap()
    );
    assert_eq!(
        jane.url.as_deref(),
        Some("https://blog.acme.example/2024/01/our-new-pricing/#comment-12")
    );
    assert_eq!(jane.in_reply_to.as_deref(), Some(POST_URL));
    assert_eq!(jane.direction, Direction::Inbound);
    assert_eq!(jane.followers, None);

    // A reply to a comment: WordPress's RSS shape only says so in the text, so it threads
    // to the post, like every comment on it.
    let support = &page.messages[1];
    assert_eq!(support.author, "Acme Support");
    assert_eq!(support.in_reply_to.as_deref(), Some(POST_URL));
    assert_eq!(
        support.text,
        "In reply to Jane Doe.\n\nHi Jane, the new plan adds backups \u{2013} details in the \
         post."
    );
    assert!(!support.text.contains('<') && !support.text.contains("&#"));

    // Paged comments: the comment-page-N/ segment is not part of the post's address.
    let bob = &page.messages[2];
    assert_eq!(bob.author, "bob <3 Acme");
    assert_eq!(bob.text, "Happy new year & thanks! <3");
    assert_eq!(
        bob.in_reply_to.as_deref(),
        Some("https://blog.acme.example/hello-world/")
    );
}

#[test]
fn atom_comment_feed_threads_by_thr_in_reply_to() {
    let page = parse_feed(
        &fixture("wordpress-comments.atom"),
        "https://blog.acme.example/comments/feed/atom/",
    )
    .unwrap();
    assert!(page.errors.is_empty(), "{:?}", page.errors);
    assert_eq!(page.messages.len(), 3);

    let jane = &page.messages[0];
    assert_eq!(
        jane.platform_id,
        "https://blog.acme.example/?p=101#comment-12"
    );
    assert_eq!(jane.author, "Jane Doe");
    // thr:in-reply-to ref: the post's guid, not its link.
    assert_eq!(
        jane.in_reply_to.as_deref(),
        Some("https://blog.acme.example/?p=101")
    );
    assert_eq!(
        jane.text,
        "Why did the price go up? I\u{2019}ve been a customer for years & this is the first \
         I hear of it.\n\nPlease explain."
    );

    // A reply to a comment threads to that comment's id.
    let support = &page.messages[1];
    assert_eq!(
        support.in_reply_to.as_deref(),
        Some(jane.platform_id.as_str())
    );
    assert_eq!(
        support.created_at,
        Utc.with_ymd_and_hms(2024, 1, 2, 10, 30, 0).unwrap()
    );

    // type="text" content is kept as written (no HTML reading), only `updated`: used as
    // the date; no fragment in the link and no thr: not a reply.
    let carol = &page.messages[2];
    assert_eq!(carol.platform_id, "tag:forum.acme.example,2024:post-42");
    assert_eq!(
        carol.text,
        "Is 2 < 3 & does the <b>API</b> work?\nSecond line."
    );
    assert_eq!(
        carol.created_at,
        Utc.with_ymd_and_hms(2024, 1, 1, 8, 0, 0).unwrap()
    );
    assert_eq!(carol.in_reply_to, None);
    assert_eq!(
        carol.url.as_deref(),
        Some("https://forum.acme.example/t/42")
    );
}

#[test]
fn broken_entries_are_reported_and_the_rest_comes_out() {
    let url = "https://forum.acme.example/latest.rss";
    let page = parse_feed(&fixture("edge-cases.rss"), url).unwrap();

    let errors: Vec<String> = page.errors.iter().map(ToString::to_string).collect();
    assert_eq!(page.errors.len(), 2, "{errors:#?}");
    assert_eq!(page.errors[0].index, 0);
    assert_eq!(page.errors[0].id.as_deref(), Some("forum-7-1"));
    assert!(
        errors[0].starts_with("entry 0 (forum-7-1): no date"),
        "{}",
        errors[0]
    );
    assert_eq!(page.errors[1].index, 3);
    assert_eq!(page.errors[1].id.as_deref(), Some("forum-9-1"));
    assert!(
        page.errors[1].reason.starts_with("no text"),
        "{}",
        errors[1]
    );

    let ids: Vec<&str> = page
        .messages
        .iter()
        .map(|m| m.platform_id.as_str())
        .collect();
    assert_eq!(page.messages.len(), 3, "{ids:?}");

    // No guid: the link is the id, and the page says so.
    let no_guid = &page.messages[0];
    assert_eq!(no_guid.platform_id, "https://forum.acme.example/t/8#p-2");
    assert_eq!(no_guid.text, "Escaped HTML & an entity.");
    assert_eq!(
        no_guid.in_reply_to.as_deref(),
        Some("https://forum.acme.example/t/8")
    );
    // No author anywhere: the feed's title stands in.
    assert_eq!(no_guid.author, "Acme Forum: latest replies");

    // Neither guid nor link: a stable hash, said so too.
    let hashed = &page.messages[1];
    assert!(
        hashed.platform_id.starts_with("sha256:"),
        "{}",
        hashed.platform_id
    );
    assert_eq!(hashed.url, None);
    assert_eq!(hashed.in_reply_to, None);
    let again = parse_feed(&fixture("edge-cases.rss"), url).unwrap();
    assert_eq!(again.messages[1].platform_id, hashed.platform_id);

    assert_eq!(page.notes.len(), 2, "{:?}", page.notes);
    assert_eq!(page.notes[0].index, 1);
    assert!(
        page.notes[0].note.contains("using its link"),
        "{}",
        page.notes[0]
    );
    assert_eq!(page.notes[1].index, 2);
    assert!(page.notes[1].note.contains("hash"), "{}", page.notes[1]);

    // RSS <author> is "email (Name)".
    let dave = &page.messages[2];
    assert_eq!(dave.platform_id, "forum-10");
    assert_eq!(dave.author, "Dave Jones");
    assert_eq!(dave.text, "Line one\nline two");
    assert_eq!(dave.in_reply_to, None);
}

#[test]
fn garbage_is_an_error_naming_the_url() {
    let url = "https://example.test/feed";
    for body in [
        fixture("garbage.bin"),
        b"{\"not\": \"a feed\"".to_vec(),
        b"<rss><chan".to_vec(),
    ] {
        let err = parse_feed(&body, url).unwrap_err();
        assert!(matches!(err, RssError::NotAFeed { .. }), "{err:?}");
        assert!(err.to_string().contains(url), "{err}");
    }
    let err = parse_feed(&fixture("not-a-feed.html"), url).unwrap_err();
    assert!(matches!(err, RssError::HtmlPage { .. }), "{err:?}");
    assert!(err.to_string().contains(url), "{err}");
    let err = parse_feed(b"  \n", url).unwrap_err();
    assert!(matches!(err, RssError::Empty { .. }), "{err:?}");
}

#[test]
fn an_empty_feed_is_an_empty_page() {
    let page = parse_feed(
        b"<rss version=\"2.0\"><channel><title>t</title></channel></rss>",
        "https://x.test/feed",
    )
    .unwrap();
    assert!(page.messages.is_empty() && page.errors.is_empty());
}

#[test]
fn validators_round_trip_through_headers() {
    let response = [
        ("ETag", "W/\"5f1-abc\""),
        ("Last-Modified", "Tue, 02 Jan 2024 11:05:00 GMT"),
    ];
    // A case-sensitive lookup that knows only the usual spelling still works.
    let v = Validators::from_response_headers(|name| {
        response
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    });
    assert_eq!(v.etag.as_deref(), Some("W/\"5f1-abc\""));
    assert_eq!(
        v.request_headers(),
        vec![
            ("If-None-Match", "W/\"5f1-abc\"".to_owned()),
            (
                "If-Modified-Since",
                "Tue, 02 Jan 2024 11:05:00 GMT".to_owned()
            ),
        ]
    );

    let none = Validators::from_response_headers(|name| (name == "etag").then(|| "  ".to_owned()));
    assert!(none.is_empty());
    assert!(none.request_headers().is_empty());

    // Kept with the cursor as JSON.
    let json = serde_json::to_string(&v).unwrap();
    assert_eq!(serde_json::from_str::<Validators>(&json).unwrap(), v);
}
