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

/// One run setting that differs between two images, each side in one line (raw image
/// text: renderers escape it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigChange {
    /// `Entrypoint`, `Cmd`, `User`, `WorkingDir`, `Ports`, `Volumes`, `StopSignal`,
    /// `Healthcheck`, `Env` or `Labels`.
    pub field: String,
    /// The old value; for Env and Labels, the entries only the old image has.
    pub old: String,
    /// The new value; for Env and Labels, the entries only the new image has.
    pub new: String,
}

/// An exec-form command in one line, an argument with a space or a quote JSON-quoted.
pub(crate) fn command_line(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if a.is_empty() || a.contains([' ', '"', '\'']) {
                format!("\"{}\"", a.replace('"', "\\\""))
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What changed from `old` to `new`, field by field, in the config pane's order.
pub(crate) fn changes(old: &RuntimeConfig, new: &RuntimeConfig) -> Vec<ConfigChange> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let list = |v: &[String]| v.join(", ");
    let mut out: Vec<ConfigChange> = [
        (
            "Entrypoint",
            command_line(&old.entrypoint),
            command_line(&new.entrypoint),
        ),
        ("Cmd", command_line(&old.cmd), command_line(&new.cmd)),
        ("User", opt(&old.user), opt(&new.user)),
        ("WorkingDir", opt(&old.working_dir), opt(&new.working_dir)),
        ("Ports", list(&old.exposed_ports), list(&new.exposed_ports)),
        ("Volumes", list(&old.volumes), list(&new.volumes)),
        ("StopSignal", opt(&old.stop_signal), opt(&new.stop_signal)),
        ("Healthcheck", opt(&old.healthcheck), opt(&new.healthcheck)),
    ]
    .into_iter()
    .filter(|(_, o, n)| o != n)
    .map(|(field, old, new)| ConfigChange {
        field: field.to_string(),
        old,
        new,
    })
    .collect();
    let only = |a: &[String], b: &[String]| -> Vec<String> {
        a.iter().filter(|x| !b.contains(x)).cloned().collect()
    };
    let (env_old, env_new) = (only(&old.env, &new.env), only(&new.env, &old.env));
    if !env_old.is_empty() || !env_new.is_empty() {
        out.push(ConfigChange {
            field: "Env".to_string(),
            old: env_old.join(", "),
            new: env_new.join(", "),
        });
    }
    let pairs = |m: &BTreeMap<String, String>| -> Vec<String> {
        m.iter().map(|(k, v)| format!("{k}={v}")).collect()
    };
    let (lo, ln) = (pairs(&old.labels), pairs(&new.labels));
    let (labels_old, labels_new) = (only(&lo, &ln), only(&ln, &lo));
    if !labels_old.is_empty() || !labels_new.is_empty() {
        out.push(ConfigChange {
            field: "Labels".to_string(),
            old: labels_old.join(", "),
            new: labels_new.join(", "),
        });
    }
    out
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
    fn changes_list_each_differing_field_in_one_line() {
        let old = RuntimeConfig {
            cmd: vec!["bash".into()],
            env: vec!["PATH=/bin".into(), "MODE=dev".into()],
            ..Default::default()
        };
        let new = RuntimeConfig {
            cmd: vec!["sh".into(), "-c".into(), "echo hi".into()],
            env: vec!["PATH=/bin".into(), "MODE=prod".into()],
            user: Some("app".into()),
            ..Default::default()
        };
        let c = changes(&old, &new);
        let fields: Vec<&str> = c.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["Cmd", "User", "Env"]);
        assert_eq!(c[0].new, "sh -c \"echo hi\"");
        assert_eq!((c[1].old.as_str(), c[1].new.as_str()), ("", "app"));
        assert_eq!(
            (c[2].old.as_str(), c[2].new.as_str()),
            ("MODE=dev", "MODE=prod")
        );
        assert!(changes(&new, &new).is_empty());
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
