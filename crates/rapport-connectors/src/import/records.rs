//! A strict CSV record reader over physical lines, built to recover from broken rows.
//!
//! Why not the `csv` crate's reader: after an unclosed quote it swallows the following rows
//! into one field, and when that field's quote later "closes" the merged record often has
//! the right number of fields, so rows are lost without any error. Here a quote must be
//! followed by a delimiter, a line break, the end of input or a second quote; when a record
//! spanning several lines breaks that rule (or has the wrong number of fields, or runs
//! over the row limit, or reaches the end of the input inside quotes), its first line is
//! reported and the lines after it are read again as rows of their own.
//!
//! Otherwise this is RFC 4180: `"` quotes a field, `""` inside quotes is a quote, quoted
//! fields may hold delimiters and line breaks (kept as they are in the file, `\n` or
//! `\r\n`). Like the `csv` crate and Python, a `"` inside an unquoted field is literal.
//! Blank lines are skipped.

use std::io::{self, Read};

use super::lines::{Line, Lines, Term};

/// A parsed record: its fields as bytes and the lines it came from.
#[derive(Debug)]
pub(crate) struct Record {
    /// Line number of the record's first line.
    pub line: u64,
    buf: Vec<u8>,
    ends: Vec<usize>,
    lines: Vec<Line>,
}

impl Record {
    fn new(line: u64) -> Self {
        Record {
            line,
            buf: Vec::new(),
            ends: Vec::new(),
            lines: Vec::new(),
        }
    }

    fn end_field(&mut self) {
        self.ends.push(self.buf.len());
    }

    /// Number of fields.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Field `i`, as bytes.
    pub(crate) fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.buf[start..end])
    }

    /// The record as it stood in the file, without its final line break.
    pub(crate) fn raw(&self) -> Vec<u8> {
        let mut raw = Vec::new();
        for (i, line) in self.lines.iter().enumerate() {
            raw.extend_from_slice(&line.bytes);
            if i + 1 < self.lines.len() {
                raw.extend_from_slice(line.term.bytes());
            }
        }
        raw
    }
}

/// What [`Records::next_record`] found.
#[derive(Debug)]
pub(crate) enum Next {
    Record(Record),
    Bad {
        line: u64,
        reason: String,
        raw: Vec<u8>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum St {
    /// At the start of a field.
    Start,
    Unquoted,
    Quoted,
    /// Saw a `"` inside a quoted field: the end of it, or the first half of `""`.
    QuoteInQuoted,
}

pub(crate) struct Records<R> {
    pub(crate) lines: Lines<R>,
    delim: u8,
    max_row: usize,
}

impl<R: Read> Records<R> {
    pub(crate) fn new(lines: Lines<R>, delim: u8, max_row: usize) -> Self {
        Records {
            lines,
            delim,
            max_row,
        }
    }

    pub(crate) fn delimiter(&self) -> u8 {
        self.delim
    }

    /// The next record, or the reason the next row is broken. `expected`: the number of
    /// fields every record must have (trailing empty extra fields are tolerated).
    pub(crate) fn next_record(&mut self, expected: Option<usize>) -> io::Result<Option<Next>> {
        let first = loop {
            let Some(line) = self.lines.next_line()? else {
                return Ok(None);
            };
            if let Some(n) = line.overlong {
                return Ok(Some(Next::Bad {
                    line: line.no,
                    reason: format!(
                        "the row is {n} bytes, over the {} limit for one row",
                        human_bytes(self.max_row)
                    ),
                    raw: line.bytes,
                }));
            }
            if line.bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            break line;
        };
        let mut rec = Record::new(first.no);
        let mut size = 0usize;
        let mut st = St::Start;
        let mut line = first;
        loop {
            size += line.len_with_term();
            let term = line.term;
            rec.lines.push(line);
            let bytes = match rec.lines.last() {
                Some(l) => l.bytes.as_slice(),
                None => &[],
            };
            for (col, &b) in bytes.iter().enumerate() {
                match st {
                    St::Start => {
                        if b == b'"' {
                            st = St::Quoted;
                        } else if b == self.delim {
                            rec.ends.push(rec.buf.len());
                        } else {
                            rec.buf.push(b);
                            st = St::Unquoted;
                        }
                    }
                    St::Unquoted => {
                        if b == self.delim {
                            rec.ends.push(rec.buf.len());
                            st = St::Start;
                        } else {
                            rec.buf.push(b);
                        }
                    }
                    St::Quoted => {
                        if b == b'"' {
                            st = St::QuoteInQuoted;
                        } else {
                            rec.buf.push(b);
                        }
                    }
                    St::QuoteInQuoted => {
                        if b == b'"' {
                            rec.buf.push(b'"');
                            st = St::Quoted;
                        } else if b == self.delim {
                            rec.ends.push(rec.buf.len());
                            st = St::Start;
                        } else {
                            let here = rec.lines.last().map_or(rec.line, |l| l.no);
                            let reason = if here == rec.line {
                                format!(
                                    "a closing quote is followed by {:?} (byte {}) instead of a \
                                     delimiter; quote the whole field and double quotes inside it",
                                    char::from(b),
                                    col + 1
                                )
                            } else {
                                format!(
                                    "the quoted field opened on this line is not closed properly \
                                     (a quote on line {here} is followed by {:?})",
                                    char::from(b)
                                )
                            };
                            return Ok(Some(self.bad(rec, reason)));
                        }
                    }
                }
            }
            if st != St::Quoted {
                rec.end_field();
                break;
            }
            // A line break inside quotes: the field goes on, on the next line.
            if term == Term::None {
                return Ok(Some(self.bad(rec, unclosed())));
            }
            if size > self.max_row {
                let reason = format!(
                    "the quoted field opened on this line runs over {} without a closing quote",
                    human_bytes(self.max_row)
                );
                return Ok(Some(self.bad(rec, reason)));
            }
            rec.buf.extend_from_slice(term.bytes());
            match self.lines.next_line()? {
                None => return Ok(Some(self.bad(rec, unclosed()))),
                Some(next) if next.overlong.is_some() => {
                    rec.lines.push(next);
                    let reason = format!(
                        "the quoted field opened on this line runs over {} without a closing quote",
                        human_bytes(self.max_row)
                    );
                    return Ok(Some(self.bad(rec, reason)));
                }
                Some(next) => line = next,
            }
        }
        if let Some(want) = expected {
            if rec.len() > want
                && (want..rec.len()).all(|i| rec.get(i).is_some_and(<[u8]>::is_empty))
            {
                rec.ends.truncate(want);
                let end = rec.ends.last().copied().unwrap_or(0);
                rec.buf.truncate(end);
            }
            if rec.len() != want {
                let reason = format!(
                    "the row has {} fields but the header has {want} (an unquoted delimiter in a \
                     value, or a stray quote?)",
                    rec.len()
                );
                return Ok(Some(self.bad(rec, reason)));
            }
        }
        Ok(Some(Next::Record(rec)))
    }

    /// Reports a broken record. When it spans several lines, only its first line is
    /// reported and the others are read again: a stray quote must not eat good rows.
    fn bad(&mut self, rec: Record, mut reason: String) -> Next {
        if rec.lines.len() == 1 {
            return Next::Bad {
                line: rec.line,
                raw: rec.raw(),
                reason,
            };
        }
        let mut lines = rec.lines.into_iter();
        let first = lines.next();
        let rest: Vec<Line> = lines.collect();
        if let (Some(a), Some(b)) = (rest.first(), rest.last()) {
            if a.no == b.no {
                reason.push_str(&format!("; line {} is read again as a row", a.no));
            } else {
                reason.push_str(&format!(
                    "; lines {} to {} are read again as rows",
                    a.no, b.no
                ));
            }
        }
        self.lines.unread(rest.into_iter());
        Next::Bad {
            line: rec.line,
            reason,
            raw: first.map(|l| l.bytes).unwrap_or_default(),
        }
    }
}

fn unclosed() -> String {
    "a quoted field opened on this line is never closed (a missing closing quote)".to_string()
}

pub(crate) fn human_bytes(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// Guesses the delimiter of a CSV from its header line: `,` unless the header has no comma
/// outside quotes but has `;` or tabs.
pub(crate) fn sniff_delimiter(header: &[u8]) -> u8 {
    let (mut commas, mut semis, mut tabs, mut quoted) = (0, 0, 0, false);
    for &b in header {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semis += 1,
            b'\t' if !quoted => tabs += 1,
            _ => {}
        }
    }
    if commas > 0 || (semis == 0 && tabs == 0) {
        b','
    } else if tabs >= semis {
        b'\t'
    } else {
        b';'
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    enum Out {
        Rec(u64, Vec<String>),
        Bad(u64, String),
    }

    fn parse(input: &str, expected: Option<usize>, max_row: usize) -> Vec<Out> {
        let mut r = Records::new(Lines::new(input.as_bytes(), max_row), b',', max_row);
        let mut out = Vec::new();
        while let Some(n) = r.next_record(expected).unwrap() {
            out.push(match n {
                Next::Record(rec) => Out::Rec(
                    rec.line,
                    (0..rec.len())
                        .map(|i| String::from_utf8(rec.get(i).unwrap().to_vec()).unwrap())
                        .collect(),
                ),
                Next::Bad { line, reason, .. } => Out::Bad(line, reason),
            });
        }
        out
    }

    fn rec(line: u64, fields: &[&str]) -> Out {
        Out::Rec(line, fields.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn plain_quoted_and_multiline() {
        let out = parse(
            "a,b,c\n1,\"x, \"\"y\"\"\",3\r\n\n2,\"line1\nline2\r\nline3\",\n3,,\"\"\n",
            Some(3),
            1000,
        );
        assert_eq!(
            out,
            vec![
                rec(1, &["a", "b", "c"]),
                rec(2, &["1", "x, \"y\"", "3"]),
                rec(4, &["2", "line1\nline2\r\nline3", ""]),
                rec(7, &["3", "", ""]),
            ]
        );
    }

    #[test]
    fn literal_quote_inside_unquoted_field() {
        let out = parse("1,he said \"hi\",3", Some(3), 100);
        assert_eq!(out, vec![rec(1, &["1", "he said \"hi\"", "3"])]);
    }

    #[test]
    fn unclosed_quote_does_not_eat_following_rows() {
        // The `csv` crate reads rows 2-4 as one 4-field record here and loses rows 2 and 3.
        let input = "id,author,created_at,text\n1,alice,2024-01-01,\"hello\n2,bob,2024-01-02,hi\n3,carol,2024-01-03,\"yo\"\n4,dan,2024-01-04,ok\n";
        let out = parse(input, Some(4), 1000);
        assert_eq!(out[0], rec(1, &["id", "author", "created_at", "text"]));
        match &out[1] {
            Out::Bad(2, reason) => {
                assert!(reason.contains("not closed properly"), "{reason}");
                assert!(reason.contains("lines 3 to 4 are read again"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(out[2], rec(3, &["2", "bob", "2024-01-02", "hi"]));
        assert_eq!(out[3], rec(4, &["3", "carol", "2024-01-03", "yo"]));
        assert_eq!(out[4], rec(5, &["4", "dan", "2024-01-04", "ok"]));
        assert_eq!(out.len(), 5);
    }

    #[test]
    fn unclosed_quote_at_end_of_input() {
        let out = parse("a,b\n1,\"x\n2,y\n3,z", Some(2), 1000);
        assert!(matches!(&out[1], Out::Bad(2, r) if r.contains("never closed")));
        assert_eq!(out[2], rec(3, &["2", "y"]));
        assert_eq!(out[3], rec(4, &["3", "z"]));
    }

    #[test]
    fn unclosed_quote_over_the_row_limit() {
        let mut input = String::from("a,b\n1,\"x\n");
        for i in 0..20 {
            input.push_str(&format!("{i},y\n"));
        }
        let out = parse(&input, Some(2), 40);
        assert!(matches!(&out[1], Out::Bad(2, r) if r.contains("runs over 40 bytes")));
        // every following line still comes out as a row
        assert_eq!(out.len(), 22);
        assert_eq!(out[21], rec(22, &["19", "y"]));
    }

    #[test]
    fn wrong_field_counts() {
        let out = parse("a,b,c\n1,2\n1,2,3,4\n1,2,3,,\n", Some(3), 100);
        assert!(
            matches!(&out[1], Out::Bad(2, r) if r.contains("has 2 fields but the header has 3"))
        );
        assert!(matches!(&out[2], Out::Bad(3, r) if r.contains("has 4 fields")));
        assert_eq!(out[3], rec(4, &["1", "2", "3"]));
    }

    #[test]
    fn stray_character_after_a_closing_quote() {
        let out = parse("a,b\n\"x\"y,1\n2,3\n", Some(2), 100);
        assert!(matches!(&out[1], Out::Bad(2, r) if r.contains("followed by 'y'")));
        assert_eq!(out[2], rec(3, &["2", "3"]));
    }

    #[test]
    fn overlong_line() {
        let input = format!("a,b\n1,{}\n2,3\n", "x".repeat(100));
        let out = parse(&input, Some(2), 50);
        assert!(matches!(&out[1], Out::Bad(2, r) if r.contains("102 bytes, over the 50 bytes")));
        assert_eq!(out[2], rec(3, &["2", "3"]));
    }

    #[test]
    fn raw_keeps_the_file_text() {
        let mut r = Records::new(Lines::new(&b"1,\"a\r\nb\"\n"[..], 100), b',', 100);
        let Some(Next::Record(rec)) = r.next_record(None).unwrap() else {
            panic!()
        };
        assert_eq!(rec.raw(), b"1,\"a\r\nb\"");
    }

    #[test]
    fn sniffs_delimiters() {
        assert_eq!(sniff_delimiter(b"a,b;c"), b',');
        assert_eq!(sniff_delimiter(b"a;b;c"), b';');
        assert_eq!(sniff_delimiter(b"a\tb\tc"), b'\t');
        assert_eq!(sniff_delimiter(b"\"a,b\";c"), b';');
        assert_eq!(sniff_delimiter(b"text"), b',');
    }
}
