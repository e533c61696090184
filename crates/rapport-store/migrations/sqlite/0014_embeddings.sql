-- Sentence embeddings of inbound messages (docs/semantic.md): one vector per message,
-- written by the background embedding job (never by ingest), with the model that made
-- it: a vector of another model is computed again.

CREATE TABLE message_embeddings (
    message_id  INTEGER PRIMARY KEY REFERENCES messages(id),
    model       TEXT NOT NULL,
    vector      BLOB NOT NULL,      -- little-endian f32 × dimensions, L2-normalised
    embedded_at INTEGER NOT NULL
);
