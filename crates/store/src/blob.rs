//! Blobs: artifacts (and later caches) on a filesystem or an S3-compatible object store,
//! through `object_store`. Keys are `/`-separated relative paths (`artifacts/12/34.zip`),
//! checked before use: no `..` or `.` segment, no leading or trailing `/`, no empty segment.
//!
//! Big files are streamed both ways: [`BlobStore::put_file`] sends a file in parts of
//! [`PART_SIZE`] (an S3 multipart upload) and [`BlobStore::get_to_file`] writes the body as
//! it arrives, so neither holds a whole artifact in memory.

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The size of the parts of a multipart upload; files up to this size are sent in one
/// request. S3 wants parts of at least 5 MiB (all but the last).
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// How many parts of one upload may be in flight at once.
const UPLOAD_CONCURRENCY: usize = 4;

/// The longest key accepted (S3's limit).
const MAX_KEY_LEN: usize = 1024;

/// A blob store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The key is not a safe relative path.
    #[error("invalid blob key {key:?}: {reason}")]
    InvalidKey {
        /// The key.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No blob has this key.
    #[error("blob {key} not found")]
    NotFound {
        /// The key.
        key: String,
    },
    /// The URL names no supported store.
    #[error("invalid blob store url {url:?}: {reason}")]
    InvalidUrl {
        /// The URL, with its query (which may hold a secret) removed.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The store could not be set up (a bad directory, an incomplete S3 configuration).
    #[error("opening the blob store")]
    Open(#[source] object_store::Error),
    /// The store refused or failed an operation on a key.
    #[error("{op} blob {key}")]
    Store {
        /// What was being done (`writing`, `reading`, ...).
        op: &'static str,
        /// The key.
        key: String,
        /// Why it failed.
        #[source]
        source: object_store::Error,
    },
    /// A local file could not be read or written.
    #[error("{op} {}", path.display())]
    File {
        /// What was being done (`reading`, `writing`, ...).
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
}

/// Where an S3-compatible store is and how to sign in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Config {
    /// The endpoint (`http://127.0.0.1:9000`); AWS's own when `None`.
    pub endpoint: Option<String>,
    /// The bucket, which must exist.
    pub bucket: String,
    /// The region (`us-east-1`).
    pub region: String,
    /// The access key; `AWS_ACCESS_KEY_ID` (or instance credentials) when `None`.
    pub access_key_id: Option<String>,
    /// The secret key; `AWS_SECRET_ACCESS_KEY` when `None`.
    pub secret_access_key: Option<String>,
    /// Whether a plain `http://` endpoint is allowed.
    pub allow_http: bool,
}

/// A blob store: a directory, or a bucket of an S3-compatible store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// The directory of a filesystem store (files there can be moved in, not copied).
    local_root: Option<PathBuf>,
}

impl BlobStore {
    /// Blobs as files under `dir`, which is created when missing. Writes go to a temporary
    /// file renamed into place, so a reader never sees half a blob.
    pub fn filesystem(dir: impl AsRef<Path>) -> Result<BlobStore, BlobError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|source| BlobError::File {
            op: "creating",
            path: dir.to_path_buf(),
            source,
        })?;
        let store = LocalFileSystem::new_with_prefix(dir)
            .map_err(BlobError::Open)?
            .with_automatic_cleanup(true);
        Ok(BlobStore {
            store: Arc::new(store),
            local_root: Some(dir.to_path_buf()),
        })
    }

    /// Blobs in an S3 bucket. Settings left `None` come from the `AWS_*` environment
    /// variables, as the AWS tools read them.
    pub fn s3(config: &S3Config) -> Result<BlobStore, BlobError> {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_allow_http(config.allow_http);
        if let Some(endpoint) = &config.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let Some(key) = &config.access_key_id {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = &config.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        let store = builder.build().map_err(BlobError::Open)?;
        Ok(BlobStore {
            store: Arc::new(store),
            local_root: None,
        })
    }

    /// A store from a URL: `file:///absolute/dir`, or
    /// `s3://bucket[/prefix]?endpoint=http://127.0.0.1:9000&region=us-east-1` where the query
    /// takes any of `object_store`'s S3 settings (`access_key_id`, `secret_access_key`,
    /// `allow_http`, ...; the rest come from `AWS_*` variables). An `http://` endpoint
    /// allows plain HTTP unless `allow_http` says otherwise. With a prefix, every key is
    /// stored under it.
    pub fn from_url(url: &str) -> Result<BlobStore, BlobError> {
        let shown = url.split('?').next().unwrap_or(url).to_owned();
        let invalid = |reason: String| BlobError::InvalidUrl {
            url: shown.clone(),
            reason,
        };
        if let Some(dir) = url.strip_prefix("file://") {
            if !dir.starts_with('/') {
                return Err(invalid(
                    "a file url needs an absolute path (file:///dir)".to_owned(),
                ));
            }
            return BlobStore::filesystem(dir);
        }
        let Some(rest) = url.strip_prefix("s3://") else {
            return Err(invalid("expected file:// or s3://".to_owned()));
        };
        let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (bucket, prefix) = location.split_once('/').unwrap_or((location, ""));
        if bucket.is_empty() {
            return Err(invalid("no bucket".to_owned()));
        }
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        let mut allow_http_given = false;
        let mut plain_http_endpoint = false;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = percent_decode(key).map_err(|e| invalid(e.to_owned()))?;
            let value = percent_decode(value).map_err(|e| invalid(e.to_owned()))?;
            let config_key: AmazonS3ConfigKey = key
                .parse()
                .map_err(|_| invalid(format!("unknown S3 setting {key:?}")))?;
            allow_http_given |= key.ends_with("allow_http");
            plain_http_endpoint |=
                matches!(config_key, AmazonS3ConfigKey::Endpoint) && value.starts_with("http://");
            builder = builder.with_config(config_key, value);
        }
        if plain_http_endpoint && !allow_http_given {
            builder = builder.with_allow_http(true);
        }
        let s3 = builder.build().map_err(BlobError::Open)?;
        let prefix = prefix.trim_end_matches('/');
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            let prefix = object_path(prefix)?;
            Arc::new(PrefixStore::new(s3, prefix))
        };
        Ok(BlobStore {
            store,
            local_root: None,
        })
    }

    /// Stores `bytes` under `key`, replacing any blob there.
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), BlobError> {
        let location = object_path(key)?;
        self.store
            .put(&location, PutPayload::from(bytes))
            .await
            .map_err(store_error("writing", key))?;
        Ok(())
    }

    /// Stores the file at `path` under `key` and returns its size. Files bigger than
    /// [`PART_SIZE`] are streamed as a multipart upload (at most a few parts in memory); a
    /// failed upload is aborted, leaving nothing under `key`.
    pub async fn put_file(&self, key: &str, path: &Path) -> Result<u64, BlobError> {
        let location = object_path(key)?;
        let file_error = |op| {
            move |source| BlobError::File {
                op,
                path: path.to_path_buf(),
                source,
            }
        };
        let mut file = tokio::fs::File::open(path).await.map_err(file_error("opening"))?;
        let size = file.metadata().await.map_err(file_error("reading"))?.len();
        if size <= PART_SIZE as u64 {
            let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            file.read_to_end(&mut bytes)
                .await
                .map_err(file_error("reading"))?;
            self.put(key, Bytes::from(bytes)).await?;
            return Ok(size);
        }
        let upload = self
            .store
            .put_multipart(&location)
            .await
            .map_err(store_error("starting an upload of", key))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut buffer = vec![0; 1024 * 1024];
        let sent: Result<u64, BlobError> = async {
            let mut sent = 0u64;
            loop {
                writer
                    .wait_for_capacity(UPLOAD_CONCURRENCY)
                    .await
                    .map_err(store_error("uploading", key))?;
                let n = file.read(&mut buffer).await.map_err(file_error("reading"))?;
                if n == 0 {
                    return Ok(sent);
                }
                writer.write(&buffer[..n]);
                sent += n as u64;
            }
        }
        .await;
        match sent {
            Ok(sent) => {
                writer
                    .finish()
                    .await
                    .map_err(store_error("finishing an upload of", key))?;
                Ok(sent)
            }
            Err(e) => {
                // The upload's own error is the one to report; a failed abort leaves parts
                // that the store's lifecycle rules clean up.
                let _ = writer.abort().await;
                Err(e)
            }
        }
    }

    /// Stores the file at `path` under `key`, taking the file: a filesystem store on the same
    /// disk renames it into place (no copy); otherwise it is uploaded as by
    /// [`BlobStore::put_file`] and removed. Returns its size.
    pub async fn put_file_moving(&self, key: &str, path: &Path) -> Result<u64, BlobError> {
        object_path(key)?;
        if let Some(root) = &self.local_root {
            let target = root.join(key);
            let file_error = |op, at: &Path| {
                let path = at.to_path_buf();
                move |source| BlobError::File { op, path, source }
            };
            let size = tokio::fs::metadata(path)
                .await
                .map_err(file_error("reading", path))?
                .len();
            if let Some(dir) = target.parent() {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(file_error("creating", dir))?;
            }
            if tokio::fs::rename(path, &target).await.is_ok() {
                return Ok(size);
            }
        }
        let size = self.put_file(key, path).await?;
        let _ = tokio::fs::remove_file(path).await;
        Ok(size)
    }

    /// The blob under `key`, whole; [`BlobError::NotFound`] when there is none. Use
    /// [`BlobStore::get_stream`] or [`BlobStore::get_to_file`] for big blobs.
    pub async fn get(&self, key: &str) -> Result<Bytes, BlobError> {
        let location = object_path(key)?;
        let result = self
            .store
            .get(&location)
            .await
            .map_err(store_error("reading", key))?;
        result.bytes().await.map_err(store_error("reading", key))
    }

    /// The blob under `key` as a stream of chunks, with its size: for serving a download
    /// without holding it in memory.
    pub async fn get_stream(
        &self,
        key: &str,
    ) -> Result<(u64, BoxStream<'static, Result<Bytes, BlobError>>), BlobError> {
        let location = object_path(key)?;
        if let Some(local) = self.local_stream(key, None).await {
            return Ok(local);
        }
        let result = self
            .store
            .get(&location)
            .await
            .map_err(store_error("reading", key))?;
        let size = result.meta.size;
        let key = key.to_owned();
        let stream = result
            .into_stream()
            .map_err(move |source| store_error("reading", &key)(source))
            .boxed();
        Ok((size, stream))
    }

    /// A filesystem store's file read directly in big chunks (object_store reads small ones),
    /// from `range.start` for `range`'s length when given; `None` when this is no filesystem
    /// store or the file cannot be opened (the general path then reports why).
    async fn local_stream(
        &self,
        key: &str,
        range: Option<std::ops::Range<u64>>,
    ) -> Option<(u64, BoxStream<'static, Result<Bytes, BlobError>>)> {
        use tokio::io::AsyncSeekExt;
        let path = self.local_root.as_ref()?.join(key);
        let mut file = tokio::fs::File::open(&path).await.ok()?;
        let size = file.metadata().await.ok()?.len();
        let (start, len) = match range {
            Some(r) => (r.start, r.end.saturating_sub(r.start)),
            None => (0, size),
        };
        if start > 0 {
            file.seek(std::io::SeekFrom::Start(start)).await.ok()?;
        }
        let key = key.to_owned();
        let stream = tokio_util::io::ReaderStream::with_capacity(file.take(len), 256 * 1024)
            .map_err(move |source| BlobError::File {
                op: "reading",
                path: PathBuf::from(&key),
                source,
            })
            .boxed();
        Some((size, stream))
    }

    /// The bytes `range` (end exclusive) of the blob under `key`, as a stream of chunks.
    pub async fn get_range_stream(
        &self,
        key: &str,
        range: std::ops::Range<u64>,
    ) -> Result<BoxStream<'static, Result<Bytes, BlobError>>, BlobError> {
        let location = object_path(key)?;
        if let Some((_, local)) = self.local_stream(key, Some(range.clone())).await {
            return Ok(local);
        }
        let result = self
            .store
            .get_opts(
                &location,
                object_store::GetOptions::default().with_range(Some(range)),
            )
            .await
            .map_err(store_error("reading", key))?;
        let key = key.to_owned();
        Ok(result
            .into_stream()
            .map_err(move |source| store_error("reading", &key)(source))
            .boxed())
    }

    /// Writes the blob under `key` to the file at `path` as it arrives and returns its size.
    /// The bytes go to `<path>.part`, renamed to `path` once complete.
    pub async fn get_to_file(&self, key: &str, path: &Path) -> Result<u64, BlobError> {
        let (_, mut stream) = self.get_stream(key).await?;
        let mut partial = path.as_os_str().to_owned();
        partial.push(".part");
        let partial = PathBuf::from(partial);
        let file_error = |op, path: &Path| {
            let path = path.to_path_buf();
            move |source| BlobError::File { op, path, source }
        };
        let written: Result<u64, BlobError> = async {
            let mut file = tokio::fs::File::create(&partial)
                .await
                .map_err(file_error("creating", &partial))?;
            let mut written = 0u64;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk?;
                file.write_all(&chunk)
                    .await
                    .map_err(file_error("writing", &partial))?;
                written += chunk.len() as u64;
            }
            file.flush().await.map_err(file_error("writing", &partial))?;
            Ok(written)
        }
        .await;
        match written {
            Ok(written) => {
                tokio::fs::rename(&partial, path)
                    .await
                    .map_err(file_error("renaming into", path))?;
                Ok(written)
            }
            Err(e) => {
                // The partial file is useless; the download's error is the one to report.
                let _ = tokio::fs::remove_file(&partial).await;
                Err(e)
            }
        }
    }

    /// The size of the blob under `key`, or `None` when there is none.
    pub async fn head(&self, key: &str) -> Result<Option<u64>, BlobError> {
        let location = object_path(key)?;
        match self.store.head(&location).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(source) => Err(store_error("reading the size of", key)(source)),
        }
    }

    /// Deletes the blob under `key`; deleting a missing blob is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), BlobError> {
        let location = object_path(key)?;
        match self.store.delete(&location).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(source) => Err(store_error("deleting", key)(source)),
        }
    }

    /// The keys under `prefix`, a whole-segment prefix (`artifacts/1` lists
    /// `artifacts/1/...`, not `artifacts/10/...`); `""` lists every key. Sorted.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        let location = if prefix.is_empty() {
            None
        } else {
            Some(object_path(prefix.trim_end_matches('/'))?)
        };
        let mut keys: Vec<String> = self
            .store
            .list(location.as_ref())
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await
            .map_err(store_error("listing", prefix))?;
        keys.sort();
        Ok(keys)
    }
}

/// Checks `key` and turns it into a store path.
fn object_path(key: &str) -> Result<ObjectPath, BlobError> {
    let invalid = |reason| BlobError::InvalidKey {
        key: key.to_owned(),
        reason,
    };
    if key.is_empty() {
        return Err(invalid("empty"));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(invalid("longer than 1024 bytes"));
    }
    if key.starts_with('/') || key.ends_with('/') {
        return Err(invalid("starts or ends with '/'"));
    }
    if key.contains('\\') || key.chars().any(char::is_control) {
        return Err(invalid("contains a backslash or a control character"));
    }
    if key.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        return Err(invalid("has an empty, '.' or '..' segment"));
    }
    ObjectPath::parse(key).map_err(|_| invalid("not a valid object path"))
}

/// The mapping for a failed store call: a missing object is [`BlobError::NotFound`].
fn store_error(op: &'static str, key: &str) -> impl FnOnce(object_store::Error) -> BlobError {
    let key = key.to_owned();
    move |source| match source {
        object_store::Error::NotFound { .. } => BlobError::NotFound { key },
        source => BlobError::Store { op, key, source },
    }
}

/// `%XX` escapes decoded (and `+` as a space, as in a form-encoded query).
fn percent_decode(text: &str) -> Result<String, &'static str> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'%' => {
                let hex = [bytes.next(), bytes.next()];
                let [Some(hi), Some(lo)] = hex else {
                    return Err("a truncated %-escape");
                };
                let digit = |c: u8| (c as char).to_digit(16);
                let (Some(hi), Some(lo)) = (digit(hi), digit(lo)) else {
                    return Err("a %-escape that is not hexadecimal");
                };
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
    }
    String::from_utf8(out).map_err(|_| "%-escapes that are not UTF-8")
}

#[cfg(test)]
mod tests;
