//! Source positions: which file, line and column a YAML node came from.
//!
//! Files are interned in a [`Files`] table so that a [`Span`] stays `Copy` and small;
//! diagnostics are rendered with the table at the edge (CLI, server).

/// Index of a file in a [`Files`] table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A position in a configuration file: 1-based line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    /// The file the position is in.
    pub file: FileId,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub col: u32,
}

impl Span {
    /// A span at `line:col` of `file`.
    pub fn new(file: FileId, line: u32, col: u32) -> Self {
        Span { file, line, col }
    }
}

/// The table of file names that [`FileId`]s point into.
#[derive(Clone, Debug, Default)]
pub struct Files {
    names: Vec<String>,
}

impl Files {
    /// Adds a file name (or returns its id when it is already known).
    pub fn intern(&mut self, name: &str) -> FileId {
        if let Some(i) = self.names.iter().position(|n| n == name) {
            return FileId(i as u32);
        }
        self.names.push(name.to_owned());
        FileId((self.names.len() - 1) as u32)
    }

    /// The name of a file; `"?"` for an id from another table.
    pub fn name(&self, id: FileId) -> &str {
        self.names.get(id.0 as usize).map_or("?", String::as_str)
    }
}
