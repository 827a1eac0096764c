-- The first schema of gantry's state on SQLite. The PostgreSQL twin is
-- ../postgres/0001_init.sql: same tables, columns and indexes; only the types differ
-- (INTEGER for booleans and identities here, BOOLEAN/BIGINT/BYTEA there).
-- Times are epoch milliseconds given by the server; the database never reads its clock.

CREATE TABLE users (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    username    TEXT    NOT NULL,
    is_admin    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);
-- GitLab's usernames and project paths are unique regardless of case.
CREATE UNIQUE INDEX users_username ON users (lower(username));

CREATE TABLE personal_access_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    token_sha256  TEXT    NOT NULL UNIQUE,
    scopes        TEXT    NOT NULL,
    revoked       INTEGER NOT NULL DEFAULT 0,
    expires_at    INTEGER,
    last_used_at  INTEGER,
    created_at    INTEGER NOT NULL
);
CREATE INDEX personal_access_tokens_user ON personal_access_tokens (user_id);

CREATE TABLE projects (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    path               TEXT    NOT NULL,
    namespace          TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    default_branch     TEXT    NOT NULL,
    visibility         TEXT    NOT NULL,
    creator_id         INTEGER REFERENCES users (id) ON DELETE SET NULL,
    -- The iid of the project's last pipeline: incremented in the transaction that inserts
    -- the next one, so the row lock hands out 1, 2, 3... without gaps or duplicates.
    last_pipeline_iid  INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL
);
CREATE UNIQUE INDEX projects_path ON projects (lower(path));

CREATE TABLE protected_branches (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id          INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name                TEXT    NOT NULL,
    push_access_level   INTEGER NOT NULL,
    merge_access_level  INTEGER NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE pipelines (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id      INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    iid             INTEGER NOT NULL,
    ref_name        TEXT    NOT NULL,
    tag             INTEGER NOT NULL DEFAULT 0,
    sha             TEXT    NOT NULL,
    before_sha      TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    config_errors   TEXT,
    variables_json  TEXT    NOT NULL,
    -- The sequence number of the pipeline's last stored event (see pipeline_events).
    last_event_seq  INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    started_at      INTEGER,
    finished_at     INTEGER,
    duration        INTEGER,
    UNIQUE (project_id, iid)
);
CREATE INDEX pipelines_project ON pipelines (project_id, id);
CREATE INDEX pipelines_status ON pipelines (status);

CREATE TABLE pipeline_events (
    pipeline_id  INTEGER NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    event_json   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (pipeline_id, seq)
);

-- One row per job attempt: a retry inserts a new row and marks the old one retried.
CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    pipeline_id     INTEGER NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    project_id      INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name            TEXT    NOT NULL,
    stage           TEXT    NOT NULL,
    stage_idx       INTEGER NOT NULL,
    status          TEXT    NOT NULL,
    allow_failure   INTEGER NOT NULL,
    "when"          TEXT    NOT NULL,
    plan_index      INTEGER NOT NULL,
    attempt         INTEGER NOT NULL DEFAULT 1,
    retried         INTEGER NOT NULL DEFAULT 0,
    exit_code       INTEGER,
    failure_reason  TEXT,
    runner_id       INTEGER,
    -- The length of the job's trace in bytes: the offset the next append must start at.
    trace_len       INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    queued_at       INTEGER,
    started_at      INTEGER,
    finished_at     INTEGER
);
CREATE INDEX jobs_pipeline ON jobs (pipeline_id, plan_index);
CREATE INDEX jobs_project ON jobs (project_id, id);
CREATE INDEX jobs_pending ON jobs (id) WHERE status = 'pending';

-- A trace is the concatenation of its chunks in start_offset order.
CREATE TABLE trace_chunks (
    job_id        INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    start_offset  INTEGER NOT NULL,
    size          INTEGER NOT NULL,
    data          BLOB    NOT NULL,
    PRIMARY KEY (job_id, start_offset)
);

CREATE TABLE ci_variables (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id         INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    key                TEXT    NOT NULL,
    value              BLOB    NOT NULL,
    variable_type      TEXT    NOT NULL,
    protected          INTEGER NOT NULL,
    masked             INTEGER NOT NULL,
    raw                INTEGER NOT NULL,
    environment_scope  TEXT    NOT NULL,
    UNIQUE (project_id, key, environment_scope)
);

CREATE TABLE job_artifacts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id       INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    file_type    TEXT    NOT NULL,
    file_format  TEXT    NOT NULL,
    filename     TEXT    NOT NULL,
    blob_key     TEXT    NOT NULL UNIQUE,
    size         INTEGER NOT NULL,
    sha256       TEXT,
    expire_at    INTEGER,
    created_at   INTEGER NOT NULL,
    UNIQUE (job_id, file_type)
);
CREATE INDEX job_artifacts_expire_at ON job_artifacts (expire_at) WHERE expire_at IS NOT NULL;

CREATE TABLE pipeline_triggers (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id    INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    token_sha256  TEXT    NOT NULL UNIQUE,
    description   TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX pipeline_triggers_project ON pipeline_triggers (project_id);
