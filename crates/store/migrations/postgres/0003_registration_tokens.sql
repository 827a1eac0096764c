-- Legacy runner registration tokens (`POST /api/v4/runners`): one for the instance
-- (project_id NULL) and one per project at most; only their SHA-256 (hex) is kept, the
-- token is shown once, when it is reset.
CREATE TABLE runner_registration_tokens (
    id            BIGSERIAL PRIMARY KEY,
    project_id    BIGINT  REFERENCES projects (id) ON DELETE CASCADE,
    token_sha256  TEXT    NOT NULL UNIQUE,
    created_at    BIGINT  NOT NULL
);
CREATE UNIQUE INDEX runner_registration_tokens_scope
    ON runner_registration_tokens (COALESCE(project_id, 0));
