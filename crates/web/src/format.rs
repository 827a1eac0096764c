//! How values read on a page: statuses with their icon, durations, ages, sizes.

/// A GitLab status word as the dashboard shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// The word (`success`, `failed`, ...), also the CSS class suffix.
    pub word: String,
    /// What a person reads (`passed`, `failed`, `warning`...).
    pub label: &'static str,
    /// A one-character icon.
    pub icon: &'static str,
}

impl Status {
    /// The status `word`; `allow_failure` turns a failure into GitLab's "warning".
    pub fn of(word: &str, allowed_failure: bool) -> Status {
        let (label, icon) = match word {
            "success" => ("passed", "✓"),
            "failed" if allowed_failure => ("warning", "!"),
            "failed" => ("failed", "✗"),
            "running" => ("running", "◔"),
            "pending" => ("pending", "◷"),
            "waiting_for_resource" => ("waiting", "◷"),
            "preparing" => ("preparing", "◷"),
            "created" => ("created", "○"),
            "manual" => ("manual", "▶"),
            "scheduled" => ("delayed", "⏲"),
            "canceled" | "canceling" => ("canceled", "⊘"),
            "skipped" => ("skipped", "»"),
            _ => ("unknown", "?"),
        };
        let word = if word == "failed" && allowed_failure {
            "warning"
        } else {
            word
        };
        Status {
            word: word.to_owned(),
            label,
            icon,
        }
    }
}

/// A duration in seconds as `42s`, `3m 05s`, `1h 02m`.
pub fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// How long ago `then_ms` was at `now_ms`: `just now`, `5 minutes ago`, `2 days ago`.
pub fn ago(now_ms: i64, then_ms: i64) -> String {
    let s = (now_ms - then_ms).max(0) / 1000;
    let (n, unit) = match s {
        0..10 => return "just now".to_owned(),
        10..60 => (s, "second"),
        60..3600 => (s / 60, "minute"),
        3600..86_400 => (s / 3600, "hour"),
        _ => (s / 86_400, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// A size in bytes as `512 B`, `1.5 KiB`, `12.0 MiB`.
pub fn size(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// An epoch-milliseconds time as UTC `2026-12-07 10:04:05`.
pub fn timestamp(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_as_gitlab_shows_them() {
        assert_eq!(Status::of("success", false).label, "passed");
        let warn = Status::of("failed", true);
        assert_eq!((warn.word.as_str(), warn.label), ("warning", "warning"));
        assert_eq!(Status::of("failed", false).icon, "✗");
        assert_eq!(Status::of("whatever", false).label, "unknown");
    }

    #[test]
    fn durations_ages_sizes_and_times_are_short() {
        assert_eq!(duration(42), "42s");
        assert_eq!(duration(185), "3m 05s");
        assert_eq!(duration(3720), "1h 02m");
        assert_eq!(ago(100_000, 99_000), "just now");
        assert_eq!(ago(3_600_000, 0), "1 hour ago");
        assert_eq!(ago(300_000, 0), "5 minutes ago");
        assert_eq!(size(512), "512 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(5 << 20), "5.0 MiB");
        assert_eq!(timestamp(0), "1970-01-01 00:00:00");
        assert_eq!(timestamp(1_796_637_845_000), "2026-12-07 10:04:05");
    }
}
