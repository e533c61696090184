-- The ideas loop: idea items grouped from inbound messages of intent `idea`, each
-- message in at most one item, and the replies drafted when an item's status changed.

CREATE TABLE idea_items (
    id                INTEGER PRIMARY KEY,
    title             TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'planned', 'shipped', 'declined')),
    merged_into       INTEGER,                  -- the item it was merged into; NULL while it stands
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    status_changed_at INTEGER
);
CREATE INDEX idea_items_status ON idea_items(status, updated_at);

-- A message is in at most one item.
CREATE TABLE idea_messages (
    message_id INTEGER PRIMARY KEY REFERENCES messages(id),
    item_id    INTEGER NOT NULL REFERENCES idea_items(id),
    similarity REAL,                             -- how close it came when grouped; NULL: placed by hand or first
    added_by   TEXT NOT NULL,
    added_at   INTEGER NOT NULL
);
CREATE INDEX idea_messages_item ON idea_messages(item_id);

-- One reply per (item, status, person), ever: written in the same transaction as its
-- draft, so a status set twice, or retried after a crash, drafts nobody twice.
CREATE TABLE idea_replies (
    item_id    INTEGER NOT NULL REFERENCES idea_items(id),
    status     TEXT NOT NULL,
    person_id  INTEGER NOT NULL REFERENCES people(id),
    draft_id   INTEGER REFERENCES drafts(id),    -- NULL when carried over from a merged item
    created_at INTEGER NOT NULL,
    PRIMARY KEY (item_id, status, person_id)
);
