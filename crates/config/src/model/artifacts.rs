//! `artifacts:` and `cache:`.

use crate::duration::parse_duration;
use crate::typing::{Checker, index, join};
use crate::yaml::{Node, Value};

/// When artifacts are uploaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ArtifactsWhen {
    /// Only when the job succeeds (default).
    #[default]
    OnSuccess,
    /// Only when the job fails.
    OnFailure,
    /// Whatever the outcome.
    Always,
}

/// `artifacts:`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Artifacts {
    /// Globs of files to keep.
    pub paths: Vec<String>,
    /// Globs of files to leave out.
    pub exclude: Vec<String>,
    /// Also keep files git does not track.
    pub untracked: bool,
    /// When to upload.
    pub when: ArtifactsWhen,
    /// How long to keep them (`None`: the instance default; `Some(None)`: never expire).
    pub expire_in: Option<Option<u64>>,
    /// The archive's name.
    pub name: Option<String>,
    /// `expose_as:` label in merge requests.
    pub expose_as: Option<String>,
    /// `public:` (deprecated in favour of `access`).
    pub public: Option<bool>,
    /// `access:` (all, developer, none).
    pub access: Option<String>,
    /// `reports:`: report type → file globs.
    pub reports: Vec<(String, Vec<String>)>,
}

impl Artifacts {
    /// The globs of `reports:dotenv`.
    pub fn dotenv(&self) -> &[String] {
        self.reports
            .iter()
            .find(|(k, _)| k == "dotenv")
            .map_or(&[], |(_, v)| v)
    }
}

const REPORTS: &[&str] = &[
    "accessibility",
    "annotations",
    "api_fuzzing",
    "browser_performance",
    "coverage_report",
    "codequality",
    "container_scanning",
    "coverage_fuzzing",
    "cyclonedx",
    "dast",
    "dependency_scanning",
    "dotenv",
    "junit",
    "license_scanning",
    "load_performance",
    "metrics",
    "requirements",
    "repository_xray",
    "sast",
    "secret_detection",
    "terraform",
    "cobertura",
    "performance",
    "lsif",
];

pub(crate) fn read_artifacts(ck: &mut Checker<'_>, node: &Node, path: &str) -> Option<Artifacts> {
    let map = ck.map(
        node,
        path,
        &[
            "paths",
            "exclude",
            "untracked",
            "when",
            "expire_in",
            "name",
            "expose_as",
            "public",
            "access",
            "reports",
        ],
    )?;
    let mut a = Artifacts::default();
    for (key, e) in map {
        let p = join(path, key);
        let v = &e.value;
        match key.as_str() {
            "paths" => a.paths = ck.string_list(v, &p).unwrap_or_default(),
            "exclude" => a.exclude = ck.string_list(v, &p).unwrap_or_default(),
            "untracked" => a.untracked = ck.bool(v, &p).unwrap_or(false),
            "when" => {
                a.when = match ck.string(v, &p).as_deref() {
                    Some("on_success") | None => ArtifactsWhen::OnSuccess,
                    Some("on_failure") => ArtifactsWhen::OnFailure,
                    Some("always") => ArtifactsWhen::Always,
                    Some(other) => {
                        ck.error(
                            "invalid-value",
                            v,
                            &p,
                            format!("`{p}` is `{other}`; expected on_success, on_failure or always"),
                        );
                        ArtifactsWhen::OnSuccess
                    }
                }
            }
            "expire_in" => a.expire_in = read_expiry(ck, v, &p),
            "name" => a.name = ck.text(v, &p),
            "expose_as" => a.expose_as = ck.string(v, &p),
            "public" => a.public = ck.bool(v, &p),
            "access" => {
                a.access = ck.string(v, &p);
                if let Some(x) = &a.access
                    && !["all", "developer", "maintainer", "none"].contains(&x.as_str())
                {
                    ck.error(
                        "invalid-value",
                        v,
                        &p,
                        format!("`{p}` is `{x}`; expected all, developer, maintainer or none"),
                    );
                }
                if map.contains_key("public") {
                    ck.error(
                        "invalid-value",
                        v,
                        &p,
                        "`artifacts:public` and `artifacts:access` cannot be used in the same job",
                    );
                }
            }
            "reports" => {
                let Some(reports) = ck.map(v, &p, REPORTS) else {
                    continue;
                };
                for (kind, r) in reports {
                    let rp = join(&p, kind);
                    let globs = match &r.value.value {
                        Value::Map(_) => ck
                            .map(&r.value, &rp, &["coverage_format", "path"])
                            .and_then(|m| m.get("path"))
                            .and_then(|e| ck.strings(&e.value, &join(&rp, "path")))
                            .unwrap_or_default(),
                        _ => ck.strings(&r.value, &rp).unwrap_or_default(),
                    };
                    if kind == "cobertura" {
                        ck.diags.push(crate::diagnostic::Diagnostic::warning(
                            "deprecated",
                            Some(r.key_span),
                            rp.clone(),
                            "`artifacts:reports:cobertura` is deprecated; GitLab uses `coverage_report`",
                        ));
                    }
                    a.reports.push((kind.clone(), globs));
                }
            }
            _ => {}
        }
    }
    Some(a)
}

/// `expire_in`: a duration, or `never`. A value with variables is kept unchecked.
fn read_expiry(ck: &mut Checker<'_>, node: &Node, path: &str) -> Option<Option<u64>> {
    let text = ck.text(node, path)?;
    if text == "never" {
        return Some(None);
    }
    match parse_duration(&text) {
        Some(secs) => Some(Some(secs)),
        None if text.contains('$') => None,
        None => {
            ck.error(
                "invalid-duration",
                node,
                path,
                format!("`{path}` is not a duration: `{text}`"),
            );
            None
        }
    }
}

/// `cache:key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheKey {
    /// A fixed key (may contain variables).
    Literal(String),
    /// `key:files` (+ `prefix`): derived from the content of up to two files.
    Files {
        /// The files whose content makes the key.
        files: Vec<String>,
        /// A prefix put before the derived key.
        prefix: Option<String>,
    },
}

/// `cache:policy`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum CachePolicy {
    /// Download before, upload after (default).
    #[default]
    PullPush,
    /// Download only.
    Pull,
    /// Upload only.
    Push,
    /// A variable to expand when the job runs.
    Variable(String),
}

/// `cache:when`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CacheWhen {
    /// Save when the job succeeded (default).
    #[default]
    OnSuccess,
    /// Save when it failed.
    OnFailure,
    /// Save always.
    Always,
}

/// One `cache:` entry.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Cache {
    /// `key:`; `None` means GitLab's `default` key.
    pub key: Option<CacheKey>,
    /// Globs to cache.
    pub paths: Vec<String>,
    /// Also cache untracked files.
    pub untracked: bool,
    /// `unprotect:`.
    pub unprotect: bool,
    /// Pull, push or both.
    pub policy: CachePolicy,
    /// When to save.
    pub when: CacheWhen,
    /// Keys tried when `key` has no cache yet.
    pub fallback_keys: Vec<String>,
}

/// Reads `cache:`: a map or a list of at most four maps.
pub(crate) fn read_caches(ck: &mut Checker<'_>, node: &Node, path: &str) -> Option<Vec<Cache>> {
    match &node.value {
        Value::Seq(nested) => {
            let items = crate::typing::flatten(nested);
            if items.len() > 4 {
                ck.error("too-many-caches", node, path, "a job can have at most 4 caches");
            }
            Some(
                items
                    .into_iter()
                    .enumerate()
                    .filter_map(|(i, n)| read_cache(ck, n, &index(path, i)))
                    .collect(),
            )
        }
        Value::Null => Some(Vec::new()),
        _ => Some(read_cache(ck, node, path).into_iter().collect()),
    }
}

fn read_cache(ck: &mut Checker<'_>, node: &Node, path: &str) -> Option<Cache> {
    let map = ck.map(
        node,
        path,
        &[
            "key",
            "paths",
            "untracked",
            "unprotect",
            "policy",
            "when",
            "fallback_keys",
        ],
    )?;
    let mut c = Cache::default();
    for (key, e) in map {
        let p = join(path, key);
        let v = &e.value;
        match key.as_str() {
            "key" => {
                c.key = match &v.value {
                    Value::Map(_) => {
                        let m = ck.map(v, &p, &["files", "prefix"])?;
                        let files = m
                            .get("files")
                            .and_then(|f| ck.string_list(&f.value, &join(&p, "files")));
                        let Some(files) = files else {
                            ck.error("missing-keyword", v, &p, "`cache:key` as a map needs `files`");
                            continue;
                        };
                        if files.len() > 2 {
                            ck.error(
                                "invalid-value",
                                v,
                                &p,
                                "`cache:key:files` takes at most two files",
                            );
                        }
                        let prefix = m
                            .get("prefix")
                            .and_then(|f| ck.text(&f.value, &join(&p, "prefix")));
                        Some(CacheKey::Files { files, prefix })
                    }
                    _ => ck.text(v, &p).map(CacheKey::Literal),
                }
            }
            "paths" => c.paths = ck.string_list(v, &p).unwrap_or_default(),
            "untracked" => c.untracked = ck.bool(v, &p).unwrap_or(false),
            "unprotect" => c.unprotect = ck.bool(v, &p).unwrap_or(false),
            "policy" => {
                c.policy = match ck.string(v, &p).as_deref() {
                    Some("pull-push") | None => CachePolicy::PullPush,
                    Some("pull") => CachePolicy::Pull,
                    Some("push") => CachePolicy::Push,
                    Some(var) if var.starts_with('$') => CachePolicy::Variable(var.to_owned()),
                    Some(other) => {
                        ck.error(
                            "invalid-value",
                            v,
                            &p,
                            format!("`{p}` is `{other}`; expected pull, push or pull-push"),
                        );
                        CachePolicy::PullPush
                    }
                }
            }
            "when" => {
                c.when = match ck.string(v, &p).as_deref() {
                    Some("on_success") | None => CacheWhen::OnSuccess,
                    Some("on_failure") => CacheWhen::OnFailure,
                    Some("always") => CacheWhen::Always,
                    Some(other) => {
                        ck.error(
                            "invalid-value",
                            v,
                            &p,
                            format!("`{p}` is `{other}`; expected on_success, on_failure or always"),
                        );
                        CacheWhen::OnSuccess
                    }
                }
            }
            "fallback_keys" => c.fallback_keys = ck.string_list(v, &p).unwrap_or_default(),
            _ => {}
        }
    }
    Some(c)
}
