//! Names the container executor derives from `.gitlab-ci.yml` values, as gitlab-runner
//! does: services' host names, the registry an image comes from, volume specs.

/// The host names a service answers to on the job's network: the image name without tag
/// or digest with `/` as `__` and as `-` (`tutum/wordpress:latest` is `tutum__wordpress` and
/// `tutum-wordpress`), then each name of `alias` (comma- or space-separated).
pub(crate) fn service_hostnames(image: &str, alias: &[String]) -> Vec<String> {
    let bare = without_tag(image);
    let mut out = vec![bare.replace('/', "__"), bare.replace('/', "-")];
    out.extend(alias.iter().cloned());
    let mut seen = std::collections::HashSet::new();
    out.retain(|n| !n.is_empty() && seen.insert(n.clone()));
    out
}

/// `alias:` split as GitLab does (commas and white space separate names).
pub fn split_aliases(alias: &str) -> Vec<String> {
    alias
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The image reference without `@digest` and `:tag` (a registry's `:port` stays).
fn without_tag(image: &str) -> &str {
    let image = image.split_once('@').map_or(image, |(name, _)| name);
    match image.rfind(':') {
        Some(colon) if !image[colon..].contains('/') => &image[..colon],
        _ => image,
    }
}

/// The registry (`host[:port]`) an image is pulled from, when its name says one: the
/// first path component when it has a `.` or a `:`, or is `localhost`.
pub(crate) fn registry_of(image: &str) -> Option<&str> {
    let (first, _) = image.split_once('/')?;
    (first.contains('.') || first.contains(':') || first == "localhost").then_some(first)
}

/// A volume of the runner's configuration, in Docker's syntax: `host:container[:mode]` binds
/// a host path, a lone `container` path is a volume of the container's own.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Volume<'a> {
    Bind(&'a str),
    Anonymous(&'a str),
}

pub(crate) fn volume(spec: &str) -> Volume<'_> {
    if spec.contains(':') {
        Volume::Bind(spec)
    } else {
        Volume::Anonymous(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_host_names_follow_gitlab_runner() {
        assert_eq!(
            service_hostnames("tutum/wordpress:latest", &[]),
            ["tutum__wordpress", "tutum-wordpress"]
        );
        assert_eq!(
            service_hostnames("postgres:15", &["db".into()]),
            ["postgres", "db"]
        );
        assert_eq!(
            service_hostnames("registry.example.com:5000/group/redis@sha256:abc", &[]),
            [
                "registry.example.com:5000__group__redis",
                "registry.example.com:5000-group-redis"
            ]
        );
        assert_eq!(split_aliases("db, cache  other"), ["db", "cache", "other"]);
    }

    #[test]
    fn the_registry_is_the_first_component_when_it_looks_like_a_host() {
        assert_eq!(registry_of("127.0.0.1:5000/group/app:1"), Some("127.0.0.1:5000"));
        assert_eq!(registry_of("localhost/busybox"), Some("localhost"));
        assert_eq!(
            registry_of("registry.example.com/app"),
            Some("registry.example.com")
        );
        assert_eq!(registry_of("library/alpine:3"), None);
        assert_eq!(registry_of("alpine"), None);
    }

    #[test]
    fn volumes_with_a_host_path_are_binds() {
        assert_eq!(
            volume("/run/docker.sock:/var/run/docker.sock"),
            Volume::Bind("/run/docker.sock:/var/run/docker.sock")
        );
        assert_eq!(volume("/scratch"), Volume::Anonymous("/scratch"));
    }
}
