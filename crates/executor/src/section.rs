//! gitlab-runner's collapsible log sections: `section_start:<unix time>:<name>\r\e[0K<header>`
//! and `section_end:<unix time>:<name>\r\e[0K`. GitLab's log viewer folds what is between.

use std::time::{SystemTime, UNIX_EPOCH};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The line that opens a section, with the header shown in bold cyan as the runner does.
pub fn start(name: &str, header: &str) -> String {
    format!(
        "section_start:{}:{name}\r\u{1b}[0K\u{1b}[36;1m{header}\u{1b}[0;m",
        now()
    )
}

/// The line that closes a section.
pub fn end(name: &str) -> String {
    format!("section_end:{}:{name}\r\u{1b}[0K", now())
}

/// What a terminal shows of a line: a section marker up to its `\r` is dropped.
pub fn visible(line: &str) -> &str {
    if line.starts_with("section_start:") || line.starts_with("section_end:") {
        return line.split_once('\r').map_or(line, |(_, rest)| rest);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_follow_the_runner_format_and_hide_on_a_terminal() {
        let s = start("step_script", "Executing \"step_script\"");
        assert!(s.starts_with("section_start:") && s.contains(":step_script\r\u{1b}[0K"));
        assert_eq!(
            visible(&s),
            "\u{1b}[0K\u{1b}[36;1mExecuting \"step_script\"\u{1b}[0;m"
        );
        assert_eq!(visible(&end("x")), "\u{1b}[0K");
        assert_eq!(visible("plain"), "plain");
    }
}
