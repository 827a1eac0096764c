-- The container registry. Blobs are content-addressed and shared (one row and one stored
-- object per digest); a repository sees a blob once it was pushed or mounted into it.
-- Manifests belong to a repository; the blobs and manifests each one refers to are listed
-- (what may not be deleted under it, and what garbage collection keeps); a manifest with a
-- subject is found by the referrers API. Tags point at manifest digests. An upload in
-- progress keeps its size here and its bytes in the data directory.
CREATE TABLE registry_repositories (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name        TEXT   NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);
CREATE TABLE registry_blobs (
    digest      TEXT   PRIMARY KEY,
    size        BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE TABLE registry_repository_blobs (
    repository_id BIGINT NOT NULL REFERENCES registry_repositories (id) ON DELETE CASCADE,
    digest        TEXT   NOT NULL REFERENCES registry_blobs (digest) ON DELETE CASCADE,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (repository_id, digest)
);
CREATE TABLE registry_manifests (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    repository_id   BIGINT NOT NULL REFERENCES registry_repositories (id) ON DELETE CASCADE,
    digest          TEXT   NOT NULL,
    media_type      TEXT   NOT NULL,
    size            BIGINT NOT NULL,
    artifact_type   TEXT,
    subject_digest  TEXT,
    annotations     TEXT,
    created_at      BIGINT NOT NULL,
    UNIQUE (repository_id, digest)
);
CREATE INDEX registry_manifests_subject ON registry_manifests (repository_id, subject_digest);
CREATE TABLE registry_manifest_refs (
    manifest_id  BIGINT NOT NULL REFERENCES registry_manifests (id) ON DELETE CASCADE,
    digest       TEXT   NOT NULL,
    PRIMARY KEY (manifest_id, digest)
);
CREATE INDEX registry_manifest_refs_digest ON registry_manifest_refs (digest);
CREATE TABLE registry_tags (
    repository_id  BIGINT NOT NULL REFERENCES registry_repositories (id) ON DELETE CASCADE,
    name           TEXT   NOT NULL,
    digest         TEXT   NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (repository_id, name)
);
CREATE TABLE registry_uploads (
    id             TEXT   PRIMARY KEY,
    repository_id  BIGINT NOT NULL REFERENCES registry_repositories (id) ON DELETE CASCADE,
    size           BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
