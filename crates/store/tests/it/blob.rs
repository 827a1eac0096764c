//! The blob store on a directory and, when `GANTRY_TEST_S3_ENDPOINT` is set, on an S3 bucket
//! (moto's server in tests: `scripts/services.sh`), each test written once.

use crate::backend::{required, unique_name};
use bytes::Bytes;
use futures_util::TryStreamExt;
use gantry_store::blob::{BlobError, BlobStore, PART_SIZE, S3Config};

/// The S3 settings from the environment, or `None` (skipped; a failure when `CI=true`).
fn s3_settings() -> Option<(String, String, String, String)> {
    let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    match std::env::var("GANTRY_TEST_S3_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => Some((
            endpoint,
            env("GANTRY_TEST_S3_REGION", "us-east-1"),
            env("GANTRY_TEST_S3_ACCESS_KEY_ID", "test"),
            env("GANTRY_TEST_S3_SECRET_ACCESS_KEY", "test"),
        )),
        _ if required() => panic!(
            "GANTRY_TEST_S3_ENDPOINT is not set and CI=true: the blob tests must also run on S3 in CI; \
             start moto with `eval \"$(bash scripts/services.sh start)\"`"
        ),
        _ => {
            eprintln!("skipped: the S3 run (GANTRY_TEST_S3_ENDPOINT is not set; see scripts/services.sh)");
            None
        }
    }
}

/// A new bucket: moto accepts an unsigned `PUT /bucket`.
async fn create_bucket(endpoint: &str) -> String {
    let bucket = unique_name("gantry-test-").replace('_', "-");
    let response = reqwest::Client::new()
        .put(format!("{}/{bucket}", endpoint.trim_end_matches('/')))
        .send()
        .await
        .unwrap_or_else(|e| panic!("creating bucket {bucket} at {endpoint}: {e}"));
    assert!(
        response.status().is_success(),
        "creating bucket {bucket}: {}",
        response.status()
    );
    bucket
}

/// Runs `test` on a fresh directory store and, when configured, a fresh S3 bucket.
async fn each_blob_store(test: impl AsyncFn(BlobStore)) {
    let dir = tempfile::tempdir().expect("tempdir");
    eprintln!("blob store: filesystem");
    test(BlobStore::filesystem(dir.path().join("blobs")).expect("filesystem store")).await;
    let Some((endpoint, region, access_key_id, secret_access_key)) = s3_settings() else {
        return;
    };
    eprintln!("blob store: s3 at {endpoint}");
    let config = S3Config {
        endpoint: Some(endpoint.clone()),
        bucket: create_bucket(&endpoint).await,
        region,
        access_key_id: Some(access_key_id),
        secret_access_key: Some(secret_access_key),
        allow_http: true,
    };
    test(BlobStore::s3(&config).expect("s3 store")).await;
}

/// `len` bytes that do not repeat with any short period.
fn noise(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

#[tokio::test]
async fn blobs_are_put_read_sized_listed_and_deleted() {
    each_blob_store(async |store| {
        store
            .put("artifacts/1/a.zip", Bytes::from_static(b"zip one"))
            .await
            .expect("put");
        store
            .put("artifacts/1/b.txt", Bytes::from_static(b"b"))
            .await
            .expect("put");
        store
            .put("artifacts/10/c", Bytes::from_static(b""))
            .await
            .expect("put empty");
        store
            .put("traces/1", Bytes::from_static(b"log"))
            .await
            .expect("put");
        assert_eq!(
            store.get("artifacts/1/a.zip").await.expect("get"),
            &b"zip one"[..]
        );
        assert_eq!(store.get("artifacts/10/c").await.expect("get empty"), &b""[..]);
        assert_eq!(store.head("artifacts/1/a.zip").await.expect("head"), Some(7));
        assert_eq!(store.head("artifacts/1/none").await.expect("head"), None);
        assert_eq!(
            store.list("artifacts/1").await.expect("list"),
            ["artifacts/1/a.zip", "artifacts/1/b.txt"]
        );
        assert_eq!(
            store.list("artifacts/1/").await.expect("list"),
            ["artifacts/1/a.zip", "artifacts/1/b.txt"]
        );
        assert_eq!(store.list("").await.expect("list all").len(), 4);
        store
            .put("artifacts/1/a.zip", Bytes::from_static(b"zip two"))
            .await
            .expect("replace");
        let (size, stream) = store.get_stream("artifacts/1/a.zip").await.expect("stream");
        let chunks: Vec<Bytes> = stream.try_collect().await.expect("chunks");
        assert_eq!((size, chunks.concat()), (7, b"zip two".to_vec()));
        store.delete("artifacts/1/a.zip").await.expect("delete");
        store.delete("artifacts/1/a.zip").await.expect("delete again");
        assert!(matches!(
            store.get("artifacts/1/a.zip").await,
            Err(BlobError::NotFound { .. })
        ));
        assert!(matches!(
            store.get_stream("nope").await,
            Err(BlobError::NotFound { .. })
        ));
        assert_eq!(
            store.list("artifacts/1").await.expect("list"),
            ["artifacts/1/b.txt"]
        );
    })
    .await;
}

#[tokio::test]
async fn a_20_mb_file_streams_in_and_out() {
    let data = noise(20 * 1024 * 1024 + 123);
    assert!(data.len() > 2 * PART_SIZE, "the upload must take several parts");
    let dir = tempfile::tempdir().expect("tempdir");
    let source = dir.path().join("big.zip");
    std::fs::write(&source, &data).expect("write source");
    each_blob_store(async |store| {
        let sent = store
            .put_file("artifacts/big.zip", &source)
            .await
            .expect("put_file");
        assert_eq!(sent, data.len() as u64);
        assert_eq!(
            store.head("artifacts/big.zip").await.expect("head"),
            Some(data.len() as u64)
        );
        let target = dir.path().join("out/big.zip");
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        let got = store
            .get_to_file("artifacts/big.zip", &target)
            .await
            .expect("get_to_file");
        assert_eq!(got, data.len() as u64);
        assert!(
            std::fs::read(&target).expect("read back") == data,
            "the round trip changed the bytes"
        );
        std::fs::remove_file(&target).expect("remove");
        // A small file goes in one request.
        let small = dir.path().join("small.txt");
        std::fs::write(&small, b"small").expect("write");
        assert_eq!(store.put_file("small", &small).await.expect("put_file"), 5);
        assert_eq!(store.get("small").await.expect("get"), &b"small"[..]);
        let err = store.get_to_file("missing", &target).await.expect_err("missing");
        assert!(matches!(err, BlobError::NotFound { .. }), "{err:?}");
        assert!(!target.exists());
        let err = store
            .put_file("x", &dir.path().join("no-such-file"))
            .await
            .expect_err("no file");
        assert!(matches!(err, BlobError::File { .. }), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn keys_that_could_escape_are_refused() {
    each_blob_store(async |store| {
        for key in ["../x", "a/../../x", "/etc/passwd", "a//b", "", "a/./b", "x/"] {
            let err = store.put(key, Bytes::from_static(b"x")).await.expect_err(key);
            assert!(matches!(err, BlobError::InvalidKey { .. }), "{key:?}: {err:?}");
            assert!(
                matches!(store.get(key).await, Err(BlobError::InvalidKey { .. })),
                "{key:?}"
            );
            assert!(
                matches!(store.delete(key).await, Err(BlobError::InvalidKey { .. })),
                "{key:?}"
            );
        }
        assert!(matches!(
            store.list("../").await,
            Err(BlobError::InvalidKey { .. })
        ));
    })
    .await;
}

#[tokio::test]
async fn a_store_opens_from_a_url() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = BlobStore::from_url(&format!("file://{}/blobs", dir.path().display())).expect("file url");
    store.put("k/v", Bytes::from_static(b"1")).await.expect("put");
    assert!(dir.path().join("blobs/k/v").is_file());
    let Some((endpoint, region, key, secret)) = s3_settings() else {
        return;
    };
    let bucket = create_bucket(&endpoint).await;
    let url = format!(
        "s3://{bucket}/some/prefix?endpoint={endpoint}&region={region}&access_key_id={key}&secret_access_key={secret}"
    );
    let prefixed = BlobStore::from_url(&url).expect("s3 url");
    prefixed.put("k/v", Bytes::from_static(b"2")).await.expect("put");
    assert_eq!(prefixed.list("").await.expect("list"), ["k/v"]);
    let whole = BlobStore::from_url(&format!(
        "s3://{bucket}?endpoint={endpoint}&region={region}&access_key_id={key}&secret_access_key={secret}"
    ))
    .expect("s3 url");
    assert_eq!(whole.list("").await.expect("list"), ["some/prefix/k/v"]);
    assert_eq!(whole.get("some/prefix/k/v").await.expect("get"), &b"2"[..]);
}

#[tokio::test]
async fn files_are_moved_in_and_ranges_read_back() {
    let data = noise(3 * 1024 * 1024 + 7);
    let dir = tempfile::tempdir().expect("tempdir");
    each_blob_store(async |store| {
        let source = dir.path().join("upload");
        std::fs::write(&source, &data).expect("write source");
        let size = store
            .put_file_moving("registry/blobs/sha256/x", &source)
            .await
            .expect("put_file_moving");
        assert_eq!(size, data.len() as u64);
        assert!(!source.exists(), "the file was taken");
        let (total, whole) = store.get_stream("registry/blobs/sha256/x").await.expect("stream");
        assert_eq!(total, data.len() as u64);
        let whole: Vec<Bytes> = whole.try_collect().await.expect("read");
        assert!(whole.concat() == data, "the bytes came back whole");
        let part: Vec<Bytes> = store
            .get_range_stream("registry/blobs/sha256/x", 1000..1_501_000)
            .await
            .expect("range")
            .try_collect()
            .await
            .expect("read");
        assert!(part.concat() == data[1000..1_501_000], "the range is those bytes");
    })
    .await;
}
