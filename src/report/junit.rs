//! JUnit XML (`check --format junit`) for CI test-report views: one test suite for the
//! checked image, one test case per rule; a failed rule is a failure whose message carries
//! the value and the threshold, a skipped rule (a growth limit without a baseline) is
//! skipped. Written with `quick-junit`.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::verdict::{CheckResult, Outcome};

fn number(v: Option<f64>) -> String {
    match v {
        Some(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{}", v as i64),
        Some(v) => format!("{v}"),
        None => "none".to_string(),
    }
}

/// Renders rule results as a JUnit report; `image` names the suite.
pub(crate) fn render(image: &str, result: &CheckResult) -> String {
    let mut suite = TestSuite::new(format!("layersift check {image}"));
    for r in &result.rules {
        let status = match r.outcome {
            Outcome::Pass => TestCaseStatus::success(),
            Outcome::Skip => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(r.detail.clone());
                s
            }
            Outcome::Fail => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(format!(
                    "{}: value {}, threshold {}",
                    r.detail,
                    number(r.value),
                    number(r.threshold)
                ));
                s.set_type("layersift.rule-failed");
                s.set_description(format!(
                    "rule: {}\nvalue: {}\nthreshold: {}\n{}",
                    r.rule,
                    number(r.value),
                    number(r.threshold),
                    r.detail
                ));
                s
            }
        };
        let mut case = TestCase::new(r.rule, status);
        case.set_classname("layersift.check");
        if r.outcome == Outcome::Pass {
            case.set_system_out(r.detail.clone());
        }
        suite.add_test_case(case);
    }
    let mut report = Report::new("layersift check");
    report.add_test_suite(suite);
    report
        .to_string()
        .unwrap_or_else(|e| format!("<!-- cannot write JUnit XML: {e} -->\n"))
}
