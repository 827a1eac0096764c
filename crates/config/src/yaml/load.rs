//! Builds [`Node`] trees from granit-parser (a lenient, libyaml-compatible YAML parser) events, with Psych's merge and duplicate-key rules.

use super::node::{Entry, Map, Node, Value};
use super::scalar;
use crate::diagnostic::Diagnostic;
use crate::span::{FileId, Span};
use granit_parser::{Event, Options, Parser, ScalarStyle, Tag};
use std::borrow::Cow;
use std::collections::HashMap;

/// Bounds that keep hostile input from using unbounded time or memory.
#[derive(Clone, Copy, Debug)]
pub struct LoadLimits {
    /// Largest accepted file, in bytes.
    pub max_bytes: usize,
    /// Deepest accepted nesting of sequences and mappings (GitLab's default is 100).
    pub max_depth: usize,
    /// Most nodes that aliases may copy in one file ("billion laughs" guard).
    pub max_alias_nodes: u64,
}

impl Default for LoadLimits {
    fn default() -> Self {
        LoadLimits {
            max_bytes: 16 << 20,
            max_depth: 100,
            max_alias_nodes: 1_000_000,
        }
    }
}

/// Parses every document of a YAML file. Returns `None` (with an error diagnostic) when the
/// file is not valid YAML or breaks a limit; warnings (duplicate keys, unknown tags) are added
/// to `diags` either way.
pub fn load(text: &str, file: FileId, limits: &LoadLimits, diags: &mut Vec<Diagnostic>) -> Option<Vec<Node>> {
    if text.len() > limits.max_bytes {
        diags.push(Diagnostic::error(
            "file-too-large",
            Some(Span::new(file, 1, 1)),
            "",
            format!(
                "the file is {} bytes; at most {} are accepted",
                text.len(),
                limits.max_bytes
            ),
        ));
        return None;
    }
    let mut builder = Builder {
        file,
        limits,
        diags: Vec::new(),
        stack: Vec::new(),
        anchors: HashMap::new(),
        alias_nodes: 0,
        docs: Vec::new(),
        root_seen: false,
    };
    let result = builder.run(text);
    let Builder {
        diags: found, docs, ..
    } = builder;
    diags.extend(found);
    match result {
        Ok(()) => Some(docs),
        Err(d) => {
            diags.push(*d);
            None
        }
    }
}

enum Frame {
    Seq {
        items: Vec<Node>,
        span: Span,
        anchor: usize,
        reference: bool,
        weight: u64,
    },
    Map {
        pairs: Vec<(Node, Node)>,
        key: Option<Node>,
        span: Span,
        anchor: usize,
        weight: u64,
    },
}

struct Builder<'l> {
    file: FileId,
    limits: &'l LoadLimits,
    diags: Vec<Diagnostic>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, u64)>,
    alias_nodes: u64,
    docs: Vec<Node>,
    root_seen: bool,
}

impl Builder<'_> {
    fn run(&mut self, text: &str) -> Result<(), Box<Diagnostic>> {
        let mut options = Options::default();
        options.block_scalar_eof_without_line_feed = true;
        for event in Parser::new_from_str_with_options(text, options) {
            let (event, span) = event.map_err(|e| {
                let m = e.marker();
                Box::new(Diagnostic::error(
                    "yaml-syntax",
                    Some(Span::new(self.file, m.line() as u32, m.col() as u32 + 1)),
                    "",
                    format!("invalid YAML: {}", e.info()),
                ))
            })?;
            let at = Span::new(self.file, span.start.line() as u32, span.start.col() as u32 + 1);
            match event {
                Event::Scalar(text, style, anchor, tag) => {
                    let node = self.scalar(text, style, tag.as_deref(), at);
                    self.finish(node, anchor, 1)?;
                }
                Event::Alias(id) => {
                    let weight = self.anchors.get(&id).map(|(_, w)| *w).ok_or_else(|| {
                        Box::new(Diagnostic::error(
                            "yaml-syntax",
                            Some(at),
                            "",
                            "alias to an unknown anchor",
                        ))
                    })?;
                    // Count before copying, so a bomb is refused before it allocates.
                    self.alias_nodes += weight;
                    if self.alias_nodes > self.limits.max_alias_nodes {
                        return Err(Box::new(Diagnostic::error(
                            "yaml-alias-limit",
                            Some(at),
                            "",
                            format!(
                                "aliases expand to more than {} nodes (is this an alias bomb?)",
                                self.limits.max_alias_nodes
                            ),
                        )));
                    }
                    let node = self.anchors[&id].0.clone();
                    self.finish(node, 0, weight)?;
                }
                Event::SequenceStart(_, anchor, tag) => {
                    let reference = match tag.as_deref() {
                        Some(t) if is_reference(t) => true,
                        Some(t) => {
                            self.unknown_tag(t, at);
                            false
                        }
                        None => false,
                    };
                    self.push(
                        Frame::Seq {
                            items: Vec::new(),
                            span: at,
                            anchor,
                            reference,
                            weight: 1,
                        },
                        at,
                    )?;
                }
                Event::MappingStart(_, anchor, tag) => {
                    if let Some(t) = tag.as_deref() {
                        self.tag_on_wrong_node(t, at);
                    }
                    self.push(
                        Frame::Map {
                            pairs: Vec::new(),
                            key: None,
                            span: at,
                            anchor,
                            weight: 1,
                        },
                        at,
                    )?;
                }
                Event::SequenceEnd => match self.stack.pop() {
                    Some(Frame::Seq {
                        items,
                        span,
                        anchor,
                        reference,
                        weight,
                    }) => {
                        let value = if reference {
                            Value::Reference(items)
                        } else {
                            Value::Seq(items)
                        };
                        self.finish(Node::new(value, span), anchor, weight)?;
                    }
                    _ => unreachable!("the parser emits balanced events"),
                },
                Event::MappingEnd => match self.stack.pop() {
                    Some(Frame::Map {
                        pairs,
                        span,
                        anchor,
                        weight,
                        ..
                    }) => {
                        let map = self.revive_map(pairs);
                        self.finish(Node::new(Value::Map(map), span), anchor, weight)?;
                    }
                    _ => unreachable!("the parser emits balanced events"),
                },
                Event::DocumentStart(..) => self.root_seen = false,
                Event::DocumentEnd if !self.root_seen => self.docs.push(Node::new(Value::Null, at)),
                _ => {}
            }
        }
        Ok(())
    }

    fn push(&mut self, frame: Frame, at: Span) -> Result<(), Box<Diagnostic>> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(Box::new(Diagnostic::error(
                "yaml-too-deep",
                Some(at),
                "",
                format!(
                    "the YAML is nested more than {} levels deep",
                    self.limits.max_depth
                ),
            )));
        }
        self.stack.push(frame);
        Ok(())
    }

    /// Hands a finished node to its parent (or makes it a document), and records its anchor.
    fn finish(&mut self, node: Node, anchor: usize, weight: u64) -> Result<(), Box<Diagnostic>> {
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), weight));
        }
        match self.stack.last_mut() {
            None => {
                self.docs.push(node);
                self.root_seen = true;
            }
            Some(Frame::Seq { items, weight: w, .. }) => {
                items.push(node);
                *w += weight;
            }
            Some(Frame::Map {
                pairs,
                key,
                weight: w,
                ..
            }) => {
                *w += weight;
                match key.take() {
                    None => *key = Some(node),
                    Some(k) => pairs.push((k, node)),
                }
            }
        }
        Ok(())
    }

    fn scalar(&mut self, text: Cow<'_, str>, style: ScalarStyle, tag: Option<&Tag>, at: Span) -> Node {
        let value = match tag {
            Some(t) if t.is_yaml_core_schema() => match t.suffix() {
                "str" => Value::Str(text.into_owned()),
                _ => scalar::plain(&text),
            },
            Some(t) => {
                self.tag_on_wrong_node(t, at);
                Value::Str(text.into_owned())
            }
            None if style == ScalarStyle::Plain => scalar::plain(&text),
            None => Value::Str(text.into_owned()),
        };
        Node::new(value, at)
    }

    fn tag_on_wrong_node(&mut self, tag: &Tag, at: Span) {
        if is_reference(tag) {
            self.diags.push(
                Diagnostic::error(
                    "reference-syntax",
                    Some(at),
                    "",
                    "`!reference` must tag a list such as `[job, key]`",
                )
                .with_help("write `!reference [.template, script]`"),
            );
        } else {
            self.unknown_tag(tag, at);
        }
    }

    fn unknown_tag(&mut self, tag: &Tag, at: Span) {
        if !tag.is_yaml_core_schema() {
            self.diags.push(Diagnostic::warning(
                "yaml-unknown-tag",
                Some(at),
                "",
                format!("unknown tag `{}{}` is ignored", tag.handle(), tag.suffix()),
            ));
        }
    }

    /// Turns the written key/value pairs into a map the way Psych's `revive_hash` does:
    /// `<<` merges (shallowly) over what came before, later keys replace earlier ones in place.
    fn revive_map(&mut self, pairs: Vec<(Node, Node)>) -> Map {
        let mut map = Map::with_capacity(pairs.len());
        let mut written = std::collections::HashSet::new();
        for (key, value) in pairs {
            let Some(name) = key_text(&key) else {
                self.diags.push(Diagnostic::error(
                    "yaml-key",
                    Some(key.span),
                    "",
                    "a mapping key must be a scalar",
                ));
                continue;
            };
            if name == "<<" {
                if let Some(merged) = merge_source(&value) {
                    map.extend(merged);
                    continue;
                }
            } else if !written.insert(name.clone()) {
                self.diags.push(Diagnostic::warning(
                    "duplicate-key",
                    Some(key.span),
                    name.clone(),
                    format!("duplicate key `{name}`: the last value is used, as GitLab does"),
                ));
            }
            map.insert(
                name,
                Entry {
                    key_span: key.span,
                    value,
                },
            );
        }
        map
    }
}

/// The entries a `<<` value merges in: a map, or a list of maps where earlier ones win.
fn merge_source(value: &Node) -> Option<Vec<(String, Entry)>> {
    match &value.value {
        Value::Map(m) => Some(m.iter().map(|(k, e)| (k.clone(), e.clone())).collect()),
        Value::Seq(items) => {
            let mut merged = Map::new();
            for item in items.iter().rev() {
                let Value::Map(m) = &item.value else { return None };
                for (k, e) in m {
                    merged.insert(k.clone(), e.clone());
                }
            }
            Some(merged.into_iter().collect())
        }
        _ => None,
    }
}

fn key_text(key: &Node) -> Option<String> {
    match &key.value {
        Value::Null => Some(String::new()),
        _ => key.scalar_text(),
    }
}

fn is_reference(tag: &Tag) -> bool {
    tag.handle() == "!" && tag.suffix() == "reference"
}
