//! Credentials: basic auth from every credential source, and bearer tokens, anonymous and
//! with credentials.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::harness::*;
use crate::util::assert_live_snapshot;

#[test]
fn basic_auth_from_every_credential_source() {
    if !tools_present() {
        return;
    }
    let reg = Registry::start(true);
    let images = tempfile::tempdir().unwrap();
    let (a, _, _) = fixture_pair(images.path());
    reg.push(&format!("oci:{}:latest", a.display()), "private/a:1", false);
    let image = format!("docker://{}/private/a:1", reg.host());
    let expected = report(
        Path::new("/nonexistent"),
        &format!("oci:{}:latest", a.display()),
        &[],
    );
    let host = reg.host();
    use base64::Engine as _;
    let auth =
        |u: &str, p: &str| base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
    let good = auth(USER, PASS);

    // Each case: how to set up HOME (and env), then whether it must succeed.
    let bin = tempfile::tempdir().unwrap();
    write_helper(bin.path(), "good", USER, PASS);
    write_helper(bin.path(), "bad", USER, "wrong");
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    type Setup<'a> = Box<dyn Fn(&Path, &mut Command) + 'a>;
    let cases: Vec<(&str, Setup<'_>, bool)> = vec![
        (
            "--creds",
            Box::new(|_, c: &mut Command| {
                c.arg(format!("--creds={USER}:{PASS}"));
            }),
            true,
        ),
        (
            "~/.docker/config.json auths",
            Box::new(|h: &Path, _: &mut Command| {
                std::fs::create_dir_all(h.join(".docker")).unwrap();
                std::fs::write(
                    h.join(".docker/config.json"),
                    format!(r#"{{"auths":{{"{host}":{{"auth":"{good}"}}}}}}"#),
                )
                .unwrap();
            }),
            true,
        ),
        (
            "DOCKER_CONFIG auths",
            Box::new(|h: &Path, c: &mut Command| {
                std::fs::create_dir_all(h.join("dc")).unwrap();
                std::fs::write(
                    h.join("dc/config.json"),
                    format!(r#"{{"auths":{{"http://{host}":{{"auth":"{good}"}}}}}}"#),
                )
                .unwrap();
                c.env("DOCKER_CONFIG", h.join("dc"));
            }),
            true,
        ),
        (
            "REGISTRY_AUTH_FILE",
            Box::new(|h: &Path, c: &mut Command| {
                std::fs::write(
                    h.join("auth.json"),
                    format!(r#"{{"auths":{{"{host}/private":{{"auth":"{good}"}}}}}}"#),
                )
                .unwrap();
                c.env("REGISTRY_AUTH_FILE", h.join("auth.json"));
            }),
            true,
        ),
        (
            "podman auth.json under XDG_RUNTIME_DIR",
            Box::new(|h: &Path, c: &mut Command| {
                std::fs::create_dir_all(h.join("run/containers")).unwrap();
                std::fs::write(
                    h.join("run/containers/auth.json"),
                    format!(r#"{{"auths":{{"{host}":{{"auth":"{good}"}}}}}}"#),
                )
                .unwrap();
                c.env("XDG_RUNTIME_DIR", h.join("run"));
            }),
            true,
        ),
        (
            "credHelpers",
            Box::new(|h: &Path, c: &mut Command| {
                std::fs::create_dir_all(h.join(".docker")).unwrap();
                std::fs::write(
                    h.join(".docker/config.json"),
                    format!(r#"{{"credHelpers":{{"{host}":"good"}},"credsStore":"bad"}}"#),
                )
                .unwrap();
                c.env("PATH", &path);
            }),
            true,
        ),
        (
            "credsStore",
            Box::new(|h: &Path, c: &mut Command| {
                std::fs::create_dir_all(h.join(".docker")).unwrap();
                std::fs::write(h.join(".docker/config.json"), r#"{"credsStore":"good"}"#).unwrap();
                c.env("PATH", &path);
            }),
            true,
        ),
        (
            "wrong --creds",
            Box::new(|_, c: &mut Command| {
                c.arg(format!("--creds={USER}:not-{PASS}"));
            }),
            false,
        ),
        (
            "wrong password from a helper",
            Box::new(|h: &Path, c: &mut Command| {
                std::fs::create_dir_all(h.join(".docker")).unwrap();
                std::fs::write(h.join(".docker/config.json"), r#"{"credsStore":"bad"}"#).unwrap();
                c.env("PATH", &path);
            }),
            false,
        ),
        ("no credentials", Box::new(|_, _: &mut Command| {}), false),
    ];
    for (name, setup, ok) in cases {
        let home = tempfile::tempdir().unwrap();
        let mut cmd = layersift(home.path());
        cmd.args(["analyze", "-f", "json", "--no-cache", &image]);
        setup(home.path(), &mut cmd);
        let r = run(cmd);
        if ok {
            assert_eq!(r.code, 0, "{name}: {}", r.stderr);
            let mut v: Value = serde_json::from_str(&r.stdout).unwrap();
            let img = v["image"].as_object_mut().unwrap();
            img.remove("reference");
            img.remove("transport");
            assert_eq!(v, expected, "{name}");
        } else {
            assert_eq!(r.code, 2, "{name}: {}", r.stderr);
            // The registry refused access, and a hint says what to do.
            let tag: Vec<&str> = name
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect();
            let tag = tag.join("_");
            assert_live_snapshot(
                &format!("registry_refused_{tag}"),
                &[
                    (&home.path().display().to_string(), "[HOME]"),
                    (&host, "[REGISTRY]"),
                ],
                &r.stderr,
            );
        }
    }
    // A configured helper that is not installed is an error that names it.
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".docker")).unwrap();
    std::fs::write(
        home.path().join(".docker/config.json"),
        r#"{"credsStore":"nosuch"}"#,
    )
    .unwrap();
    let mut cmd = layersift(home.path());
    cmd.args(["analyze", "--no-cache", &image])
        .env("PATH", &path);
    let r = run(cmd);
    assert_eq!(r.code, 2);
    // Names the helper it cannot run; the hint says to install it.
    assert_live_snapshot(
        "registry_credential_helper_missing",
        &[
            (&home.path().display().to_string(), "[HOME]"),
            (&host, "[REGISTRY]"),
        ],
        &r.stderr,
    );

    assert!(
        std::fs::read_to_string(bin.path().join("asked"))
            .unwrap()
            .contains(&host),
        "helpers are asked about the registry"
    );
}

#[test]
fn bearer_tokens_anonymous_and_with_credentials() {
    let Some((reg, home)) = registry(false) else {
        return;
    };
    let (a, _, _) = fixture_pair(home.path());
    reg.push(&format!("oci:{}:latest", a.display()), "a:1", false);
    let expected = report(home.path(), &format!("oci:{}:latest", a.display()), &[]);

    // Anonymous: a token is fetched without credentials, then used.
    let (open, seen) = token_front(reg.port, Grant::Anyone);
    let image = format!("docker://127.0.0.1:{open}/a:1");
    assert_eq!(report(home.path(), &image, &["--no-cache"]), expected);
    let seen = seen.lock().unwrap().clone();
    assert!(!seen.is_empty(), "no token was requested");
    assert!(
        seen.iter()
            .all(|r| r.method == "GET" && r.authorization.is_empty()),
        "{seen:?}"
    );

    // A token service that wants credentials gets them as basic auth.
    let (private, seen) = token_front(reg.port, Grant::Basic(USER, PASS));
    let image = format!("docker://127.0.0.1:{private}/a:1");
    let creds = format!("--creds={USER}:{PASS}");
    assert_eq!(
        report(home.path(), &image, &["--no-cache", creds.as_str()]),
        expected
    );
    assert!(seen
        .lock()
        .unwrap()
        .iter()
        .all(|r| r.authorization.starts_with("Basic ")));

    let mut cmd = layersift(home.path());
    cmd.args([
        "analyze",
        "--no-cache",
        &format!("--creds={USER}:wrong"),
        &image,
    ]);
    let r = run(cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // Refused access, and the hint names `--creds`.
    assert_live_snapshot(
        "registry_bearer_wrong_creds",
        &[
            (&home.path().display().to_string(), "[HOME]"),
            (&format!("127.0.0.1:{private}"), "[REGISTRY]"),
        ],
        &r.stderr,
    );
}
