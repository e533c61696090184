-- Where each listening channel has read up to (Jetstream time_us, Mastodon notification
-- id, feed validators...), written in the same transaction as the messages it covers.
CREATE TABLE channel_cursors (
    channel    TEXT PRIMARY KEY,
    cursor     TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
