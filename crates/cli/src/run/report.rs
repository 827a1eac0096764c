//! `gantry run --report FILE`: the JSON record of a run (schema in docs/run-report.md).

use serde::Serialize;

#[derive(Serialize)]
pub(crate) struct Report {
    pub(crate) schema_version: u32,
    pub(crate) pipeline: PipelineReport,
    pub(crate) jobs: Vec<JobReport>,
}

#[derive(Serialize)]
pub(crate) struct PipelineReport {
    /// GitLab's pipeline status, `not_created`, or `error`.
    pub(crate) status: String,
    pub(crate) name: Option<String>,
    pub(crate) errors: Vec<String>,
    pub(crate) duration_s: f64,
}

#[derive(Serialize)]
pub(crate) struct JobReport {
    pub(crate) name: String,
    pub(crate) stage: String,
    pub(crate) status: String,
    pub(crate) allow_failure: bool,
    pub(crate) exit_code: Option<i64>,
    pub(crate) attempts: u32,
    pub(crate) started_s: Option<f64>,
    pub(crate) finished_s: Option<f64>,
    pub(crate) log: String,
}

/// Removes ANSI escape sequences (colours) from a log line.
pub(crate) fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::strip_ansi;

    #[test]
    fn colour_codes_are_removed_from_logs() {
        assert_eq!(strip_ansi("\u{1b}[32;1m$ echo hi\u{1b}[0;m"), "$ echo hi");
        assert_eq!(strip_ansi("plain"), "plain");
    }
}
