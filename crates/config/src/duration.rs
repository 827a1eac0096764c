//! Human durations as GitLab accepts them (`timeout`, `start_in`, `expire_in`, `auto_stop_in`):
//! `3600`, `1h 30m`, `2 days`, `1 week 2 days`, `30 minutes`, `1.5h`.

/// Parses a duration into seconds; `None` when the text is not a duration.
pub fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim().to_ascii_lowercase();
    if text.is_empty() {
        return None;
    }
    if let Ok(secs) = text.parse::<u64>() {
        return Some(secs);
    }
    let mut total = 0f64;
    let mut rest = text.as_str();
    let mut any = false;
    while !rest.is_empty() {
        rest = rest
            .trim_start_matches([' ', ','])
            .trim_start_matches("and ")
            .trim_start();
        if rest.is_empty() {
            break;
        }
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let number: f64 = rest[..num_len].parse().ok()?;
        rest = rest[num_len..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let factor = match unit {
            "" | "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
            "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
            "d" | "day" | "days" => 86_400.0,
            "w" | "wk" | "wks" | "week" | "weeks" => 604_800.0,
            "mo" | "mos" | "month" | "months" => 2_629_746.0,
            "y" | "yr" | "yrs" | "year" | "years" => 31_556_952.0,
            _ => return None,
        };
        total += number * factor;
        any = true;
    }
    any.then_some(total.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn gitlab_duration_forms_parse_to_seconds() {
        for (text, secs) in [
            ("3600", 3600),
            ("1h 30m", 5400),
            ("1h30m", 5400),
            ("30 minutes", 1800),
            ("2 days", 172_800),
            ("1 week 2 days", 777_600),
            ("1.5h", 5400),
            ("3 mins 4 sec", 184),
            ("1 hour and 5 minutes", 3900),
        ] {
            assert_eq!(parse_duration(text), Some(secs), "{text}");
        }
    }

    #[test]
    fn non_durations_are_rejected() {
        for text in ["", "soon", "1 fortnight", "h"] {
            assert_eq!(parse_duration(text), None, "{text}");
        }
    }
}
