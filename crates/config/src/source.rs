//! Where configuration files come from: the [`FileSource`] seam.
//!
//! The CLI reads the working tree, the server reads a repository at a commit; both implement
//! this trait so that resolving stays pure. Kinds of include a source cannot serve (other
//! projects, remote URLs, templates, components when offline) answer [`SourceError::Unavailable`].

/// Why a file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The file does not exist.
    #[error("file not found")]
    NotFound,
    /// The source cannot reach this kind of file (for example a remote include, offline).
    #[error("not available offline: {0}")]
    Unavailable(String),
    /// Reading failed for another reason.
    #[error("{0}")]
    Other(String),
}

/// Provides the files a configuration is made of.
///
/// Paths are relative to the project root, without a leading `/`. Implementations must be
/// deterministic for one pipeline: the same path gives the same text every time.
pub trait FileSource {
    /// Reads a file of the project at the pipeline's commit.
    fn read(&self, path: &str) -> Result<String, SourceError>;

    /// Every file path of the project at the pipeline's commit, for wildcard includes and `rules:exists`.
    fn list(&self) -> Result<Vec<String>, SourceError>;

    /// Reads a file of another project (`include:project`).
    fn read_project(
        &self,
        project: &str,
        reference: Option<&str>,
        path: &str,
    ) -> Result<String, SourceError> {
        let at = reference.map(|r| format!("@{r}")).unwrap_or_default();
        Err(SourceError::Unavailable(format!(
            "project `{project}{at}` file `{path}`"
        )))
    }

    /// Reads a remote URL (`include:remote`).
    fn read_remote(&self, url: &str) -> Result<String, SourceError> {
        Err(SourceError::Unavailable(format!("remote `{url}`")))
    }

    /// Reads one of GitLab's templates (`include:template`).
    fn read_template(&self, name: &str) -> Result<String, SourceError> {
        Err(SourceError::Unavailable(format!("template `{name}`")))
    }

    /// Reads a CI/CD component (`include:component`).
    fn read_component(&self, address: &str) -> Result<String, SourceError> {
        Err(SourceError::Unavailable(format!("component `{address}`")))
    }
}

/// A [`FileSource`] over files held in memory, for tests and for the server's fixtures.
#[derive(Clone, Debug, Default)]
pub struct MemorySource {
    files: std::collections::BTreeMap<String, String>,
}

impl MemorySource {
    /// An empty source.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file (leading `/` is ignored).
    pub fn with(mut self, path: &str, text: &str) -> Self {
        self.files
            .insert(path.trim_start_matches('/').to_owned(), text.to_owned());
        self
    }
}

impl FileSource for MemorySource {
    fn read(&self, path: &str) -> Result<String, SourceError> {
        self.files
            .get(path.trim_start_matches('/'))
            .cloned()
            .ok_or(SourceError::NotFound)
    }

    fn list(&self) -> Result<Vec<String>, SourceError> {
        Ok(self.files.keys().cloned().collect())
    }
}
