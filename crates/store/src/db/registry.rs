//! The container registry's records: repositories (each in a project), content-addressed
//! blobs and the repositories that see them, manifests with what they refer to and their
//! subject, tags, and uploads in progress. The bytes live in the blob store; these rows say
//! what exists. A manifest and its tag are written in one transaction, so a pull never sees
//! a tag naming a manifest that is not there.

use super::connect::Db;
use super::error::{StoreError, query_error};

/// A repository of the registry (`group/project` or `group/project/image`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Repository {
    /// Its id.
    pub id: i64,
    /// The project it belongs to.
    pub project_id: i64,
    /// Its full name.
    pub name: String,
    /// When it was created (epoch ms).
    pub created_at: i64,
}

/// A manifest stored in a repository.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ManifestRow {
    /// Its id.
    pub id: i64,
    /// The repository.
    pub repository_id: i64,
    /// Its digest (its bytes are the blob of that digest).
    pub digest: String,
    /// Its media type.
    pub media_type: String,
    /// Its size in bytes.
    pub size: i64,
    /// Its artifact type (referrers API).
    pub artifact_type: Option<String>,
    /// The digest of the manifest it is about, if any.
    pub subject_digest: Option<String>,
    /// Its annotations as JSON, if any.
    pub annotations: Option<String>,
    /// When it was pushed (epoch ms).
    pub created_at: i64,
}

/// A manifest to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewManifest {
    /// Its digest.
    pub digest: String,
    /// Its media type.
    pub media_type: String,
    /// Its size in bytes.
    pub size: i64,
    /// Its artifact type.
    pub artifact_type: Option<String>,
    /// Its subject's digest.
    pub subject_digest: Option<String>,
    /// Its annotations as JSON.
    pub annotations: Option<String>,
    /// The digests of the blobs and manifests it refers to.
    pub refs: Vec<String>,
}

/// An upload in progress.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Upload {
    /// Its id (a random UUID, in the upload's URL).
    pub id: String,
    /// The repository it goes to.
    pub repository_id: i64,
    /// The bytes received so far.
    pub size: i64,
    /// When it started (epoch ms).
    pub created_at: i64,
    /// When it last received bytes (epoch ms).
    pub updated_at: i64,
}

macro_rules! manifest_columns {
    () => {
        "id, repository_id, digest, media_type, size, artifact_type, subject_digest, annotations, created_at"
    };
}

impl Db {
    /// The repository with this name.
    pub async fn registry_repository(&self, name: &str) -> Result<Option<Repository>, StoreError> {
        sqlx::query_as("SELECT id, project_id, name, created_at FROM registry_repositories WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("reading a registry repository"))
    }

    /// The repository with this name, created in `project_id` if new.
    pub async fn ensure_registry_repository(
        &self,
        project_id: i64,
        name: &str,
        now_ms: i64,
    ) -> Result<Repository, StoreError> {
        const OP: &str = "creating a registry repository";
        if let Some(r) = self.registry_repository(name).await? {
            return Ok(r);
        }
        let _lock = self.write_lock().await;
        sqlx::query(
            "INSERT INTO registry_repositories (project_id, name, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(project_id)
        .bind(name)
        .bind(now_ms)
        .execute(&self.pool)
        .await
        .map_err(query_error(OP))?;
        drop(_lock);
        self.registry_repository(name).await?.ok_or(StoreError::NotFound {
            entity: "registry repository",
            id: project_id,
        })
    }

    /// Repository names after `after` in lexical order, at most `limit` (the catalog).
    pub async fn registry_repositories(
        &self,
        after: &str,
        limit: i64,
    ) -> Result<Vec<Repository>, StoreError> {
        sqlx::query_as(
            "SELECT id, project_id, name, created_at FROM registry_repositories WHERE name > $1 \
             ORDER BY name LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("listing registry repositories"))
    }

    /// Records that the blob `digest` (stored, of `size` bytes) is in the repository; linking
    /// it again renews it (garbage collection spares what was pushed or mounted lately).
    pub async fn link_registry_blob(
        &self,
        repository_id: i64,
        digest: &str,
        size: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        const OP: &str = "recording a registry blob";
        let mut w = self.begin_write(OP).await?;
        sqlx::query(
            "INSERT INTO registry_blobs (digest, size, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (digest) DO UPDATE SET created_at = excluded.created_at",
        )
        .bind(digest)
        .bind(size)
        .bind(now_ms)
        .execute(&mut *w.tx)
        .await
        .map_err(query_error(OP))?;
        sqlx::query(
            "INSERT INTO registry_repository_blobs (repository_id, digest, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (repository_id, digest) DO UPDATE SET created_at = excluded.created_at",
        )
        .bind(repository_id)
        .bind(digest)
        .bind(now_ms)
        .execute(&mut *w.tx)
        .await
        .map_err(query_error(OP))?;
        w.commit(OP).await
    }

    /// The size of the blob `digest` if the repository sees it.
    pub async fn registry_blob(&self, repository_id: i64, digest: &str) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar(
            "SELECT b.size FROM registry_blobs b JOIN registry_repository_blobs r ON r.digest = b.digest \
             WHERE r.repository_id = $1 AND b.digest = $2",
        )
        .bind(repository_id)
        .bind(digest)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("reading a registry blob"))
    }

    /// Removes the blob from the repository's view; `false` when it did not see it. The bytes
    /// stay until garbage collection finds nothing referring to them.
    pub async fn unlink_registry_blob(&self, repository_id: i64, digest: &str) -> Result<bool, StoreError> {
        let _lock = self.write_lock().await;
        let done =
            sqlx::query("DELETE FROM registry_repository_blobs WHERE repository_id = $1 AND digest = $2")
                .bind(repository_id)
                .bind(digest)
                .execute(&self.pool)
                .await
                .map_err(query_error("deleting a registry blob"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Which of `digests` the repository does not see as a blob or a manifest.
    pub async fn registry_missing(
        &self,
        repository_id: i64,
        digests: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let mut missing = Vec::new();
        for d in digests {
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM registry_repository_blobs WHERE repository_id = $1 AND digest = $2 \
                 UNION ALL SELECT 1 FROM registry_manifests WHERE repository_id = $1 AND digest = $2 LIMIT 1",
            )
            .bind(repository_id)
            .bind(d)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("checking a manifest's references"))?;
            if found.is_none() {
                missing.push(d.clone());
            }
        }
        Ok(missing)
    }

    /// Stores a manifest (its bytes already stored as the blob of its digest) and points
    /// `tag` at it, in one transaction. Pushing the same manifest again only moves the tag.
    pub async fn put_registry_manifest(
        &self,
        repository_id: i64,
        m: &NewManifest,
        tag: Option<&str>,
        now_ms: i64,
    ) -> Result<ManifestRow, StoreError> {
        const OP: &str = "storing a manifest";
        let mut w = self.begin_write(OP).await?;
        sqlx::query(
            "INSERT INTO registry_blobs (digest, size, created_at) VALUES ($1, $2, $3) ON CONFLICT (digest) DO NOTHING",
        )
        .bind(&m.digest)
        .bind(m.size)
        .bind(now_ms)
        .execute(&mut *w.tx)
        .await
        .map_err(query_error(OP))?;
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO registry_manifests (repository_id, digest, media_type, size, artifact_type, \
             subject_digest, annotations, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (repository_id, digest) DO NOTHING RETURNING id",
        )
        .bind(repository_id)
        .bind(&m.digest)
        .bind(&m.media_type)
        .bind(m.size)
        .bind(&m.artifact_type)
        .bind(&m.subject_digest)
        .bind(&m.annotations)
        .bind(now_ms)
        .fetch_optional(&mut *w.tx)
        .await
        .map_err(query_error(OP))?;
        if let Some(id) = inserted {
            for r in &m.refs {
                sqlx::query(
                    "INSERT INTO registry_manifest_refs (manifest_id, digest) VALUES ($1, $2) \
                     ON CONFLICT (manifest_id, digest) DO NOTHING",
                )
                .bind(id)
                .bind(r)
                .execute(&mut *w.tx)
                .await
                .map_err(query_error(OP))?;
            }
        }
        if let Some(tag) = tag {
            sqlx::query(
                "INSERT INTO registry_tags (repository_id, name, digest, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (repository_id, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at",
            )
            .bind(repository_id)
            .bind(tag)
            .bind(&m.digest)
            .bind(now_ms)
            .execute(&mut *w.tx)
            .await
            .map_err(query_error(OP))?;
        }
        let row: ManifestRow = sqlx::query_as(concat!(
            "SELECT ",
            manifest_columns!(),
            " FROM registry_manifests WHERE repository_id = $1 AND digest = $2"
        ))
        .bind(repository_id)
        .bind(&m.digest)
        .fetch_one(&mut *w.tx)
        .await
        .map_err(query_error(OP))?;
        w.commit(OP).await?;
        Ok(row)
    }

    /// The manifest `digest` of the repository.
    pub async fn registry_manifest(
        &self,
        repository_id: i64,
        digest: &str,
    ) -> Result<Option<ManifestRow>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            manifest_columns!(),
            " FROM registry_manifests WHERE repository_id = $1 AND digest = $2"
        ))
        .bind(repository_id)
        .bind(digest)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("reading a manifest"))
    }

    /// The manifest digest a tag points at.
    pub async fn registry_tag(&self, repository_id: i64, tag: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT digest FROM registry_tags WHERE repository_id = $1 AND name = $2")
            .bind(repository_id)
            .bind(tag)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("reading a tag"))
    }

    /// The repository's tags after `after` in lexical order, at most `limit`.
    pub async fn registry_tags(
        &self,
        repository_id: i64,
        after: &str,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT name FROM registry_tags WHERE repository_id = $1 AND name > $2 ORDER BY name LIMIT $3",
        )
        .bind(repository_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("listing tags"))
    }

    /// Deletes a tag; `false` when there was none.
    pub async fn delete_registry_tag(&self, repository_id: i64, tag: &str) -> Result<bool, StoreError> {
        let _lock = self.write_lock().await;
        let done = sqlx::query("DELETE FROM registry_tags WHERE repository_id = $1 AND name = $2")
            .bind(repository_id)
            .bind(tag)
            .execute(&self.pool)
            .await
            .map_err(query_error("deleting a tag"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes a manifest and the tags pointing at it; `false` when there was none.
    pub async fn delete_registry_manifest(
        &self,
        repository_id: i64,
        digest: &str,
    ) -> Result<bool, StoreError> {
        const OP: &str = "deleting a manifest";
        let mut w = self.begin_write(OP).await?;
        sqlx::query("DELETE FROM registry_tags WHERE repository_id = $1 AND digest = $2")
            .bind(repository_id)
            .bind(digest)
            .execute(&mut *w.tx)
            .await
            .map_err(query_error(OP))?;
        let done = sqlx::query("DELETE FROM registry_manifests WHERE repository_id = $1 AND digest = $2")
            .bind(repository_id)
            .bind(digest)
            .execute(&mut *w.tx)
            .await
            .map_err(query_error(OP))?;
        w.commit(OP).await?;
        Ok(done.rows_affected() > 0)
    }

    /// The manifests of the repository whose subject is `digest`, oldest first.
    pub async fn registry_referrers(
        &self,
        repository_id: i64,
        digest: &str,
    ) -> Result<Vec<ManifestRow>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            manifest_columns!(),
            " FROM registry_manifests WHERE repository_id = $1 AND subject_digest = $2 \
             ORDER BY id"
        ))
        .bind(repository_id)
        .bind(digest)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("listing referrers"))
    }

    /// Starts an upload.
    pub async fn create_registry_upload(
        &self,
        id: &str,
        repository_id: i64,
        now_ms: i64,
    ) -> Result<Upload, StoreError> {
        let _lock = self.write_lock().await;
        sqlx::query_as(
            "INSERT INTO registry_uploads (id, repository_id, size, created_at, updated_at) \
             VALUES ($1, $2, 0, $3, $3) RETURNING id, repository_id, size, created_at, updated_at",
        )
        .bind(id)
        .bind(repository_id)
        .bind(now_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(query_error("starting an upload"))
    }

    /// The upload with this id.
    pub async fn registry_upload(&self, id: &str) -> Result<Option<Upload>, StoreError> {
        sqlx::query_as(
            "SELECT id, repository_id, size, created_at, updated_at FROM registry_uploads WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("reading an upload"))
    }

    /// Records an upload's new size.
    pub async fn set_registry_upload_size(&self, id: &str, size: i64, now_ms: i64) -> Result<(), StoreError> {
        let _lock = self.write_lock().await;
        sqlx::query("UPDATE registry_uploads SET size = $1, updated_at = $2 WHERE id = $3")
            .bind(size)
            .bind(now_ms)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(query_error("recording an upload's size"))?;
        Ok(())
    }

    /// Ends an upload (finished or canceled); `false` when there was none.
    pub async fn delete_registry_upload(&self, id: &str) -> Result<bool, StoreError> {
        let _lock = self.write_lock().await;
        let done = sqlx::query("DELETE FROM registry_uploads WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(query_error("ending an upload"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Uploads last fed before `before_ms` (abandoned), at most `limit`.
    pub async fn stale_registry_uploads(
        &self,
        before_ms: i64,
        limit: i64,
    ) -> Result<Vec<Upload>, StoreError> {
        sqlx::query_as(
            "SELECT id, repository_id, size, created_at, updated_at FROM registry_uploads WHERE updated_at < $1 \
             ORDER BY updated_at LIMIT $2",
        )
        .bind(before_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("listing abandoned uploads"))
    }

    /// Garbage collection's first half: deletes the rows of blobs created before `before_ms`
    /// that no repository sees, no manifest refers to and no manifest is; returns their
    /// digests (at most `limit`) so that their bytes can be deleted after.
    pub async fn collect_registry_blobs(
        &self,
        before_ms: i64,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        const OP: &str = "collecting unreferenced registry blobs";
        let mut w = self.begin_write(OP).await?;
        // Blobs only seen by repositories, never referred to by a manifest, are unreferenced
        // too once old enough: their links go first.
        sqlx::query(
            "DELETE FROM registry_repository_blobs WHERE created_at < $1 \
             AND digest NOT IN (SELECT digest FROM registry_manifest_refs) \
             AND digest NOT IN (SELECT digest FROM registry_manifests)",
        )
        .bind(before_ms)
        .execute(&mut *w.tx)
        .await
        .map_err(query_error(OP))?;
        let digests: Vec<String> = sqlx::query_scalar(
            "SELECT digest FROM registry_blobs b WHERE created_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM registry_repository_blobs r WHERE r.digest = b.digest) \
             AND NOT EXISTS (SELECT 1 FROM registry_manifest_refs m WHERE m.digest = b.digest) \
             AND NOT EXISTS (SELECT 1 FROM registry_manifests m WHERE m.digest = b.digest) \
             ORDER BY digest LIMIT $2",
        )
        .bind(before_ms)
        .bind(limit)
        .fetch_all(&mut *w.tx)
        .await
        .map_err(query_error(OP))?;
        for d in &digests {
            sqlx::query("DELETE FROM registry_blobs WHERE digest = $1")
                .bind(d)
                .execute(&mut *w.tx)
                .await
                .map_err(query_error(OP))?;
        }
        w.commit(OP).await?;
        Ok(digests)
    }
}
