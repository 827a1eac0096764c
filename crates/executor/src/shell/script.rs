//! Turns script lines into a shell program as gitlab-runner does: `before_script` and
//! `script` in one shell session that stops at the first failing command, each command
//! echoed as `$ command` first; `after_script` in a shell of its own.

/// Quotes text for a POSIX shell (single quotes, with `'` written as `'\''`).
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn echo_command(out: &mut String, line: &str) {
    // Green `$ command`, like gitlab-runner; the colour is stripped from stored logs.
    out.push_str(&format!(
        "printf '\\033[32;1m%s\\033[0;m\\n' {}\n",
        quote(&format!("$ {line}"))
    ));
}

fn header(bash: bool) -> String {
    let mut s = String::new();
    if bash {
        s.push_str("set -eo pipefail\n");
    } else {
        // `set -o pipefail` where the shell has it (bash, busybox ash, dash 0.5.12+): a
        // container's image may have either.
        s.push_str("set -e\n(set -o pipefail) 2>/dev/null && set -o pipefail\n");
    }
    s.push_str("set +o noclobber 2>/dev/null || true\n");
    s
}

/// The program for `before_script` + `script`. Like gitlab-runner, a command is trimmed,
/// empty ones are left out, and a multi-line one is echoed as its first line followed by
/// `# collapsed multi-line command`.
pub fn render_main(before: &[String], script: &[String], bash: bool) -> String {
    let mut out = header(bash);
    for line in before.iter().chain(script) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match line.split_once('\n') {
            Some((first, _)) => echo_command(&mut out, &format!("{first} # collapsed multi-line command")),
            None => echo_command(&mut out, line),
        }
        out.push_str(line);
        out.push('\n');
    }
    out.push_str("exit 0\n");
    out
}

/// The program for `after_script`.
pub fn render_after(after: &[String], bash: bool) -> String {
    render_main(&[], after, bash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_echoed_quoted_and_run_in_order() {
        let s = render_main(&["echo 'it''s'".into()], &["make".into()], false);
        assert!(s.starts_with("set -e\n"));
        let echo = s.find("'$ echo '\\''it'\\'''\\''s'\\'''").expect("quoted echo");
        let run = s.find("\nmake\n").expect("command");
        assert!(echo < run);
        assert!(render_main(&[], &[], true).starts_with("set -eo pipefail\n"));
        let multi = render_main(&[], &["if true; then\n  echo secret-branch\nfi\n".into()], false);
        assert!(
            multi.contains("'$ if true; then # collapsed multi-line command'"),
            "{multi}"
        );
        assert_eq!(
            multi.matches("secret-branch").count(),
            1,
            "only the command itself names it"
        );
    }
}
