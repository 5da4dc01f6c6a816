//! What a gate decided: each rule's outcome, its numbers and evidence, and the result of
//! all of them. `check` and the path policies fill these; the CI formats (JUnit, SARIF,
//! GitLab, GitHub) read them. Plain data, below all of those, so none imports another
//! through it.

/// How a rule came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Fail,
    /// Not evaluated (a growth limit without a baseline).
    Skip,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail => "FAIL",
            Outcome::Skip => "SKIP",
        }
    }
}

/// One evaluated rule: its name, outcome, the numbers, and `value op threshold` for people.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RuleResult {
    pub rule: &'static str,
    pub outcome: Outcome,
    /// The measured value: a ratio, bytes, a count, or for growth rules the change in bytes
    /// (none when skipped).
    pub value: Option<f64>,
    /// The threshold in the same unit (for growth rules: the allowed change in bytes).
    pub threshold: Option<f64>,
    /// `97.3% >= 95.0%`, `12.0 MB (12000000 B) > 10.0 MB (10000000 B)`, …
    pub detail: String,
    /// What made a rule fail, one line each (for `no-secrets`: each secret, redacted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

/// The outcome of every configured rule, in a fixed order.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    pub rules: Vec<RuleResult>,
}

impl CheckResult {
    pub fn failed(&self) -> usize {
        self.rules
            .iter()
            .filter(|r| r.outcome == Outcome::Fail)
            .count()
    }

    pub fn passed(&self) -> bool {
        self.failed() == 0
    }
}
