-- Publishing: drafts with their approvals, and the posts each sends to each channel.

CREATE TABLE drafts (
    id              INTEGER PRIMARY KEY,
    author          TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('reply', 'broadcast', 'key_message')),
    status          TEXT NOT NULL,
    text            TEXT NOT NULL,
    sponsored       INTEGER NOT NULL DEFAULT 0,
    conversation_id INTEGER REFERENCES conversations(id),  -- what a reply answers
    scheduled_at    INTEGER,
    decided_by      TEXT,                                  -- who approved or rejected it
    decision_note   TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX drafts_status ON drafts(status, scheduled_at);
CREATE INDEX drafts_author ON drafts(author, kind, scheduled_at);

-- One row per channel a draft goes to: its text there (NULL: the draft's), and once
-- scheduled, the post decided once with its idempotency key, sent until the platform
-- has it.
CREATE TABLE draft_targets (
    draft_id        INTEGER NOT NULL REFERENCES drafts(id),
    channel         TEXT NOT NULL,
    text            TEXT,
    idempotency_key TEXT NOT NULL UNIQUE,
    request         TEXT,
    state           TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    remote_id       TEXT,
    url             TEXT,
    sent_at         INTEGER,
    PRIMARY KEY (draft_id, channel)
);
