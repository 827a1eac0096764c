//! Manifests as the registry reads them: which kind a pushed body is (OCI image manifest or
//! index, Docker schema 2 manifest or manifest list), the blobs and manifests it refers to
//! (those must exist before it may), its `subject` (what the referrers API indexes it
//! under) and its artifact type. Only the fields the registry checks are read; the body is
//! stored and served byte for byte, so its digest stays the client's.

use crate::digest::Digest;
use crate::error::{Code, RegistryError};
use serde::Deserialize;
use serde_json::{Map, Value};

/// The largest manifest accepted, in bytes (the spec asks registries to take at least 4 MiB).
pub const MAX_MANIFEST: usize = 4 << 20;

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// What kind of manifest a body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// An image manifest (OCI or Docker): a config and layers.
    Image,
    /// An index (OCI index or Docker manifest list): other manifests.
    Index,
}

/// The kind of manifest a media type names; `None` for other media types.
pub fn kind_of(media_type: &str) -> Option<MediaKind> {
    match media_type {
        OCI_MANIFEST | DOCKER_MANIFEST => Some(MediaKind::Image),
        OCI_INDEX | DOCKER_LIST => Some(MediaKind::Index),
        _ => None,
    }
}

/// A content descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    /// Its media type.
    pub media_type: String,
    /// Its digest.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// Its artifact type, if it says.
    pub artifact_type: Option<String>,
    /// Its annotations, if any.
    pub annotations: Option<Map<String, Value>>,
    /// Where else its bytes may be fetched from: a non-distributable ("foreign") layer,
    /// which clients need not push, so the registry does not require it.
    pub urls: Vec<String>,
}

impl Descriptor {
    /// Whether the registry must hold the content before a manifest may name it.
    pub fn required(&self) -> bool {
        self.urls.is_empty()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDescriptor {
    #[serde(default)]
    media_type: String,
    digest: String,
    size: i64,
    #[serde(default)]
    artifact_type: Option<String>,
    #[serde(default)]
    annotations: Option<Map<String, Value>>,
    #[serde(default)]
    urls: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    schema_version: Option<i64>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    artifact_type: Option<String>,
    #[serde(default)]
    config: Option<RawDescriptor>,
    #[serde(default)]
    layers: Option<Vec<RawDescriptor>>,
    #[serde(default)]
    manifests: Option<Vec<RawDescriptor>>,
    #[serde(default)]
    subject: Option<RawDescriptor>,
    #[serde(default)]
    annotations: Option<Map<String, Value>>,
}

/// A manifest's references, as pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Image or index.
    pub kind: MediaKind,
    /// Its media type (the request's `Content-Type`, or the body's `mediaType`).
    pub media_type: String,
    /// The blobs it refers to: an image's config and layers.
    pub blobs: Vec<Descriptor>,
    /// The manifests it refers to: an index's entries.
    pub manifests: Vec<Descriptor>,
    /// The manifest it is about (referrers API), if any.
    pub subject: Option<Descriptor>,
    /// Its artifact type: `artifactType`, else an image's config media type.
    pub artifact_type: Option<String>,
    /// Its annotations, if any.
    pub annotations: Option<Map<String, Value>>,
}

fn invalid(message: impl Into<String>) -> RegistryError {
    RegistryError::new(Code::ManifestInvalid, message)
}

fn descriptor(raw: RawDescriptor, field: &str) -> Result<Descriptor, RegistryError> {
    let digest = Digest::parse(&raw.digest).map_err(|e| invalid(format!("{field}: {}", e.message)))?;
    let size = u64::try_from(raw.size).map_err(|_| invalid(format!("{field}: a negative size")))?;
    Ok(Descriptor {
        media_type: raw.media_type,
        digest,
        size,
        artifact_type: raw.artifact_type,
        annotations: raw.annotations,
        urls: raw.urls,
    })
}

/// Reads a pushed manifest: `content_type` is the request's (`None` or a generic JSON type
/// lets the body's `mediaType` decide). `MANIFEST_INVALID` for a body that is not one of the
/// four kinds, a `Content-Type` the body contradicts, or malformed descriptors.
pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Manifest, RegistryError> {
    let raw: Raw =
        serde_json::from_slice(body).map_err(|e| invalid(format!("the manifest is not valid JSON: {e}")))?;
    if raw.schema_version != Some(2) {
        return Err(RegistryError::new(
            Code::ManifestInvalid,
            "only schemaVersion 2 manifests are accepted (Docker schema 1 is not supported)",
        ));
    }
    let header = content_type
        .map(|c| c.split(';').next().unwrap_or("").trim())
        .filter(|c| !c.is_empty() && *c != "application/json" && *c != "application/octet-stream");
    let media_type = match (header, raw.media_type.as_deref()) {
        (Some(h), Some(b)) if h != b => {
            return Err(invalid(format!(
                "the Content-Type `{h}` is not the manifest's mediaType `{b}`"
            )));
        }
        (Some(h), _) => h.to_owned(),
        (None, Some(b)) => b.to_owned(),
        (None, None) if raw.manifests.is_some() => OCI_INDEX.to_owned(),
        (None, None) => OCI_MANIFEST.to_owned(),
    };
    let kind = kind_of(&media_type).ok_or_else(|| {
        invalid(format!(
            "`{media_type}` is not a manifest media type this registry accepts"
        ))
    })?;
    let subject = raw.subject.map(|s| descriptor(s, "subject")).transpose()?;
    match kind {
        MediaKind::Image => {
            let config = raw
                .config
                .ok_or_else(|| invalid("an image manifest needs a config"))?;
            let config = descriptor(config, "config")?;
            let mut blobs = vec![config];
            for (i, layer) in raw.layers.unwrap_or_default().into_iter().enumerate() {
                blobs.push(descriptor(layer, &format!("layers[{i}]"))?);
            }
            if raw.manifests.is_some() {
                return Err(invalid("an image manifest has no `manifests`"));
            }
            let artifact_type = raw.artifact_type.or_else(|| Some(blobs[0].media_type.clone()));
            Ok(Manifest {
                kind,
                media_type,
                blobs,
                manifests: Vec::new(),
                subject,
                artifact_type,
                annotations: raw.annotations,
            })
        }
        MediaKind::Index => {
            let entries = raw
                .manifests
                .ok_or_else(|| invalid("an index needs `manifests`"))?;
            let manifests = entries
                .into_iter()
                .enumerate()
                .map(|(i, m)| descriptor(m, &format!("manifests[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            if raw.config.is_some() || raw.layers.is_some() {
                return Err(invalid("an index has no config or layers"));
            }
            Ok(Manifest {
                kind,
                media_type,
                blobs: Vec::new(),
                manifests,
                subject,
                artifact_type: raw.artifact_type,
                annotations: raw.annotations,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: char) -> String {
        format!("sha256:{}", n.to_string().repeat(64))
    }

    fn image(extra: &str) -> String {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":2}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":10}}]{extra}}}"#,
            d('a'),
            d('b')
        )
    }

    #[test]
    fn an_image_manifest_refers_to_its_config_and_layers() {
        let m = parse(Some(OCI_MANIFEST), image("").as_bytes()).expect("valid");
        assert_eq!(m.kind, MediaKind::Image);
        assert_eq!(
            m.blobs.iter().map(|b| b.digest.to_string()).collect::<Vec<_>>(),
            [d('a'), d('b')]
        );
        assert_eq!(
            m.artifact_type.as_deref(),
            Some("application/vnd.oci.image.config.v1+json")
        );
        assert!(m.subject.is_none());
    }

    #[test]
    fn a_subject_and_artifact_type_are_read_for_referrers() {
        let body = image(&format!(
            r#","artifactType":"application/vnd.example.sbom","subject":{{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":100}}"#,
            d('c')
        ));
        let m = parse(None, body.as_bytes()).expect("valid");
        assert_eq!(m.artifact_type.as_deref(), Some("application/vnd.example.sbom"));
        assert_eq!(m.subject.map(|s| s.digest.to_string()), Some(d('c')));
    }

    #[test]
    fn layers_with_urls_are_not_required_to_be_pushed() {
        let body = image("").replace(
            "\"size\":10}",
            "\"size\":10,\"urls\":[\"https://store.example/layer\"]}",
        );
        let m = parse(Some(OCI_MANIFEST), body.as_bytes()).expect("valid");
        assert_eq!(
            m.blobs.iter().map(Descriptor::required).collect::<Vec<_>>(),
            [true, false]
        );
    }

    #[test]
    fn indexes_and_docker_lists_refer_to_manifests() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_LIST}","manifests":[{{"mediaType":"{DOCKER_MANIFEST}","digest":"{}","size":5,"platform":{{"os":"linux"}}}}]}}"#,
            d('e')
        );
        let m = parse(Some(DOCKER_LIST), body.as_bytes()).expect("valid");
        assert_eq!(
            (m.kind, m.manifests.len(), m.blobs.len()),
            (MediaKind::Index, 1, 0)
        );
        let bare = r#"{"schemaVersion":2,"manifests":[]}"#;
        assert_eq!(
            parse(Some("application/json"), bare.as_bytes())
                .expect("index")
                .media_type,
            OCI_INDEX
        );
    }

    #[test]
    fn bad_manifests_are_refused_with_manifest_invalid() {
        let cases = [
            (Some(OCI_MANIFEST), "not json".to_owned()),
            (
                Some(OCI_MANIFEST),
                r#"{"schemaVersion":1,"fsLayers":[]}"#.to_owned(),
            ),
            (Some(OCI_INDEX), image("")),
            (
                Some("application/vnd.example.unknown"),
                r#"{"schemaVersion":2,"config":{"digest":"x","size":1}}"#.to_owned(),
            ),
            (Some(OCI_MANIFEST), image("").replace(&d('b'), "sha256:nope")),
            (
                Some(OCI_MANIFEST),
                image("").replace("\"size\":10", "\"size\":-1"),
            ),
            (
                Some(OCI_MANIFEST),
                r#"{"schemaVersion":2,"layers":[]}"#.to_owned(),
            ),
        ];
        for (ct, body) in cases {
            let e = parse(ct, body.as_bytes()).expect_err(&body);
            assert_eq!(e.code, Code::ManifestInvalid, "{body}: {e}");
        }
    }
}
