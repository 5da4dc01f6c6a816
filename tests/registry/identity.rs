//! Identity (refresh) tokens: from a credential helper or `identitytoken`, refused ones as
//! clear errors, and access tokens that lapse mid-pull renewed once.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tempfile::TempDir;

use super::harness::*;
use crate::util::assert_live_snapshot;

/// The identity (refresh) token a [`Grant::Refresh`] front accepts, and one it does not.
const REFRESH: &str = "rt-8c1e-identity";
const WRONG_REFRESH: &str = "rt-0bad-expired";

/// Writes `DIR/auth.json` (podman's form) with `token` as the identity token for `host`.
fn identity_auth_file(dir: &Path, host: &str, token: &str) -> PathBuf {
    let file = dir.join("auth.json");
    std::fs::write(
        &file,
        format!(r#"{{"auths":{{"{host}":{{"identitytoken":"{token}"}}}}}}"#),
    )
    .unwrap();
    file
}

/// A registry behind a [`token_front_with`] that trades only [`REFRESH`] and lets tokens
/// lapse as `lapse` says, with the fixture image as `a:1`; its image reference, the
/// expected report, the recorded token requests, and the registry (kept running by the
/// caller).
fn identity_setup(
    home: &Path,
    lapse: Lapse,
) -> (
    Registry,
    String,
    Value,
    Arc<Mutex<Vec<TokenRequest>>>,
    String,
) {
    let reg = Registry::start(false);
    let (a, _, _) = fixture_pair(home);
    reg.push(&format!("oci:{}:latest", a.display()), "a:1", false);
    let expected = report(home, &format!("oci:{}:latest", a.display()), &[]);
    let (port, seen) = token_front_with(reg.port, Grant::Refresh(REFRESH), lapse);
    let host = format!("127.0.0.1:{port}");
    (reg, format!("docker://{host}/a:1"), expected, seen, host)
}

/// A directory with `docker-credential-NAME` helpers answering `<token>` and the given
/// identity token, and a `PATH` that finds them first.
fn token_helpers(helpers: &[(&str, &str)]) -> (TempDir, String) {
    let bin = tempfile::tempdir().unwrap();
    for (name, token) in helpers {
        write_helper(bin.path(), name, "<token>", token);
    }
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (bin, path)
}

fn assert_no_token_in(r: &Run, tokens: &[&str]) {
    for t in tokens {
        assert!(
            !r.stdout.contains(t) && !r.stderr.contains(t),
            "the identity token `{t}` leaked: {}",
            r.stderr
        );
    }
    assert!(
        !r.stderr.contains(TOKEN),
        "the access token leaked: {}",
        r.stderr
    );
}

fn without_source(stdout: &str) -> Value {
    let mut v: Value = serde_json::from_str(stdout).unwrap();
    let img = v["image"].as_object_mut().unwrap();
    img.remove("reference");
    img.remove("transport");
    v
}

#[test]
fn identity_token_from_a_credential_helper() {
    if !tools_present() {
        return;
    }
    let images = tempfile::tempdir().unwrap();
    let (_reg, image, expected, seen, host) = identity_setup(images.path(), Lapse::Never);
    let (bin, path) = token_helpers(&[("idtok", REFRESH)]);

    for (name, config) in [
        (
            "credHelpers",
            format!(r#"{{"credHelpers":{{"{host}":"idtok"}}}}"#),
        ),
        ("credsStore", r#"{"credsStore":"idtok"}"#.to_string()),
    ] {
        seen.lock().unwrap().clear();
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join(".docker")).unwrap();
        std::fs::write(home.path().join(".docker/config.json"), config).unwrap();
        let mut cmd = layersift(home.path());
        cmd.args(["analyze", "-f", "json", "--no-cache", &image])
            .env("PATH", &path);
        let r = run(cmd);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        assert_no_token_in(&r, &[REFRESH]);
        assert_eq!(without_source(&r.stdout), expected, "{name}");

        // The token service saw the OAuth2 refresh-token grant, and only that.
        let seen = seen.lock().unwrap().clone();
        assert!(!seen.is_empty(), "{name}: no token was requested");
        for req in &seen {
            assert_eq!(req.method, "POST", "{name}: {req:?}");
            assert_eq!(req.authorization, "", "{name}: {req:?}");
            assert_eq!(req.field("grant_type"), Some("refresh_token"));
            assert_eq!(req.field("refresh_token"), Some(REFRESH));
            assert_eq!(req.field("service"), Some("test"));
            assert_eq!(req.field("scope"), Some("repository:a:pull"));
            assert_eq!(req.field("client_id"), Some("layersift"));
        }
    }
    assert!(
        std::fs::read_to_string(bin.path().join("asked"))
            .unwrap()
            .contains(&host),
        "the helper was asked about the registry"
    );
}

#[test]
fn identity_token_from_config_identitytoken() {
    if !tools_present() {
        return;
    }
    let images = tempfile::tempdir().unwrap();
    let (_reg, image, expected, seen, host) = identity_setup(images.path(), Lapse::Never);
    use base64::Engine as _;
    // What `docker login` writes for an identity token: `auth` holds `USER:` only.
    let user_only =
        base64::engine::general_purpose::STANDARD.encode("00000000-0000-0000-0000-000000000000:");
    type Setup = Box<dyn Fn(&Path, &mut Command)>;
    let cases: Vec<(&str, Setup)> = vec![
        (
            "~/.docker/config.json",
            Box::new({
                let (host, user_only) = (host.clone(), user_only.clone());
                move |h: &Path, _: &mut Command| {
                    std::fs::create_dir_all(h.join(".docker")).unwrap();
                    std::fs::write(
                        h.join(".docker/config.json"),
                        format!(
                            r#"{{"auths":{{"{host}":{{"auth":"{user_only}","identitytoken":"{REFRESH}"}}}}}}"#
                        ),
                    )
                    .unwrap();
                }
            }),
        ),
        (
            "REGISTRY_AUTH_FILE",
            Box::new({
                let host = host.clone();
                move |h: &Path, c: &mut Command| {
                    c.env("REGISTRY_AUTH_FILE", identity_auth_file(h, &host, REFRESH));
                }
            }),
        ),
    ];
    for (name, setup) in cases {
        seen.lock().unwrap().clear();
        let home = tempfile::tempdir().unwrap();
        let mut cmd = layersift(home.path());
        cmd.args(["analyze", "-f", "json", "--no-cache", &image]);
        setup(home.path(), &mut cmd);
        let r = run(cmd);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        assert_no_token_in(&r, &[REFRESH]);
        assert_eq!(without_source(&r.stdout), expected, "{name}");
        let seen = seen.lock().unwrap().clone();
        assert!(
            seen.iter()
                .any(|r| r.method == "POST" && r.field("refresh_token") == Some(REFRESH)),
            "{name}: {seen:?}"
        );
    }
}

#[test]
fn wrong_identity_token_is_a_clear_error() {
    if !tools_present() {
        return;
    }
    let images = tempfile::tempdir().unwrap();
    let (_reg, image, _, seen, host) = identity_setup(images.path(), Lapse::Never);
    let (_bin, path) = token_helpers(&[("idbad", WRONG_REFRESH)]);

    // From a helper: the error names the registry and the helper.
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".docker")).unwrap();
    std::fs::write(
        home.path().join(".docker/config.json"),
        r#"{"credsStore":"idbad"}"#,
    )
    .unwrap();
    let mut cmd = layersift(home.path());
    cmd.args(["analyze", "--no-cache", &image])
        .env("PATH", &path);
    let r = run(cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    // Names the registry, the helper and the token service's answer; the hint: log in again.
    assert_live_snapshot(
        "registry_identity_refused_from_helper",
        &[(&host, "[REGISTRY]")],
        &r.stderr,
    );
    assert_no_token_in(&r, &[WRONG_REFRESH, REFRESH]);
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .any(|r| r.field("refresh_token") == Some(WRONG_REFRESH)),
        "the wrong token was tried"
    );

    // From a config file: the error names the file.
    let home = tempfile::tempdir().unwrap();
    let file = identity_auth_file(home.path(), &host, WRONG_REFRESH);
    let mut cmd = layersift(home.path());
    cmd.args(["analyze", "--no-cache", &image])
        .env("REGISTRY_AUTH_FILE", &file);
    let r = run(cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // Names the file the identity token came from.
    assert_live_snapshot(
        "registry_identity_refused_from_file",
        &[
            (&file.display().to_string(), "[AUTH_FILE]"),
            (&host, "[REGISTRY]"),
        ],
        &r.stderr,
    );
    assert_no_token_in(&r, &[WRONG_REFRESH]);

    // A registry that asks for basic auth cannot take an identity token.
    let basic = Registry::start(true);
    let home = tempfile::tempdir().unwrap();
    let file = identity_auth_file(home.path(), &basic.host(), REFRESH);
    let mut cmd = layersift(home.path());
    cmd.args([
        "analyze",
        "--no-cache",
        &format!("docker://{}/a:1", basic.host()),
    ])
    .env("REGISTRY_AUTH_FILE", &file);
    let r = run(cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // That registry asks for basic auth; the hint says how to log in.
    assert_live_snapshot(
        "registry_identity_basic_only",
        &[
            (&basic.host(), "[REGISTRY]"),
            (&file.display().to_string(), "[AUTH_FILE]"),
        ],
        &r.stderr,
    );
    assert_no_token_in(&r, &[REFRESH]);
}

#[test]
fn an_access_token_that_lapses_mid_pull_is_renewed() {
    let Some((reg, images)) = registry(false) else {
        return;
    };
    let (_, b, _) = fixture_pair(images.path());
    reg.push(&format!("oci:{}:latest", b.display()), "b:1", false);
    let expected = report(images.path(), &format!("oci:{}:latest", b.display()), &[]);

    // Anonymous bearer tokens: fetched again with a new challenge.
    let (port, seen) = token_front_with(reg.port, Grant::Anyone, Lapse::First);
    let image = format!("docker://127.0.0.1:{port}/b:1");
    assert_eq!(report(images.path(), &image, &["--no-cache"]), expected);
    let tokens = seen.lock().unwrap().len();
    assert!(
        tokens >= 2,
        "the lapsed token was not renewed ({tokens} token requests)"
    );

    // An access token traded for an identity token: the identity token is traded again.
    let home = tempfile::tempdir().unwrap();
    let (_reg, image, expected, seen, host) = identity_setup(home.path(), Lapse::First);
    let mut cmd = layersift(home.path());
    cmd.args(["analyze", "-f", "json", "--no-cache", &image])
        .env(
            "REGISTRY_AUTH_FILE",
            identity_auth_file(home.path(), &host, REFRESH),
        );
    let r = run(cmd);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(without_source(&r.stdout), expected);
    assert_no_token_in(&r, &[REFRESH]);
    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() >= 2, "{seen:?}");
    assert!(
        seen.iter()
            .all(|t| t.method == "POST" && t.field("refresh_token") == Some(REFRESH)),
        "{seen:?}"
    );
}

#[test]
fn a_token_refused_again_after_renewal_is_a_clear_401() {
    let Some((reg, images)) = registry(false) else {
        return;
    };
    let (_, b, _) = fixture_pair(images.path());
    reg.push(&format!("oci:{}:latest", b.display()), "b:1", false);
    // Tokens that never grant the layers: one renewal per download, then a clear error,
    // not a loop of token requests.
    let (port, seen) = token_front_with(reg.port, Grant::Anyone, Lapse::All);
    let image = format!("docker://127.0.0.1:{port}/b:1");
    let mut cmd = layersift(images.path());
    cmd.args(["analyze", "--no-cache", &image]);
    let r = run(cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("registry `127.0.0.1:{port}` refused access")),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains(TOKEN), "{}", r.stderr);
    let tokens = seen.lock().unwrap().len();
    // The first token, then at most one renewal for each of the two layers.
    assert!((2..=3).contains(&tokens), "{tokens} token requests");
}
