-- Sentence embeddings of inbound messages (docs/semantic.md): one vector per message,
-- written by the background embedding job (never by ingest), with the model that made
-- it: a vector of another model is computed again. BYTEA rather than pgvector: the
-- nearest-neighbour search runs in rapport's own in-memory index on either backend, so
-- no extension is needed.

CREATE TABLE message_embeddings (
    message_id  BIGINT PRIMARY KEY REFERENCES messages(id),
    model       TEXT NOT NULL,
    vector      BYTEA NOT NULL,     -- little-endian f32 × dimensions, L2-normalised
    embedded_at BIGINT NOT NULL
);
