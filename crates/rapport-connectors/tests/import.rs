//! Integration tests of the file import: realistic exports in `tests/fixtures/import/`,
//! and files mixing good rows with every kind of bad row.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rapport_connectors::import::{
    Field, FieldMap, Format, ImportError, ImportOptions, Importer, MAX_TEXT_BYTES, ParsedRow,
    RowError,
};
use rapport_core::Direction;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

fn open(name: &str, options: ImportOptions) -> Importer<std::fs::File> {
    Importer::new(std::fs::File::open(fixture(name)).unwrap(), options).unwrap()
}

fn split(
    items: impl Iterator<Item = Result<ParsedRow, RowError>>,
) -> (Vec<ParsedRow>, Vec<RowError>) {
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    for item in items {
        match item {
            Ok(row) => good.push(row),
            Err(e) => bad.push(e),
        }
    }
    (good, bad)
}

fn read_bytes(bytes: &[u8], options: ImportOptions) -> (Vec<ParsedRow>, Vec<RowError>) {
    split(Importer::new(bytes, options).unwrap())
}

fn csv(text: &str) -> (Vec<ParsedRow>, Vec<RowError>) {
    read_bytes(text.as_bytes(), ImportOptions::new(Format::Csv))
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn lines_of(good: &[ParsedRow]) -> Vec<u64> {
    good.iter().map(|r| r.line).collect()
}

#[test]
fn twitter_customer_support_csv() {
    let mut options = ImportOptions::new(Format::from_path(&fixture("twcs.csv")).unwrap());
    options.platform = Some("Twitter".into());
    let importer = open("twcs.csv", options);
    assert_eq!(
        importer.columns(),
        vec![
            (Field::Text, "text"),
            (Field::Author, "author_id"),
            (Field::PlatformId, "tweet_id"),
            (Field::CreatedAt, "created_at"),
            (Field::InReplyTo, "in_response_to_tweet_id"),
            (Field::Inbound, "inbound"),
        ]
    );
    let (good, bad) = split(importer);
    assert!(bad.is_empty(), "{bad:?}");
    // the third row's text holds a line break, so the rows after it start a line later
    assert_eq!(lines_of(&good), vec![2, 3, 4, 6, 7]);

    let m = &good[0].message;
    assert_eq!(m.platform, "twitter");
    assert_eq!(m.platform_id, "119237");
    assert_eq!(m.author, "105834");
    assert_eq!(m.direction, Direction::Inbound);
    assert_eq!(m.in_reply_to, None);
    assert_eq!(m.created_at, utc("2017-10-11T06:55:44Z"));
    assert!(m.text.ends_with("screen😡😡😡"));
    assert_eq!((m.reshares, m.replies, m.followers), (0, 0, None));
    assert!(!m.automated);

    let m = &good[1].message;
    assert_eq!(m.author, "AcmeSupport");
    assert_eq!(m.direction, Direction::Outbound);
    assert_eq!(
        m.text,
        "@105834 We'd like to help & get this sorted. Which iOS version are you on? <3"
    );
    assert_eq!(m.in_reply_to.as_deref(), Some("119237"));

    let m = &good[2].message;
    assert_eq!(m.author, "105835", "leading @ stripped");
    assert_eq!(
        m.text,
        "@AcmeSupport still broken\nafter the update & a restart, \"fixed\" my foot"
    );
    assert_eq!(m.in_reply_to.as_deref(), Some("119238"), "pandas float id");

    let m = &good[3].message;
    assert_eq!(m.direction, Direction::Outbound);
    assert!(m.text.contains("we'll dig in"));
    assert_eq!(m.in_reply_to.as_deref(), Some("119240"));

    let m = &good[4].message;
    assert_eq!(m.in_reply_to, None, "nan is no reply");
    assert_eq!(m.created_at, utc("2017-10-31T22:10:47Z"));
}

#[test]
fn sprout_style_export_with_bom_crlf_and_date_format() {
    let mut options = ImportOptions::new(Format::Csv);
    options.date_format = Some("%m/%d/%Y %I:%M %p".into());
    let importer = open("sprout.csv", options);
    assert_eq!(importer.header().unwrap()[0], "Date", "BOM stripped");
    let (good, bad) = split(importer);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(lines_of(&good), vec![2, 3, 4]);

    let m = &good[0].message;
    assert_eq!(m.platform, "twitter");
    assert_eq!(m.author, "jane_doe");
    assert_eq!(m.author_name.as_deref(), Some("Jane Doe"));
    assert_eq!(m.platform_id, "567890123456789");
    assert_eq!(
        m.text,
        "My order #1234 hasn't arrived & nobody answers the phone"
    );
    assert_eq!(m.created_at, utc("2015-02-24T11:35:00Z"));
    assert_eq!(m.followers, Some(1234));
    assert_eq!((m.reshares, m.replies), (0, 2));
    assert_eq!(
        m.url.as_deref(),
        Some("https://twitter.com/jane_doe/status/567890123456789")
    );

    let m = &good[1].message;
    assert_eq!(m.platform, "facebook");
    assert_eq!(m.author, "Sam Lee");
    assert_eq!(m.created_at, utc("2015-02-24T13:05:00Z"));
    assert_eq!(m.followers, None);
    assert_eq!(m.reshares, 3);

    let m = &good[2].message;
    assert_eq!(m.platform, "instagram");
    assert_eq!(m.author, "pixel.pete");
    assert_eq!(m.author_name, None);
    assert_eq!(m.url, None);
    assert_eq!(m.text, "when is the sale??? 🔥");
}

#[test]
fn sprout_style_export_without_date_format_names_the_value() {
    let (good, bad) = split(open("sprout.csv", ImportOptions::new(Format::Csv)));
    assert!(good.is_empty());
    assert_eq!(bad.len(), 3);
    assert_eq!(bad[0].line, 2);
    assert!(
        bad[0]
            .reason
            .starts_with("created_at: '02/24/2015 11:35 AM' (column 'Date'):"),
        "{}",
        bad[0].reason
    );
    assert!(bad[0].reason.contains("--date-format"), "{}", bad[0].reason);
    assert!(bad[0].raw.starts_with("02/24/2015 11:35 AM,Twitter,"));
    assert!(!bad[0].fatal);
}

#[test]
fn airline_dataset_needs_and_takes_a_mapping() {
    let e = Importer::new(
        std::fs::File::open(fixture("airline.csv")).unwrap(),
        ImportOptions::new(Format::Csv),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        e.starts_with("no column for author (looked for author, username,"),
        "{e}"
    );
    assert!(
        e.contains("; created_at (looked for created_at, date,"),
        "{e}"
    );
    assert!(e.contains("'tweet_created'"), "lists the header: {e}");
    assert!(e.ends_with("--map author=COLUMN,created_at=COLUMN"), "{e}");

    let mut options = ImportOptions::new(Format::Csv);
    options.mapping = FieldMap::parse("created_at=tweet_created, author=name").unwrap();
    let importer = open("airline.csv", options);
    assert!(importer.columns().contains(&(Field::Author, "name")));
    assert!(
        importer
            .columns()
            .contains(&(Field::Reshares, "retweet_count"))
    );
    assert!(
        !importer
            .columns()
            .iter()
            .any(|(f, _)| *f == Field::AuthorName)
    );
    let (good, bad) = split(importer);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(good.len(), 3);
    let m = &good[0].message;
    assert_eq!(m.platform, "import");
    assert_eq!(m.author, "skyfan_01");
    assert_eq!(m.platform_id, "570306133677760513");
    assert_eq!(m.created_at, utc("2015-02-24T19:35:52Z"));
    assert_eq!(
        good[2].message.text,
        "@SkyLarkAir blasting \"music\" at boarding is loud & there's nowhere to escape it"
    );
}

#[test]
fn map_naming_a_missing_column_fails_up_front() {
    let mut options = ImportOptions::new(Format::Csv);
    options.mapping = FieldMap::parse("text=body").unwrap();
    let e = Importer::new(std::fs::File::open(fixture("twcs.csv")).unwrap(), options)
        .err()
        .unwrap();
    assert!(matches!(e, ImportError::MappedColumnMissing { .. }));
    assert_eq!(
        e.to_string(),
        "--map text=body: the header has no column 'body'; its columns are: 'tweet_id', \
         'author_id', 'inbound', 'created_at', 'text', 'response_tweet_id', \
         'in_response_to_tweet_id'"
    );
    // header names match --map case-insensitively
    let mut options = ImportOptions::new(Format::Csv);
    options.mapping = FieldMap::parse("platform_id=TWEET_ID").unwrap();
    assert!(Importer::new(std::fs::File::open(fixture("twcs.csv")).unwrap(), options).is_ok());
}

#[test]
fn unknown_field_in_map_lists_the_fields() {
    let e = FieldMap::parse("txt=body").unwrap_err().to_string();
    assert_eq!(
        e,
        "unknown field 'txt' in --map; the fields are: text, author, platform_id, created_at, \
         followers, in_reply_to, reshares, replies, direction, inbound, author_name, url, \
         platform, automated"
    );
}

/// A file with good rows between every kind of bad row: each bad row is reported with its
/// line and reason, and every good row still comes out.
#[test]
fn mixed_good_and_bad_rows() {
    let mut file: Vec<u8> = Vec::new();
    let mut add = |row: &[u8]| {
        file.extend_from_slice(row);
        file.push(b'\n');
    };
    add(b"id,author,created_at,text,followers"); // 1
    add(b"1,alice,2024-01-01T10:00:00Z,first good row,10"); // 2
    add(b"2,bob,2024-01-01T10:01:00Z,too,many,fields"); // 3: malformed
    add(b"3,carol,2024-01-01T10:02:00Z,caf\xe9 latin-1,5"); // 4: invalid UTF-8
    add(b"4,dave,2024-01-01T10:03:00Z,good after bad,"); // 5
    let big = "x".repeat(MAX_TEXT_BYTES + 100);
    add(format!("5,erin,2024-01-01T10:04:00Z,{big},1").as_bytes()); // 6: oversize text
    add(b"6,frank,yesterday at noon,bad date,1"); // 7: unparseable date
    add(b"7,,2024-01-01T10:06:00Z,no author,1"); // 8: missing field
    add(b"8,gina,2024-01-01T10:07:00Z,\"quoted\nover two lines\",1"); // 9-10
    add(b"9,hal,2024-01-01T10:08:00Z,\"unclosed quote,1"); // 11: unclosed quote
    add(b"10,ivy,2024-01-01T10:09:00Z,lots of followers,\"1,234,567\""); // 12: read again
    add(b"11,jo,2024-01-01T10:10:00Z,   ,1"); // 13: empty text
    add(b"12,kim,2024-01-01T10:11:00Z,garbage count,many"); // 14
    add(b"13,lee,2024-01-01T10:12:00Z,last good row,0"); // 15

    let mut importer = Importer::new(&file[..], ImportOptions::new(Format::Csv)).unwrap();
    let total = file.len() as u64;
    let (good, bad) = split(&mut importer);
    assert_eq!(importer.bytes_read(), total);
    assert_eq!(importer.lines_read(), 15);

    let ids: Vec<&str> = good
        .iter()
        .map(|r| r.message.platform_id.as_str())
        .collect();
    assert_eq!(ids, vec!["1", "4", "8", "10", "13"]);
    assert_eq!(lines_of(&good), vec![2, 5, 9, 12, 15]);
    assert_eq!(good[1].message.followers, None);
    assert_eq!(good[2].message.text, "quoted\nover two lines");
    assert_eq!(good[3].message.followers, Some(1_234_567));

    let got: Vec<(u64, &str)> = bad.iter().map(|e| (e.line, e.reason.as_str())).collect();
    let expect: [(u64, &str); 8] = [
        (3, "the row has 6 fields but the header has 5"),
        (
            4,
            "text: column 'text' is not valid UTF-8 (byte 0xE9 at position 4",
        ),
        (6, "text is 65636 bytes, over the 64 KiB limit"),
        (
            7,
            "created_at: 'yesterday at noon' (column 'created_at'): not a date format",
        ),
        (8, "author is empty (column 'author')"),
        (
            11,
            "the quoted field opened on this line is not closed properly",
        ),
        (13, "text is empty (column 'text')"),
        (
            14,
            "followers: 'many' (column 'followers'): not a whole number",
        ),
    ];
    assert_eq!(got.len(), expect.len(), "{got:#?}");
    for ((line, reason), (want_line, want)) in got.iter().zip(expect) {
        assert_eq!(*line, want_line, "{reason}");
        assert!(
            reason.starts_with(want),
            "line {line}: {reason:?} should start with {want:?}"
        );
    }
    assert!(bad.iter().all(|e| !e.fatal));
    assert_eq!(bad[0].raw, "2,bob,2024-01-01T10:01:00Z,too,many,fields");
    assert_eq!(
        bad[1].raw,
        "3,carol,2024-01-01T10:02:00Z,caf\u{FFFD} latin-1,5"
    );
    assert_eq!(bad[2].raw.len(), 4096, "raw is cut to 4 KiB");
    assert_eq!(
        bad[2].to_string(),
        "line 6: text is 65636 bytes, over the 64 KiB limit"
    );
}

#[test]
fn unclosed_quote_swallowing_rows_is_recovered() {
    // The `csv` crate would read lines 2-4 as one valid 4-field row and drop two rows.
    let (good, bad) = csv("id,author,created_at,text\n\
         1,alice,2024-01-01,\"hello\n\
         2,bob,2024-01-02,hi\n\
         3,carol,2024-01-03,\"yo\"\n\
         4,dan,2024-01-04,ok\n");
    assert_eq!(lines_of(&good), vec![3, 4, 5]);
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].line, 2);
    assert_eq!(bad[0].raw, "1,alice,2024-01-01,\"hello");
    assert!(
        bad[0].reason.contains("lines 3 to 4 are read again"),
        "{}",
        bad[0].reason
    );
}

#[test]
fn several_errors_in_one_row_are_all_named() {
    let (good, bad) = csv("id,author,created_at,text,retweets\nnan,bob,soon,hi,x\n");
    assert!(good.is_empty());
    let r = &bad[0].reason;
    assert!(r.contains("platform_id is empty (column 'id')"), "{r}");
    assert!(r.contains("created_at: 'soon'"), "{r}");
    assert!(r.contains("reshares: 'x' (column 'retweets')"), "{r}");
}

#[test]
fn every_builtin_date_format() {
    let cases = [
        ("2015-02-24T11:35:52Z", "2015-02-24T11:35:52Z"),
        ("2015-02-24T11:35:52.123+01:00", "2015-02-24T10:35:52.123Z"),
        ("2015-02-24 11:35:52Z", "2015-02-24T11:35:52Z"),
        ("2015-02-24 11:35:52.5+00:00", "2015-02-24T11:35:52.500Z"),
        (
            "\"Tue, 24 Feb 2015 11:35:52 -0800\"",
            "2015-02-24T19:35:52Z",
        ),
        ("2015-02-24 11:35:52 -0800", "2015-02-24T19:35:52Z"),
        ("Tue Oct 31 22:10:47 +0000 2017", "2017-10-31T22:10:47Z"),
        ("2015-02-24 11:35:52", "2015-02-24T11:35:52Z"),
        ("2015-02-24", "2015-02-24T00:00:00Z"),
        ("1424777752", "2015-02-24T11:35:52Z"),
        ("1424777752123", "2015-02-24T11:35:52.123Z"),
    ];
    let mut text = String::from("id,author,created_at,text\n");
    for (i, (date, _)) in cases.iter().enumerate() {
        text.push_str(&format!("{i},a,{date},t\n"));
    }
    let (good, bad) = csv(&text);
    assert!(bad.is_empty(), "{bad:#?}");
    for (row, (input, want)) in good.iter().zip(cases) {
        assert_eq!(row.message.created_at, utc(want), "{input}");
    }
}

#[test]
fn html_entities_are_decoded_and_text_trimmed() {
    let (good, _) = csv("id,author,created_at,text\n\
         1,a,2024-01-01,\"  Fish &amp; chips &lt;b&gt; it&#39;s &#x1F600; &#128512; &quot;q&quot; &hellip;  \"\n");
    assert_eq!(good[0].message.text, "Fish & chips <b> it's 😀 😀 \"q\" …");
}

#[test]
fn platform_column_option_and_default() {
    let text = "id,author,created_at,text,network\n1,a,2024-01-01,t,LinkedIn\n2,a,2024-01-01,t,\n";
    let (good, _) = csv(text);
    assert_eq!(good[0].message.platform, "linkedin");
    assert_eq!(good[1].message.platform, "import");
    let mut options = ImportOptions::new(Format::Csv);
    options.platform = Some(" Mastodon ".into());
    let (good, _) = read_bytes(text.as_bytes(), options);
    assert_eq!(good[0].message.platform, "linkedin");
    assert_eq!(good[1].message.platform, "mastodon");
}

#[test]
fn direction_and_automated_columns() {
    let (good, bad) = csv("id,author,created_at,text,direction,inbound,is_bot\n\
         1,a,2024-01-01,t,outbound,,yes\n\
         2,a,2024-01-01,t,,0,\n\
         3,a,2024-01-01,t,,,\n\
         4,a,2024-01-01,t,sideways,,\n");
    let dirs: Vec<Direction> = good.iter().map(|r| r.message.direction).collect();
    assert_eq!(
        dirs,
        vec![Direction::Outbound, Direction::Outbound, Direction::Inbound]
    );
    assert!(good[0].message.automated);
    assert!(!good[1].message.automated);
    assert_eq!(bad[0].line, 5);
    assert!(
        bad[0].reason.contains("direction: 'sideways'"),
        "{}",
        bad[0].reason
    );
}

#[test]
fn pandas_float_ids_and_scientific_notation() {
    let (good, bad) = csv(
        "tweet_id,author_id,created_at,text,in_response_to_tweet_id\n\
         119240,u,2017-10-11,t,119238.0\n\
         119241,u,2017-10-11,t,NaN\n\
         119242.0,u,2017-10-11,t,None\n\
         119243,u,2017-10-11,t,1.1923800000000002e+18\n",
    );
    let ids: Vec<(&str, Option<&str>)> = good
        .iter()
        .map(|r| {
            (
                r.message.platform_id.as_str(),
                r.message.in_reply_to.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        ids,
        vec![
            ("119240", Some("119238")),
            ("119241", None),
            ("119242", None)
        ]
    );
    assert!(
        bad[0].reason.contains("scientific notation"),
        "{}",
        bad[0].reason
    );
}

#[test]
fn tsv_and_semicolon_files() {
    let tsv = "id\tauthor\tcreated_at\ttext\n1\ta\t2024-01-01\thello, world\n";
    let (good, bad) = read_bytes(tsv.as_bytes(), ImportOptions::new(Format::Tsv));
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(good[0].message.text, "hello, world");
    // a .csv whose header has tabs or semicolons and no comma
    let (good, _) = csv(tsv);
    assert_eq!(good[0].message.text, "hello, world");
    let (good, _) = csv("id;author;created_at;text\n1;a;2024-01-01;\"a;b\"\n");
    assert_eq!(good[0].message.text, "a;b");
}

#[test]
fn jsonl_export() {
    let importer = open("tweets.jsonl", ImportOptions::new(Format::Jsonl));
    assert!(importer.header().is_none());
    let (good, bad) = split(importer);
    assert_eq!(lines_of(&good), vec![1, 3, 7, 8]);

    let m = &good[0].message;
    assert_eq!(m.platform_id, "925484545476673537");
    assert_eq!(m.author, "danak");
    assert_eq!(m.author_name.as_deref(), Some("Dana K"));
    assert_eq!(m.followers, Some(1832));
    assert_eq!(
        m.text,
        "@united my bag never made it to SFO & nobody at the desk knows where it is"
    );
    assert_eq!(m.created_at, utc("2017-10-31T22:10:47Z"));
    assert_eq!((m.reshares, m.replies), (4, 1));
    assert_eq!(m.in_reply_to, None);
    assert_eq!(m.platform, "import");

    let m = &good[1].message;
    assert_eq!(m.in_reply_to.as_deref(), Some("925484545476673537"));
    assert_eq!(m.followers, Some(1_045_200));

    let m = &good[2].message;
    assert!(
        m.text.ends_with("my suit is in it"),
        "extended_tweet.full_text preferred"
    );
    assert_eq!(m.created_at, utc("2017-10-31T23:00:00Z"), "timestamp_ms");
    assert_eq!(m.followers, Some(1832));

    let m = &good[3].message;
    assert_eq!(m.platform, "bluesky");
    assert_eq!(
        m.platform_id,
        "at://did:plc:abc123/app.bsky.feed.post/3kq2xyz"
    );
    assert_eq!(m.author, "acme.bsky.social");
    assert_eq!(m.direction, Direction::Outbound);
    assert_eq!(m.created_at, utc("2024-05-01T10:00:00.123Z"));

    let got: Vec<(u64, &str)> = bad.iter().map(|e| (e.line, e.reason.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (4, "not valid JSON: expected ident at column 2"),
            (5, "expected a JSON object on each line, found an array"),
            (
                6,
                "text is missing: none of the keys extended_tweet.full_text, full_text, text, \
                 body, content, message, tweet_text, post has a value"
            ),
        ]
    );
    assert_eq!(bad[0].raw, "this is not json");
}

#[test]
fn jsonl_mapping_with_dotted_paths_and_bad_lines() {
    let data: Vec<u8> = [
        &b"{\"msg\":{\"body\":\"hi &amp; bye\",\"id\":7},\"who\":{\"handle\":\"@x\"},\"at\":1424777752}\n"[..],
        b"{\"msg\":{\"body\":\"no id\"},\"who\":{\"handle\":\"y\"},\"at\":1424777752}\n",
        b"{\"msg\":{\"body\":{\"nested\":1},\"id\":8},\"who\":{\"handle\":\"z\"},\"at\":1424777752}\n",
        b"{\"msg\": \"\xff\"}\n",
        b"  \n",
        b"{\"msg\":{\"body\":\"ok\",\"id\":9.0},\"who\":{\"handle\":\"w\"},\"at\":\"2015-02-24\"} trailing\n",
        b"{\"msg\":{\"body\":\"ok\",\"id\":10.0},\"who\":{\"handle\":\"w\"},\"at\":\"2015-02-24\"}",
    ]
    .concat();
    let mut options = ImportOptions::new(Format::Jsonl);
    options.mapping =
        FieldMap::parse("text=msg.body,platform_id=msg.id,author=who.handle,created_at=at")
            .unwrap();
    let (good, bad) = read_bytes(&data, options);
    assert_eq!(lines_of(&good), vec![1, 7]);
    assert_eq!(good[0].message.text, "hi & bye");
    assert_eq!(good[0].message.author, "x");
    assert_eq!(good[0].message.platform_id, "7");
    assert_eq!(good[0].message.created_at, utc("2015-02-24T11:35:52Z"));
    assert_eq!(good[1].message.platform_id, "10");
    let got: Vec<(u64, &str)> = bad.iter().map(|e| (e.line, e.reason.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (
                2,
                "platform_id is missing: no key 'msg.id' (from --map platform_id=msg.id) with a value"
            ),
            (3, "text: key 'msg.body' holds an object, not a value"),
            (
                4,
                "the line is not valid UTF-8 (byte 0xFF at position 10; save the file as UTF-8)"
            ),
            (6, "not valid JSON: trailing characters at column 71"),
        ]
    );
}

#[test]
fn whole_file_problems_fail_up_front() {
    let e = Importer::new(&b"  [{\"a\":1}]"[..], ImportOptions::new(Format::Jsonl))
        .err()
        .unwrap();
    assert!(matches!(e, ImportError::JsonArray), "{e}");
    assert!(e.to_string().contains("jq -c '.[]'"));

    let e = Importer::new(&b"\xff\xfei\x00d\x00"[..], ImportOptions::new(Format::Csv))
        .err()
        .unwrap();
    assert!(matches!(e, ImportError::Utf16), "{e}");

    let e = Importer::new(&b"\n\n"[..], ImportOptions::new(Format::Csv))
        .err()
        .unwrap();
    assert!(matches!(e, ImportError::Empty), "{e}");

    let e = Importer::new(&b"id,\"text\n"[..], ImportOptions::new(Format::Csv))
        .err()
        .unwrap();
    assert!(matches!(e, ImportError::BadHeader { line: 1, .. }), "{e}");

    let mut options = ImportOptions::new(Format::Csv);
    options.date_format = Some("%d/%m/%Q".into());
    let e = Importer::new(&b"id,author,created_at,text\n"[..], options)
        .err()
        .unwrap();
    assert!(matches!(e, ImportError::BadDateFormat(_)), "{e}");

    // an empty JSONL file is fine: no rows
    let (good, bad) = read_bytes(b"", ImportOptions::new(Format::Jsonl));
    assert!(good.is_empty() && bad.is_empty());
    // a CSV with only a header too
    let (good, bad) = csv("id,author,created_at,text\r\n");
    assert!(good.is_empty() && bad.is_empty());
}

/// An endless-looking input made on the fly: the importer must stream it, never reading
/// far ahead of the row it returns.
struct Generated {
    rows: u64,
    next: u64,
    pending: Vec<u8>,
    pos: usize,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.pending.len() {
            if self.next > self.rows {
                return Ok(0);
            }
            self.pending.clear();
            self.pos = 0;
            if self.next == 0 {
                self.pending
                    .extend_from_slice(b"tweet_id,author_id,inbound,created_at,text\n");
            } else {
                let n = self.next;
                self.pending.extend_from_slice(
                    format!(
                        "{n},user{},{},2017-10-11 06:55:44,\"message number {n}, with &amp; in it\"\n",
                        n % 97,
                        if n.is_multiple_of(3) { "False" } else { "True" }
                    )
                    .as_bytes(),
                );
            }
            self.next += 1;
        }
        let n = buf.len().min(self.pending.len() - self.pos);
        buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn streams_large_inputs() {
    let rows = 200_000;
    let mut importer = Importer::new(
        Generated {
            rows,
            next: 0,
            pending: Vec::new(),
            pos: 0,
        },
        ImportOptions::new(Format::Csv),
    )
    .unwrap();
    let first = importer.next().unwrap().unwrap();
    assert_eq!(first.line, 2);
    assert!(
        importer.bytes_read() < 128 * 1024,
        "read ahead {}",
        importer.bytes_read()
    );
    let mut count = 1;
    let mut last = first;
    for row in &mut importer {
        last = row.unwrap();
        count += 1;
    }
    assert_eq!(count, rows);
    assert_eq!(last.line, rows + 1);
    assert_eq!(last.message.platform_id, rows.to_string());
    assert_eq!(importer.next(), None);
}

/// A reader that fails part-way: one fatal error, then the end.
#[test]
fn io_error_ends_the_iteration_with_a_fatal_item() {
    struct Failing(bool);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 {
                return Err(std::io::Error::other("disk on fire"));
            }
            self.0 = true;
            let data = b"id,author,created_at,text\n1,a,2024-01-01,t\n";
            buf[..data.len()].copy_from_slice(data);
            Ok(data.len())
        }
    }
    let items: Vec<_> = Importer::new(Failing(false), ImportOptions::new(Format::Csv))
        .unwrap()
        .collect();
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(items[0].is_ok());
    let e = items[1].as_ref().unwrap_err();
    assert!(e.fatal);
    assert!(e.reason.contains("disk on fire"), "{}", e.reason);
}

#[test]
fn twitter_archive_csv_with_default_author_and_direction() {
    let e = Importer::new(
        std::fs::File::open(fixture("twitter_archive_tweets.csv")).unwrap(),
        ImportOptions::new(Format::Csv),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.starts_with("no column for author"), "{e}");

    let mut options = ImportOptions::new(Format::Csv);
    options.author = Some("@AcmeSupport".into());
    options.direction = Some(Direction::Outbound);
    options.platform = Some("twitter".into());
    let importer = open("twitter_archive_tweets.csv", options);
    assert_eq!(importer.delimiter(), Some(b','));
    let (good, bad) = split(importer);
    assert!(bad.is_empty(), "{bad:?}");
    let m = &good[0].message;
    assert_eq!(m.author, "AcmeSupport");
    assert_eq!(m.direction, Direction::Outbound);
    assert_eq!(m.platform, "twitter");
    assert_eq!(m.platform_id, "317712937285505024");
    assert_eq!(m.in_reply_to.as_deref(), Some("317709851934523392"));
    assert_eq!(m.created_at, utc("2013-03-29T19:26:06Z"));
    assert_eq!(
        m.text,
        "@jane_doe Sorry about that & thanks for your patience! DM us your order number."
    );
    assert_eq!(good[1].message.in_reply_to, None);
    assert!(
        good[1]
            .message
            .text
            .contains("everything > https://t.co/abc123")
    );

    // a row's own author and direction win over the defaults
    let mut options = ImportOptions::new(Format::Csv);
    options.author = Some("acme".into());
    options.direction = Some(Direction::Outbound);
    let (good, _) = read_bytes(
        b"id,author,created_at,text,inbound\n1,bob,2024-01-01,t,true\n2,,2024-01-01,t,\n",
        options,
    );
    let got: Vec<(&str, Direction)> = good
        .iter()
        .map(|r| (r.message.author.as_str(), r.message.direction))
        .collect();
    assert_eq!(
        got,
        vec![("bob", Direction::Inbound), ("acme", Direction::Outbound)]
    );
}

#[test]
fn twitter_archive_js_is_explained() {
    let e = Importer::new(
        &b"window.YTD.tweets.part0 = [ {\n  \"tweet\" : { } } ]"[..],
        ImportOptions::new(Format::Jsonl),
    )
    .err()
    .unwrap();
    assert!(matches!(e, ImportError::TwitterArchiveJs), "{e}");
    assert!(e.to_string().contains("jq -c '.[].tweet'"), "{e}");
}

/// A huge quoted field that never closes is reported once and does not hold the file in
/// memory: the rows after the row limit come out.
#[test]
fn runaway_quote_is_bounded() {
    let mut file = String::from("id,author,created_at,text\n1,a,2024-01-01,\"never closed\n");
    let filler = "x".repeat(1000);
    let rows = 2000; // ~2 MB of rows after the broken one, over the 1 MiB row limit
    for i in 0..rows {
        file.push_str(&format!("{},b,2024-01-01,{filler}\n", i + 2));
    }
    let (good, bad) = csv(&file);
    assert_eq!(
        bad.len(),
        1,
        "{:?}",
        bad.iter().map(|e| &e.reason).collect::<Vec<_>>()
    );
    assert_eq!(bad[0].line, 2);
    assert!(
        bad[0]
            .reason
            .contains("runs over 1 MiB without a closing quote"),
        "{}",
        bad[0].reason
    );
    assert_eq!(good.len(), rows);
    assert_eq!(good[0].line, 3);
}

/// A small deterministic xorshift generator, for the randomised tests below.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Messages written by a standard CSV writer (the `csv` crate: quotes, doubled quotes,
/// commas and line breaks inside fields) come back exactly, with the right line numbers.
#[test]
fn round_trips_what_a_csv_writer_writes() {
    let pieces = [
        "hello", "world", ",", "\"", "\"\"", "\n", "\r\n", "😡", "é", ";", "\t", "'", "<", "#",
        "a  b",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..50 {
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        w.write_record([
            "id",
            "author",
            "created_at",
            "text",
            "followers",
            "in_reply_to",
        ])
        .unwrap();
        let mut expected = Vec::new();
        let mut line = 2u64;
        for i in 0..20 {
            let mut text = String::from("x");
            for _ in 0..rng.below(8) {
                text.push_str(rng.pick(&pieces));
            }
            text.push('y');
            let followers = rng.below(3_000_000);
            let id = format!("{round}-{i}");
            w.write_record([
                id.as_str(),
                "@someone",
                "2024-02-29 23:59:59",
                text.as_str(),
                followers.to_string().as_str(),
                if i % 2 == 0 { "" } else { "42.0" },
            ])
            .unwrap();
            let lines_in_row = 1 + text.matches('\n').count() as u64;
            expected.push((line, id, text, followers as u64));
            line += lines_in_row;
        }
        let data = w.into_inner().unwrap();
        let (good, bad) = read_bytes(&data, ImportOptions::new(Format::Csv));
        assert!(bad.is_empty(), "round {round}: {bad:?}");
        assert_eq!(good.len(), expected.len());
        for (row, (line, id, text, followers)) in good.iter().zip(expected) {
            assert_eq!(row.line, line, "round {round}");
            assert_eq!(row.message.platform_id, id);
            assert_eq!(row.message.text, text);
            assert_eq!(row.message.followers, Some(followers));
            assert_eq!(row.message.author, "someone");
        }
    }
}

/// Random damage (stray and missing quotes, cut rows, invalid bytes, extra delimiters)
/// never panics or stalls: items come out in strictly increasing line order, and every
/// row that was left alone still comes out, whatever happened to the rows before it.
#[test]
fn random_damage_never_loses_the_rows_after_it() {
    let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
    for round in 0..500 {
        let mut data: Vec<u8> = b"id,author,created_at,text\n".to_vec();
        let mut intact = Vec::new();
        for i in 0..30u64 {
            let mut row =
                format!("{i},user{i},2024-01-01T00:00:{:02}Z,\"text, {i}\"", i % 60).into_bytes();
            let damaged = rng.below(4) == 0;
            if damaged {
                match rng.below(5) {
                    0 => row.insert(rng.below(row.len()), b'"'),
                    1 => {
                        let at = row.iter().rposition(|&b| b == b'"').unwrap();
                        row.remove(at);
                    }
                    2 => row.truncate(rng.below(row.len())),
                    3 => row.insert(rng.below(row.len()), 0xFF),
                    _ => row.insert(rng.below(row.len()), b','),
                }
            } else {
                intact.push(i);
            }
            data.extend_from_slice(&row);
            data.push(b'\n');
        }
        let mut last_line = 1;
        let mut ids = Vec::new();
        for item in Importer::new(&data[..], ImportOptions::new(Format::Csv)).unwrap() {
            let line = match &item {
                Ok(row) => {
                    ids.push(row.message.platform_id.clone());
                    row.line
                }
                Err(e) => {
                    assert!(!e.fatal);
                    e.line
                }
            };
            assert!(
                line > last_line,
                "round {round}: line {line} after {last_line}"
            );
            last_line = line;
        }
        for i in intact {
            assert!(
                ids.contains(&i.to_string()),
                "round {round}: row {i} lost\n{}",
                String::from_utf8_lossy(&data)
            );
        }
    }
}

/// A Mastodon status as `GET /api/v1/statuses/:id` returns it (fields trimmed), one per
/// line: the author, followers and bot flag are read from the nested `account`.
#[test]
fn mastodon_statuses_are_read_without_a_map() {
    let line = r#"{"id":"113456789012345678","created_at":"2026-11-02T10:00:00.000Z","in_reply_to_id":null,"content":"@lumen my lights won&#39;t connect","url":"https://mastodon.social/@ada/113456789012345678","replies_count":2,"reblogs_count":5,"account":{"id":"1","username":"ada","acct":"ada@example.social","display_name":"Ada","bot":false,"followers_count":321}}"#;
    let importer = Importer::new(line.as_bytes(), ImportOptions::new(Format::Jsonl)).unwrap();
    let rows: Vec<_> = importer.collect();
    assert_eq!(rows.len(), 1);
    let m = &rows[0].as_ref().unwrap().message;
    assert_eq!(m.author, "ada@example.social");
    assert_eq!(m.author_name.as_deref(), Some("Ada"));
    assert_eq!(m.followers, Some(321));
    assert_eq!((m.reshares, m.replies), (5, 2));
    assert_eq!(m.text, "@lumen my lights won't connect");
    assert!(!m.automated);
}
