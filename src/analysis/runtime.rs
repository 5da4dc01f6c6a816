//! How the image runs, from its config: Entrypoint, Cmd, User, WorkingDir, exposed ports,
//! volumes, Env, labels, StopSignal and Healthcheck, with the secret rules applied to every
//! value. It is part of the JSON report (`image.runtime`), so a saved report carries it, and
//! it is what the terminal UI's config pane shows, in one-image and compare mode alike.

use std::collections::BTreeMap;

use oci_spec::image::ImageConfiguration;
use serde::{Deserialize, Serialize};

use crate::secrets::redact;
use crate::source::Healthcheck;

/// The image's run settings, every string passed through the secret rules. Lists hold
/// what the config holds; ports and volumes (JSON object keys there) are sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeConfig {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entrypoint: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cmd: Vec<String>,
    /// Empty or absent: the image runs as root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exposed_ports: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<String>,
    /// `KEY=value`, values the secret rules match redacted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// Docker's health check in one line (`CMD curl -f … · every 30s, …`); OCI configs
    /// cannot record one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<String>,
}

impl RuntimeConfig {
    /// Reads `config`, whose Env the analysis has already redacted, and Docker's health
    /// check, which the OCI types do not carry.
    pub(crate) fn of(config: &ImageConfiguration, healthcheck: Option<&Healthcheck>) -> Self {
        let cfg = config.config().clone().unwrap_or_default();
        let list = |v: &Option<Vec<String>>| -> Vec<String> {
            v.iter().flatten().map(|s| redact(s)).collect()
        };
        let sorted = |v: &Option<Vec<String>>| {
            let mut v = list(v);
            v.sort();
            v
        };
        let one = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(redact);
        RuntimeConfig {
            entrypoint: list(cfg.entrypoint()),
            cmd: list(cfg.cmd()),
            user: one(cfg.user()),
            working_dir: one(cfg.working_dir()),
            exposed_ports: sorted(cfg.exposed_ports()),
            volumes: sorted(cfg.volumes()),
            // Env is redacted with the rest of the config before the analysis keeps it
            // (`secrets::redact_config`); a second pass would eat the kept key prefixes.
            env: cfg.env().clone().unwrap_or_default(),
            labels: cfg
                .labels()
                .iter()
                .flatten()
                .map(|(k, v)| (redact(k), redact(v)))
                .collect(),
            stop_signal: one(cfg.stop_signal()),
            healthcheck: healthcheck.map(|h| redact(&h.describe())),
        }
    }

    /// The fields that differ from `old`'s, by the name the config pane gives them.
    pub fn changed_from(&self, old: &RuntimeConfig) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut check = |name, differs: bool| {
            if differs {
                out.push(name);
            }
        };
        check("Entrypoint", self.entrypoint != old.entrypoint);
        check("Cmd", self.cmd != old.cmd);
        check("User", self.user != old.user);
        check("WorkingDir", self.working_dir != old.working_dir);
        check("Ports", self.exposed_ports != old.exposed_ports);
        check("Volumes", self.volumes != old.volumes);
        check("StopSignal", self.stop_signal != old.stop_signal);
        check("Healthcheck", self.healthcheck != old.healthcheck);
        check("Env", self.env != old.env);
        check("Labels", self.labels != old.labels);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> ImageConfiguration {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn every_value_goes_through_the_secret_rules() {
        let key = format!("AKIA{}", "ABCDEFGHIJKLMNOP");
        let c = config(&format!(
            r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":[]}},
            "config":{{"Cmd":["run","--key={key}"],"Entrypoint":["/app"],"User":"app",
            "Env":["AWS_ACCESS_KEY_ID={key}","PATH=/bin"],"Labels":{{"k":"{key}"}},
            "ExposedPorts":{{"8080/tcp":{{}},"443/tcp":{{}}}},"WorkingDir":"/srv"}}}}"#
        ));
        let r = RuntimeConfig::of(&crate::analysis::secrets::redact_config(&c), None);
        let all = serde_json::to_string(&r).unwrap();
        assert!(!all.contains(&key), "{all}");
        assert_eq!(r.entrypoint, ["/app"]);
        assert_eq!(r.user.as_deref(), Some("app"));
        assert_eq!(r.exposed_ports, ["443/tcp", "8080/tcp"]);
        assert_eq!(r.env[1], "PATH=/bin");
        assert!(r.cmd[1].starts_with("--key="), "{:?}", r.cmd);
    }

    #[test]
    fn changes_are_named() {
        let old = RuntimeConfig {
            cmd: vec!["a".into()],
            ..Default::default()
        };
        let new = RuntimeConfig {
            cmd: vec!["b".into()],
            user: Some("app".into()),
            ..Default::default()
        };
        assert_eq!(new.changed_from(&old), ["Cmd", "User"]);
        assert!(new.changed_from(&new).is_empty());
    }
}
