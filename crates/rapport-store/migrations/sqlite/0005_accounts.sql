-- The people who use rapport, and how they prove who they are. Nothing secret is stored
-- in the clear: passwords as argon2id PHC strings, API and session tokens as the SHA-256
-- (hex) of the token, which is shown once when created.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'leader', 'agent', 'viewer')),
    password_hash TEXT NOT NULL,                 -- argon2id, PHC string
    created_at    INTEGER NOT NULL,
    disabled_at   INTEGER                        -- NULL while the user may log in
);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    label        TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,           -- SHA-256 hex of the token
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE sessions (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,             -- SHA-256 hex of the cookie's token
    csrf       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);

-- Failed logins per name (as typed, lower-cased), for the lockout; rows older than the
-- window are deleted as new ones come.
CREATE TABLE login_failures (
    name TEXT NOT NULL,
    at   INTEGER NOT NULL
);
CREATE INDEX login_failures_name ON login_failures(name, at);
