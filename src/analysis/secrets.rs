//! Secret findings: turns the scanner's hits (from every layer, hidden or not) and matches in
//! `ENV` and the history into findings, and redacts the image config before any output
//! reads it. The rules and the scanner live in [`crate::secrets`].

#[cfg(test)]
use crate::secrets::is_env_file;
pub(crate) use crate::secrets::*;

/// Secret findings: files of any layer (hidden or not), `ENV` values and history commands.
/// `hits[l]` are the file hits decode found in layer `l`.
pub(crate) fn findings(
    hits: &[Vec<SecretHit>],
    indexes: &[crate::index::LayerIndex],
    merged: &crate::merge::Merged,
    layers: &[super::LayerInfo],
    config: &oci_spec::image::ImageConfiguration,
) -> Vec<super::Finding> {
    use super::findings::{Category, Finding, Severity};
    // Secrets carry no byte count: they are a risk, not waste.
    let secret = |rule: &SecretRule, title: String, layer: usize| {
        Finding::shipped_by(
            Category::Secret,
            Severity::High,
            format!("secret.{}", rule.id),
            title,
            layers,
            layer,
            0,
        )
    };
    let mut out = Vec::new();
    for (li, layer_hits) in hits.iter().enumerate() {
        for h in layer_hits {
            let Some(idx) = indexes.get(li) else { continue };
            if h.entry >= idx.len() {
                continue;
            }
            let path = format!("/{}", crate::index::display_path(idx.path(h.entry)));
            let fate = merged.content_fate(li, h.entry);
            let by = fate.hidden_by().map(|b| b as usize);
            let rule = &RULES[h.rule];
            let title = match (fate, by) {
                (crate::merge::Fate::Removed { .. }, Some(by)) => format!(
                    "{} in `{path}`, deleted by layer {by} but still shipped in layer {li}",
                    rule.what
                ),
                (_, Some(by)) => format!(
                    "{} in `{path}`, replaced by layer {by} but still shipped in layer {li}",
                    rule.what
                ),
                _ => format!("{} in `{path}`", rule.what),
            };
            out.push(Finding {
                hidden_by: by,
                path_count: 1,
                paths: vec![path],
                detail: Some(format!("line {}: {}", h.line, h.redacted)),
                ..secret(rule, title, li)
            });
        }
    }

    let Some(scanner) = scanner() else {
        return out;
    };
    // Which layer each history entry follows: its own for a layer step, else the last one.
    let history = config.history().as_deref().unwrap_or_default();
    let mut after_layer = Vec::with_capacity(history.len());
    let mut built = 0usize;
    for h in history {
        if !h.empty_layer().unwrap_or(false) {
            built += 1;
        }
        after_layer.push(built.saturating_sub(1).min(layers.len().saturating_sub(1)));
    }
    let last = layers.len().saturating_sub(1);

    let mut seen = std::collections::HashSet::new();
    let env = config
        .config()
        .as_ref()
        .and_then(|c| c.env().clone())
        .unwrap_or_default();
    for kv in &env {
        let name = kv.split('=').next().unwrap_or_default();
        for hit in scanner.scan_text(kv) {
            if !seen.insert(hit.fingerprint) {
                continue;
            }
            // ENV makes no layer: the config carries it. `layer` still says where in the
            // build it was set (the layer built before the ENV instruction, if the history
            // says), for the ordering of findings.
            let set_at = history.iter().position(|h| {
                h.created_by()
                    .as_deref()
                    .is_some_and(|c| c.contains("ENV") && c.contains(&format!("{name}=")))
            });
            let layer = set_at
                .and_then(|p| after_layer.get(p).copied())
                .unwrap_or(last);
            let rule = &RULES[hit.rule];
            let title = format!(
                "{} in `ENV {name}`: in the image config, visible to anyone who pulls it",
                rule.what
            );
            out.push(Finding {
                detail: Some(format!("ENV {name}: {}", hit.redacted)),
                in_config: true,
                instruction: format!("ENV {name}=…"),
                ..secret(rule, title, layer)
            });
        }
    }
    for (p, h) in history.iter().enumerate() {
        let Some(cmd) = h.created_by().as_deref() else {
            continue;
        };
        for hit in scanner.scan_text(cmd) {
            if !seen.insert(hit.fingerprint) {
                continue;
            }
            let layer = after_layer.get(p).copied().unwrap_or(last);
            let step = crate::history::normalize_command(&scanner.redact_text(cmd));
            let rule = &RULES[hit.rule];
            let title = format!(
                "{} in build step `{}`: recorded in the image history",
                rule.what,
                super::one_line(&step, 60)
            );
            out.push(Finding {
                detail: Some(format!("history entry {}: {}", p + 1, hit.redacted)),
                ..secret(rule, title, layer)
            });
        }
    }
    out
}

/// A copy of `config` with every secret in `Env` and in the history's commands redacted, so
/// nothing downstream (reports, the terminal UI) can print one.
pub(crate) fn redact_config(
    config: &oci_spec::image::ImageConfiguration,
) -> oci_spec::image::ImageConfiguration {
    let mut c = config.clone();
    if let Some(mut cfg) = c.config().clone() {
        if let Some(env) = cfg.env().clone() {
            cfg.set_env(Some(env.iter().map(|kv| redact(kv)).collect()));
            c.set_config(Some(cfg));
        }
    }
    if let Some(mut history) = c.history().clone() {
        for h in &mut history {
            if let Some(cmd) = h.created_by().clone() {
                h.set_created_by(Some(redact(&cmd)));
            }
        }
        c.set_history(Some(history));
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(path: &str, data: &str) -> Vec<SecretHit> {
        let mut out = Vec::new();
        scanner()
            .expect("rules compile")
            .scan_file(0, path.as_bytes(), data.as_bytes(), &mut out);
        out
    }

    fn ids(hits: &[SecretHit]) -> Vec<&'static str> {
        hits.iter().map(|h| RULES[h.rule].id).collect()
    }

    #[test]
    fn rules_compile() {
        assert!(scanner().is_some());
    }

    #[test]
    fn finds_keys_and_tokens() {
        let key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n";
        let h = scan("root/.ssh/id_rsa", key);
        assert_eq!(ids(&h), ["private-key"]);
        assert_eq!(
            h[0].redacted,
            "-----BEGIN OPENSSH PRIVATE KEY-----[REDACTED]"
        );
        assert_eq!(h[0].line, 1);

        let h = scan(
            "app/conf.txt",
            "x\ntoken: ghp_0123456789abcdefghijklmnopqrstuvwxyzAB\n",
        );
        assert_eq!(ids(&h), ["github-token"]);
        assert_eq!(h[0].redacted, "ghp_[REDACTED]");
        assert_eq!(h[0].line, 2);

        let h = scan("x", "AKIAIOSFODNN7EXAMPLE and xoxb-123456789012-abcdefghij");
        assert_eq!(ids(&h), ["aws-access-key-id", "slack-token"]);
        let h = scan("x", "sk_live_4eC39HqLyjWDarjtT1zdp7dc");
        assert_eq!(ids(&h), ["stripe-key"]);
    }

    #[test]
    fn certificates_are_not_keys() {
        assert!(scan("etc/ssl/cert.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n").is_empty());
        assert!(scan("x", "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0B\n").is_empty());
    }

    #[test]
    fn credential_files() {
        let h = scan(
            "root/.npmrc",
            "//registry.npmjs.org/:_authToken=abcd1234efgh\n",
        );
        assert_eq!(ids(&h), ["npmrc-auth"]);
        assert_eq!(h[0].redacted, "_authToken=[REDACTED]");
        let h = scan(
            "root/.pypirc",
            "[pypi]\nusername = me\npassword = hunter22\n",
        );
        assert_eq!(ids(&h), ["pypirc-password"]);
        let h = scan(
            "root/.git-credentials",
            "https://me:s3cr3tvalue@github.com\n",
        );
        assert_eq!(ids(&h), ["git-credentials"]);
        let h = scan(
            "root/.docker/config.json",
            r#"{"auths":{"r.io":{"auth":"bWU6c2VjcmV0"}}}"#,
        );
        assert_eq!(ids(&h), ["docker-auth"]);
        let h = scan("app/.env", "DEBUG=1\nDB_PASSWORD=correcthorse\n");
        assert_eq!(ids(&h), ["password-assignment"]);
        // The same assignment in an ordinary file is not flagged (too noisy).
        assert!(scan("app/README", "DB_PASSWORD=correcthorse\n").is_empty());
        // Binary content is skipped.
        assert!(scan("x", "\0ghp_0123456789abcdefghijklmnopqrstuvwxyzAB").is_empty());
        assert!(is_env_file(b".env.production"));
        assert!(!is_env_file(b"env"));
    }

    #[test]
    fn text_is_redacted() {
        let s = scanner().expect("rules compile");
        let t = "RUN TOKEN=abc123secret ./install.sh && curl -H ghp_0123456789abcdefghijklmnopqrstuvwxyzAB x";
        let r = s.redact_text(t);
        assert_eq!(
            r,
            "RUN TOKEN=[REDACTED] ./install.sh && curl -H ghp_[REDACTED] x"
        );
        assert_eq!(
            s.redact_text("APP_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"),
            "APP_TOKEN=ghp_[REDACTED]"
        );
        let hits = s.scan_text("APP_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB");
        assert_eq!(hits.len(), 1);
        assert_eq!(RULES[hits[0].rule].id, "github-token");
        // References to variables are not secrets.
        assert!(s.scan_text("PASSWORD=$DB_PASSWORD").is_empty());
        assert_eq!(s.redact_text("apt-get update"), "apt-get update");
    }
}
