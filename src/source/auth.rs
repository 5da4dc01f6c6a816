//! Registry credentials: where they come from and how they are looked up, the way podman,
//! skopeo and docker do it, so users need not log in again for layersift.
//!
//! Sources, first match wins: `--creds USER:PASS`; `$REGISTRY_AUTH_FILE`, or when it is
//! unset `$XDG_RUNTIME_DIR/containers/auth.json` and `$XDG_CONFIG_HOME/containers/auth.json`
//! (`~/.config/containers/auth.json`); then `$DOCKER_CONFIG/config.json`
//! (`~/.docker/config.json`). In each file, a `credHelpers` entry for the registry wins, then
//! an `auths` entry (most specific `registry/namespace` key first), then the `credsStore`
//! helper. Helpers are `docker-credential-NAME get` programs speaking docker's protocol.
//!
//! What is found is a [`Secret`]: a user name and password, or an identity (refresh) token
//! as `docker login`, Docker Desktop and `az acr login` store them — a helper reply whose
//! `Username` is `<token>` (its `Secret` is the token), or the `identitytoken` field of an
//! `auths` entry (which wins over that entry's `auth`). The registry module trades an
//! identity token for an access token at the registry's token service.
//!
//! Secrets never leave this module except into the HTTP client: [`Credentials`] prints as
//! `USER:***`, an [`IdentityToken`] as `<identity token>`, and errors name the file or
//! helper the credentials came from, never them.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;

/// A user name and a password (or token) for HTTP basic auth or a token exchange.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:***", self.username)
    }
}

impl Credentials {
    /// Parses `--creds USER[:PASS]` (skopeo's form; the password may contain `:`).
    pub fn parse(s: &str) -> Result<Credentials, String> {
        let (user, pass) = s.split_once(':').unwrap_or((s, ""));
        if user.is_empty() {
            return Err("expected USER:PASSWORD".to_string());
        }
        Ok(Credentials {
            username: user.to_string(),
            password: pass.to_string(),
        })
    }
}

/// An identity (refresh) token: traded at the registry's token service for an access token.
/// Its text is reachable only through [`IdentityToken::expose`].
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct IdentityToken(String);

impl IdentityToken {
    #[cfg(test)]
    pub(crate) fn new(token: String) -> IdentityToken {
        IdentityToken(token)
    }

    /// The token itself, for the token request and nothing else.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for IdentityToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<identity token>")
    }
}

/// Credentials for a registry: HTTP basic (or a token exchange with them), or an identity
/// token. Debug output hides the password and the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Secret {
    Basic(Credentials),
    IdentityToken(IdentityToken),
}

impl Secret {
    /// How messages call it: "the credentials" or "the identity token".
    pub(crate) fn kind(&self) -> CredsKind {
        match self {
            Secret::Basic(_) => CredsKind::Basic,
            Secret::IdentityToken(_) => CredsKind::IdentityToken,
        }
    }
}

/// Which kind of [`Secret`] was used, for messages (never the secret itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredsKind {
    Basic,
    IdentityToken,
}

impl std::fmt::Display for CredsKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CredsKind::Basic => write!(f, "the credentials"),
            CredsKind::IdentityToken => write!(f, "the identity token"),
        }
    }
}

/// Where credentials were found, for messages (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthSource {
    /// `--creds`.
    Flag,
    /// An `auths` entry of a config file.
    File(PathBuf),
    /// A `docker-credential-NAME` program.
    Helper(String),
}

impl std::fmt::Display for AuthSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthSource::Flag => write!(f, "`--creds`"),
            AuthSource::File(p) => write!(f, "`{}`", p.display()),
            AuthSource::Helper(h) => write!(f, "`docker-credential-{h}`"),
        }
    }
}

/// Why credentials could not be looked up.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot read the credentials file `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the credentials file `{}` is not valid JSON of the expected form", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("the `auths` entry for `{key}` in `{}` is not base64 of `USER:PASSWORD`", path.display())]
    BadAuthField { path: PathBuf, key: String },
    #[error("cannot run the credential helper `docker-credential-{helper}`")]
    HelperSpawn {
        helper: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the credential helper `docker-credential-{helper}` failed: {message}")]
    HelperFailed { helper: String, message: String },
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ConfigFile {
    #[serde(default)]
    auths: std::collections::BTreeMap<String, AuthEntry>,
    #[serde(default)]
    creds_store: Option<String>,
    #[serde(default)]
    cred_helpers: std::collections::BTreeMap<String, String>,
}

#[derive(serde::Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperReply {
    username: String,
    secret: String,
}

/// The environment lookups depend on, so tests can pass their own.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuthEnv {
    pub registry_auth_file: Option<PathBuf>,
    pub xdg_runtime_dir: Option<PathBuf>,
    pub xdg_config_home: Option<PathBuf>,
    pub docker_config: Option<PathBuf>,
    pub home: Option<PathBuf>,
}

impl AuthEnv {
    pub(crate) fn from_process() -> AuthEnv {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        AuthEnv {
            registry_auth_file: var("REGISTRY_AUTH_FILE"),
            xdg_runtime_dir: var("XDG_RUNTIME_DIR"),
            xdg_config_home: var("XDG_CONFIG_HOME"),
            docker_config: var("DOCKER_CONFIG"),
            home: var("HOME"),
        }
    }

    /// Credential files in the order they are consulted.
    fn files(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        // Like podman: `REGISTRY_AUTH_FILE` replaces the default `auth.json` locations.
        if let Some(f) = &self.registry_auth_file {
            files.push(f.clone());
        } else {
            if let Some(d) = &self.xdg_runtime_dir {
                files.push(d.join("containers/auth.json"));
            }
            match (&self.xdg_config_home, &self.home) {
                (Some(c), _) => files.push(c.join("containers/auth.json")),
                (None, Some(h)) => files.push(h.join(".config/containers/auth.json")),
                _ => {}
            }
        }
        match (&self.docker_config, &self.home) {
            (Some(d), _) => files.push(d.join("config.json")),
            (None, Some(h)) => files.push(h.join(".docker/config.json")),
            _ => {}
        }
        files
    }
}

/// Normalises an `auths` key (`https://index.docker.io/v1/`, `quay.io/ns`) to
/// `registry[/path]` with Docker Hub's aliases folded to `docker.io`.
fn normalize_key(key: &str) -> String {
    let k = key
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let k = k
        .strip_suffix("/v1")
        .or_else(|| k.strip_suffix("/v2"))
        .unwrap_or(k);
    let (host, path) = k.split_once('/').unwrap_or((k, ""));
    let host = match host {
        "index.docker.io" | "registry-1.docker.io" => "docker.io",
        h => h,
    };
    if path.is_empty() {
        host.to_string()
    } else {
        format!("{host}/{path}")
    }
}

/// The server name a credential helper is asked about (docker's convention for Hub).
fn helper_server(registry: &str) -> String {
    if registry == "docker.io" {
        "https://index.docker.io/v1/".to_string()
    } else {
        registry.to_string()
    }
}

fn run_helper(helper: &str, registry: &str) -> Result<Option<Secret>, AuthError> {
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| AuthError::HelperSpawn {
            helper: helper.to_string(),
            source,
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(helper_server(registry).as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|source| AuthError::HelperSpawn {
            helper: helper.to_string(),
            source,
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        if text.contains("credentials not found") {
            return Ok(None);
        }
        let err = String::from_utf8_lossy(&out.stderr);
        let message = [text.trim(), err.trim()]
            .into_iter()
            .find(|s| !s.is_empty())
            .unwrap_or("no message")
            .chars()
            .take(200)
            .collect();
        return Err(AuthError::HelperFailed {
            helper: helper.to_string(),
            message,
        });
    }
    let reply: HelperReply =
        serde_json::from_slice(&out.stdout).map_err(|_| AuthError::HelperFailed {
            helper: helper.to_string(),
            message: "its reply is not the expected JSON".to_string(),
        })?;
    Ok(helper_secret(reply))
}

/// A helper's reply as a secret: docker's helpers store an identity token under the user
/// name `<token>`.
fn helper_secret(reply: HelperReply) -> Option<Secret> {
    if reply.username == "<token>" {
        return (!reply.secret.is_empty())
            .then_some(Secret::IdentityToken(IdentityToken(reply.secret)));
    }
    Some(Secret::Basic(Credentials {
        username: reply.username,
        password: reply.secret,
    }))
}

fn decode_auth(path: &Path, key: &str, e: &AuthEntry) -> Result<Option<Secret>, AuthError> {
    // docker keeps `auth` (`USER:` without a password) beside an identity token; the token
    // is what logs in.
    if let Some(t) = e.identitytoken.as_deref().filter(|t| !t.is_empty()) {
        return Ok(Some(Secret::IdentityToken(IdentityToken(t.to_string()))));
    }
    if let Some(a) = e.auth.as_deref().filter(|a| !a.is_empty()) {
        let bad = || AuthError::BadAuthField {
            path: path.to_path_buf(),
            key: key.to_string(),
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(a.trim())
            .map_err(|_| bad())?;
        let s = String::from_utf8(bytes).map_err(|_| bad())?;
        let (u, p) = s.split_once(':').ok_or_else(bad)?;
        return Ok(Some(Secret::Basic(Credentials {
            username: u.to_string(),
            password: p.to_string(),
        })));
    }
    if let (Some(u), Some(p)) = (&e.username, &e.password) {
        return Ok(Some(Secret::Basic(Credentials {
            username: u.clone(),
            password: p.clone(),
        })));
    }
    Ok(None)
}

fn lookup_in_file(
    path: &Path,
    registry: &str,
    repository: &str,
) -> Result<Option<(Secret, AuthSource)>, AuthError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(AuthError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let file: ConfigFile = serde_json::from_slice(&bytes).map_err(|source| AuthError::Parse {
        path: path.to_path_buf(),
        source,
    })?;
    if let Some((_, helper)) = file
        .cred_helpers
        .iter()
        .find(|(k, _)| normalize_key(k) == registry)
    {
        return Ok(run_helper(helper, registry)?.map(|c| (c, AuthSource::Helper(helper.clone()))));
    }
    // Most specific key first: `reg/ns/repo`, `reg/ns`, `reg`.
    let full = format!("{registry}/{repository}");
    let mut best: Option<(usize, &String, &AuthEntry)> = None;
    for (k, e) in &file.auths {
        let nk = normalize_key(k);
        let matches = nk == registry || full == nk || full.starts_with(&format!("{nk}/"));
        if matches && best.is_none_or(|(len, _, _)| nk.len() > len) {
            best = Some((nk.len(), k, e));
        }
    }
    if let Some((_, k, e)) = best {
        if let Some(c) = decode_auth(path, k, e)? {
            return Ok(Some((c, AuthSource::File(path.to_path_buf()))));
        }
    }
    if let Some(helper) = &file.creds_store {
        return Ok(run_helper(helper, registry)?.map(|c| (c, AuthSource::Helper(helper.clone()))));
    }
    Ok(None)
}

/// Finds credentials for `registry` (as a reference names it, e.g. `docker.io`,
/// `127.0.0.1:5000`) and `repository`; `None` means anonymous access.
pub(crate) fn lookup(
    registry: &str,
    repository: &str,
    explicit: Option<&Credentials>,
    env: &AuthEnv,
) -> Result<Option<(Secret, AuthSource)>, AuthError> {
    if let Some(c) = explicit {
        return Ok(Some((Secret::Basic(c.clone()), AuthSource::Flag)));
    }
    let registry = normalize_key(registry);
    for f in env.files() {
        if let Some(found) = lookup_in_file(&f, &registry, repository)? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_with(dir: &Path) -> AuthEnv {
        AuthEnv {
            home: Some(dir.to_path_buf()),
            ..AuthEnv::default()
        }
    }

    fn basic(s: Secret) -> Credentials {
        match s {
            Secret::Basic(c) => c,
            other => panic!("expected basic credentials, got {other:?}"),
        }
    }

    #[test]
    fn parses_creds_and_hides_the_secret() {
        let c = Credentials::parse("bob:s3:cret").unwrap();
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("bob", "s3:cret")
        );
        assert_eq!(format!("{c:?}"), "bob:***");
        assert!(Credentials::parse(":x").is_err());
    }

    #[test]
    fn normalises_keys() {
        assert_eq!(normalize_key("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(normalize_key("registry-1.docker.io"), "docker.io");
        assert_eq!(normalize_key("http://127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(normalize_key("quay.io/team/"), "quay.io/team");
    }

    #[test]
    fn reads_docker_config_auths_most_specific_first() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".docker")).unwrap();
        // base64("ann:pw1"), base64("bob:pw2")
        std::fs::write(
            dir.path().join(".docker/config.json"),
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"YW5uOnB3MQ=="},
                "docker.io/team":{"auth":"Ym9iOnB3Mg=="}}}"#,
        )
        .unwrap();
        let env = env_with(dir.path());
        let (c, src) = lookup("docker.io", "library/alpine", None, &env)
            .unwrap()
            .unwrap();
        let c = basic(c);
        assert_eq!((c.username.as_str(), c.password.as_str()), ("ann", "pw1"));
        assert_eq!(
            src,
            AuthSource::File(dir.path().join(".docker/config.json"))
        );
        let (c, _) = lookup("docker.io", "team/app", None, &env)
            .unwrap()
            .unwrap();
        assert_eq!(basic(c).username, "bob");
        assert!(lookup("ghcr.io", "x/y", None, &env).unwrap().is_none());
    }

    #[test]
    fn podman_auth_file_comes_before_docker_config() {
        let dir = tempfile::tempdir().unwrap();
        let podman = dir.path().join("auth.json");
        std::fs::write(
            &podman,
            r#"{"auths":{"reg.example:5000":{"username":"pod","password":"man"}}}"#,
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join(".docker")).unwrap();
        std::fs::write(
            dir.path().join(".docker/config.json"),
            r#"{"auths":{"reg.example:5000":{"auth":"YW5uOnB3MQ=="}}}"#,
        )
        .unwrap();
        let mut env = env_with(dir.path());
        env.registry_auth_file = Some(podman.clone());
        let (c, src) = lookup("reg.example:5000", "a", None, &env)
            .unwrap()
            .unwrap();
        assert_eq!(basic(c).username, "pod");
        assert_eq!(src, AuthSource::File(podman));
        let flag = Credentials::parse("f:g").unwrap();
        let (c, src) = lookup("reg.example:5000", "a", Some(&flag), &env)
            .unwrap()
            .unwrap();
        assert_eq!((c, src), (Secret::Basic(flag), AuthSource::Flag));
    }

    #[test]
    fn malformed_files_are_errors_that_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("auth.json");
        std::fs::write(&f, r#"{"auths":{"r":{"auth":"%%%"}}}"#).unwrap();
        let env = AuthEnv {
            registry_auth_file: Some(f),
            ..AuthEnv::default()
        };
        let e = lookup("r", "x", None, &env).unwrap_err();
        assert!(e.to_string().contains("auth.json"), "{e}");
        assert!(!e.to_string().contains("%%%"));
    }

    #[test]
    fn helper_replies_with_token_user_are_identity_tokens() {
        let parse = |json: &str| helper_secret(serde_json::from_str(json).unwrap());
        let s = parse(r#"{"ServerURL":"r","Username":"<token>","Secret":"rt-123"}"#).unwrap();
        assert_eq!(
            s,
            Secret::IdentityToken(IdentityToken::new("rt-123".into()))
        );
        assert_eq!(s.kind(), CredsKind::IdentityToken);
        assert!(!format!("{s:?}").contains("rt-123"), "{s:?}");
        let s = parse(r#"{"Username":"bob","Secret":"pw"}"#).unwrap();
        assert_eq!(basic(s).password, "pw");
        // `<token>` with nothing stored is no credentials at all.
        assert_eq!(parse(r#"{"Username":"<token>","Secret":""}"#), None);
    }

    #[test]
    fn identitytoken_field_wins_over_auth() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".docker")).unwrap();
        // docker writes `auth` as base64("USER:") beside the token; podman may omit it.
        std::fs::write(
            dir.path().join(".docker/config.json"),
            r#"{"auths":{"myreg.azurecr.io":{"auth":"MDAwMDAwMDAtMDAwMDo=",
                "identitytoken":"eyJhbGciOi.refresh"},
                "ghcr.io":{"identitytoken":"gho_abc"},
                "quay.io":{"auth":"YW5uOnB3MQ==","identitytoken":""}}}"#,
        )
        .unwrap();
        let env = env_with(dir.path());
        let (s, src) = lookup("myreg.azurecr.io", "app", None, &env)
            .unwrap()
            .unwrap();
        assert_eq!(
            s,
            Secret::IdentityToken(IdentityToken::new("eyJhbGciOi.refresh".into()))
        );
        assert_eq!(
            src,
            AuthSource::File(dir.path().join(".docker/config.json"))
        );
        let dbg = format!("{s:?} {src:?}");
        assert!(!dbg.contains("refresh"), "{dbg}");
        let (s, _) = lookup("ghcr.io", "o/r", None, &env).unwrap().unwrap();
        assert_eq!(s.kind(), CredsKind::IdentityToken);
        assert_eq!(
            s,
            Secret::IdentityToken(IdentityToken::new("gho_abc".into()))
        );
        // An empty token is no token: the entry's `auth` is used.
        let (s, _) = lookup("quay.io", "x", None, &env).unwrap().unwrap();
        assert_eq!(basic(s).username, "ann");
    }
}
