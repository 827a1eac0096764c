//! A job log (trace) as the log viewer shows it: lines of styled spans (SGR colours and
//! attributes, 16-colour classes, 256-colour and true-colour values), with the runner's
//! collapsible sections (`section_start:<unix time>:<name>[collapsed=true]\r\e[0K` and
//! `section_end:<unix time>:<name>\r\e[0K`) taken out and reported on the lines they mark.
//! Other escape sequences are dropped; a lone `\r` overwrites the line, as a terminal shows
//! a progress bar. The parser is fed bytes as they arrive and returns whole lines only, so a
//! stream can be resumed at [`LogParser::offset`].

use regex::Regex;
use serde_json::{Value, json};
use std::sync::LazyLock;

/// The longest line text kept, in characters (a longer line is cut and marked `…`).
pub const MAX_LINE_CHARS: usize = 20_000;

static MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\x1b\[0K)?section_(start|end):(\d+):([A-Za-z0-9_.\-]+)(?:\[([^\]\r]*)\])?\r(?:\x1b\[0K)?")
        .expect("the section marker pattern is valid")
});

/// A colour of the 16-colour palette (0-15) or any other as `#rrggbb`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    /// One of the 16 named colours (8-15 are the bright ones).
    Named(u8),
    /// Red, green, blue.
    Rgb(u8, u8, u8),
}

/// The style a span is drawn in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// Foreground.
    pub fg: Option<Color>,
    /// Background.
    pub bg: Option<Color>,
    /// Bold.
    pub bold: bool,
    /// Faint.
    pub faint: bool,
    /// Italic.
    pub italic: bool,
    /// Underlined.
    pub underline: bool,
}

impl Style {
    /// The CSS classes of the style (`fg-1 b`), for the named colours and attributes.
    pub fn classes(&self) -> String {
        let mut out = Vec::new();
        if let Some(Color::Named(n)) = self.fg {
            out.push(format!("fg-{n}"));
        }
        if let Some(Color::Named(n)) = self.bg {
            out.push(format!("bg-{n}"));
        }
        for (on, class) in [
            (self.bold, "b"),
            (self.faint, "f"),
            (self.italic, "i"),
            (self.underline, "u"),
        ] {
            if on {
                out.push(class.to_owned());
            }
        }
        out.join(" ")
    }

    /// Applies one SGR sequence's parameters (`1;31`, `38;5;208`, `38;2;r;g;b`, `0`...).
    fn apply(&mut self, params: &str) {
        let nums: Vec<u16> = params.split(';').map(|p| p.parse().unwrap_or(0)).collect();
        let mut i = 0;
        while i < nums.len() {
            match nums[i] {
                0 => *self = Style::default(),
                1 => self.bold = true,
                2 => self.faint = true,
                3 => self.italic = true,
                4 => self.underline = true,
                22 => (self.bold, self.faint) = (false, false),
                23 => self.italic = false,
                24 => self.underline = false,
                n @ 30..=37 => self.fg = Some(Color::Named(n as u8 - 30)),
                39 => self.fg = None,
                n @ 40..=47 => self.bg = Some(Color::Named(n as u8 - 40)),
                49 => self.bg = None,
                n @ 90..=97 => self.fg = Some(Color::Named(n as u8 - 90 + 8)),
                n @ 100..=107 => self.bg = Some(Color::Named(n as u8 - 100 + 8)),
                n @ (38 | 48) => {
                    let (color, used) = extended(&nums[i + 1..]);
                    i += used;
                    if n == 38 {
                        self.fg = color;
                    } else {
                        self.bg = color;
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
}

/// The colour after `38;`/`48;` (`5;n` or `2;r;g;b`) and how many parameters it took.
fn extended(rest: &[u16]) -> (Option<Color>, usize) {
    let byte = |i: usize| rest.get(i).map(|v| (*v).min(255) as u8);
    match rest.first() {
        Some(5) => match byte(1) {
            Some(n) if n < 16 => (Some(Color::Named(n)), 2),
            Some(n) => (Some(palette(n)), 2),
            None => (None, 1),
        },
        Some(2) => match (byte(1), byte(2), byte(3)) {
            (Some(r), Some(g), Some(b)) => (Some(Color::Rgb(r, g, b)), 4),
            _ => (None, rest.len()),
        },
        _ => (None, 0),
    }
}

/// Colours 16-255 of the 256-colour palette: the 6x6x6 cube, then 24 greys.
fn palette(n: u8) -> Color {
    if n >= 232 {
        let v = 8 + (n - 232) * 10;
        return Color::Rgb(v, v, v);
    }
    let i = n - 16;
    let level = |c: u8| if c == 0 { 0 } else { 55 + c * 40 };
    Color::Rgb(level(i / 36), level((i / 6) % 6), level(i % 6))
}

/// A run of text in one style.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// Its style.
    pub style: Style,
    /// Its text.
    pub text: String,
}

/// A section opened on a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SectionStart {
    /// The section's name.
    pub name: String,
    /// Whether the runner asked for it to be shown folded (`[collapsed=true]`).
    pub collapsed: bool,
}

/// A section closed on a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SectionEnd {
    /// The section's name.
    pub name: String,
    /// Seconds between its start and end markers (`None` when its start was not seen).
    pub seconds: Option<u64>,
}

/// One line of the log, or a line that only carried section ends (`number` is `None`: it is
/// not shown, and the ends apply where it stands).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Line {
    /// Its number as shown, from 1.
    pub number: Option<u64>,
    /// Its text, styled.
    pub spans: Vec<Span>,
    /// The section it opens (it is the section's header).
    pub start: Option<SectionStart>,
    /// The sections it closes.
    pub ends: Vec<SectionEnd>,
    /// The log's byte offset just after it (where a reader resumes after this line).
    pub end: u64,
}

impl Line {
    /// The text without styles.
    pub fn text(&self) -> String {
        self.spans.iter().map(|s| s.text.as_str()).collect()
    }

    /// The compact form the log viewer reads: `{"n":1,"s":[[classes, text, fg?, bg?]...],
    /// "ss":{"name":..,"collapsed":..}, "se":[[name, seconds]...]}`.
    pub fn to_json(&self) -> Value {
        let spans: Vec<Value> = self
            .spans
            .iter()
            .map(|s| {
                let rgb = |c: Option<Color>| match c {
                    Some(Color::Rgb(r, g, b)) => Value::String(format!("#{r:02x}{g:02x}{b:02x}")),
                    _ => Value::Null,
                };
                let mut v = vec![json!(s.style.classes()), json!(s.text)];
                let (fg, bg) = (rgb(s.style.fg), rgb(s.style.bg));
                if !bg.is_null() {
                    v.extend([fg, bg]);
                } else if !fg.is_null() {
                    v.push(fg);
                }
                Value::Array(v)
            })
            .collect();
        let mut v = json!({ "s": spans });
        if let Some(n) = self.number {
            v["n"] = json!(n);
        }
        if let Some(s) = &self.start {
            v["ss"] = json!({"name": s.name, "collapsed": s.collapsed});
        }
        if !self.ends.is_empty() {
            v["se"] = self.ends.iter().map(|e| json!([e.name, e.seconds])).collect();
        }
        v
    }
}

/// Turns a log's bytes into [`Line`]s as they arrive.
#[derive(Debug, Default)]
pub struct LogParser {
    style: Style,
    pending: Vec<u8>,
    /// How much of `pending` is known to hold no newline (a long line arriving in many
    /// pieces is scanned once, not once per piece).
    scanned: usize,
    offset: u64,
    shown: u64,
    open: Vec<(String, u64)>,
}

impl LogParser {
    /// A parser at the start of a log.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes taken into whole lines so far: where to resume reading.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Takes more of the log; returns the lines it completes.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Line> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut start = 0;
        let mut from = self.scanned;
        while let Some(nl) = self.pending[from..].iter().position(|b| *b == b'\n') {
            let end = from + nl;
            let raw = String::from_utf8_lossy(&self.pending[start..end]).into_owned();
            let mut line = self.line(&raw);
            line.end = self.offset + end as u64 + 1;
            out.push(line);
            start = end + 1;
            from = start;
        }
        self.offset += start as u64;
        self.pending.drain(..start);
        self.scanned = self.pending.len();
        out
    }

    /// The last line, when the log ends without a newline.
    pub fn finish(&mut self) -> Option<Line> {
        if self.pending.is_empty() {
            return None;
        }
        let bytes = std::mem::take(&mut self.pending);
        self.scanned = 0;
        self.offset += bytes.len() as u64;
        let raw = String::from_utf8_lossy(&bytes).into_owned();
        let mut line = self.line(&raw);
        line.end = self.offset;
        Some(line)
    }

    fn line(&mut self, raw: &str) -> Line {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let mut line = Line::default();
        let mut text = String::with_capacity(raw.len());
        let mut last = 0;
        for m in MARKER.captures_iter(raw) {
            let whole = m.get(0).expect("a match has a group 0");
            text.push_str(&raw[last..whole.start()]);
            last = whole.end();
            let name = m[3].to_owned();
            let ts: u64 = m[2].parse().unwrap_or(0);
            if &m[1] == "start" {
                let collapsed = m
                    .get(4)
                    .is_some_and(|o| o.as_str().split(',').any(|kv| kv.trim() == "collapsed=true"));
                self.open.push((name.clone(), ts));
                line.start = Some(SectionStart { name, collapsed });
            } else {
                let seconds = self.close(&name).map(|started| ts.saturating_sub(started));
                line.ends.push(SectionEnd { name, seconds });
            }
        }
        text.push_str(&raw[last..]);
        line.spans = self.spans(&text);
        let marker_only = line.spans.is_empty() && line.start.is_none() && !line.ends.is_empty();
        if !marker_only {
            self.shown += 1;
            line.number = Some(self.shown);
        }
        line
    }

    /// Closes the innermost open section called `name` (and any opened inside it); its start.
    fn close(&mut self, name: &str) -> Option<u64> {
        let at = self.open.iter().rposition(|(n, _)| n == name)?;
        let started = self.open[at].1;
        self.open.truncate(at);
        Some(started)
    }

    /// The styled spans of a line's text (markers already taken out).
    fn spans(&mut self, text: &str) -> Vec<Span> {
        let mut spans: Vec<Span> = Vec::new();
        let mut chars = 0usize;
        let mut push = |spans: &mut Vec<Span>, style: Style, c: char| {
            if chars >= MAX_LINE_CHARS {
                if chars == MAX_LINE_CHARS {
                    chars += 1;
                    push_char(spans, style, '…');
                }
                return;
            }
            chars += 1;
            push_char(spans, style, c);
        };
        let mut it = text.chars().peekable();
        while let Some(c) = it.next() {
            match c {
                '\u{1b}' => match it.next() {
                    Some('[') => {
                        let mut params = String::new();
                        let mut fin = None;
                        for c in it.by_ref() {
                            if ('\u{40}'..='\u{7e}').contains(&c) {
                                fin = Some(c);
                                break;
                            }
                            params.push(c);
                        }
                        if fin == Some('m') {
                            self.style.apply(&params);
                        }
                    }
                    Some(']') => {
                        // An operating system command, up to BEL or ST.
                        while let Some(c) = it.next() {
                            if c == '\u{7}' || (c == '\u{1b}' && it.next_if_eq(&'\\').is_some()) {
                                break;
                            }
                        }
                    }
                    _ => {}
                },
                '\r' => spans.clear(),
                '\t' => push(&mut spans, self.style, c),
                c if c.is_control() => {}
                c => push(&mut spans, self.style, c),
            }
        }
        spans
    }
}

fn push_char(spans: &mut Vec<Span>, style: Style, c: char) {
    match spans.last_mut() {
        Some(last) if last.style == style => last.text.push(c),
        _ => spans.push(Span {
            style,
            text: c.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<Line> {
        let mut p = LogParser::new();
        let mut lines = p.feed(text.as_bytes());
        lines.extend(p.finish());
        lines
    }

    #[test]
    fn colours_and_attributes_become_classes_and_carry_across_lines() {
        let lines = parse("\u{1b}[1;31mred bold\nstill red\u{1b}[0m plain\n\u{1b}[92mbright\u{1b}[39m\n");
        assert_eq!(lines[0].spans[0].style.classes(), "fg-1 b");
        assert_eq!(lines[1].spans.len(), 2);
        assert_eq!(lines[1].spans[0].style.classes(), "fg-1 b");
        assert_eq!(lines[1].spans[1].text, " plain");
        assert_eq!(lines[1].spans[1].style, Style::default());
        assert_eq!(lines[2].spans[0].style.classes(), "fg-10");
        assert_eq!(lines[2].text(), "bright");
    }

    #[test]
    fn extended_colours_are_rgb_values() {
        let lines = parse("\u{1b}[38;5;208mo\u{1b}[48;2;1;2;3mx\u{1b}[38;5;3my\n");
        assert_eq!(lines[0].spans[0].style.fg, Some(Color::Rgb(255, 135, 0)));
        assert_eq!(lines[0].spans[1].style.bg, Some(Color::Rgb(1, 2, 3)));
        assert_eq!(lines[0].spans[2].style.fg, Some(Color::Named(3)));
        assert_eq!(lines[0].to_json()["s"][1], json!(["", "x", "#ff8700", "#010203"]));
    }

    #[test]
    fn sections_are_found_with_their_duration_and_fold_option() {
        let log = "\u{1b}[0Ksection_start:100:prepare[collapsed=true]\r\u{1b}[0K\u{1b}[36;1mPreparing\u{1b}[0;m\n\
                   inside\n\
                   section_end:103:prepare\r\u{1b}[0K\n\
                   after\n";
        let lines = parse(log);
        assert_eq!(lines.len(), 4);
        let start = lines[0].start.as_ref().expect("a start");
        assert_eq!((start.name.as_str(), start.collapsed), ("prepare", true));
        assert_eq!(lines[0].text(), "Preparing");
        assert_eq!(lines[2].number, None, "a marker-only line is not shown");
        assert_eq!(
            lines[2].ends,
            [SectionEnd {
                name: "prepare".into(),
                seconds: Some(3)
            }]
        );
        assert_eq!(lines[3].number, Some(3));
        assert_eq!(lines[3].text(), "after");
    }

    #[test]
    fn an_unknown_end_has_no_duration_and_an_outer_end_closes_inner_sections() {
        let lines = parse(
            "section_start:1:a\r\u{1b}[0Kh\nsection_start:2:b\r\u{1b}[0Kh2\nsection_end:9:a\r\u{1b}[0K\nsection_end:9:b\r\u{1b}[0K\n",
        );
        assert_eq!(lines[2].ends[0].seconds, Some(8));
        assert_eq!(lines[3].ends[0].seconds, None);
    }

    #[test]
    fn carriage_returns_overwrite_and_other_escapes_are_dropped() {
        let lines = parse("10%\r50%\r100%\n\u{1b}]0;title\u{7}\u{1b}[2Kclean\u{1b}[?25l\u{8}\r\n");
        assert_eq!(lines[0].text(), "100%");
        assert_eq!(lines[1].text(), "clean");
    }

    #[test]
    fn lines_split_across_feeds_come_out_whole_and_the_offset_counts_whole_lines() {
        let mut p = LogParser::new();
        assert!(p.feed(b"hel").is_empty());
        assert_eq!(p.offset(), 0);
        let lines = p.feed("lo\n\u{e9}\nx".as_bytes());
        assert_eq!(
            lines.iter().map(Line::text).collect::<Vec<_>>(),
            ["hello", "\u{e9}"]
        );
        assert_eq!(lines.iter().map(|l| l.end).collect::<Vec<_>>(), [6, 9]);
        assert_eq!(p.offset(), 9);
        assert_eq!(p.finish().map(|l| l.text()).as_deref(), Some("x"));
        assert_eq!(p.offset(), 10);
    }

    #[test]
    fn a_line_fed_in_many_pieces_is_scanned_once_and_comes_out_whole() {
        let mut p = LogParser::new();
        for _ in 0..10_000 {
            assert!(p.feed(b"ab").is_empty());
            assert_eq!(
                p.scanned,
                p.pending.len(),
                "what was scanned is not scanned again"
            );
        }
        let lines = p.feed(b"c\nd\n");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].end, 20_002);
        assert_eq!(lines[1].text(), "d");
        assert_eq!((p.scanned, p.offset()), (0, 20_004));
    }

    #[test]
    fn invalid_utf8_and_huge_lines_are_shown_safely() {
        let lines = parse(&format!("{}\n", "y".repeat(MAX_LINE_CHARS + 50)));
        assert_eq!(lines[0].text().chars().count(), MAX_LINE_CHARS + 1);
        assert!(lines[0].text().ends_with('…'));
        let mut p = LogParser::new();
        let l = p.feed(b"\xff\xfeok\n");
        assert_eq!(l[0].text(), "\u{fffd}\u{fffd}ok");
    }
}
