-- rapport store, SQLite. Times are integer milliseconds since the Unix epoch (UTC).

CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE people (
    id           INTEGER PRIMARY KEY,
    display_name TEXT,
    created_at   INTEGER NOT NULL
);

CREATE TABLE identities (
    id        INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id),
    platform  TEXT NOT NULL,
    handle    TEXT NOT NULL,
    name      TEXT,
    followers INTEGER,
    UNIQUE (platform, handle)
);
CREATE INDEX identities_person ON identities(person_id);

CREATE TABLE conversations (
    id                INTEGER PRIMARY KEY,
    platform          TEXT NOT NULL,
    root_message_id   INTEGER,
    person_id         INTEGER REFERENCES people(id),
    author            TEXT NOT NULL,
    team              TEXT,
    assignee          TEXT,
    status            TEXT NOT NULL DEFAULT 'open',
    band              INTEGER NOT NULL,          -- 1 (P1) .. 4 (P4)
    priority_score    REAL NOT NULL,
    intent            TEXT NOT NULL,
    route_rule        TEXT,
    opened_at         INTEGER NOT NULL,
    first_due_at      INTEGER,                   -- the first-response SLA due time
    due_at            INTEGER,                   -- what is due now; NULL when nothing waits on us
    first_response_at INTEGER,
    last_inbound_at   INTEGER,
    last_message_at   INTEGER NOT NULL,
    resolved_at       INTEGER,
    snoozed_until     INTEGER,
    message_count     INTEGER NOT NULL DEFAULT 0,
    merged_into       INTEGER REFERENCES conversations(id), -- a reply that arrived before its parent
    updated_at        INTEGER NOT NULL
);
-- The inbox: filter by status, sort by band then due time; covering the columns it lists.
CREATE INDEX conversations_inbox ON conversations(status, band, due_at, id);
CREATE INDEX conversations_team ON conversations(team, status, band, due_at);
CREATE INDEX conversations_assignee ON conversations(assignee, status);
CREATE INDEX conversations_opened ON conversations(opened_at);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    platform        TEXT NOT NULL,
    platform_id     TEXT NOT NULL,
    conversation_id INTEGER REFERENCES conversations(id),
    direction       TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    is_reply        INTEGER NOT NULL DEFAULT 0,
    automated       INTEGER NOT NULL DEFAULT 0,
    author          TEXT NOT NULL,
    person_id       INTEGER REFERENCES people(id),
    followers       INTEGER,
    text            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    in_reply_to     TEXT,
    reshares        INTEGER NOT NULL DEFAULT 0,
    replies         INTEGER NOT NULL DEFAULT 0,
    url             TEXT,
    compound        REAL NOT NULL,
    pos             REAL NOT NULL,
    neu             REAL NOT NULL,
    neg             REAL NOT NULL,
    intent          TEXT NOT NULL,
    intent_rule     TEXT NOT NULL,
    priority_score  REAL NOT NULL,
    band            INTEGER NOT NULL,
    sent_by         TEXT,
    stored_at       INTEGER NOT NULL,
    UNIQUE (platform, platform_id)
);
CREATE INDEX messages_conversation ON messages(conversation_id, created_at);
CREATE INDEX messages_reply_to ON messages(platform, in_reply_to) WHERE in_reply_to IS NOT NULL;
CREATE INDEX messages_created ON messages(created_at);
CREATE INDEX messages_person ON messages(person_id, created_at);

-- Append-only: every change to a conversation, who made it and when.
CREATE TABLE events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER,
    kind            TEXT NOT NULL,
    actor           TEXT NOT NULL,
    at              INTEGER NOT NULL,
    data            TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_conversation ON events(conversation_id, seq);
CREATE INDEX events_kind ON events(kind, at);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

CREATE TABLE conversation_labels (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    label           TEXT NOT NULL,
    PRIMARY KEY (conversation_id, label)
) WITHOUT ROWID;

CREATE TABLE notes (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    author          TEXT NOT NULL,
    text            TEXT NOT NULL,
    at              INTEGER NOT NULL
);
CREATE INDEX notes_conversation ON notes(conversation_id);

-- Rows an import could not take, kept to inspect and retry.
CREATE TABLE quarantine (
    id     INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    line   INTEGER NOT NULL,
    reason TEXT NOT NULL,
    raw    TEXT NOT NULL,
    at     INTEGER NOT NULL,
    UNIQUE (source, line)
);

-- Round-robin position per team.
CREATE TABLE assign_cursor (
    team TEXT PRIMARY KEY,
    next INTEGER NOT NULL
);
