-- The first schema of gantry's state on PostgreSQL. The SQLite twin is
-- ../sqlite/0001_init.sql: same tables, columns and indexes; only the types differ
-- (BOOLEAN, BIGINT and BYTEA here; INTEGER and BLOB there).
-- Times are epoch milliseconds given by the server; the database never reads its clock.

CREATE TABLE users (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username    TEXT    NOT NULL,
    is_admin    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT  NOT NULL
);
-- GitLab's usernames and project paths are unique regardless of case.
CREATE UNIQUE INDEX users_username ON users (lower(username));

CREATE TABLE personal_access_tokens (
    id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    token_sha256  TEXT    NOT NULL UNIQUE,
    scopes        TEXT    NOT NULL,
    revoked       BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at    BIGINT,
    last_used_at  BIGINT,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX personal_access_tokens_user ON personal_access_tokens (user_id);

CREATE TABLE projects (
    id                 BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    path               TEXT    NOT NULL,
    namespace          TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    default_branch     TEXT    NOT NULL,
    visibility         TEXT    NOT NULL,
    creator_id         BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    -- The iid of the project's last pipeline: incremented in the transaction that inserts
    -- the next one, so the row lock hands out 1, 2, 3... without gaps or duplicates.
    last_pipeline_iid  BIGINT  NOT NULL DEFAULT 0,
    created_at         BIGINT  NOT NULL
);
CREATE UNIQUE INDEX projects_path ON projects (lower(path));

CREATE TABLE protected_branches (
    id                  BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id          BIGINT  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name                TEXT    NOT NULL,
    push_access_level   BIGINT  NOT NULL,
    merge_access_level  BIGINT  NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE pipelines (
    id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id      BIGINT  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    iid             BIGINT  NOT NULL,
    ref_name        TEXT    NOT NULL,
    tag             BOOLEAN NOT NULL DEFAULT FALSE,
    sha             TEXT    NOT NULL,
    before_sha      TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    config_errors   TEXT,
    variables_json  TEXT    NOT NULL,
    -- The sequence number of the pipeline's last stored event (see pipeline_events).
    last_event_seq  BIGINT  NOT NULL DEFAULT 0,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    started_at      BIGINT,
    finished_at     BIGINT,
    duration        BIGINT,
    UNIQUE (project_id, iid)
);
CREATE INDEX pipelines_project ON pipelines (project_id, id);
CREATE INDEX pipelines_status ON pipelines (status);

CREATE TABLE pipeline_events (
    pipeline_id  BIGINT  NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    seq          BIGINT  NOT NULL,
    event_json   TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    PRIMARY KEY (pipeline_id, seq)
);

-- One row per job attempt: a retry inserts a new row and marks the old one retried.
CREATE TABLE jobs (
    id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pipeline_id     BIGINT  NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    project_id      BIGINT  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name            TEXT    NOT NULL,
    stage           TEXT    NOT NULL,
    stage_idx       BIGINT  NOT NULL,
    status          TEXT    NOT NULL,
    allow_failure   BOOLEAN NOT NULL,
    "when"          TEXT    NOT NULL,
    plan_index      BIGINT  NOT NULL,
    attempt         BIGINT  NOT NULL DEFAULT 1,
    retried         BOOLEAN NOT NULL DEFAULT FALSE,
    exit_code       BIGINT,
    failure_reason  TEXT,
    runner_id       BIGINT,
    -- The length of the job's trace in bytes: the offset the next append must start at.
    trace_len       BIGINT  NOT NULL DEFAULT 0,
    created_at      BIGINT  NOT NULL,
    queued_at       BIGINT,
    started_at      BIGINT,
    finished_at     BIGINT
);
CREATE INDEX jobs_pipeline ON jobs (pipeline_id, plan_index);
CREATE INDEX jobs_project ON jobs (project_id, id);
CREATE INDEX jobs_pending ON jobs (id) WHERE status = 'pending';

-- A trace is the concatenation of its chunks in start_offset order.
CREATE TABLE trace_chunks (
    job_id        BIGINT  NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    start_offset  BIGINT  NOT NULL,
    size          BIGINT  NOT NULL,
    data          BYTEA   NOT NULL,
    PRIMARY KEY (job_id, start_offset)
);

CREATE TABLE ci_variables (
    id                 BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id         BIGINT  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    key                TEXT    NOT NULL,
    value              BYTEA   NOT NULL,
    variable_type      TEXT    NOT NULL,
    protected          BOOLEAN NOT NULL,
    masked             BOOLEAN NOT NULL,
    raw                BOOLEAN NOT NULL,
    environment_scope  TEXT    NOT NULL,
    UNIQUE (project_id, key, environment_scope)
);

CREATE TABLE job_artifacts (
    id           BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id       BIGINT  NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    file_type    TEXT    NOT NULL,
    file_format  TEXT    NOT NULL,
    filename     TEXT    NOT NULL,
    blob_key     TEXT    NOT NULL UNIQUE,
    size         BIGINT  NOT NULL,
    sha256       TEXT,
    expire_at    BIGINT,
    created_at   BIGINT  NOT NULL,
    UNIQUE (job_id, file_type)
);
CREATE INDEX job_artifacts_expire_at ON job_artifacts (expire_at) WHERE expire_at IS NOT NULL;

CREATE TABLE pipeline_triggers (
    id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id    BIGINT  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    token_sha256  TEXT    NOT NULL UNIQUE,
    description   TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX pipeline_triggers_project ON pipeline_triggers (project_id);
