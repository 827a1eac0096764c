//! Live output: each log line prefixed with its job's name in a stable colour (plain when
//! stdout is not a terminal), start/finish lines, and the summary table at the end.

use std::io::{IsTerminal, Write};

const COLOURS: [u8; 6] = [36, 33, 35, 32, 34, 31];

pub(crate) struct Terminal {
    colour: bool,
    width: usize,
}

impl Terminal {
    pub(crate) fn new(names: &[String]) -> Self {
        let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(4).min(40);
        Terminal {
            colour: std::io::stdout().is_terminal(),
            width,
        }
    }

    fn prefix(&self, job: usize, name: &str) -> String {
        let shown: String = name.chars().take(self.width).collect();
        if self.colour {
            format!(
                "\u{1b}[{}m{shown:<w$}\u{1b}[0m │ ",
                COLOURS[job % COLOURS.len()],
                w = self.width
            )
        } else {
            format!("{shown:<w$} │ ", w = self.width)
        }
    }

    pub(crate) fn line(&self, job: usize, name: &str, text: &str) {
        // Section markers are for GitLab's log viewer; a terminal shows only their header.
        let text = gantry_executor::section::visible(text);
        if text.trim_start_matches("\u{1b}[0K").is_empty() {
            return;
        }
        let text = if self.colour {
            text.to_owned()
        } else {
            super::report::strip_ansi(text)
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}{text}", self.prefix(job, name));
    }

    pub(crate) fn event(&self, job: usize, name: &str, what: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}▶ {what}", self.prefix(job, name));
    }
}

/// The summary table: job, stage, status, duration.
pub(crate) fn summary(rows: &[(String, String, String, Option<f64>)], pipeline: &str) -> String {
    use std::fmt::Write as _;
    let w = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(3).max(3);
    let mut out = format!(
        "\n{:<w$}  {:<12} {:<10} {:>8}\n",
        "job", "stage", "status", "duration"
    );
    for (name, stage, status, duration) in rows {
        let d = duration.map(|d| format!("{d:.2}s")).unwrap_or_else(|| "-".into());
        let _ = writeln!(out, "{name:<w$}  {stage:<12} {status:<10} {d:>8}");
    }
    let _ = writeln!(out, "pipeline: {pipeline}");
    out
}
