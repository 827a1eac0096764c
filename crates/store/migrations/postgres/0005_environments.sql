-- Environments and their deployments, as GitLab records them: an environment per project and
-- name (`review/feature-x` sits in the `review` folder), created by the first job that
-- deploys to it; one deployment per attempt of such a job, numbered per project, whose status
-- follows the job's. `on_stop` is the name of the job that stops the environment, in the
-- deployment's pipeline.
CREATE TABLE environments (
    id             BIGSERIAL PRIMARY KEY,
    project_id     BIGINT  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name           TEXT    NOT NULL,
    slug           TEXT    NOT NULL,
    external_url   TEXT,
    tier           TEXT    NOT NULL DEFAULT 'other',
    state          TEXT    NOT NULL DEFAULT 'available',
    auto_stop_at   BIGINT,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL,
    UNIQUE (project_id, name)
);
CREATE TABLE deployments (
    id              BIGSERIAL PRIMARY KEY,
    project_id      BIGINT  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    environment_id  BIGINT  NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    iid             BIGINT  NOT NULL,
    job_id          BIGINT  NOT NULL UNIQUE REFERENCES jobs (id) ON DELETE CASCADE,
    pipeline_id     BIGINT  NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    ref_name        TEXT    NOT NULL,
    sha             TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    on_stop         TEXT,
    created_at      BIGINT  NOT NULL,
    finished_at     BIGINT,
    UNIQUE (project_id, iid)
);
CREATE INDEX deployments_environment ON deployments (environment_id, iid);
-- Deployments are numbered per project, as pipelines are.
ALTER TABLE projects ADD COLUMN last_deployment_iid BIGINT NOT NULL DEFAULT 0;
-- Variables given when a manual job is played (sealed JSON, as variable values are).
ALTER TABLE jobs ADD COLUMN play_variables BYTEA;
