-- Projects and their keys. Portable SQL (SQLite now, PostgreSQL later): TEXT timestamps in
-- RFC 3339, integer flags, no engine-specific types beyond the primary keys.
CREATE TABLE IF NOT EXISTS projects (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    -- Public: pasted into web pages, so stored in clear; it can only ingest.
    write_key TEXT NOT NULL UNIQUE,
    write_key_disabled INTEGER NOT NULL DEFAULT 0,
    -- Comma-separated origins allowed to send from browsers ('' = any).
    allowed_origins TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS api_keys (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    name TEXT NOT NULL,
    -- The first characters of the key, shown in listings to tell keys apart.
    prefix TEXT NOT NULL,
    -- SHA-256 of the whole key: keys are 238-bit random, so a fast hash cannot be brute-forced.
    hash TEXT NOT NULL UNIQUE,
    -- Comma-separated: read, write, admin.
    scopes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    last_used_at TEXT
);

CREATE INDEX IF NOT EXISTS api_keys_project ON api_keys (project_id);
