//! Unit tests of key checking and URL decoding; the store itself is tested in `tests/it`.

use super::*;

#[test]
fn keys_must_be_safe_relative_paths() {
    for good in ["a", "artifacts/1/2.zip", "a b/c-d_e.f", "x/..y/z"] {
        assert!(object_path(good).is_ok(), "{good}");
    }
    for bad in [
        "", "/a", "a/", "../x", "a/../b", "a/./b", "a//b", ".", "..", "a\\b", "a\0b",
    ] {
        assert!(
            matches!(object_path(bad), Err(BlobError::InvalidKey { .. })),
            "{bad:?} was accepted"
        );
    }
    assert!(object_path(&"k".repeat(1025)).is_err());
}

#[test]
fn query_values_are_percent_decoded() {
    assert_eq!(
        percent_decode("http%3A%2F%2Fh%3A9000").as_deref(),
        Ok("http://h:9000")
    );
    assert_eq!(percent_decode("a+b").as_deref(), Ok("a b"));
    assert!(percent_decode("%4").is_err());
    assert!(percent_decode("%zz").is_err());
}

#[test]
fn urls_name_a_directory_or_a_bucket() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("file://{}/blobs", dir.path().display());
    assert!(BlobStore::from_url(&url).is_ok());
    assert!(dir.path().join("blobs").is_dir());
    assert!(matches!(
        BlobStore::from_url("file://rel"),
        Err(BlobError::InvalidUrl { .. })
    ));
    assert!(matches!(
        BlobStore::from_url("ftp://x"),
        Err(BlobError::InvalidUrl { .. })
    ));
    assert!(matches!(
        BlobStore::from_url("s3://?region=x"),
        Err(BlobError::InvalidUrl { .. })
    ));
    let err =
        BlobStore::from_url("s3://b?no_such_setting=1&secret_access_key=hush").expect_err("unknown key");
    assert!(!format!("{err}").contains("hush"), "{err}");
    let s3 = "s3://bucket/some/prefix?endpoint=http://127.0.0.1:1&region=us-east-1&access_key_id=a&secret_access_key=b";
    assert!(BlobStore::from_url(s3).is_ok());
}
