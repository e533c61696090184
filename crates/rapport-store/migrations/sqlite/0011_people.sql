-- One person across platforms: merges of people, confirmed by someone, reversible.
-- A merge moves every identity (and with them messages and conversations) of one person
-- to another; the merged person stays, pointing at the one it joined, so that an unmerge
-- can give its identities back. Both are events in the log as well.

ALTER TABLE people ADD COLUMN merged_into INTEGER REFERENCES people(id);

CREATE TABLE person_merges (
    id         INTEGER PRIMARY KEY,
    keep_id    INTEGER NOT NULL REFERENCES people(id),
    merged_id  INTEGER NOT NULL REFERENCES people(id),
    identities TEXT NOT NULL,          -- JSON array of the ids of the identities moved
    actor      TEXT NOT NULL,
    at         INTEGER NOT NULL,
    undone_at  INTEGER,
    undone_by  TEXT
);
CREATE INDEX person_merges_merged ON person_merges(merged_id);
CREATE INDEX person_merges_keep ON person_merges(keep_id);

-- Suggested merges that someone said are two people (a < b).
CREATE TABLE person_merge_dismissals (
    a     INTEGER NOT NULL,
    b     INTEGER NOT NULL,
    actor TEXT NOT NULL,
    at    INTEGER NOT NULL,
    PRIMARY KEY (a, b)
);

-- Display names, for merge suggestions.
CREATE INDEX identities_name ON identities(name) WHERE name IS NOT NULL;
