//! `needs:` entries.

use crate::span::Span;
use crate::typing::{Checker, index, join};
use crate::yaml::{Node, Value};
use indexmap::IndexMap;

/// One `parallel:matrix` row of a need: variable → the values it selects.
pub type NeedMatrix = IndexMap<String, Vec<String>>;

/// One entry of `needs:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Need {
    /// The job needed (for cross-pipeline needs, the job in the other pipeline).
    pub job: String,
    /// Whether its artifacts are downloaded (`artifacts:`, default true).
    pub artifacts: bool,
    /// `optional: true`: a missing job is not an error.
    pub optional: bool,
    /// `pipeline:` for needs on a job of another pipeline (parent pipeline).
    pub pipeline: Option<String>,
    /// `project:` for needs on a job of another project.
    pub project: Option<String>,
    /// `ref:` with `project:`.
    pub reference: Option<String>,
    /// `parallel:matrix`: the matrix jobs needed.
    pub matrix: Option<Vec<NeedMatrix>>,
    /// Where the entry is.
    pub span: Span,
}

impl Need {
    /// True when the need names a job of this pipeline.
    pub fn is_local(&self) -> bool {
        self.pipeline.is_none() && self.project.is_none()
    }
}

/// Reads `needs:`: a list, or a single map written instead of a list (GitLab accepts both).
pub(crate) fn read_needs(ck: &mut Checker<'_>, node: &Node, path: &str) -> Option<Vec<Need>> {
    match &node.value {
        Value::Seq(items) => {
            let mut out = Vec::with_capacity(items.len());
            let mut flat = Vec::new();
            flatten(items, path, &mut flat);
            for (item, p) in flat.into_iter().filter(|(n, _)| !n.is_null()) {
                out.extend(read_need(ck, item, &p));
            }
            Some(out)
        }
        Value::Map(_) => Some(read_need(ck, node, path).into_iter().collect()),
        Value::Null => Some(Vec::new()),
        _ => {
            ck.type_error(node, path, "a list of jobs (or a single map)");
            None
        }
    }
}

fn flatten<'n>(items: &'n [Node], path: &str, out: &mut Vec<(&'n Node, String)>) {
    for (i, item) in items.iter().enumerate() {
        match &item.value {
            Value::Seq(inner) => flatten(inner, &index(path, i), out),
            _ => out.push((item, index(path, i))),
        }
    }
}

fn read_need(ck: &mut Checker<'_>, node: &Node, path: &str) -> Option<Need> {
    let mut need = Need {
        job: String::new(),
        artifacts: true,
        optional: false,
        pipeline: None,
        project: None,
        reference: None,
        matrix: None,
        span: node.span,
    };
    if let Value::Str(s) = &node.value {
        need.job = s.clone();
        return Some(need);
    }
    let map = ck.map(
        node,
        path,
        &[
            "job",
            "artifacts",
            "optional",
            "pipeline",
            "project",
            "ref",
            "parallel",
        ],
    )?;
    for (key, e) in map {
        let p = join(path, key);
        let v = &e.value;
        match key.as_str() {
            "job" => need.job = ck.string(v, &p)?,
            "artifacts" => need.artifacts = ck.bool(v, &p).unwrap_or(true),
            "optional" => need.optional = ck.bool(v, &p).unwrap_or(false),
            "pipeline" => need.pipeline = ck.string(v, &p),
            "project" => need.project = ck.string(v, &p),
            "ref" => need.reference = ck.string(v, &p),
            "parallel" => {
                let m = ck.map(v, &p, &["matrix"])?;
                let matrix = m.get("matrix")?;
                need.matrix = read_matrix(ck, &matrix.value, &join(&p, "matrix"));
            }
            _ => {}
        }
    }
    if need.job.is_empty() {
        ck.error(
            "missing-keyword",
            node,
            path,
            "a need written as a map must name its `job`",
        );
        return None;
    }
    Some(need)
}

/// Reads a `parallel:matrix` list: each row maps variables to one value or a list of values.
pub(crate) fn read_matrix(ck: &mut Checker<'_>, node: &Node, path: &str) -> Option<Vec<NeedMatrix>> {
    let rows = ck.seq(node, path)?;
    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let p = index(path, i);
        let Value::Map(map) = &row.value else {
            ck.type_error(row, &p, "a map of variables to values");
            return None;
        };
        let mut vars = NeedMatrix::new();
        for (name, e) in map {
            let vp = join(&p, name);
            let values = match &e.value.value {
                Value::Seq(items) => {
                    let mut vs = Vec::with_capacity(items.len());
                    for (j, item) in items.iter().enumerate() {
                        vs.push(ck.text(item, &index(&vp, j))?);
                    }
                    vs
                }
                _ => vec![ck.text(&e.value, &vp)?],
            };
            vars.insert(name.clone(), values);
        }
        out.push(vars);
    }
    Some(out)
}
