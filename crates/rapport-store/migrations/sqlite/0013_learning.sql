-- Learning from the team: the corrections agents make to a message's intent or
-- sentiment, and the models `rapport train` fits (one per kind, replaced on retraining).

CREATE TABLE corrections (
    id         INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages(id),
    field      TEXT NOT NULL CHECK (field IN ('intent', 'sentiment')),
    old_value  TEXT NOT NULL,
    new_value  TEXT NOT NULL,
    actor      TEXT NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX corrections_field ON corrections(field, id);
CREATE INDEX corrections_message ON corrections(message_id);

CREATE TABLE learned_models (
    kind       TEXT PRIMARY KEY CHECK (kind IN ('intent', 'sentiment')),
    model      TEXT NOT NULL,      -- rapport_core::learn::ModelFile as JSON
    source     TEXT NOT NULL,      -- 'corrections', or the labelled file's name
    examples   INTEGER NOT NULL,
    trained_by TEXT NOT NULL,
    trained_at INTEGER NOT NULL
);
