//! What a failed tidy check reports: which rule, why it exists, and every offender.

use std::fmt;

/// A failed check. Its `Display` is the whole report, ready for a test panic or for stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The rule, as a sentence.
    pub rule: &'static str,
    /// Why the rule exists and how to comply.
    pub why: &'static str,
    /// One line per offence, starting with the file path relative to the workspace root.
    pub offenders: Vec<String>,
}

impl Failure {
    /// `Ok` when there are no offenders, else the failure.
    pub fn check(rule: &'static str, why: &'static str, offenders: Vec<String>) -> Result<(), Failure> {
        if offenders.is_empty() {
            Ok(())
        } else {
            Err(Failure { rule, why, offenders })
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "tidy: {}", self.rule)?;
        writeln!(f, "  why: {}", self.why)?;
        writeln!(f, "  {} offence(s):", self.offenders.len())?;
        for offender in &self.offenders {
            writeln!(f, "    {offender}")?;
        }
        Ok(())
    }
}
