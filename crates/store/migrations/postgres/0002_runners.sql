-- Runners that take jobs over the GitLab runner protocol, and the job tokens they use.

CREATE TABLE runners (
    id               BIGSERIAL PRIMARY KEY,
    -- SHA-256 (hex) of the runner's authentication token (`glrt-...`); the token is shown once.
    token_sha256     TEXT    NOT NULL UNIQUE,
    description      TEXT    NOT NULL DEFAULT '',
    -- `instance_type` (every project) or `project_type` (one project).
    runner_type      TEXT    NOT NULL,
    project_id       BIGINT  REFERENCES projects (id) ON DELETE CASCADE,
    -- Comma-separated, sorted, without duplicates.
    tags             TEXT    NOT NULL DEFAULT '',
    run_untagged     BOOLEAN NOT NULL,
    paused           BOOLEAN NOT NULL DEFAULT FALSE,
    locked           BOOLEAN NOT NULL DEFAULT FALSE,
    -- `not_protected` or `ref_protected` (only jobs of protected refs).
    access_level     TEXT    NOT NULL,
    maximum_timeout  BIGINT,
    created_by       BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at       BIGINT NOT NULL,
    contacted_at     BIGINT,
    -- What the runner said about itself on its last request (JSON).
    info_json        TEXT
);

-- A job's token, valid while the job runs; only its SHA-256 (hex) is kept.
ALTER TABLE jobs ADD COLUMN token_sha256 TEXT;
CREATE UNIQUE INDEX jobs_token ON jobs (token_sha256) WHERE token_sha256 IS NOT NULL;
