-- What the dashboard shows and how people sign in to it: a user's password (an Argon2id PHC
-- string, never the password), browser sessions (only the SHA-256 of the cookie is kept,
-- with the token forms must send back), who started a pipeline and its commit's title, and
-- the names a job `needs` (JSON array) for the pipeline graph, and the names (never the
-- values) of the variables its configuration gives it.
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE pipelines ADD COLUMN user_id INTEGER REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE pipelines ADD COLUMN commit_title TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN needs_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE jobs ADD COLUMN variable_names TEXT NOT NULL DEFAULT '[]';
CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_sha256  TEXT    NOT NULL UNIQUE,
    csrf_token    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
