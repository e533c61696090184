//! The inbound webhook: signatures, bodies with good and bad items, and the example of
//! `docs/webhook.md` checked against its own documented signatures.

use chrono::{DateTime, TimeZone, Utc};
use rapport_connectors::webhook::{
    ItemError, MAX_ITEMS, SIGNATURE_HEADER, SignatureError, TIMESTAMP_HEADER, WebhookError,
    parse_body, sign, sign_with_timestamp, verify, verify_with_timestamp,
};
use rapport_core::Direction;

const SECRET: &[u8] = b"0f1e2d3c4b5a69788796a5b4c3d2e1f0";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 2, 12, 0, 0).unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/webhook/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn sign_then_verify() {
    let body = fixture("batch.json");
    let header = sign(SECRET, &body);
    assert!(header.starts_with("sha256="));
    assert_eq!(header.len(), "sha256=".len() + 64);
    assert_eq!(header, header.to_lowercase());
    assert_eq!(verify(SECRET, &body, Some(&header)), Ok(()));
    // Surrounding whitespace and an upper-case prefix or digest are tolerated.
    assert_eq!(verify(SECRET, &body, Some(&format!(" {header} "))), Ok(()));
    assert_eq!(verify(SECRET, &body, Some(&header.to_uppercase())), Ok(()));
    assert_eq!(SIGNATURE_HEADER, "X-Rapport-Signature");
}

#[test]
fn rfc_4231_test_vector() {
    // RFC 4231, test case 2: key "Jefe".
    assert_eq!(
        sign(b"Jefe", b"what do ya want for nothing?"),
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[test]
fn a_flipped_byte_or_wrong_secret_is_a_mismatch() {
    let body = fixture("batch.json");
    let header = sign(SECRET, &body);

    let mut flipped = body.clone();
    flipped[10] ^= 0x01;
    let err = verify(SECRET, &flipped, Some(&header)).unwrap_err();
    assert_eq!(err, SignatureError::Mismatch { timestamped: false });
    assert!(err.to_string().contains("exact raw bytes"), "{err}");

    assert_eq!(
        verify(b"another secret", &body, Some(&header)),
        Err(SignatureError::Mismatch { timestamped: false })
    );

    // A flipped digit in the header itself.
    let mut bad = header.clone().into_bytes();
    let last = bad.len() - 1;
    bad[last] = if bad[last] == b'0' { b'1' } else { b'0' };
    let bad = String::from_utf8(bad).unwrap();
    assert_eq!(
        verify(SECRET, &body, Some(&bad)),
        Err(SignatureError::Mismatch { timestamped: false })
    );
}

#[test]
fn missing_or_garbled_headers_have_their_own_errors() {
    let body = b"{}";
    let good = sign(SECRET, body);
    let digest = &good["sha256=".len()..];
    let cases: Vec<(Option<String>, SignatureError)> = vec![
        (None, SignatureError::MissingHeader),
        (Some("   ".into()), SignatureError::MissingHeader),
        (Some(digest.to_owned()), SignatureError::WrongPrefix),
        (Some(format!("sha1={digest}")), SignatureError::WrongPrefix),
        (Some("sha256=not-hex!".into()), SignatureError::NotHex),
        (
            Some(format!("sha256={}", &digest[..63])),
            SignatureError::NotHex,
        ),
        (
            Some(format!("sha256={}", &digest[..40])),
            SignatureError::WrongLength { len: 20 },
        ),
        (
            Some(format!("sha256={digest}00")),
            SignatureError::WrongLength { len: 33 },
        ),
    ];
    for (header, want) in cases {
        let got = verify(SECRET, body, header.as_deref());
        assert_eq!(got, Err(want), "header {header:?}");
        let message = got.unwrap_err().to_string();
        assert!(message.contains(SIGNATURE_HEADER), "{message}");
    }
    assert_eq!(
        verify(b"", body, Some(&sign(b"", body))),
        Err(SignatureError::NoSecret)
    );
}

#[test]
fn timestamped_signatures() {
    let body = fixture("batch.json");
    let ts = now().timestamp();
    let header = sign_with_timestamp(SECRET, ts, &body);
    let ts_s = ts.to_string();
    assert_ne!(header, sign(SECRET, &body));
    assert_eq!(TIMESTAMP_HEADER, "X-Rapport-Timestamp");

    let check = |sig: &str, stamp: Option<&str>, at: DateTime<Utc>, required: bool| {
        verify_with_timestamp(SECRET, &body, Some(sig), stamp, at, required)
    };
    assert_eq!(check(&header, Some(&ts_s), now(), false), Ok(()));
    assert_eq!(check(&header, Some(&ts_s), now(), true), Ok(()));
    // Within five minutes either way.
    let later = now() + chrono::Duration::seconds(300);
    assert_eq!(check(&header, Some(&ts_s), later, false), Ok(()));
    let too_late = now() + chrono::Duration::seconds(301);
    assert_eq!(
        check(&header, Some(&ts_s), too_late, false),
        Err(SignatureError::StaleTimestamp { skew_secs: 301 })
    );
    let too_early = now() - chrono::Duration::seconds(3600);
    assert_eq!(
        check(&header, Some(&ts_s), too_early, false),
        Err(SignatureError::StaleTimestamp { skew_secs: 3600 })
    );
    // A stale request with a bad signature reads as a bad signature.
    let plain = sign(SECRET, &body);
    assert_eq!(
        check(&plain, Some(&ts_s), too_late, false),
        Err(SignatureError::Mismatch { timestamped: true })
    );

    // Another timestamp in the header than the one signed: a mismatch.
    let other = (ts + 1).to_string();
    assert_eq!(
        check(&header, Some(&other), now(), false),
        Err(SignatureError::Mismatch { timestamped: true })
    );
    // Dropping the timestamp header does not make the signature valid for the body alone.
    assert_eq!(
        check(&header, None, now(), false),
        Err(SignatureError::Mismatch { timestamped: false })
    );
    // Simple clients: no timestamp, body-only signature, accepted unless required.
    assert_eq!(check(&plain, None, now(), false), Ok(()));
    assert_eq!(
        check(&plain, None, now(), true),
        Err(SignatureError::MissingTimestamp)
    );
    assert_eq!(
        check(&header, Some("2024-01-02T12:00:00Z"), now(), false),
        Err(SignatureError::BadTimestamp)
    );
}

#[test]
fn a_batch_with_good_and_bad_items() {
    let batch = parse_body(&fixture("batch.json"), "helpdesk", now()).unwrap();

    let errors: Vec<(usize, Option<&str>)> = batch
        .errors
        .iter()
        .map(|e| (e.index, e.field.as_deref()))
        .collect();
    assert_eq!(
        errors,
        vec![
            (2, Some("id")),
            (3, Some("author")),
            (4, Some("text")),
            (5, Some("create_at")),
            (6, Some("created_at")),
            (7, Some("direction")),
            (8, None),
            (9, Some("url")),
            (10, Some("followers")),
        ],
        "{:#?}",
        batch.errors
    );
    let shown: Vec<String> = batch.errors.iter().map(ToString::to_string).collect();
    assert_eq!(shown[0], "item 2: id: is missing; every item needs one");
    assert_eq!(shown[2], "item 4: text: is empty");
    assert!(shown[3].starts_with("item 5: create_at: unknown field; the fields are id, author"));
    assert!(
        shown[4].contains("\"yesterday\" is not an RFC 3339 time"),
        "{}",
        shown[4]
    );
    assert_eq!(shown[6], "item 8: is a JSON string, not an object");

    let indexes: Vec<usize> = batch.messages.iter().map(|m| m.index).collect();
    assert_eq!(indexes, vec![0, 1, 11]);

    let ada = &batch.messages[0];
    assert_eq!(ada.email.as_deref(), Some("ada@example.com"));
    let m = &ada.message;
    assert_eq!(m.platform, "helpdesk");
    assert_eq!(m.platform_id, "t-1");
    assert_eq!(m.author, "ada");
    assert_eq!(m.author_name.as_deref(), Some("Ada L."));
    assert_eq!(m.text, "Is the API down?");
    assert_eq!(
        m.created_at,
        Utc.with_ymd_and_hms(2024, 1, 2, 10, 0, 0).unwrap()
    );
    assert_eq!(m.followers, Some(1200));
    assert_eq!(m.url.as_deref(), Some("https://help.example.com/t/1"));
    assert_eq!(m.direction, Direction::Inbound);
    assert_eq!(m.in_reply_to, None);
    assert!(!m.automated);

    let reply = &batch.messages[1].message;
    assert_eq!(reply.platform_id, "4711");
    assert_eq!(reply.platform, "helpdesk");
    assert_eq!(reply.in_reply_to.as_deref(), Some("t-1"));
    assert_eq!(reply.direction, Direction::Outbound);
    assert_eq!(reply.author_name, None);
    // No created_at: the time it was received.
    assert_eq!(reply.created_at, now());
}

#[test]
fn one_object_is_item_zero() {
    let batch = parse_body(
        br#"{"id": "1", "author": "a", "text": "hi"}"#,
        "Forms",
        now(),
    )
    .unwrap();
    assert!(batch.errors.is_empty());
    assert_eq!(batch.messages[0].index, 0);
    assert_eq!(batch.messages[0].message.platform, "forms");

    let batch = parse_body(br#"{"id": "1", "author": "a"}"#, "forms", now()).unwrap();
    assert_eq!(
        batch.errors,
        vec![ItemError {
            index: 0,
            field: Some("text".into()),
            message: "is missing; every item needs one".into(),
        }]
    );
}

#[test]
fn oversize_text_is_refused_and_the_limit_is_inclusive() {
    let at_limit = "a".repeat(64 * 1024);
    let over = "é".repeat(32 * 1024 + 1); // 65,538 bytes
    let body = serde_json::to_vec(&serde_json::json!([
        {"id": "1", "author": "a", "text": at_limit},
        {"id": "2", "author": "a", "text": over},
    ]))
    .unwrap();
    let batch = parse_body(&body, "forms", now()).unwrap();
    assert_eq!(batch.messages.len(), 1);
    assert_eq!(batch.errors.len(), 1);
    assert_eq!(batch.errors[0].index, 1);
    assert_eq!(
        batch.errors[0].to_string(),
        "item 1: text: is 65538 bytes, over the 64 KiB limit"
    );
}

#[test]
fn field_types_are_checked() {
    let body = br#"[
        {"id": 1.5, "author": "a", "text": "x"},
        {"id": "", "author": "a", "text": "x"},
        {"id": "1", "author": 7, "text": "x"},
        {"id": "1", "author": "@", "text": "x"},
        {"id": "1", "author": "a", "text": "x", "platform": "my platform"},
        {"id": "1", "author": "a", "text": "x", "email": "not an address"},
        {"id": "1", "author": "a", "text": "x", "automated": "yes"},
        {"id": "1", "author": "a", "text": "x", "in_reply_to": {}},
        {"id": "1", "author": "a", "text": "x", "created_at": null, "url": null, "meta": null}
    ]"#;
    let batch = parse_body(body, "forms", now()).unwrap();
    let fields: Vec<Option<&str>> = batch.errors.iter().map(|e| e.field.as_deref()).collect();
    assert_eq!(
        fields,
        vec![
            Some("id"),
            Some("id"),
            Some("author"),
            Some("author"),
            Some("platform"),
            Some("email"),
            Some("automated"),
            Some("in_reply_to"),
        ],
        "{:#?}",
        batch.errors
    );
    assert_eq!(batch.messages.len(), 1);
    assert_eq!(batch.messages[0].index, 8);
}

#[test]
fn bodies_that_are_not_batches() {
    let cases: Vec<(&[u8], &str)> = vec![
        (b"", "empty_body"),
        (b" \n", "empty_body"),
        (b"{\"id\": ", "invalid_json"),
        (b"\xff\xfe{}", "invalid_json"),
        (b"\"text\"", "invalid_body"),
        (b"42", "invalid_body"),
        (b"null", "invalid_body"),
    ];
    for (body, code) in cases {
        let err = parse_body(body, "forms", now()).unwrap_err();
        assert_eq!(err.code(), code, "{err}");
        assert!(err.to_string().contains("send a JSON object"), "{err}");
    }
    let err = parse_body(b"{\n\"id\": 1,,\n}", "forms", now()).unwrap_err();
    assert!(
        matches!(err, WebhookError::NotJson { line: 2, .. }),
        "{err:?}"
    );

    let too_many = serde_json::to_vec(&vec![serde_json::json!({}); MAX_ITEMS + 1]).unwrap();
    let err = parse_body(&too_many, "forms", now()).unwrap_err();
    assert_eq!(
        err,
        WebhookError::TooManyItems {
            count: MAX_ITEMS + 1
        }
    );
    assert_eq!(parse_body(b"[]", "forms", now()).unwrap().messages.len(), 0);
}

/// `docs/webhook.md`, its secret, the body of its example and the signatures it shows.
struct DocExample {
    secret: String,
    body: Vec<u8>,
    signatures: Vec<String>,
    timestamp: i64,
}

fn doc_example() -> DocExample {
    let path = format!("{}/../../docs/webhook.md", env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let secret = doc
        .lines()
        .find_map(|l| l.strip_prefix("SECRET='")?.strip_suffix('\''))
        .unwrap_or_else(|| panic!("a SECRET='...' line"))
        .to_owned();
    let start = doc.find("<<'EOF'\n").unwrap_or_else(|| panic!("a heredoc")) + "<<'EOF'\n".len();
    let len = doc[start..]
        .find("\nEOF\n")
        .unwrap_or_else(|| panic!("the heredoc's end"));
    // The heredoc writes its lines each with a newline, the last one included.
    let body = format!("{}\n", &doc[start..start + len]).into_bytes();
    let signatures = doc
        .lines()
        .filter_map(|l| l.strip_prefix("X-Rapport-Signature: sha256="))
        .filter(|s| s.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|s| format!("sha256={s}"))
        .collect();
    let timestamp = doc
        .lines()
        .find_map(|l| l.strip_prefix("TS="))
        .unwrap_or_else(|| panic!("a TS= line"))
        .parse()
        .unwrap_or_else(|e| panic!("TS is not a number: {e}"));
    DocExample {
        secret,
        body,
        signatures,
        timestamp,
    }
}

#[test]
fn the_documented_example_verifies_with_its_documented_signatures() {
    let doc = doc_example();
    assert_eq!(doc.signatures.len(), 2, "{:?}", doc.signatures);
    let secret = doc.secret.as_bytes();

    assert_eq!(sign(secret, &doc.body), doc.signatures[0]);
    assert_eq!(verify(secret, &doc.body, Some(&doc.signatures[0])), Ok(()));

    let at = Utc.timestamp_opt(doc.timestamp, 0).unwrap();
    assert_eq!(
        sign_with_timestamp(secret, doc.timestamp, &doc.body),
        doc.signatures[1]
    );
    assert_eq!(
        verify_with_timestamp(
            secret,
            &doc.body,
            Some(&doc.signatures[1]),
            Some(&doc.timestamp.to_string()),
            at,
            true,
        ),
        Ok(())
    );

    // And the example body is what the doc says it is: two good items.
    let batch = parse_body(&doc.body, "helpdesk", now()).unwrap();
    assert!(batch.errors.is_empty(), "{:?}", batch.errors);
    assert_eq!(batch.messages.len(), 2);
    assert_eq!(batch.messages[0].email.as_deref(), Some("jane@example.com"));
    assert_eq!(
        batch.messages[1].message.in_reply_to.as_deref(),
        Some(batch.messages[0].message.platform_id.as_str())
    );
    assert_eq!(batch.messages[1].message.direction, Direction::Outbound);
}

#[test]
fn the_documented_fields_are_the_accepted_ones() {
    let path = format!("{}/../../docs/webhook.md", env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(&path).unwrap();
    for field in rapport_connectors::webhook::FIELDS {
        assert!(
            doc.contains(&format!("| `{field}` |")),
            "docs/webhook.md does not document the field {field}"
        );
    }
}
