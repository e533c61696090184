-- Listening: the topics each message matched, spike detection state and the alerts it
-- raised. (0008 is the search index's.)

-- One row per (topic, message): share of voice and topic volume count these.
CREATE TABLE message_topics (
    topic      TEXT NOT NULL,
    message_id INTEGER NOT NULL REFERENCES messages(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (topic, message_id)
) WITHOUT ROWID;
CREATE INDEX message_topics_message ON message_topics(message_id);
CREATE INDEX message_topics_created ON message_topics(topic, created_at);

-- Each series' moving baseline (JSON), and the next bucket to score.
CREATE TABLE spike_state (
    series      TEXT PRIMARY KEY,
    next_bucket INTEGER NOT NULL,
    state       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- One alert per bucket in which something spiked; `spikes` lists each series and kind.
CREATE TABLE alerts (
    id            INTEGER PRIMARY KEY,
    bucket_start  INTEGER NOT NULL UNIQUE,
    bucket_end    INTEGER NOT NULL,
    headline      TEXT NOT NULL,
    spikes        TEXT NOT NULL,
    raised_at     INTEGER NOT NULL,
    notified_at   INTEGER,
    notify_tries  INTEGER NOT NULL DEFAULT 0,
    notify_error  TEXT
);
CREATE INDEX alerts_pending ON alerts(notified_at, id);
