-- Dashboard users, their roles per project, and their sign-in sessions.
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    -- Lower-cased and trimmed.
    email TEXT NOT NULL UNIQUE,
    -- Argon2id PHC string (salt and parameters included).
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS memberships (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    -- viewer, analyst or admin.
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, project_id)
);

CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    -- SHA-256 of the random session token (the cookie); the token itself is never stored.
    token_hash TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Sent back in `X-CSRF-Token` on state-changing requests authenticated by cookie.
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);
