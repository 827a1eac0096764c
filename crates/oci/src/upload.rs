//! Chunked uploads: a `PATCH` names the range it carries (`Content-Range: start-end`,
//! inclusive; `bytes start-end` and `start-end/total` as some clients write it), which must
//! begin where the upload ends now; the `Range` the registry answers with is `0-<last byte>`.

use crate::error::{Code, RegistryError};

/// The range a chunk says it carries: first and last byte offsets, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkRange {
    /// Its first byte's offset.
    pub start: u64,
    /// Its last byte's offset.
    pub end: u64,
}

/// Parses a chunk's `Content-Range`.
pub fn parse_content_range(text: &str) -> Result<ChunkRange, RegistryError> {
    let bad = || {
        RegistryError::new(
            Code::BlobUploadInvalid,
            format!("`{text}` is not a Content-Range of the form start-end"),
        )
    };
    let t = text.trim();
    let t = t.strip_prefix("bytes").map_or(t, str::trim_start);
    let t = t.split('/').next().unwrap_or(t);
    let (a, b) = t.split_once('-').ok_or_else(bad)?;
    let start: u64 = a.trim().parse().map_err(|_| bad())?;
    let end: u64 = b.trim().parse().map_err(|_| bad())?;
    if end < start {
        return Err(bad());
    }
    Ok(ChunkRange { start, end })
}

/// Checks that a chunk of `len` bytes with this range continues an upload of `size` bytes:
/// `Err(true)` when its range does not start there (the spec's 416), `Err(false)` when the
/// range does not match the chunk's length.
pub fn continues(range: ChunkRange, size: u64, len: u64) -> Result<(), bool> {
    if range.start != size {
        return Err(true);
    }
    if range.end - range.start + 1 != len {
        return Err(false);
    }
    Ok(())
}

/// The `Range` header of an upload of `size` bytes (`0-0` when empty, as registries say).
pub fn range_header(size: u64) -> String {
    format!("0-{}", size.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_are_read_in_the_forms_clients_send() {
        for (text, range) in [
            ("0-99", (0, 99)),
            ("bytes 100-199", (100, 199)),
            ("5-5/10", (5, 5)),
        ] {
            let r = parse_content_range(text).expect(text);
            assert_eq!((r.start, r.end), range, "{text}");
        }
        for bad in ["", "-5", "9-3", "a-b", "10"] {
            assert_eq!(
                parse_content_range(bad).expect_err(bad).code,
                Code::BlobUploadInvalid
            );
        }
    }

    #[test]
    fn a_chunk_must_start_where_the_upload_ends_and_fit_its_length() {
        let r = ChunkRange { start: 10, end: 19 };
        assert_eq!(continues(r, 10, 10), Ok(()));
        assert_eq!(continues(r, 5, 10), Err(true), "out of order: 416");
        assert_eq!(
            continues(r, 10, 9),
            Err(false),
            "the body is not the range's length"
        );
        assert_eq!(range_header(0), "0-0");
        assert_eq!(range_header(10), "0-9");
    }
}
