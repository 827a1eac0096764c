//! Byte ranges. Chunked uploads: a `PATCH` names the range it carries (`Content-Range: start-end`,
//! inclusive; `bytes start-end` and `start-end/total` as some clients write it), which must
//! begin where the upload ends now; the `Range` the registry answers with is `0-<last byte>`.
//! Downloads: a blob `GET` with `Range: bytes=...` gets that part (206).

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

/// What a blob download's `Range` header asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// The whole blob (no header, or not one valid single range: it is ignored).
    Whole,
    /// These bytes, end exclusive (206).
    Part(std::ops::Range<u64>),
    /// A range outside the blob (416).
    Outside,
}

/// Reads `bytes=a-b`, `bytes=a-` or the suffix `bytes=-n`, clipped to a blob of `size` bytes
/// (`a-b` with `b < a` is outside any blob).
pub fn requested_range(header: &str, size: u64) -> Wanted {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return Wanted::Whole;
    };
    let Some((a, b)) = spec.split_once('-').filter(|_| !spec.contains(',')) else {
        return Wanted::Whole;
    };
    let (a, b) = (a.trim(), b.trim());
    let range = match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(start), Ok(end)) if start <= end => start..end.saturating_add(1).min(size),
        // Backwards: as the conformance suite expects, nothing can be sent (416).
        (Ok(_), Ok(_)) => return Wanted::Outside,
        (Ok(start), Err(_)) if b.is_empty() => start..size,
        (Err(_), Ok(n)) if a.is_empty() => size.saturating_sub(n)..size,
        _ => return Wanted::Whole,
    };
    if range.start >= size || range.is_empty() {
        Wanted::Outside
    } else {
        Wanted::Part(range)
    }
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
    fn download_ranges_are_clipped_to_the_blob() {
        assert_eq!(requested_range("bytes=500-1499", 10_000), Wanted::Part(500..1500));
        assert_eq!(requested_range("bytes=500-", 1000), Wanted::Part(500..1000));
        assert_eq!(requested_range("bytes=-500", 1000), Wanted::Part(500..1000));
        assert_eq!(requested_range("bytes=-5000", 1000), Wanted::Part(0..1000));
        assert_eq!(requested_range("bytes=500-5000", 1000), Wanted::Part(500..1000));
        assert_eq!(requested_range("bytes=5000-10000", 1000), Wanted::Outside);
        assert_eq!(requested_range("bytes=500-0", 1000), Wanted::Outside, "backwards");
        assert_eq!(requested_range("bytes=0-1,5-6", 1000), Wanted::Whole);
        assert_eq!(requested_range("items=0-1", 1000), Wanted::Whole);
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
