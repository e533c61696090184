-- How to answer a message on its platform (JSON, e.g. Bluesky's uri/cid of the post and of
-- its thread's root); NULL for imported messages and platforms that need nothing more
-- than the platform id.
ALTER TABLE messages ADD COLUMN reply_ref TEXT;

-- Replies to be sent through a platform. The outbound message and its outbox row are
-- written in one transaction before anything is sent; the row keeps the idempotency key,
-- so a retry after a crash or a timeout can never post twice.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    message_id      INTEGER NOT NULL UNIQUE REFERENCES messages(id),
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    channel         TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    request         TEXT NOT NULL,               -- JSON: what to send, decided once
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    remote_id       TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX outbox_pending ON outbox(state, id);
