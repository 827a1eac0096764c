//! `image:` and `services:`.

use super::variable::{Variable, read_variables};
use crate::typing::{Checker, index, join};
use crate::yaml::{Map, Node, Value};

/// `image:`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Image {
    /// The image reference.
    pub name: String,
    /// `entrypoint:` override.
    pub entrypoint: Option<Vec<String>>,
    /// `pull_policy:` values.
    pub pull_policy: Vec<String>,
    /// `docker:platform`.
    pub platform: Option<String>,
    /// `docker:user`.
    pub user: Option<String>,
}

/// One entry of `services:`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Service {
    /// The image of the service.
    pub image: Image,
    /// `alias:`: extra host names (comma or space separated).
    pub alias: Option<String>,
    /// `command:`.
    pub command: Option<Vec<String>>,
    /// `variables:` of the service.
    pub variables: Vec<Variable>,
}

pub(crate) fn read_image(ck: &mut Checker<'_>, node: &Node, path: &str) -> Option<Image> {
    match &node.value {
        Value::Str(s) => Some(Image {
            name: s.clone(),
            ..Image::default()
        }),
        _ => {
            let map = ck.map(
                node,
                path,
                &["name", "entrypoint", "pull_policy", "docker", "kubernetes"],
            )?;
            read_image_map(ck, map, node, path)
        }
    }
}

fn read_image_map(ck: &mut Checker<'_>, map: &Map, node: &Node, path: &str) -> Option<Image> {
    let mut image = Image::default();
    for (key, e) in map {
        let p = join(path, key);
        match key.as_str() {
            "name" => image.name = ck.string(&e.value, &p)?,
            "entrypoint" => image.entrypoint = ck.string_list(&e.value, &p),
            "pull_policy" => image.pull_policy = ck.strings(&e.value, &p).unwrap_or_default(),
            "docker" => {
                if let Some(d) = ck.map(&e.value, &p, &["platform", "user"]) {
                    image.platform = d
                        .get("platform")
                        .and_then(|x| ck.string(&x.value, &join(&p, "platform")));
                    image.user = d.get("user").and_then(|x| ck.string(&x.value, &join(&p, "user")));
                }
            }
            _ => {}
        }
    }
    if image.name.is_empty() {
        ck.error("missing-keyword", node, path, format!("`{path}` needs a `name`"));
        return None;
    }
    Some(image)
}

pub(crate) fn read_services(ck: &mut Checker<'_>, node: &Node, path: &str) -> Vec<Service> {
    let Some(nested) = ck.seq(node, path) else {
        return Vec::new();
    };
    // `!reference` inside the list leaves nested lists, which GitLab flattens.
    let items = crate::typing::flatten(nested);
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let p = index(path, i);
        match &item.value {
            Value::Str(s) => out.push(Service {
                image: Image {
                    name: s.clone(),
                    ..Image::default()
                },
                ..Service::default()
            }),
            _ => {
                let Some(map) = ck.map(
                    item,
                    &p,
                    &[
                        "name",
                        "entrypoint",
                        "pull_policy",
                        "docker",
                        "kubernetes",
                        "alias",
                        "command",
                        "variables",
                    ],
                ) else {
                    continue;
                };
                let Some(image) = read_image_map(ck, map, item, &p) else {
                    continue;
                };
                let alias = map
                    .get("alias")
                    .and_then(|e| ck.string(&e.value, &join(&p, "alias")));
                let command = map
                    .get("command")
                    .and_then(|e| ck.string_list(&e.value, &join(&p, "command")));
                let variables = map
                    .get("variables")
                    .and_then(|e| read_variables(ck, &e.value, &join(&p, "variables"), false))
                    .unwrap_or_default();
                out.push(Service {
                    image,
                    alias,
                    command,
                    variables,
                });
            }
        }
    }
    out
}
