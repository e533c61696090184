//! File import: CSV / TSV and JSON Lines exports (Twitter/X archives, Sprout and Hootsuite
//! exports, customer-support tweet datasets, ...) read row by row into
//! [`rapport_core::NewMessage`]s.
//!
//! ```no_run
//! use rapport_connectors::import::{Format, ImportOptions, Importer};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let file = std::fs::File::open("twcs.csv")?;
//! let mut options = ImportOptions::new(Format::Csv);
//! options.platform = Some("twitter".into());
//! for row in Importer::new(file, options)? {
//!     match row {
//!         Ok(parsed) => println!("line {}: {}", parsed.line, parsed.message.text),
//!         Err(bad) => eprintln!("{bad}"), // "line 12: created_at: ..."
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! Everything that is wrong with the file as a whole (a `--map` naming a column the header
//! lacks, no column for a required field, a UTF-16 file, a JSON array) is an
//! [`ImportError`] from [`Importer::new`]. Everything wrong with one row is a [`RowError`]
//! carrying the row's line number, the reason and the row's text, and the rows after it
//! still come out. Memory use is constant: one row at a time, each at most
//! [`MAX_ROW_BYTES`].
//!
//! Fields are found by column (CSV) or key (JSONL) name, see [`Field::candidates`];
//! `--map field=column` ([`FieldMap`]) overrides that. The values:
//! - `text`: HTML entities decoded (`&amp;`, `&#39;`, `&#x1F600;`), trimmed; empty or over
//!   [`MAX_TEXT_BYTES`] is a row error.
//! - `author`: a leading `@` stripped; rows without one take `--author` when given (then
//!   a CSV needs no author column: a Twitter archive of the organisation's own account).
//! - `platform_id`, `in_reply_to`: `119237.0` (how pandas writes an id column that has
//!   gaps) becomes `119237`; `nan`, `null`, `None` or empty mean none (an error for
//!   `platform_id`); scientific notation (`1.19e+18`) is a row error, its digits are lost.
//! - `created_at`: `--date-format` first, then RFC 3339, RFC 2822, `2015-02-24 11:35:52
//!   -0800`, `Tue Oct 31 22:10:47 +0000 2017`, `2015-02-24 11:35:52` and `2015-02-24`
//!   (UTC), unix seconds or milliseconds.
//! - counts (`followers`, `reshares`, `replies`): `1234`, `1,234`, `1234.0`; empty is
//!   none (followers) or 0.
//! - `direction`: a `direction` column (`inbound`/`outbound`), else an `inbound` column
//!   (`true`/`false`, `1`/`0`, `yes`/`no`), else `--direction`, else inbound.
//! - `platform`: the row's `platform` column lowercased, else `--platform`, else `import`.

mod convert;
mod dates;
mod fields;
mod lines;
mod records;

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Read};
use std::path::Path;
use std::str::FromStr;

use rapport_core::{Direction, NewMessage};
use serde_json::{Map, Value};

use convert::{Cell, Ctx, Row};
use lines::Lines;
use records::{Next, Records};

pub use fields::{Field, FieldMap, normalize_name};

/// The longest text accepted, in bytes (after decoding HTML entities and trimming).
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// The longest row accepted, in bytes as in the file (a CSV record across all its lines, a
/// JSONL line). Longer rows are reported and skipped without being held in memory; a
/// quoted CSV field still open after this many bytes is taken for a missing closing quote.
pub const MAX_ROW_BYTES: usize = 1024 * 1024;

/// How much of a bad row's text [`RowError::raw`] keeps, in bytes.
pub const RAW_LIMIT: usize = 4 * 1024;

/// The kind of file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Comma-separated values with a header line (RFC 4180 quoting). When the header has
    /// no comma but has `;` or tabs, that is taken as the delimiter instead.
    Csv,
    /// Tab-separated values with a header line (same quoting as CSV).
    Tsv,
    /// JSON Lines: one JSON object per line; blank lines are skipped.
    Jsonl,
}

impl Format {
    /// Guesses the format from the file extension: `.csv`; `.tsv`, `.tab`; `.jsonl`,
    /// `.ndjson`, `.json` (any case). `None` for anything else.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "tsv" | "tab" => Some(Format::Tsv),
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
            _ => None,
        }
    }

    /// `csv`, `tsv` or `jsonl`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Jsonl => "jsonl",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = ImportError;
    /// `csv`, `tsv`, `jsonl` (also `ndjson`, `json`), any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "tsv" | "tab" => Ok(Format::Tsv),
            "jsonl" | "ndjson" | "json" => Ok(Format::Jsonl),
            _ => Err(ImportError::UnknownFormat(s.to_string())),
        }
    }
}

/// How to read a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOptions {
    /// CSV, TSV or JSONL.
    pub format: Format,
    /// `--map` overrides of the auto-detected columns / keys.
    pub mapping: FieldMap,
    /// `--platform`: the platform of rows without a platform value (lowercased); default
    /// `import`.
    pub platform: Option<String>,
    /// `--date-format`: a chrono strftime pattern tried before the built-in formats. With
    /// no offset in it (`%z`), times are taken as UTC; a pattern with only a date gives
    /// midnight UTC.
    pub date_format: Option<String>,
    /// `--author`: the author of rows without one (a leading `@` is stripped). With it, a
    /// CSV needs no author column: e.g. a Twitter archive of the organisation's own account,
    /// which has none.
    pub author: Option<String>,
    /// `--direction`: the direction of rows with no `direction` or `inbound` value;
    /// default inbound. `Outbound` for an archive of the organisation's own posts.
    pub direction: Option<Direction>,
}

impl ImportOptions {
    /// Options for `format`, with no overrides.
    pub fn new(format: Format) -> Self {
        ImportOptions {
            format,
            mapping: FieldMap::new(),
            platform: None,
            date_format: None,
            author: None,
            direction: None,
        }
    }
}

/// A row read into a message.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedRow {
    /// 1-based line number of the row's first line in the file (the CSV header is line 1).
    pub line: u64,
    /// The message.
    pub message: NewMessage,
}

/// A row that could not be read. The rows after it are still read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line number of the row's first line in the file (the CSV header is line 1).
    pub line: u64,
    /// What is wrong, naming the field and the column or key it came from, e.g.
    /// `created_at: '2/24/2015' (column 'date'): not a date format known ...`. When several
    /// fields are wrong, all are given, `; `-separated.
    pub reason: String,
    /// The row as it stands in the file (all its lines for a CSV record that spans
    /// several; only its first line when a broken quote made the following lines be read
    /// again as rows), decoded lossily as UTF-8 and cut to [`RAW_LIMIT`] bytes.
    pub raw: String,
    /// True when the input itself could not be read further (an I/O error): this is the
    /// last item, the rest of the file was not read, and it is not a bad row to keep.
    pub fatal: bool,
}

impl RowError {
    fn new(line: u64, reason: String, raw: &[u8]) -> Self {
        let cut = raw.len() > RAW_LIMIT;
        let mut raw = String::from_utf8_lossy(&raw[..raw.len().min(RAW_LIMIT)]).into_owned();
        // A multi-byte character cut at the limit decodes as U+FFFD: drop it.
        if cut && raw.ends_with('\u{FFFD}') {
            raw.pop();
        }
        RowError {
            line,
            reason,
            raw,
            fatal: false,
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for RowError {}

/// What stops an import before its first row.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The input could not be read.
    #[error("reading the input failed: {0}")]
    Io(#[from] io::Error),
    /// `--map` named a field that does not exist.
    #[error("unknown field '{field}' in --map; the fields are: {known}")]
    UnknownField {
        /// The name given.
        field: String,
        /// The known field names, comma-separated.
        known: String,
    },
    /// A `--map` entry is not `field=column`.
    #[error(
        "--map entry '{entry}' is not FIELD=COLUMN (e.g. --map text=body,author=user_screen_name)"
    )]
    BadMapEntry {
        /// The entry as given.
        entry: String,
    },
    /// `--map` gave one field two columns.
    #[error("--map names the field '{field}' twice; give each field one column")]
    DuplicateMapField {
        /// The field.
        field: &'static str,
    },
    /// `--map` named a column the CSV header does not have.
    #[error(
        "--map {field}={column}: the header has no column '{column}'; its columns are: {columns}"
    )]
    MappedColumnMissing {
        /// The field mapped.
        field: &'static str,
        /// The column named.
        column: String,
        /// The header's columns, quoted and comma-separated.
        columns: String,
    },
    /// No column of the CSV header can supply a required field.
    #[error(
        "no column for {missing}; the header has: {columns}. Name the columns to use with \
         --map, e.g. --map {example}"
    )]
    MissingColumns {
        /// Each missing field with the names looked for.
        missing: String,
        /// The header's columns, quoted and comma-separated.
        columns: String,
        /// A `--map` value to start from.
        example: String,
    },
    /// A CSV without even a header line.
    #[error("the input is empty: a CSV file needs a header line naming its columns")]
    Empty,
    /// The CSV header line is broken.
    #[error("the header (line {line}) cannot be read: {reason}")]
    BadHeader {
        /// Its line number.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// The file is UTF-16 (as Excel's "Unicode text" export writes).
    #[error(
        "the file is UTF-16; convert it to UTF-8 first, e.g. iconv -f UTF-16 -t UTF-8 IN > OUT"
    )]
    Utf16,
    /// A Twitter/X archive's `tweets.js` (a JavaScript assignment, not JSON Lines).
    #[error(
        "the file is a Twitter archive's tweets.js, not JSON Lines; convert it with \
         sed '1s/^window[^=]*= //' tweets.js | jq -c '.[].tweet' > tweets.jsonl, then import \
         that with --author YOUR_HANDLE --direction outbound"
    )]
    TwitterArchiveJs,
    /// A `.json` file holding one array rather than one object per line.
    #[error(
        "the file is a JSON array, not JSON Lines (one object per line); convert it with \
         jq -c '.[]' IN.json > OUT.jsonl"
    )]
    JsonArray,
    /// An unknown `--format`.
    #[error("unknown format '{0}'; use csv, tsv or jsonl")]
    UnknownFormat(String),
    /// An invalid `--date-format`.
    #[error("--date-format '{0}' is not a valid chrono strftime pattern (e.g. '%d/%m/%Y %H:%M')")]
    BadDateFormat(String),
}

/// Reads messages from a CSV, TSV or JSONL export, one row at a time. Each item is a
/// message with its line number, or a [`RowError`]; one bad row never stops the rest.
pub struct Importer<R: Read> {
    source: Source<R>,
    ctx: Ctx,
    mapping: FieldMap,
    format: Format,
    finished: bool,
}

enum Source<R> {
    Csv {
        records: Records<R>,
        header: Vec<String>,
        /// The column index of each field, by [`Field::index`].
        columns: Vec<Option<usize>>,
    },
    Jsonl {
        lines: Lines<R>,
    },
}

impl<R: Read> Importer<R> {
    /// Starts reading. For CSV / TSV this reads the header and fails when a `--map`
    /// column is not in it or when no column can supply a required field (`text`,
    /// `author`, `platform_id`, `created_at`). Also fails on a UTF-16 file, a JSON array
    /// given as JSONL, an invalid `--date-format`, or an I/O error.
    pub fn new(reader: R, options: ImportOptions) -> Result<Self, ImportError> {
        if let Some(f) = &options.date_format
            && !dates::valid_format(f)
        {
            return Err(ImportError::BadDateFormat(f.clone()));
        }
        let ctx = Ctx {
            platform: options
                .platform
                .as_deref()
                .map(|p| p.trim().to_lowercase())
                .filter(|p| !p.is_empty()),
            author: options
                .author
                .as_deref()
                .and_then(|a| convert::clean_author(a).ok().flatten()),
            direction: options.direction,
            dates: dates::DateParser::new(options.date_format.clone()),
        };
        let mut lines = Lines::new(reader, MAX_ROW_BYTES);
        let start = lines.peek()?;
        if start.starts_with(&[0xFF, 0xFE]) || start.starts_with(&[0xFE, 0xFF]) {
            return Err(ImportError::Utf16);
        }
        if start.starts_with(&[0xEF, 0xBB, 0xBF]) {
            lines.skip(3);
        }
        let source = match options.format {
            Format::Jsonl => {
                let start = lines.peek()?;
                let first = start.iter().position(|b| !b.is_ascii_whitespace());
                let start = &start[first.unwrap_or(start.len())..];
                if start.starts_with(b"window.YTD.") {
                    return Err(ImportError::TwitterArchiveJs);
                }
                if start.starts_with(b"[") {
                    return Err(ImportError::JsonArray);
                }
                Source::Jsonl { lines }
            }
            Format::Csv | Format::Tsv => {
                let delim = if options.format == Format::Tsv {
                    b'\t'
                } else {
                    sniff(&mut lines)?
                };
                let mut records = Records::new(lines, delim, MAX_ROW_BYTES);
                let rec = match records.next_record(None)? {
                    None => return Err(ImportError::Empty),
                    Some(Next::Bad { line, reason, .. }) => {
                        return Err(ImportError::BadHeader { line, reason });
                    }
                    Some(Next::Record(rec)) => rec,
                };
                let header: Vec<String> = (0..rec.len())
                    .map(|i| {
                        String::from_utf8_lossy(rec.get(i).unwrap_or_default())
                            .trim()
                            .to_string()
                    })
                    .collect();
                let columns = resolve_columns(&header, &options.mapping, ctx.author.is_some())?;
                Source::Csv {
                    records,
                    header,
                    columns,
                }
            }
        };
        Ok(Importer {
            source,
            ctx,
            mapping: options.mapping,
            format: options.format,
            finished: false,
        })
    }

    /// The format being read.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The CSV header's column names (trimmed); `None` for JSONL.
    pub fn header(&self) -> Option<&[String]> {
        match &self.source {
            Source::Csv { header, .. } => Some(header),
            Source::Jsonl { .. } => None,
        }
    }

    /// For CSV, the column each field is read from (after `--map` and auto-detection), in
    /// [`Field::ALL`] order; fields with no column are left out. Empty for JSONL, where
    /// keys are looked up in each object.
    pub fn columns(&self) -> Vec<(Field, &str)> {
        match &self.source {
            Source::Csv {
                header, columns, ..
            } => Field::ALL
                .iter()
                .filter_map(|f| {
                    columns[f.index()].map(|i| (*f, header.get(i).map_or("", String::as_str)))
                })
                .collect(),
            Source::Jsonl { .. } => Vec::new(),
        }
    }

    /// The CSV delimiter in use (`,`, `;` or tab); `None` for JSONL.
    pub fn delimiter(&self) -> Option<u8> {
        match &self.source {
            Source::Csv { records, .. } => Some(records.delimiter()),
            Source::Jsonl { .. } => None,
        }
    }

    /// Bytes consumed from the reader so far (for a progress bar against the file size).
    pub fn bytes_read(&self) -> u64 {
        match &self.source {
            Source::Csv { records, .. } => records.lines.bytes_read(),
            Source::Jsonl { lines } => lines.bytes_read(),
        }
    }

    /// Physical lines read so far, header and blank lines included.
    pub fn lines_read(&self) -> u64 {
        match &self.source {
            Source::Csv { records, .. } => records.lines.lines_read(),
            Source::Jsonl { lines } => lines.lines_read(),
        }
    }

    fn next_csv(&mut self) -> Option<Result<ParsedRow, RowError>> {
        let Source::Csv {
            records,
            header,
            columns,
        } = &mut self.source
        else {
            return None;
        };
        let next = match records.next_record(Some(header.len())) {
            Ok(Some(next)) => next,
            Ok(None) => {
                self.finished = true;
                return None;
            }
            Err(e) => {
                self.finished = true;
                return Some(Err(io_failure(records.lines.lines_read() + 1, &e)));
            }
        };
        match next {
            Next::Bad { line, reason, raw } => Some(Err(RowError::new(line, reason, &raw))),
            Next::Record(rec) => {
                let row = CsvRow {
                    rec: &rec,
                    header,
                    columns,
                };
                Some(match convert::build(&row, &self.ctx) {
                    Ok(message) => Ok(ParsedRow {
                        line: rec.line,
                        message,
                    }),
                    Err(reason) => Err(RowError::new(rec.line, reason, &rec.raw())),
                })
            }
        }
    }

    fn next_jsonl(&mut self) -> Option<Result<ParsedRow, RowError>> {
        let Source::Jsonl { lines } = &mut self.source else {
            return None;
        };
        let line = loop {
            match lines.next_line() {
                Ok(Some(line)) if line.bytes.iter().all(u8::is_ascii_whitespace) => continue,
                Ok(Some(line)) => break line,
                Ok(None) => {
                    self.finished = true;
                    return None;
                }
                Err(e) => {
                    self.finished = true;
                    return Some(Err(io_failure(lines.lines_read() + 1, &e)));
                }
            }
        };
        let fail = |reason: String| Some(Err(RowError::new(line.no, reason, &line.bytes)));
        if let Some(n) = line.overlong {
            return fail(format!(
                "the line is {n} bytes, over the {} limit for one row",
                records::human_bytes(MAX_ROW_BYTES)
            ));
        }
        let text = match std::str::from_utf8(&line.bytes) {
            Ok(t) => t,
            Err(e) => {
                return fail(format!(
                    "the line is not valid UTF-8 ({})",
                    utf8_detail(&line.bytes, &e)
                ));
            }
        };
        let obj: Map<String, Value> = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(obj)) => obj,
            Ok(other) => {
                return fail(format!(
                    "expected a JSON object on each line, found {}",
                    json_kind(&other)
                ));
            }
            Err(e) => return fail(format!("not valid JSON: {}", json_error(&e))),
        };
        let row = JsonRow {
            fold: needs_fold(&obj),
            obj: &obj,
            mapping: &self.mapping,
        };
        Some(match convert::build(&row, &self.ctx) {
            Ok(message) => Ok(ParsedRow {
                line: line.no,
                message,
            }),
            Err(reason) => Err(RowError::new(line.no, reason, &line.bytes)),
        })
    }
}

impl<R: Read> Iterator for Importer<R> {
    type Item = Result<ParsedRow, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        match self.source {
            Source::Csv { .. } => self.next_csv(),
            Source::Jsonl { .. } => self.next_jsonl(),
        }
    }
}

impl<R: Read> std::iter::FusedIterator for Importer<R> {}

fn io_failure(line: u64, e: &io::Error) -> RowError {
    RowError {
        line,
        reason: format!("reading the input failed: {e}; the rest of the file was not read"),
        raw: String::new(),
        fatal: true,
    }
}

/// Picks the CSV delimiter from the first non-blank line, which is then read again.
fn sniff<R: Read>(lines: &mut Lines<R>) -> io::Result<u8> {
    let mut seen = Vec::new();
    let mut delim = b',';
    while let Some(line) = lines.next_line()? {
        let blank = line.bytes.iter().all(u8::is_ascii_whitespace);
        if !blank {
            delim = records::sniff_delimiter(&line.bytes);
        }
        seen.push(line);
        if !blank {
            break;
        }
    }
    lines.unread(seen.into_iter());
    Ok(delim)
}

fn quoted_list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The column of each field: `--map` first, then auto-detection. `default_author`: an
/// author column is not required.
fn resolve_columns(
    header: &[String],
    map: &FieldMap,
    default_author: bool,
) -> Result<Vec<Option<usize>>, ImportError> {
    let norm: Vec<String> = header.iter().map(|h| normalize_name(h)).collect();
    let mut columns = vec![None; Field::ALL.len()];
    let mut used = vec![false; header.len()];
    for (field, column) in map.entries() {
        let wanted = normalize_name(column);
        let idx = header
            .iter()
            .position(|h| h == column.trim())
            .or_else(|| norm.iter().position(|h| *h == wanted))
            .ok_or_else(|| ImportError::MappedColumnMissing {
                field: field.name(),
                column: column.to_string(),
                columns: quoted_list(header.iter().map(String::as_str)),
            })?;
        columns[field.index()] = Some(idx);
        used[idx] = true;
    }
    for field in Field::ALL {
        if columns[field.index()].is_some() {
            continue;
        }
        let found = field.candidates().iter().find_map(|cand| {
            norm.iter()
                .enumerate()
                .position(|(i, h)| !used[i] && h == cand)
        });
        if let Some(idx) = found {
            columns[field.index()] = Some(idx);
            used[idx] = true;
        }
    }
    let missing: Vec<Field> = Field::ALL
        .into_iter()
        .filter(|f| f.is_required() && columns[f.index()].is_none())
        .filter(|f| !(default_author && *f == Field::Author))
        .collect();
    if missing.is_empty() {
        return Ok(columns);
    }
    Err(ImportError::MissingColumns {
        missing: missing
            .iter()
            .map(|f| format!("{f} (looked for {})", f.candidates().join(", ")))
            .collect::<Vec<_>>()
            .join("; "),
        columns: quoted_list(header.iter().map(String::as_str)),
        example: missing
            .iter()
            .map(|f| format!("{f}=COLUMN"))
            .collect::<Vec<_>>()
            .join(","),
    })
}

fn utf8_detail(bytes: &[u8], e: &std::str::Utf8Error) -> String {
    let at = e.valid_up_to();
    match bytes.get(at) {
        Some(b) => format!(
            "byte 0x{b:02X} at position {}; save the file as UTF-8",
            at + 1
        ),
        None => "it ends inside a character; save the file as UTF-8".to_string(),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// serde_json's message; the position is within the line, so "line 1" is dropped.
fn json_error(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(i) => format!("{} at column {}", &msg[..i], e.column()),
        None => msg,
    }
}

struct CsvRow<'a> {
    rec: &'a records::Record,
    header: &'a [String],
    columns: &'a [Option<usize>],
}

impl Row for CsvRow<'_> {
    fn kind(&self) -> &'static str {
        "column"
    }

    fn get(&self, field: Field) -> Result<Option<Cell<'_>>, String> {
        let Some(idx) = self.columns[field.index()] else {
            return Ok(None);
        };
        let name = self.header.get(idx).map_or("", String::as_str);
        let bytes = self.rec.get(idx).unwrap_or_default();
        match std::str::from_utf8(bytes) {
            Ok(value) => Ok(Some(Cell {
                value: Cow::Borrowed(value),
                name,
            })),
            Err(e) => Err(format!(
                "{field}: column '{name}' is not valid UTF-8 ({})",
                utf8_detail(bytes, &e)
            )),
        }
    }

    fn missing(&self, field: Field) -> String {
        format!("no column for {field}")
    }
}

struct JsonRow<'a> {
    obj: &'a Map<String, Value>,
    mapping: &'a FieldMap,
    /// [`needs_fold`] of `obj`, computed once per row.
    fold: bool,
}

/// `key` in `obj`: exact, then by [`normalize_name`], then as a dotted path.
fn lookup<'v>(obj: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    lookup_in(obj, key, needs_fold(obj))
}

/// Whether some key of `obj` differs from its [`normalize_name`] form, so that a lookup
/// by exact name could miss it.
fn needs_fold(obj: &Map<String, Value>) -> bool {
    obj.keys().any(|k| {
        !is_normalized(k) || k.starts_with(char::is_whitespace) || k.ends_with(char::is_whitespace)
    })
}

fn is_normalized(name: &str) -> bool {
    name.bytes()
        .all(|b| !b.is_ascii_uppercase() && b != b' ' && b != b'-')
}

/// [`lookup`], told whether `obj` has keys that only match after normalizing.
fn lookup_in<'v>(obj: &'v Map<String, Value>, key: &str, fold: bool) -> Option<&'v Value> {
    if let Some(v) = obj.get(key) {
        return Some(v);
    }
    let wanted: Cow<'_, str> = if is_normalized(key) {
        Cow::Borrowed(key)
    } else {
        Cow::Owned(normalize_name(key))
    };
    if (fold || wanted != key)
        && let Some((_, v)) = obj.iter().find(|(k, _)| same_name(k, &wanted))
    {
        return Some(v);
    }
    let (head, rest) = key.split_once('.')?;
    match lookup_in(obj, head, fold)? {
        Value::Object(inner) => lookup(inner, rest),
        _ => None,
    }
}

/// Whether `name` normalizes to `wanted` (already normalized), without allocating.
fn same_name(name: &str, wanted: &str) -> bool {
    let name = name.trim();
    name.len() == wanted.len()
        && name.bytes().zip(wanted.bytes()).all(|(a, b)| {
            let a = match a {
                b' ' | b'-' => b'_',
                a => a.to_ascii_lowercase(),
            };
            a == b
        })
}

fn scalar(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(true) => Some(Cow::Borrowed("true")),
        Value::Bool(false) => Some(Cow::Borrowed("false")),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

impl Row for JsonRow<'_> {
    fn kind(&self) -> &'static str {
        "key"
    }

    fn get(&self, field: Field) -> Result<Option<Cell<'_>>, String> {
        if let Some(key) = self.mapping.get(field) {
            return match lookup_in(self.obj, key, self.fold) {
                None | Some(Value::Null) => Ok(None),
                Some(v @ (Value::Array(_) | Value::Object(_))) => Err(format!(
                    "{field}: key '{key}' holds {}, not a value",
                    json_kind(v)
                )),
                Some(v) => Ok(scalar(v).map(|value| Cell { value, name: key })),
            };
        }
        Ok(field.candidates().iter().find_map(|name| {
            let value = scalar(lookup_in(self.obj, name, self.fold)?)?;
            Some(Cell { value, name })
        }))
    }

    fn missing(&self, field: Field) -> String {
        match self.mapping.get(field) {
            Some(key) => format!(
                "{field} is missing: no key '{key}' (from --map {field}={key}) with a value"
            ),
            None => format!(
                "{field} is missing: none of the keys {} has a value",
                field.candidates().join(", ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(cols: &[&str]) -> Vec<String> {
        cols.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn format_from_path_and_name() {
        assert_eq!(Format::from_path(Path::new("a/b.CSV")), Some(Format::Csv));
        assert_eq!(Format::from_path(Path::new("b.tsv")), Some(Format::Tsv));
        assert_eq!(
            Format::from_path(Path::new("b.ndjson")),
            Some(Format::Jsonl)
        );
        assert_eq!(Format::from_path(Path::new("b.json")), Some(Format::Jsonl));
        assert_eq!(Format::from_path(Path::new("b.jsonl")), Some(Format::Jsonl));
        assert_eq!(Format::from_path(Path::new("b.xlsx")), None);
        assert_eq!(Format::from_path(Path::new("csv")), None);
        assert_eq!("JSONL".parse::<Format>().unwrap(), Format::Jsonl);
        assert!(
            "xml"
                .parse::<Format>()
                .unwrap_err()
                .to_string()
                .contains("csv, tsv or jsonl")
        );
    }

    #[test]
    fn resolves_auto_and_mapped_columns() {
        let h = header(&[
            "Tweet ID",
            "User",
            "Created At",
            "Body",
            "text",
            "Retweet Count",
        ]);
        let map = FieldMap::parse("text=body").unwrap();
        let cols = resolve_columns(&h, &map, false).unwrap();
        assert_eq!(cols[Field::Text.index()], Some(3));
        assert_eq!(cols[Field::PlatformId.index()], Some(0));
        assert_eq!(cols[Field::Author.index()], Some(1));
        assert_eq!(cols[Field::CreatedAt.index()], Some(2));
        assert_eq!(cols[Field::Reshares.index()], Some(5));
        assert_eq!(cols[Field::Url.index()], None);
    }

    #[test]
    fn missing_required_columns_are_listed() {
        let h = header(&["id", "body"]);
        let e = resolve_columns(&h, &FieldMap::new(), false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no column for author (looked for author, username"),
            "{e}"
        );
        assert!(e.contains("created_at (looked for created_at, date"), "{e}");
        assert!(!e.contains("no column for text"), "{e}");
        assert!(e.contains("the header has: 'id', 'body'"), "{e}");
        assert!(e.contains("--map author=COLUMN,created_at=COLUMN"), "{e}");
        let e = resolve_columns(&h, &FieldMap::new(), true)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("no column for created_at"), "{e}");
    }

    #[test]
    fn json_lookup_paths_and_case() {
        let v: Value = serde_json::from_str(
            r#"{"User": {"Screen_Name": "bob"}, "user.name": "flat", "Message-ID": 5}"#,
        )
        .unwrap();
        let Value::Object(obj) = v else { panic!() };
        assert_eq!(lookup(&obj, "user.screen_name"), Some(&Value::from("bob")));
        assert_eq!(lookup(&obj, "user.name"), Some(&Value::from("flat")));
        assert_eq!(lookup(&obj, "message_id"), Some(&Value::from(5)));
        assert_eq!(lookup(&obj, "user.followers_count"), None);
    }

    #[test]
    fn importer_can_move_to_a_blocking_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<Importer<std::fs::File>>();
        assert_send::<Importer<Box<dyn Read + Send>>>();
    }

    #[test]
    fn raw_is_cut_at_a_character_boundary() {
        let mut raw = vec![b'a'; RAW_LIMIT - 1];
        raw.extend_from_slice("é and more".as_bytes());
        let e = RowError::new(1, String::new(), &raw);
        assert_eq!(e.raw.len(), RAW_LIMIT - 1);
        assert!(e.raw.bytes().all(|b| b == b'a'));
    }
}
