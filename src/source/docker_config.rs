//! The parts of an image config that Docker writes and the OCI config type does not keep:
//! the `Healthcheck` (`HEALTHCHECK` in a Dockerfile). Read from the same config bytes as the
//! OCI config; a missing or malformed field is simply absent, never an error, since nothing
//! but the image config pane shows it.

use serde::Deserialize;

/// A container health check, as `docker inspect` shows it (durations in nanoseconds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Healthcheck {
    /// `["CMD", arg…]`, `["CMD-SHELL", command]` or `["NONE"]`.
    #[serde(default)]
    pub test: Vec<String>,
    #[serde(default)]
    pub interval: Option<i64>,
    #[serde(default)]
    pub timeout: Option<i64>,
    #[serde(default)]
    pub start_period: Option<i64>,
    #[serde(default)]
    pub retries: Option<i64>,
}

impl Healthcheck {
    /// One line for people: `CMD curl -f http://localhost/ · every 30s, timeout 3s, 3 retries`.
    /// Image text: the caller escapes it.
    pub fn describe(&self) -> String {
        let mut out = match self.test.split_first() {
            Some((kind, _)) if kind == "NONE" => return "NONE (disabled)".to_string(),
            Some((kind, args)) => format!("{kind} {}", args.join(" ")),
            None => "(inherited test)".to_string(),
        };
        let secs = |ns: i64| {
            let s = ns as f64 / 1e9;
            if s.fract() == 0.0 {
                format!("{s:.0}s")
            } else {
                format!("{s}s")
            }
        };
        let mut when = Vec::new();
        if let Some(i) = self.interval.filter(|&i| i > 0) {
            when.push(format!("every {}", secs(i)));
        }
        if let Some(t) = self.timeout.filter(|&t| t > 0) {
            when.push(format!("timeout {}", secs(t)));
        }
        if let Some(p) = self.start_period.filter(|&p| p > 0) {
            when.push(format!("start period {}", secs(p)));
        }
        if let Some(r) = self.retries.filter(|&r| r > 0) {
            when.push(format!("{r} retries"));
        }
        if !when.is_empty() {
            out.push_str(" · ");
            out.push_str(&when.join(", "));
        }
        out
    }
}

/// The health check of a config document, if it declares one.
pub(crate) fn healthcheck(config: &[u8]) -> Option<Healthcheck> {
    #[derive(Deserialize)]
    struct Doc {
        #[serde(default)]
        config: Option<Inner>,
    }
    #[derive(Deserialize)]
    struct Inner {
        #[serde(rename = "Healthcheck", default)]
        healthcheck: Option<Healthcheck>,
    }
    serde_json::from_slice::<Doc>(config)
        .ok()?
        .config?
        .healthcheck
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_describes_docker_healthchecks() {
        let doc = br#"{"architecture":"amd64","os":"linux","config":{"Healthcheck":{"Test":["CMD-SHELL","curl -f http://localhost/ || exit 1"],"Interval":30000000000,"Timeout":3000000000,"Retries":3}},"rootfs":{"type":"layers","diff_ids":[]}}"#;
        let h = healthcheck(doc).unwrap();
        assert_eq!(
            h.describe(),
            "CMD-SHELL curl -f http://localhost/ || exit 1 · every 30s, timeout 3s, 3 retries"
        );
        let none = br#"{"config":{"Healthcheck":{"Test":["NONE"]}}}"#;
        assert_eq!(healthcheck(none).unwrap().describe(), "NONE (disabled)");
        assert_eq!(healthcheck(br#"{"config":{}}"#), None);
        assert_eq!(healthcheck(b"not json"), None);
        // A wrong type is no health check, not an error.
        assert_eq!(healthcheck(br#"{"config":{"Healthcheck":7}}"#), None);
    }
}
