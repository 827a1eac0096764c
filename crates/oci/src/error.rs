//! The distribution spec's error codes (its table of `code` values), each with the HTTP
//! status the spec gives it, and the error body `{"errors": [{code, message, detail}]}`.

use serde_json::{Value, json};

/// An error code of the distribution spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The blob is unknown to the registry.
    BlobUnknown,
    /// The upload failed (or its range is not the next one).
    BlobUploadInvalid,
    /// The upload is unknown (never started, finished or canceled).
    BlobUploadUnknown,
    /// The content does not match the digest given, or the digest is malformed.
    DigestInvalid,
    /// A blob the manifest references is not in the repository.
    ManifestBlobUnknown,
    /// The manifest is malformed or fails a rule.
    ManifestInvalid,
    /// The manifest (tag or digest) is unknown.
    ManifestUnknown,
    /// The repository name is invalid.
    NameInvalid,
    /// The repository is unknown.
    NameUnknown,
    /// The content is not the size it says.
    SizeInvalid,
    /// Authentication is required.
    Unauthorized,
    /// The caller may not do this.
    Denied,
    /// The operation is not supported.
    Unsupported,
    /// Too many requests.
    TooManyRequests,
}

impl Code {
    /// The code as it is written in error bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BlobUnknown => "BLOB_UNKNOWN",
            Code::BlobUploadInvalid => "BLOB_UPLOAD_INVALID",
            Code::BlobUploadUnknown => "BLOB_UPLOAD_UNKNOWN",
            Code::DigestInvalid => "DIGEST_INVALID",
            Code::ManifestBlobUnknown => "MANIFEST_BLOB_UNKNOWN",
            Code::ManifestInvalid => "MANIFEST_INVALID",
            Code::ManifestUnknown => "MANIFEST_UNKNOWN",
            Code::NameInvalid => "NAME_INVALID",
            Code::NameUnknown => "NAME_UNKNOWN",
            Code::SizeInvalid => "SIZE_INVALID",
            Code::Unauthorized => "UNAUTHORIZED",
            Code::Denied => "DENIED",
            Code::Unsupported => "UNSUPPORTED",
            Code::TooManyRequests => "TOOMANYREQUESTS",
        }
    }

    /// The HTTP status the spec answers with.
    pub fn status(self) -> u16 {
        match self {
            Code::BlobUnknown | Code::BlobUploadUnknown | Code::ManifestUnknown | Code::NameUnknown => 404,
            Code::Unauthorized => 401,
            Code::Denied => 403,
            Code::Unsupported => 405,
            Code::TooManyRequests => 429,
            Code::BlobUploadInvalid
            | Code::DigestInvalid
            | Code::ManifestBlobUnknown
            | Code::ManifestInvalid
            | Code::NameInvalid
            | Code::SizeInvalid => 400,
        }
    }
}

/// A registry error: its code and a message for people (with the offending value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
pub struct RegistryError {
    /// The spec's code.
    pub code: Code,
    /// What went wrong, for people.
    pub message: String,
}

impl RegistryError {
    /// An error with this code and message.
    pub fn new(code: Code, message: impl Into<String>) -> RegistryError {
        RegistryError {
            code,
            message: message.into(),
        }
    }

    /// The JSON body of the error response.
    pub fn body(&self) -> Value {
        json!({"errors": [{"code": self.code.as_str(), "message": self.message, "detail": {}}]})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_spec_words_and_statuses() {
        assert_eq!(
            (Code::BlobUnknown.as_str(), Code::BlobUnknown.status()),
            ("BLOB_UNKNOWN", 404)
        );
        assert_eq!(Code::ManifestBlobUnknown.status(), 400);
        assert_eq!(Code::Unauthorized.status(), 401);
        assert_eq!(Code::Denied.status(), 403);
        assert_eq!(Code::Unsupported.status(), 405);
        let e = RegistryError::new(Code::DigestInvalid, "sha256:00 is not the content's digest");
        assert_eq!(e.body()["errors"][0]["code"], "DIGEST_INVALID");
        assert_eq!(
            e.to_string(),
            "DIGEST_INVALID: sha256:00 is not the content's digest"
        );
    }
}
