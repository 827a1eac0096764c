//! Token scopes of the Docker token flow (`repository:<name>:pull,push`,
//! `registry:catalog:*`): what a client asks for, what it is granted, and the
//! `WWW-Authenticate` challenge that tells it where to ask.

/// What may be done to a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Read manifests and blobs.
    Pull,
    /// Write manifests and blobs.
    Push,
    /// Delete manifests, tags and blobs.
    Delete,
}

impl Action {
    /// The action as scopes write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Pull => "pull",
            Action::Push => "push",
            Action::Delete => "delete",
        }
    }
}

/// One requested (or granted) scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// `repository` or `registry`.
    pub kind: String,
    /// The repository name (or `catalog`).
    pub name: String,
    /// The actions.
    pub actions: Vec<Action>,
    /// Whether `*` was asked (every action; the catalog's only one).
    pub all: bool,
}

impl Scope {
    /// Parses `kind:name:actions`; the name may hold `:` only as a repository's port-free
    /// path would not, so the kind is before the first `:` and the actions after the last.
    pub fn parse(text: &str) -> Option<Scope> {
        let (kind, rest) = text.split_once(':')?;
        let (name, actions) = rest.rsplit_once(':')?;
        if kind.is_empty() || name.is_empty() {
            return None;
        }
        let mut out = Scope {
            kind: kind.to_owned(),
            name: name.to_owned(),
            actions: Vec::new(),
            all: false,
        };
        for a in actions.split(',').map(str::trim) {
            match a {
                "pull" => out.actions.push(Action::Pull),
                "push" => out.actions.push(Action::Push),
                "delete" => out.actions.push(Action::Delete),
                "*" => out.all = true,
                _ => {}
            }
        }
        if out.all {
            out.actions = vec![Action::Pull, Action::Push, Action::Delete];
        }
        out.actions.sort();
        out.actions.dedup();
        Some(out)
    }

    /// The scope as tokens and challenges write it.
    pub fn render(&self) -> String {
        let actions: Vec<&str> = if self.all && self.kind == "registry" {
            vec!["*"]
        } else {
            self.actions.iter().map(|a| a.as_str()).collect()
        };
        format!("{}:{}:{}", self.kind, self.name, actions.join(","))
    }

    /// A repository scope with these actions.
    pub fn repository(name: &str, actions: &[Action]) -> Scope {
        Scope {
            kind: "repository".into(),
            name: name.to_owned(),
            actions: actions.to_vec(),
            all: false,
        }
    }
}

/// The `WWW-Authenticate` challenge pointing clients at the token endpoint `realm`, with the
/// scopes to ask for (space-separated, as the token flow writes several).
pub fn challenge(realm: &str, service: &str, scopes: &[Scope]) -> String {
    let mut out = format!("Bearer realm=\"{realm}\",service=\"{service}\"");
    if !scopes.is_empty() {
        let all: Vec<String> = scopes.iter().map(Scope::render).collect();
        out.push_str(&format!(",scope=\"{}\"", all.join(" ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_render() {
        let s = Scope::parse("repository:group/app:push,pull").expect("scope");
        assert_eq!((s.kind.as_str(), s.name.as_str()), ("repository", "group/app"));
        assert_eq!(s.actions, [Action::Pull, Action::Push]);
        assert_eq!(s.render(), "repository:group/app:pull,push");
        let all = Scope::parse("repository:a/b:*").expect("scope");
        assert_eq!(all.actions, [Action::Pull, Action::Push, Action::Delete]);
        let catalog = Scope::parse("registry:catalog:*").expect("scope");
        assert_eq!(catalog.render(), "registry:catalog:*");
        assert_eq!(
            Scope::parse("repository:a:frobnicate").expect("scope").actions,
            []
        );
        for bad in ["", "repository", "repository::pull", ":a:pull"] {
            assert_eq!(Scope::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_challenge_names_the_realm_service_and_scope() {
        let s = Scope::repository("g/app", &[Action::Pull]);
        assert_eq!(
            challenge(
                "http://h/jwt/auth",
                "container_registry",
                std::slice::from_ref(&s)
            ),
            "Bearer realm=\"http://h/jwt/auth\",service=\"container_registry\",scope=\"repository:g/app:pull\""
        );
        let push = Scope::repository("g/web", &[Action::Pull, Action::Push]);
        assert!(
            challenge("r", "s", &[push, s])
                .ends_with("scope=\"repository:g/web:pull,push repository:g/app:pull\"")
        );
        assert_eq!(challenge("r", "s", &[]), "Bearer realm=\"r\",service=\"s\"");
    }
}
