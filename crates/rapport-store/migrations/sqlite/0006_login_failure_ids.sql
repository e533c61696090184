-- Failed logins get an explicit id (they were told apart by SQLite's rowid), so the same
-- statements run on PostgreSQL.
CREATE TABLE login_failures_new (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    at   INTEGER NOT NULL
);
INSERT INTO login_failures_new (id, name, at) SELECT rowid, name, at FROM login_failures;
DROP TABLE login_failures;
ALTER TABLE login_failures_new RENAME TO login_failures;
CREATE INDEX login_failures_name ON login_failures(name, at);

-- A person's conversations, for the people view (PostgreSQL has the same index).
CREATE INDEX conversations_person ON conversations(person_id);
