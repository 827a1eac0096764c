//! `include:`: loads every included file, applies `spec:inputs`, and deep-merges them
//! in GitLab's order (included files in order, then the including file on top).

use crate::diagnostic::{Diagnostic, INCLUDE_UNAVAILABLE};
use crate::inputs::apply_inputs;
use crate::merge::deep_merge;
use crate::model::{Rule, read_include_rules};
use crate::source::{FileSource, SourceError};
use crate::span::{Files, Span};
use crate::typing::{Checker, index, join};
use crate::vars::{ExpandOptions, expand};
use crate::yaml::{LoadLimits, Map, Node, Value, load};

/// GitLab's default limit on the number of included files in one pipeline.
pub const MAX_INCLUDES: usize = 150;

/// What include processing needs to know about the pipeline being created.
pub trait IncludeEnv {
    /// The value of a variable usable in `include:` (predefined, pipeline and project variables).
    fn variable(&self, name: &str) -> Option<&str>;
    /// Whether `include:rules` let the file in.
    fn rules_allow(&self, rules: &[Rule]) -> bool;
}

/// Where a file came from; local includes inside it are relative to that place.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Origin {
    Local,
    Project {
        project: String,
        reference: Option<String>,
    },
    Elsewhere,
}

pub(crate) struct Includer<'a> {
    pub(crate) source: &'a dyn FileSource,
    pub(crate) env: &'a dyn IncludeEnv,
    pub(crate) limits: LoadLimits,
    pub(crate) files: Files,
    pub(crate) diags: Vec<Diagnostic>,
    pub(crate) unavailable: bool,
    count: usize,
    stack: Vec<String>,
    project_files: Option<Vec<String>>,
    parsed: std::collections::HashMap<(crate::span::FileId, usize), Vec<Node>>,
}

impl<'a> Includer<'a> {
    pub(crate) fn new(source: &'a dyn FileSource, env: &'a dyn IncludeEnv) -> Self {
        Includer {
            source,
            env,
            limits: LoadLimits::default(),
            files: Files::default(),
            diags: Vec::new(),
            unavailable: false,
            count: 0,
            stack: Vec::new(),
            project_files: None,
            parsed: std::collections::HashMap::new(),
        }
    }

    /// Loads the root file and everything it includes into one map.
    pub(crate) fn root(&mut self, path: &str, text: &str) -> Option<(Map, Span)> {
        let file = self.files.intern(path);
        let span = Span::new(file, 1, 1);
        self.stack.push(format!("local:{path}"));
        let map = self.file(&Origin::Local, path, text, None, span);
        self.stack.pop();
        map.map(|m| (m, span))
    }

    fn file(
        &mut self,
        origin: &Origin,
        name: &str,
        text: &str,
        inputs: Option<&Node>,
        at: Span,
    ) -> Option<Map> {
        let file = self.files.intern(name);
        // A file included many times (with different inputs) is parsed once.
        let cached = self.parsed.get(&(file, text.len())).cloned();
        let mut docs = match cached {
            Some(docs) => docs,
            None => {
                let docs = load(text, file, &self.limits, &mut self.diags)?;
                self.parsed.insert((file, text.len()), docs.clone());
                docs
            }
        };
        let (header, mut content) = split_header(&mut docs, Span::new(file, 1, 1));
        match header {
            Some(spec) => apply_inputs(&spec, inputs, &mut content, self.env, &mut self.diags),
            None => {
                if let Some(given) = inputs {
                    self.diags.push(Diagnostic::error(
                        "include-inputs",
                        Some(given.span),
                        "include.inputs",
                        format!("`{name}` takes no inputs: it has no `spec:inputs` header"),
                    ));
                }
            }
        }
        let mut map = match content.value {
            Value::Map(m) => m,
            Value::Null => Map::new(),
            _ => {
                self.diags.push(Diagnostic::error(
                    "invalid-config",
                    Some(content.span),
                    "",
                    format!(
                        "`{name}` must contain a map of keywords and jobs, found {}",
                        content.kind()
                    ),
                ));
                let _ = at;
                return None;
            }
        };
        let Some(include) = map.shift_remove("include") else {
            return Some(map);
        };
        let mut merged = Map::new();
        let entries: Vec<(Node, String)> = match include.value.value {
            Value::Seq(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, n)| (n, index("include", i)))
                .collect(),
            Value::Null => Vec::new(),
            _ => vec![(include.value, "include".to_owned())],
        };
        for (entry, path) in entries {
            for included in self.entry(origin, &entry, &path) {
                deep_merge(&mut merged, included);
            }
        }
        deep_merge(&mut merged, map);
        Some(merged)
    }

    /// Processes one `include:` entry; returns the maps of the files it brings in.
    fn entry(&mut self, origin: &Origin, entry: &Node, path: &str) -> Vec<Map> {
        let location = match &entry.value {
            Value::Str(s) if s.starts_with("https://") || s.starts_with("http://") => {
                Location::Remote(s.clone())
            }
            Value::Str(s) => Location::Local(s.clone()),
            Value::Map(_) => {
                let mut ck = Checker {
                    diags: &mut self.diags,
                };
                let Some(map) = ck.map(
                    entry,
                    path,
                    &[
                        "local",
                        "project",
                        "file",
                        "ref",
                        "remote",
                        "template",
                        "component",
                        "rules",
                        "inputs",
                        "cache",
                        "integrity",
                    ],
                ) else {
                    return Vec::new();
                };
                if let Some(rules) = map.get("rules") {
                    let rules =
                        read_include_rules(&mut ck, &rules.value, &join(path, "rules")).unwrap_or_default();
                    if !self.env.rules_allow(&rules) {
                        return Vec::new();
                    }
                }
                let Some(location) = self.location(map, entry, path) else {
                    return Vec::new();
                };
                let inputs = map.get("inputs").map(|e| e.value.clone());
                return self.load_location(origin, location, inputs.as_ref(), entry, path);
            }
            _ => {
                self.diags.push(Diagnostic::error(
                    "type",
                    Some(entry.span),
                    path,
                    format!("an include must be a file path or a map, found {}", entry.kind()),
                ));
                return Vec::new();
            }
        };
        self.load_location(origin, location, None, entry, path)
    }

    fn location(&mut self, map: &Map, entry: &Node, path: &str) -> Option<Location> {
        let mut ck = Checker {
            diags: &mut self.diags,
        };
        let get = |k: &str| map.get(k).map(|e| &e.value);
        let location = if let Some(v) = get("local") {
            Location::Local(ck.string(v, &join(path, "local"))?)
        } else if let Some(v) = get("project") {
            let project = ck.string(v, &join(path, "project"))?;
            let Some(files) = get("file") else {
                ck.error("missing-keyword", entry, path, "`include:project` needs `file`");
                return None;
            };
            let files = ck.strings(files, &join(path, "file"))?;
            let reference = get("ref").and_then(|r| ck.text(r, &join(path, "ref")));
            Location::Project {
                project,
                files,
                reference,
            }
        } else if let Some(v) = get("remote") {
            Location::Remote(ck.string(v, &join(path, "remote"))?)
        } else if let Some(v) = get("template") {
            Location::Template(ck.string(v, &join(path, "template"))?)
        } else if let Some(v) = get("component") {
            Location::Component(ck.string(v, &join(path, "component"))?)
        } else {
            ck.error(
                "missing-keyword",
                entry,
                path,
                "an include needs one of `local`, `project`, `remote`, `template` or `component`",
            );
            return None;
        };
        Some(location)
    }

    fn expand(&self, text: &str) -> String {
        expand(
            text,
            &|n| self.env.variable(n),
            ExpandOptions {
                keep_unknown: true,
                dollar_escape: false,
            },
        )
    }

    fn load_location(
        &mut self,
        origin: &Origin,
        location: Location,
        inputs: Option<&Node>,
        entry: &Node,
        path: &str,
    ) -> Vec<Map> {
        let mut out = Vec::new();
        match location {
            Location::Local(raw) => {
                let wanted = self.expand(&raw);
                let wanted = wanted.trim_start_matches('/');
                let names = if wanted.contains('*') {
                    self.wildcard(wanted, entry, path)
                } else {
                    vec![wanted.to_owned()]
                };
                for name in names {
                    if !self.check_extension(&name, entry, path) {
                        continue;
                    }
                    let (key, read) = match origin {
                        Origin::Project { project, reference } => (
                            format!("project:{project}@{}:{name}", reference.as_deref().unwrap_or("")),
                            self.source.read_project(project, reference.as_deref(), &name),
                        ),
                        _ => (format!("local:{name}"), self.source.read(&name)),
                    };
                    out.extend(self.include_text(origin.clone(), &key, &name, read, inputs, entry, path));
                }
            }
            Location::Project {
                project,
                files,
                reference,
            } => {
                let project = self.expand(&project);
                let reference = reference.map(|r| self.expand(&r));
                for file in files {
                    let file = self.expand(&file).trim_start_matches('/').to_owned();
                    if !self.check_extension(&file, entry, path) {
                        continue;
                    }
                    let key = format!("project:{project}@{}:{file}", reference.as_deref().unwrap_or(""));
                    let read = self.source.read_project(&project, reference.as_deref(), &file);
                    let next = Origin::Project {
                        project: project.clone(),
                        reference: reference.clone(),
                    };
                    out.extend(self.include_text(next, &key, &key, read, inputs, entry, path));
                }
            }
            Location::Remote(url) => {
                let url = self.expand(&url);
                let read = self.source.read_remote(&url);
                out.extend(self.include_text(
                    Origin::Elsewhere,
                    &format!("remote:{url}"),
                    &url,
                    read,
                    inputs,
                    entry,
                    path,
                ));
            }
            Location::Template(name) => {
                let read = self.source.read_template(&name);
                out.extend(self.include_text(
                    Origin::Elsewhere,
                    &format!("template:{name}"),
                    &name,
                    read,
                    inputs,
                    entry,
                    path,
                ));
            }
            Location::Component(address) => {
                let address = self.expand(&address);
                let read = self.source.read_component(&address);
                let key = format!("component:{address}");
                out.extend(self.include_text(Origin::Elsewhere, &key, &address, read, inputs, entry, path));
            }
        }
        out
    }

    fn check_extension(&mut self, name: &str, entry: &Node, path: &str) -> bool {
        let ok = name.ends_with(".yml") || name.ends_with(".yaml");
        if !ok {
            self.diags.push(Diagnostic::error(
                "include-extension",
                Some(entry.span),
                path,
                format!("included file `{name}` does not have a .yml or .yaml extension"),
            ));
        }
        ok
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one call site per include kind; a struct would only rename them"
    )]
    fn include_text(
        &mut self,
        origin: Origin,
        key: &str,
        name: &str,
        read: Result<String, SourceError>,
        inputs: Option<&Node>,
        entry: &Node,
        path: &str,
    ) -> Option<Map> {
        let text = match read {
            Ok(text) => text,
            Err(SourceError::Unavailable(what)) => {
                self.unavailable = true;
                self.diags.push(
                    Diagnostic::warning(
                        INCLUDE_UNAVAILABLE,
                        Some(entry.span),
                        path,
                        format!("include not available offline: {what}"),
                    )
                    .with_help("jobs, templates and stages it defines are unknown; errors that follow from that are marked `caused_by: include-unavailable`"),
                );
                return None;
            }
            Err(SourceError::NotFound) => {
                self.diags.push(Diagnostic::error(
                    "include-not-found",
                    Some(entry.span),
                    path,
                    format!("included file `{name}` does not exist"),
                ));
                return None;
            }
            Err(SourceError::Other(why)) => {
                self.diags.push(Diagnostic::error(
                    "include-read",
                    Some(entry.span),
                    path,
                    format!("included file `{name}` could not be read: {why}"),
                ));
                return None;
            }
        };
        if self.stack.iter().any(|k| k == key) {
            self.diags.push(Diagnostic::error(
                "include-cycle",
                Some(entry.span),
                path,
                format!(
                    "include cycle: `{name}` is already being included ({} → {name})",
                    self.stack.join(" → ")
                ),
            ));
            return None;
        }
        self.count += 1;
        if self.count > MAX_INCLUDES {
            if self.count == MAX_INCLUDES + 1 {
                self.diags.push(Diagnostic::error(
                    "include-limit",
                    Some(entry.span),
                    path,
                    format!("too many includes: a pipeline may include at most {MAX_INCLUDES} files"),
                ));
            }
            return None;
        }
        self.stack.push(key.to_owned());
        let map = self.file(&origin, name, &text, inputs, entry.span);
        self.stack.pop();
        map
    }

    fn wildcard(&mut self, pattern: &str, entry: &Node, path: &str) -> Vec<String> {
        if self.project_files.is_none() {
            self.project_files = Some(self.source.list().unwrap_or_default());
        }
        let re = wildcard_regex(pattern);
        let mut names: Vec<String> = self
            .project_files
            .iter()
            .flatten()
            .filter(|f| re.as_ref().is_some_and(|r| r.is_match(f)))
            .cloned()
            .collect();
        names.sort();
        if names.is_empty() {
            self.diags.push(Diagnostic::error(
                "include-not-found",
                Some(entry.span),
                path,
                format!("no file matches the include pattern `{pattern}`"),
            ));
        }
        names
    }
}

enum Location {
    Local(String),
    Project {
        project: String,
        files: Vec<String>,
        reference: Option<String>,
    },
    Remote(String),
    Template(String),
    Component(String),
}

/// `*` stays within one directory, `**` crosses directories (GitLab's include wildcards).
fn wildcard_regex(pattern: &str) -> Option<regex::Regex> {
    let mut re = String::from("^");
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                re.push_str(".*");
            }
            '*' => re.push_str("[^/]*"),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).ok()
}

/// Splits off a `spec:` header document, when the file has one.
fn split_header(docs: &mut Vec<Node>, start: Span) -> (Option<Node>, Node) {
    let is_header = docs.len() >= 2 && docs[0].as_map().is_some_and(|m| m.contains_key("spec"));
    if is_header {
        let content = docs.remove(1);
        let header = docs.remove(0);
        (Some(header), content)
    } else {
        (
            None,
            docs.drain(..).next().unwrap_or(Node::new(Value::Null, start)),
        )
    }
}

/// A text form of a value that ignores positions, to recognise the same inputs twice.
pub(crate) fn fingerprint(node: &Node) -> String {
    match &node.value {
        Value::Null => "~".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Str(s) => format!("{s:?}"),
        Value::Seq(items) | Value::Reference(items) => {
            format!(
                "[{}]",
                items.iter().map(fingerprint).collect::<Vec<_>>().join(",")
            )
        }
        Value::Map(m) => {
            format!(
                "{{{}}}",
                m.iter()
                    .map(|(k, e)| format!("{k:?}:{}", fingerprint(&e.value)))
                    .collect::<Vec<_>>()
                    .join(",")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::wildcard_regex;

    #[test]
    fn single_star_stays_in_its_directory_and_double_star_crosses() {
        let one = wildcard_regex("ci/*.yml").unwrap();
        assert!(one.is_match("ci/a.yml") && !one.is_match("ci/sub/c.yml"));
        let sub = wildcard_regex("more/**/*.yml").unwrap();
        assert!(sub.is_match("more/x/deep.yml") && !sub.is_match("more/top.yml"));
        let any = wildcard_regex("configs/**.yml").unwrap();
        assert!(any.is_match("configs/a.yml") && any.is_match("configs/x/y.yml"));
    }
}
