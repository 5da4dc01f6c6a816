//! Registries (`docker://NAME[:TAG|@DIGEST]`, or a bare `NAME[:TAG]`), through oci-client:
//! resolves a tag or digest to one image manifest (picking a platform from an index),
//! fetches and verifies the config, and streams layer blobs to decode.
//!
//! Transport: HTTPS, except plain HTTP for `localhost`/`127.0.0.1`/`::1`; with
//! `--tls-verify=false`, HTTPS without certificate checks and then plain HTTP (skopeo's
//! behaviour). Connect and read timeouts; requests are retried with exponential backoff on
//! 429, 5xx and dropped connections, and an interrupted blob resumes where it stopped.
//!
//! The HTTP client is async; decode is sync (rayon). The store owns a small tokio runtime;
//! each opened blob is a task that sends chunks through a bounded channel to a sync
//! [`std::io::Read`], so a layer is never held whole in memory and downloads run while
//! decoding consumes them. Downloads of layers decode has not reached yet start early (a
//! few at a time, each buffering a bounded amount), so request latency overlaps decoding. Blobs and decoded layers go to the [`Cache`] when one is given.
//!
//! Credentials: basic ones go to oci-client as they are. An identity (refresh) token is
//! first traded for an access token the OAuth2 way of the distribution token spec (see
//! [`exchange_identity_token`]) over the same transport and timeouts, and the access token
//! is then used as a bearer token.

use std::collections::HashMap;
use std::future::Future;
use std::io::{self, Read};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Buf as _, Bytes};
use futures_util::StreamExt as _;
use oci_client::client::{BlobResponse, ClientConfig, ClientProtocol};
use oci_client::errors::{DigestError, OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};
use oci_spec::image::{Descriptor, ImageIndex};
use tokio::runtime::Runtime;
use tokio::sync::{mpsc, Notify, Semaphore};

use super::auth::{self, AuthEnv, AuthError, AuthSource, CredsKind, IdentityToken, Secret};
use super::cache::{Cache, Staging, Tee};
use super::oci::{config_platform, layers_of, parse_manifest_and_config, pick_platform};
use super::{
    parse_json, verify_doc, BlobStore, Image, ImageRef, LayerBlob, OpenOptions, SourceError,
    MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES,
};
use crate::decode::DecodedLayer;

const ACCEPT: &[&str] = &[
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

const MANIFEST: &str = "the manifest";
/// What the `GET /v2/` of an identity-token exchange is, in errors.
const CHALLENGE: &str = "its authentication challenge (`GET /v2/`)";
/// What the token request of an identity-token exchange is, in errors.
const ACCESS_TOKEN: &str = "an access token for the identity token";
const NEW_TOKEN: &str = "a new access token";
/// The most a token service reply may hold.
const MAX_TOKEN_REPLY_BYTES: usize = 1 << 20;
const USER_AGENT: &str = concat!("layersift/", env!("CARGO_PKG_VERSION"));

/// Attempts after the first, for a request that failed in a way worth retrying.
const RETRIES: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Bytes buffered per blob between the network task and decode.
const BUFFER_BYTES: usize = 1 << 20;
/// Downloads allowed to run ahead of decode.
const PREFETCH: usize = 4;

/// Why a registry image could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("cannot look up credentials")]
    Auth(#[source] AuthError),
    #[error("registry `{registry}` refused access to `{reference}`{}", creds_note(.creds, *.kind))]
    Unauthorized {
        registry: String,
        reference: String,
        creds: Option<AuthSource>,
        kind: CredsKind,
    },
    #[error(
        "the token service of registry `{registry}` refused the identity token from {creds} \
         (HTTP {status}{})",
        oauth_note(.oauth_error)
    )]
    IdentityTokenRefused {
        registry: String,
        creds: AuthSource,
        status: u16,
        /// The OAuth2 `error` code of the reply (`invalid_grant`), when it sent one.
        oauth_error: Option<String>,
    },
    #[error(
        "registry `{registry}` does not hand out bearer tokens ({challenge}), so the identity \
         token from {creds} cannot be used"
    )]
    IdentityTokenUnsupported {
        registry: String,
        creds: AuthSource,
        /// What it asked for instead, for the message.
        challenge: String,
    },
    #[error(
        "registry `{registry}` names the plain-HTTP token service `{realm}`; the identity \
         token from {creds} is sent there only with `--tls-verify=false`"
    )]
    InsecureTokenService {
        registry: String,
        creds: AuthSource,
        realm: String,
    },
    #[error(
        "cannot trade the identity token from {creds} for an access token at registry \
         `{registry}`: {problem}"
    )]
    TokenService {
        registry: String,
        creds: AuthSource,
        problem: String,
    },
    #[error("`{reference}` was not found in registry `{registry}`")]
    NotFound { registry: String, reference: String },
    #[error("registry `{registry}` has the manifest of `{reference}` but not {what}")]
    BlobMissing {
        registry: String,
        reference: String,
        what: String,
    },
    #[error("cannot reach registry `{registry}`")]
    Unreachable {
        registry: String,
        #[source]
        source: OciDistributionError,
    },
    #[error("registry `{registry}` failed to serve {what}")]
    Failed {
        registry: String,
        what: String,
        #[source]
        source: OciDistributionError,
    },
    #[error("registry `{registry}` sent more than the {expected} bytes the manifest gives for blob `{digest}`")]
    Oversized {
        registry: String,
        digest: String,
        expected: u64,
    },
    #[error("cannot start the network runtime")]
    Runtime(#[source] io::Error),
    #[error("cannot start the HTTP client for the token service")]
    HttpClient(#[source] reqwest::Error),
}

fn creds_note(creds: &Option<AuthSource>, kind: CredsKind) -> String {
    match creds {
        Some(s) => format!(" with {kind} from {s}"),
        None => " without credentials".to_string(),
    }
}

fn oauth_note(code: &Option<String>) -> String {
    match code {
        Some(c) => format!(": `{c}`"),
        None => String::new(),
    }
}

/// How to get a fresh identity token for a registry.
fn login_again(registry: &str) -> String {
    format!(
        "log in again to get a fresh identity token (`docker login {registry}`; for Azure, \
         `az acr login`), or pass `--creds USER:PASSWORD`"
    )
}

impl RegistryError {
    pub fn hint(&self) -> Option<String> {
        match self {
            RegistryError::Unauthorized {
                registry,
                creds: None,
                ..
            } => Some(format!(
                "log in with `podman login {registry}` or `docker login {registry}`, \
                 or pass `--creds USER:PASSWORD`"
            )),
            RegistryError::Unauthorized {
                registry,
                creds: Some(s),
                kind: CredsKind::IdentityToken,
                ..
            } => Some(format!(
                "the identity token from {s} may have expired or may not grant this \
                 repository; {}",
                login_again(registry)
            )),
            RegistryError::Unauthorized { creds: Some(s), .. } => {
                Some(format!("check the user name and password from {s}"))
            }
            RegistryError::IdentityTokenRefused { registry, .. } => Some(format!(
                "the identity token has expired or was revoked; {}",
                login_again(registry)
            )),
            RegistryError::IdentityTokenUnsupported { registry, .. } => Some(format!(
                "log in to `{registry}` with a user name and password (`docker login \
                 {registry}`), or pass `--creds USER:PASSWORD`"
            )),
            RegistryError::InsecureTokenService { .. } => Some(
                "pass `--tls-verify=false` if the registry is meant to run without TLS".to_string(),
            ),
            RegistryError::TokenService { registry, .. } => Some(login_again(registry)),
            RegistryError::NotFound { .. } => Some(
                "check the repository name and tag; `skopeo list-tags docker://NAME` lists tags"
                    .to_string(),
            ),
            RegistryError::BlobMissing { .. } => {
                Some("the registry lost part of this image; push the image to it again".to_string())
            }
            RegistryError::Auth(AuthError::HelperSpawn { .. } | AuthError::HelperFailed { .. }) => {
                Some(
                    "install the credential helper, or remove it from `credsStore`/`credHelpers` \
                     in the docker config, or pass `--creds USER:PASSWORD`"
                        .to_string(),
                )
            }
            RegistryError::Auth(_) => {
                Some("fix the credentials file, or pass `--creds USER:PASSWORD`".to_string())
            }
            RegistryError::Unreachable { .. } => Some(
                "check the registry address and your network; for a registry without TLS \
                 pass `--tls-verify=false`"
                    .to_string(),
            ),
            _ => None,
        }
    }
}

impl From<RegistryError> for SourceError {
    fn from(e: RegistryError) -> Self {
        SourceError::Registry(Box::new(e))
    }
}

/// What an error is about, to turn oci-client's errors into ones a user can act on.
#[derive(Clone)]
struct Context {
    registry: String,
    reference: String,
    creds: Option<AuthSource>,
    kind: CredsKind,
}

impl Context {
    fn error(&self, what: &str, e: OciDistributionError) -> RegistryError {
        let unauthorized = || RegistryError::Unauthorized {
            registry: self.registry.clone(),
            reference: self.reference.clone(),
            creds: self.creds.clone(),
            kind: self.kind,
        };
        let not_found = || {
            if what == MANIFEST {
                RegistryError::NotFound {
                    registry: self.registry.clone(),
                    reference: self.reference.clone(),
                }
            } else {
                RegistryError::BlobMissing {
                    registry: self.registry.clone(),
                    reference: self.reference.clone(),
                    what: what.to_string(),
                }
            }
        };
        if is_unauthorized(&e) {
            return unauthorized();
        }
        match &e {
            OciDistributionError::ServerError { code: 404, .. } => not_found(),
            OciDistributionError::RegistryError { envelope, .. } => {
                let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
                if codes.iter().any(|c| {
                    matches!(
                        c,
                        OciErrorCode::ManifestUnknown
                            | OciErrorCode::NameUnknown
                            | OciErrorCode::NotFound
                            | OciErrorCode::BlobUnknown
                    )
                }) {
                    not_found()
                } else {
                    self.failed(what, e)
                }
            }
            OciDistributionError::RequestError(r) if r.is_connect() || r.is_timeout() => {
                RegistryError::Unreachable {
                    registry: self.registry.clone(),
                    source: e,
                }
            }
            _ => self.failed(what, e),
        }
    }

    fn failed(&self, what: &str, source: OciDistributionError) -> RegistryError {
        RegistryError::Failed {
            registry: self.registry.clone(),
            what: what.to_string(),
            source,
        }
    }
}

/// True when the registry refused the credentials or the access token.
fn is_unauthorized(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_)
        | OciDistributionError::ServerError { code: 401, .. } => true,
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|e| matches!(e.code, OciErrorCode::Unauthorized | OciErrorCode::Denied)),
        _ => false,
    }
}

/// True for failures a later attempt may not see: throttling, server errors, network drops.
fn retryable(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ServerError { code, .. } => *code == 429 || *code >= 500,
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|e| matches!(e.code, OciErrorCode::Toomanyrequests)),
        OciDistributionError::RequestError(r) => {
            r.is_connect() || r.is_timeout() || r.is_request() || r.is_body()
        }
        OciDistributionError::IoError(io) => !is_digest_error(io),
        _ => false,
    }
}

/// oci-client's own blob digest check; decode checks the same digest and says more.
fn is_digest_error(e: &io::Error) -> bool {
    e.get_ref()
        .is_some_and(|inner| inner.downcast_ref::<DigestError>().is_some())
}

async fn with_retries<T, F, Fut>(mut f: F) -> Result<T, OciDistributionError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, OciDistributionError>>,
{
    let mut delay = FIRST_BACKOFF;
    let mut attempt = 0;
    loop {
        match f().await {
            Err(e) if attempt < RETRIES && retryable(&e) => {
                attempt += 1;
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            other => return other,
        }
    }
}

fn is_loopback(registry: &str) -> bool {
    let host = match registry.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => registry.rsplit_once(':').map_or(registry, |(h, _)| h),
    };
    matches!(host, "localhost" | "127.0.0.1" | "::1")
}

fn client(protocol: ClientProtocol, insecure: bool) -> Client {
    Client::new(ClientConfig {
        protocol,
        accept_invalid_certificates: insecure,
        platform_resolver: None,
        connect_timeout: Some(CONNECT_TIMEOUT),
        read_timeout: Some(READ_TIMEOUT),
        user_agent: USER_AGENT,
        ..ClientConfig::default()
    })
}

/// The plain HTTP client of an identity-token exchange: oci-client's transport settings
/// (certificate checks, timeouts, user agent), and no redirects, so the token is sent
/// nowhere but the token service the registry names.
fn token_client(insecure: bool) -> Result<reqwest::Client, RegistryError> {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(insecure)
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(RegistryError::HttpClient)
}

/// The credentials `open` found, as requests present them. Anonymous and basic auth go as
/// they are; an identity token is traded at the registry's token service for an access
/// token whenever one is needed: before the first request, and again when the registry
/// refuses the access token in use mid-pull.
#[derive(Clone)]
struct Login {
    /// Anonymous or basic; anonymous when an identity token is set.
    auth: RegistryAuth,
    identity: Option<Arc<IdentityLogin>>,
}

/// An identity token and the HTTP client that trades it.
struct IdentityLogin {
    token: IdentityToken,
    http: reqwest::Client,
    insecure: bool,
    /// Where the identity token came from, for messages.
    source: AuthSource,
}

impl Login {
    /// What to present to the registry, reached over `scheme` (`http` or `https`).
    async fn auth(
        &self,
        reference: &Reference,
        cx: &Context,
        scheme: &str,
    ) -> Result<RegistryAuth, RegistryError> {
        match &self.identity {
            Some(id) => exchange_identity_token(id, scheme, cx, reference).await,
            None => Ok(self.auth.clone()),
        }
    }
}

/// A reply: its status, `WWW-Authenticate` values and (bounded) body.
struct Reply {
    status: u16,
    challenges: Vec<String>,
    body: Vec<u8>,
}

/// Sends a request; 429 and 5xx replies are errors (so [`with_retries`] retries them),
/// every other reply is returned.
async fn send(req: reqwest::RequestBuilder) -> Result<Reply, OciDistributionError> {
    let mut resp = req.send().await?;
    let status = resp.status().as_u16();
    if status == 429 || status >= 500 {
        return Err(OciDistributionError::ServerError {
            code: status,
            url: resp.url().to_string(),
            message: String::new(),
        });
    }
    let challenges = resp
        .headers()
        .get_all(reqwest::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_TOKEN_REPLY_BYTES {
            return Err(OciDistributionError::SpecViolationError(format!(
                "the reply is larger than {MAX_TOKEN_REPLY_BYTES} bytes"
            )));
        }
    }
    Ok(Reply {
        status,
        challenges,
        body,
    })
}

/// One challenge of a `WWW-Authenticate` header: its scheme and parameters (names in
/// lower case, values unquoted).
#[derive(Debug, PartialEq, Eq)]
struct Challenge {
    scheme: String,
    params: Vec<(String, String)>,
}

impl Challenge {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a `WWW-Authenticate` value (RFC 9110 §11.6.1): challenges separated by commas,
/// each a scheme then `name=value` parameters, values tokens or quoted strings.
fn parse_challenges(value: &str) -> Vec<Challenge> {
    let is_space = |c: char| c == ' ' || c == '\t';
    let mut out: Vec<Challenge> = Vec::new();
    let mut s = value;
    // True right after a scheme, until a comma: a bare word there is the scheme's token68.
    let mut after_scheme = false;
    loop {
        s = s.trim_start_matches(is_space);
        if s.starts_with(',') {
            after_scheme = false;
            s = s.trim_start_matches(|c: char| c == ',' || is_space(c));
        }
        if s.is_empty() {
            return out;
        }
        let end = s
            .find(|c: char| c == '=' || c == ',' || is_space(c))
            .unwrap_or(s.len());
        let word = &s[..end];
        s = s[end..].trim_start_matches(is_space);
        // `==` ends a token68 (`Basic YWxh==`), which is no parameter.
        match s.strip_prefix('=').filter(|rest| !rest.starts_with('=')) {
            Some(rest) if !word.is_empty() => {
                after_scheme = false;
                let rest = rest.trim_start_matches(is_space);
                let (value, rest) = match rest.strip_prefix('"') {
                    Some(quoted) => {
                        let mut value = String::new();
                        let mut chars = quoted.char_indices();
                        let mut end = quoted.len();
                        while let Some((i, c)) = chars.next() {
                            match c {
                                '\\' => value.extend(chars.next().map(|(_, c)| c)),
                                '"' => {
                                    end = i + 1;
                                    break;
                                }
                                c => value.push(c),
                            }
                        }
                        (value, &quoted[end..])
                    }
                    None => {
                        let end = rest
                            .find(|c: char| c == ',' || is_space(c))
                            .unwrap_or(rest.len());
                        (rest[..end].to_string(), &rest[end..])
                    }
                };
                if let Some(last) = out.last_mut() {
                    last.params.push((word.to_ascii_lowercase(), value));
                }
                s = rest;
            }
            _ if after_scheme => {
                s = s.trim_start_matches('=');
                after_scheme = false;
            }
            _ => {
                s = s.trim_start_matches('=');
                after_scheme = true;
                out.push(Challenge {
                    scheme: word.to_string(),
                    params: Vec::new(),
                });
            }
        }
    }
}

/// `application/x-www-form-urlencoded` of name/value pairs.
fn form_encode(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

#[derive(serde::Deserialize)]
struct TokenReply {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    token: Option<String>,
}

/// Trades an identity (refresh) token for an access token, the OAuth2 way of the
/// distribution token spec: `GET /v2/` answers a `Bearer realm=…,service=…` challenge;
/// a `POST` to the realm with `grant_type=refresh_token` answers `access_token` (or
/// `token`), which is then the bearer token for the registry. A registry that answers
/// `/v2/` without a challenge needs no credentials: anonymous access.
async fn exchange_identity_token(
    x: &IdentityLogin,
    scheme: &str,
    cx: &Context,
    reference: &Reference,
) -> Result<RegistryAuth, RegistryError> {
    let token = &x.token;
    let registry = || cx.registry.clone();
    let creds = || x.source.clone();
    // Network failures say the registry is unreachable (and let `open` try the next
    // protocol); anything else is a failure to serve `what`.
    let http_error = |what: &str, e: OciDistributionError| match e {
        OciDistributionError::RequestError(_) => cx.error(what, e),
        e => cx.failed(what, e),
    };
    let url = format!("{scheme}://{}/v2/", reference.resolve_registry());
    let reply = with_retries(|| send(x.http.get(&url)))
        .await
        .map_err(|e| http_error(CHALLENGE, e))?;
    if (200..300).contains(&reply.status) {
        return Ok(RegistryAuth::Anonymous);
    }
    if reply.status != 401 {
        return Err(cx.failed(
            CHALLENGE,
            OciDistributionError::ServerError {
                code: reply.status,
                url,
                message: String::new(),
            },
        ));
    }
    let challenges: Vec<Challenge> = reply
        .challenges
        .iter()
        .flat_map(|v| parse_challenges(v))
        .collect();
    let bearer = challenges
        .iter()
        .find(|c| c.scheme.eq_ignore_ascii_case("bearer") && c.param("realm").is_some());
    let Some(bearer) = bearer else {
        let schemes: Vec<String> = challenges
            .iter()
            .map(|c| format!("`{}`", c.scheme))
            .collect();
        let challenge = if schemes.is_empty() {
            "it sent no authentication challenge".to_string()
        } else {
            format!("it asks for {}", schemes.join(", "))
        };
        return Err(RegistryError::IdentityTokenUnsupported {
            registry: registry(),
            creds: creds(),
            challenge,
        });
    };
    let realm_text = bearer.param("realm").unwrap_or_default();
    let realm = match reqwest::Url::parse(realm_text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u,
        _ => {
            return Err(RegistryError::TokenService {
                registry: registry(),
                creds: creds(),
                problem: format!(
                    "its challenge names the token service `{realm_text}`, which is not an \
                     HTTP URL"
                ),
            })
        }
    };
    // The same rule as the registry's own traffic: plain HTTP only to a loopback host or
    // with `--tls-verify=false`.
    let loopback = realm.host_str().is_some_and(is_loopback);
    if realm.scheme() == "http" && !loopback && !x.insecure {
        return Err(RegistryError::InsecureTokenService {
            registry: registry(),
            creds: creds(),
            realm: realm.to_string(),
        });
    }
    let scope = format!("repository:{}:pull", reference.repository());
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", token.expose()),
    ];
    if let Some(service) = bearer.param("service") {
        form.push(("service", service));
    }
    form.push(("scope", &scope));
    form.push(("client_id", "layersift"));
    let body = form_encode(&form);
    let reply = with_retries(|| {
        send(
            x.http
                .post(realm.clone())
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(body.clone()),
        )
    })
    .await
    .map_err(|e| http_error(ACCESS_TOKEN, e))?;
    match reply.status {
        200 => {}
        400 | 401 | 403 => {
            // Only the OAuth2 error code, and only when it is a plain code: the reply's
            // other text is the server's and could quote anything.
            let oauth_error = serde_json::from_slice::<serde_json::Value>(&reply.body)
                .ok()
                .and_then(|v| v.get("error")?.as_str().map(str::to_string))
                .filter(|c| {
                    !c.is_empty()
                        && c.len() <= 64
                        && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                        && !c.contains(token.expose())
                });
            return Err(RegistryError::IdentityTokenRefused {
                registry: registry(),
                creds: creds(),
                status: reply.status,
                oauth_error,
            });
        }
        status => {
            return Err(cx.failed(
                ACCESS_TOKEN,
                OciDistributionError::ServerError {
                    code: status,
                    url: realm.to_string(),
                    message: String::new(),
                },
            ))
        }
    }
    let parsed: Option<TokenReply> = serde_json::from_slice(&reply.body).ok();
    let access = parsed
        .and_then(|r| {
            r.access_token
                .filter(|t| !t.is_empty())
                .or(r.token.filter(|t| !t.is_empty()))
        })
        .ok_or_else(|| RegistryError::TokenService {
            registry: registry(),
            creds: creds(),
            problem: "the token service's reply holds no `access_token`".to_string(),
        })?;
    Ok(RegistryAuth::Bearer(access))
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Peek {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<serde_json::Value>,
}

/// Fetches the manifest a reference names, following an index to the wanted platform.
/// Returns the manifest's bytes and digest.
async fn resolve(
    client: &Client,
    reference: &Reference,
    auth: &RegistryAuth,
    opts: &OpenOptions,
    cx: &Context,
) -> Result<(Vec<u8>, String), SourceError> {
    let fetch = |r: Reference| async move {
        with_retries(|| client.pull_manifest_raw(&r, auth, ACCEPT))
            .await
            .map_err(|e| cx.error(MANIFEST, e))
    };
    let (bytes, digest) = fetch(reference.clone()).await?;
    check_size("manifest", bytes.len())?;
    let peek: Peek = parse_json("manifest", &bytes)?;
    let is_index = peek.manifests.is_some()
        || peek
            .media_type
            .as_deref()
            .is_some_and(|m| m.contains("index") || m.contains("manifest.list"));
    if !is_index {
        return Ok((bytes.to_vec(), digest));
    }
    let index: ImageIndex = parse_json("image index", &bytes)?;
    let entries: Vec<&Descriptor> = index.manifests().iter().collect();
    let chosen = pick_platform(&entries, opts)?;
    let child_digest = chosen.digest().to_string();
    let (bytes, _) = fetch(reference.clone_with_digest(child_digest.clone())).await?;
    check_size("manifest", bytes.len())?;
    verify_doc("manifest", &bytes, &child_digest)?;
    Ok((bytes.to_vec(), child_digest))
}

fn check_size(what: &'static str, len: usize) -> Result<(), SourceError> {
    let size = len as u64;
    if size > MAX_MANIFEST_BYTES {
        return Err(SourceError::TooLarge {
            what,
            size,
            limit: MAX_MANIFEST_BYTES,
        });
    }
    Ok(())
}

/// Downloads a small blob whole, refusing to hold more than `limit` bytes whatever the
/// registry sends.
async fn fetch_small(
    client: &Client,
    reference: &Reference,
    digest: &str,
    limit: u64,
) -> Result<Vec<u8>, OciDistributionError> {
    let mut stream = client.pull_blob_stream(reference, digest).await?;
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        buf.extend_from_slice(&chunk?);
        if buf.len() as u64 > limit {
            return Err(OciDistributionError::SpecViolationError(format!(
                "blob `{digest}` is larger than {limit} bytes"
            )));
        }
    }
    Ok(buf)
}

/// Parses `[DOMAIN/]PATH[:TAG][@DIGEST]` with Docker's normalisation (`alpine` is
/// `docker.io/library/alpine:latest`), into the same [`Reference`] its `FromStr` gives.
///
/// oci-spec's own parser compiles a Unicode regex on first use that costs about 40 ms, a
/// sixth of analysing a 40 MB image from a local registry; this one checks the grammar of
/// the distribution spec with an ASCII regex (its `\w` is ASCII anyway) that compiles in
/// well under a millisecond. A unit test holds the two parsers to the same answers.
pub fn parse_reference(s: &str) -> Option<Reference> {
    static GRAMMAR: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let grammar = GRAMMAR.get_or_init(|| {
        let label = "[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?";
        let domain = format!("{label}(?:\\.{label})*(?::[0-9]+)?");
        let component = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
        let tag = "[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127}";
        let digest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
        let full =
            format!("^((?:{domain}/)?{component}(?:/{component})*)(?::({tag}))?(?:@({digest}))?$");
        regex::RegexBuilder::new(&full).unicode(false).build().ok()
    });
    let caps = grammar.as_ref()?.captures(s)?;
    let name = caps.get(1)?.as_str();
    // The first path component is a registry when it looks like a host name.
    let (mut domain, mut path) = match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first.to_string(), rest.to_string())
        }
        _ => ("docker.io".to_string(), name.to_string()),
    };
    if domain == "index.docker.io" {
        domain = "docker.io".to_string();
    }
    if domain == "docker.io" && !path.contains('/') {
        path = format!("library/{path}");
    }
    if path.len() > 255 {
        return None;
    }
    let tag = caps.get(2).map(|m| m.as_str().to_string());
    let digest = caps.get(3).map(|m| m.as_str().to_string());
    if let Some(d) = &digest {
        let known = match d.split_once(':')? {
            ("sha256", hex) => hex.len() == 64,
            ("sha384", hex) => hex.len() == 96,
            ("sha512", hex) => hex.len() == 128,
            _ => false,
        };
        if !known {
            return None;
        }
    }
    Some(match (tag, digest) {
        (Some(t), Some(d)) => Reference::with_tag_and_digest(domain, path, t, d),
        (None, Some(d)) => Reference::with_digest(domain, path, d),
        (t, None) => Reference::with_tag(domain, path, t.unwrap_or_else(|| "latest".into())),
    })
}

/// Opens an image in a registry.
pub(crate) fn open(r: &ImageRef, opts: &OpenOptions) -> Result<Image, SourceError> {
    let reference = parse_reference(&r.location)
        .ok_or_else(|| SourceError::BadReference(r.location.clone()))?;
    let registry = reference.registry().to_string();
    let found = auth::lookup(
        &registry,
        reference.repository(),
        opts.creds.as_ref(),
        &AuthEnv::from_process(),
    )
    .map_err(RegistryError::Auth)?;
    let kind = found
        .as_ref()
        .map_or(CredsKind::Basic, |(secret, _)| secret.kind());
    // An identity token is traded for an access token per protocol tried, below.
    let (auth, identity, creds) = match found {
        Some((Secret::Basic(c), src)) => {
            (RegistryAuth::Basic(c.username, c.password), None, Some(src))
        }
        Some((Secret::IdentityToken(t), src)) => (RegistryAuth::Anonymous, Some(t), Some(src)),
        None => (RegistryAuth::Anonymous, None, None),
    };
    let cx = Context {
        registry: registry.clone(),
        reference: reference.whole(),
        creds,
        kind,
    };
    let cache = opts.open_cache()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("layersift-net")
        .enable_all()
        .build()
        .map_err(RegistryError::Runtime)?;

    let insecure = opts.tls_verify == Some(false);
    let protocols: &[ClientProtocol] = if is_loopback(&registry) {
        &[ClientProtocol::Http]
    } else if insecure {
        &[ClientProtocol::Https, ClientProtocol::Http]
    } else {
        &[ClientProtocol::Https]
    };
    let login = Login {
        auth,
        identity: match (identity, &cx.creds) {
            (Some(token), Some(source)) => Some(Arc::new(IdentityLogin {
                token,
                http: token_client(insecure)?,
                insecure,
                source: source.clone(),
            })),
            _ => None,
        },
    };
    let mut resolved = None;
    for (i, proto) in protocols.iter().enumerate() {
        let c = client(proto.clone(), insecure);
        let scheme = match proto {
            ClientProtocol::Http => "http",
            _ => "https",
        };
        let attempt = rt.block_on(async {
            let auth = login.auth(&reference, &cx, scheme).await?;
            resolve(&c, &reference, &auth, opts, &cx).await
        });
        match attempt {
            Ok(m) => {
                resolved = Some((c, scheme, m));
                break;
            }
            Err(SourceError::Registry(e))
                if i + 1 < protocols.len()
                    && matches!(
                        *e,
                        RegistryError::Unreachable { .. } | RegistryError::Failed { .. }
                    ) => {}
            Err(e) => return Err(e),
        }
    }
    let Some((client, scheme, (manifest_bytes, manifest_digest))) = resolved else {
        return Err(SourceError::Other(format!(
            "cannot reach registry `{registry}`"
        )));
    };

    let (manifest, config) = parse_manifest_and_config(&manifest_bytes, |d| {
        let digest = d.digest().to_string();
        if d.size() > MAX_CONFIG_BYTES {
            return Err(SourceError::TooLarge {
                what: "config",
                size: d.size(),
                limit: MAX_CONFIG_BYTES,
            });
        }
        if let Some(bytes) = cache
            .as_ref()
            .and_then(|c| c.read_blob(&digest, MAX_CONFIG_BYTES))
        {
            return Ok(bytes);
        }
        let bytes = rt.block_on(with_retries(|| {
            fetch_small(&client, &reference, &digest, MAX_CONFIG_BYTES)
        }));
        let bytes = bytes.map_err(|e| cx.error("the image config", e))?;
        verify_doc("config", &bytes, &digest)?;
        if let Some(c) = &cache {
            c.put_blob(&digest, &bytes);
        }
        Ok(bytes)
    })?;
    let layers = layers_of(&manifest, &config, |d| Ok(d.to_string()))?;
    Ok(Image {
        reference: format!("docker://{}", cx.reference),
        transport: r.transport,
        manifest_digest: Some(manifest_digest),
        config_digest: Some(manifest.config().digest().to_string()),
        platform: config_platform(&config),
        config,
        store: {
            let store = RegistryStore {
                rt,
                remote: Remote {
                    client,
                    reference,
                    cx,
                    login,
                    scheme,
                },
                cache,
                staging: Arc::default(),
                prefetched: Mutex::default(),
            };
            store.prefetch(&layers);
            Arc::new(store)
        },
        layers,
    })
}

/// A download started ahead of decode: its channel, its task, and how to let it start at
/// once when decode wants it.
struct Prefetch {
    rx: ChunkReceiver,
    task: tokio::task::JoinHandle<()>,
    wanted: Arc<Notify>,
}

/// Streams layer blobs of one repository.
struct RegistryStore {
    rt: Runtime,
    remote: Remote,
    cache: Option<Cache>,
    /// Downloaded blobs waiting for decode to verify them before they enter the cache.
    staging: Arc<Staging>,
    /// Downloads started ahead of decode, by digest.
    prefetched: Mutex<HashMap<String, Prefetch>>,
}

impl RegistryStore {
    /// Starts downloading every layer that is not cached, so request latency overlaps with
    /// decoding. At most [`PREFETCH`] run ahead of decode; each buffers at most
    /// [`BUFFER_BYTES`] and then waits for its reader. A download decode asks for
    /// starts at once, permit or not, so decode never waits on a download that waits on it.
    fn prefetch(&self, layers: &[LayerBlob]) {
        let permits = Arc::new(Semaphore::new(PREFETCH));
        let Ok(mut map) = self.prefetched.lock() else {
            return;
        };
        // In the order decode takes them, so the download decode wants next is under way.
        for layer in super::largest_first(layers).into_iter().map(|i| &layers[i]) {
            let Some(digest) = layer.digest.clone() else {
                continue;
            };
            let cached = self.cache.as_ref().is_some_and(|c| {
                c.layer_path(&digest).is_some_and(|p| p.exists())
                    || c.blob_path(&digest).is_some_and(|p| p.exists())
            });
            if cached || map.contains_key(&digest) {
                continue;
            }
            let wanted = Arc::new(Notify::new());
            let (tx, rx) = blob_channel();
            let gate = (permits.clone(), wanted.clone());
            let task = self
                .rt
                .spawn(self.download(&digest, layer.size, tx, Some(gate)));
            map.insert(digest, Prefetch { rx, task, wanted });
        }
    }

    fn download(
        &self,
        digest: &str,
        size: u64,
        tx: ChunkSender,
        gate: Option<(Arc<Semaphore>, Arc<Notify>)>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let (remote, digest) = (self.remote.clone(), digest.to_string());
        async move {
            let _permit = match gate {
                Some((permits, wanted)) => tokio::select! {
                    p = permits.acquire_owned() => p.ok(),
                    () = wanted.notified() => None,
                },
                None => None,
            };
            download(remote, digest, size, tx).await;
        }
    }
}

impl BlobStore for RegistryStore {
    fn open(&self, layer: &LayerBlob) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        let digest = layer
            .digest
            .clone()
            .ok_or_else(|| SourceError::Other("a registry layer has no digest".to_string()))?;
        if let Some(f) = self.cache.as_ref().and_then(|c| c.open_blob(&digest)) {
            return Ok(Box::new(f));
        }
        let ahead = self
            .prefetched
            .lock()
            .ok()
            .and_then(|mut m| m.remove(&digest));
        let (rx, task) = match ahead {
            Some(p) => {
                p.wanted.notify_one();
                (p.rx, p.task)
            }
            None => {
                let (tx, rx) = blob_channel();
                let task = self.rt.spawn(self.download(&digest, layer.size, tx, None));
                (rx, task)
            }
        };
        let reader = ChannelReader {
            rx,
            current: Bytes::new(),
            held: 0,
            task,
            failed: false,
        };
        let pending = self.cache.as_ref().and_then(|c| c.blob_writer(&digest));
        Ok(Box::new(Tee::new(reader, pending, self.staging.clone())))
    }

    fn cached(&self, layer: &LayerBlob) -> Option<DecodedLayer> {
        self.cache.as_ref()?.get_layer(layer.digest.as_deref()?)
    }

    /// Decode verified the blob's digest: its downloaded copy may enter the cache.
    fn remember(&self, layer: &LayerBlob, decoded: &DecodedLayer) {
        if let Some(c) = &self.cache {
            if layer.digest.as_deref() == Some(decoded.digest.as_str()) {
                if let Some(staged) = self.staging.take(&decoded.digest) {
                    staged.commit();
                }
            }
            c.put_layer(decoded);
        }
    }
}

/// The repository downloads read from, and how to log in to it.
#[derive(Clone)]
struct Remote {
    client: Client,
    reference: Reference,
    cx: Context,
    login: Login,
    /// `http` or `https`: the protocol `open` reached the registry with.
    scheme: &'static str,
}

impl Remote {
    /// Puts a new access token in the client's token cache, after the registry refused the
    /// one in use: it expired during a long pull (Docker Hub's last five minutes) or was
    /// revoked. oci-client renews a token only when its own clock says it expired, and an
    /// access token traded for an identity token it renews as the same stale token.
    async fn renew_token(&self) -> Result<(), RegistryError> {
        let auth = self
            .login
            .auth(&self.reference, &self.cx, self.scheme)
            .await?;
        self.client
            .auth(&self.reference, &auth, RegistryOperation::Pull)
            .await
            .map_err(|e| self.cx.error(NEW_TOKEN, e))?;
        Ok(())
    }
}

/// Downloads one blob into `tx`, retrying and resuming after failures, and renewing the
/// access token once when the registry refuses it. Ends the channel normally when the blob
/// is complete, or with one error.
async fn download(remote: Remote, digest: String, size: u64, tx: ChunkSender) {
    let Remote {
        client,
        reference,
        cx,
        ..
    } = &remote;
    let mut sent = 0u64;
    let mut attempt = 0;
    // A token renewed since the last byte arrived: a second refusal is final.
    let mut renewed = false;
    let mut delay = FIRST_BACKOFF;
    let what = format!("blob `{digest}`");
    loop {
        // Always a range request (`bytes=0-` at first): a registry that honours it sends the
        // blob without oci-client hashing it on the way, as decode hashes every blob anyway.
        // One that ignores ranges sends it whole; what was already passed on is skipped.
        let opened = client
            .pull_blob_stream_partial(reference, digest.as_str(), sent, None)
            .await
            .map(|r| match r {
                BlobResponse::Full(s) => (s, sent),
                BlobResponse::Partial(s) => (s, 0),
            });
        let failure = match opened {
            Err(e) => e,
            Ok((mut stream, mut skip)) => {
                let mut failure = None;
                while let Some(item) = stream.next().await {
                    match item {
                        Ok(mut chunk) => {
                            let n = skip.min(chunk.len() as u64) as usize;
                            chunk.advance(n);
                            skip -= n as u64;
                            if chunk.is_empty() {
                                continue;
                            }
                            sent += chunk.len() as u64;
                            if sent > size {
                                let e = RegistryError::Oversized {
                                    registry: cx.registry.clone(),
                                    digest: digest.clone(),
                                    expected: size,
                                };
                                let e = SourceError::from(e);
                                tx.fail(io::Error::other(e)).await;
                                return;
                            }
                            attempt = 0;
                            renewed = false;
                            if !tx.send(chunk).await {
                                return; // the reader is gone
                            }
                        }
                        // The blob is complete but does not hash to its digest: end the
                        // stream and let decode report the mismatch with both digests.
                        Err(e) if is_digest_error(&e) => return,
                        Err(e) => {
                            failure = Some(OciDistributionError::IoError(e));
                            break;
                        }
                    }
                }
                match failure {
                    None => return,
                    Some(f) => f,
                }
            }
        };
        if !renewed && is_unauthorized(&failure) {
            renewed = true;
            match remote.renew_token().await {
                Ok(()) => continue,
                Err(e) => {
                    tx.fail(io::Error::other(SourceError::from(e))).await;
                    return;
                }
            }
        }
        if attempt < RETRIES && retryable(&failure) {
            attempt += 1;
            tokio::time::sleep(delay).await;
            delay *= 2;
            continue;
        }
        let e = SourceError::from(cx.error(&what, failure));
        tx.fail(io::Error::other(e)).await;
        return;
    }
}

/// The network end of a blob stream: at most [`BUFFER_BYTES`] are in flight to the reader,
/// whatever size the chunks come in.
struct ChunkSender {
    tx: mpsc::Sender<io::Result<Bytes>>,
    budget: Arc<Semaphore>,
}

/// The decode end of a blob stream; gives the budget back as chunks are consumed.
struct ChunkReceiver {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    budget: Arc<Semaphore>,
}

fn blob_channel() -> (ChunkSender, ChunkReceiver) {
    let budget = Arc::new(Semaphore::new(BUFFER_BYTES));
    let (tx, rx) = mpsc::channel(1024);
    (
        ChunkSender {
            tx,
            budget: budget.clone(),
        },
        ChunkReceiver { rx, budget },
    )
}

/// Budget a chunk takes (a chunk larger than the whole budget takes all of it).
fn budget_of(len: usize) -> u32 {
    u32::try_from(len.min(BUFFER_BYTES)).unwrap_or(u32::MAX)
}

impl ChunkSender {
    /// Waits for room, then passes a chunk on; false when the reader is gone.
    async fn send(&self, chunk: Bytes) -> bool {
        match self.budget.acquire_many(budget_of(chunk.len())).await {
            Ok(p) => p.forget(),
            Err(_) => return false,
        }
        self.tx.send(Ok(chunk)).await.is_ok()
    }

    async fn fail(&self, e: io::Error) {
        let _ = self.tx.send(Err(e)).await;
    }
}

/// The sync end of a blob download. After a failure every read fails, so a caller that
/// keeps reading never mistakes a cut-off download for the end of the blob.
struct ChannelReader {
    rx: ChunkReceiver,
    current: Bytes,
    /// Budget held by `current`, given back once it is consumed.
    held: u32,
    task: tokio::task::JoinHandle<()>,
    failed: bool,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.failed {
            return Err(io::Error::other("the download failed"));
        }
        while self.current.is_empty() {
            if self.held > 0 {
                self.rx.budget.add_permits(self.held as usize);
                self.held = 0;
            }
            match self.rx.rx.blocking_recv() {
                Some(Ok(chunk)) => {
                    self.held = budget_of(chunk.len());
                    self.current = chunk;
                }
                Some(Err(e)) => {
                    self.failed = true;
                    return Err(e);
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}

impl Drop for ChannelReader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_channel_bounds_bytes_in_flight() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_time()
            .build()
            .unwrap();
        let (tx, rx) = blob_channel();
        let chunk = Bytes::from(vec![7u8; BUFFER_BYTES * 3 / 5]);
        rt.block_on(async {
            assert!(tx.send(chunk.clone()).await);
            let second = tokio::time::timeout(Duration::from_millis(50), tx.send(chunk.clone()));
            assert!(
                second.await.is_err(),
                "a second chunk must wait for the reader"
            );
        });
        let task = rt.spawn(async move {
            for _ in 0..3 {
                assert!(tx.send(chunk.clone()).await);
            }
        });
        let mut reader = ChannelReader {
            rx,
            current: Bytes::new(),
            held: 0,
            task,
            failed: false,
        };
        // The reader runs on this thread while the sender runs on the runtime's worker.
        let mut got = Vec::new();
        reader.read_to_end(&mut got).unwrap();
        assert_eq!(got.len(), BUFFER_BYTES * 3 / 5 * 4);
    }

    #[test]
    fn loopback_hosts_use_plain_http() {
        assert!(is_loopback("127.0.0.1:5000"));
        assert!(is_loopback("localhost"));
        assert!(is_loopback("[::1]:5000"));
        assert!(!is_loopback("docker.io"));
        assert!(!is_loopback("registry.local:5000"));
    }

    fn server_error(code: u16) -> OciDistributionError {
        OciDistributionError::ServerError {
            code,
            url: "http://r/v2/x/manifests/1".to_string(),
            message: String::new(),
        }
    }

    #[test]
    fn retries_only_what_may_pass_later() {
        assert!(retryable(&server_error(429)));
        assert!(retryable(&server_error(503)));
        assert!(!retryable(&server_error(404)));
        assert!(!retryable(&OciDistributionError::UnauthorizedError {
            url: String::new()
        }));
        assert!(retryable(&OciDistributionError::IoError(io::Error::other(
            "connection reset"
        ))));
        let digest = io::Error::other(DigestError::VerificationError {
            expected: "a".to_string(),
            actual: "b".to_string(),
        });
        assert!(!retryable(&OciDistributionError::IoError(digest)));
    }

    #[test]
    fn maps_statuses_to_errors_a_user_can_act_on() {
        let cx = Context {
            registry: "r".to_string(),
            reference: "r/x:1".to_string(),
            creds: Some(AuthSource::Flag),
            kind: CredsKind::Basic,
        };
        let e = cx.error(MANIFEST, server_error(401));
        assert_eq!(
            e.to_string(),
            "registry `r` refused access to `r/x:1` with the credentials from `--creds`"
        );
        assert!(e.hint().unwrap().contains("--creds"));
        let e = cx.error(MANIFEST, server_error(404));
        assert_eq!(e.to_string(), "`r/x:1` was not found in registry `r`");
        let e = cx.error("blob `sha256:ab`", server_error(404));
        assert_eq!(
            e.to_string(),
            "registry `r` has the manifest of `r/x:1` but not blob `sha256:ab`"
        );
        let e = cx.error(MANIFEST, server_error(500));
        assert_eq!(e.to_string(), "registry `r` failed to serve the manifest");
    }

    #[test]
    fn parses_authentication_challenges() {
        let c = parse_challenges(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull""#,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, "Bearer");
        assert_eq!(c[0].param("realm"), Some("https://auth.docker.io/token"));
        assert_eq!(c[0].param("service"), Some("registry.docker.io"));
        assert_eq!(c[0].param("scope"), Some("repository:a/b:pull"));
        // Several challenges, unquoted values, odd spacing, escapes and a token68.
        let c = parse_challenges(
            r#"Basic realm="a \"q\" b", BEARER Realm = https://t/x , service=s,Negotiate YWxh=="#,
        );
        let schemes: Vec<&str> = c.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["Basic", "BEARER", "Negotiate"]);
        assert_eq!(c[0].param("realm"), Some(r#"a "q" b"#));
        assert_eq!(c[1].param("realm"), Some("https://t/x"));
        assert_eq!(c[1].param("service"), Some("s"));
        assert!(c[2].params.is_empty());
        let c = parse_challenges("Basic YWxhZGRpbjpvcGVu==, Bearer realm=r");
        assert_eq!(c.len(), 2);
        assert!(c[0].params.is_empty());
        assert_eq!(c[1].param("realm"), Some("r"));
        assert!(parse_challenges("").is_empty());
        assert_eq!(parse_challenges("=\"x")[0].scheme, "");
    }

    #[test]
    fn form_bodies_are_url_encoded() {
        assert_eq!(
            form_encode(&[("grant_type", "refresh_token"), ("t", "a b&c=d/+\u{e9}~")]),
            "grant_type=refresh_token&t=a+b%26c%3Dd%2F%2B%C3%A9%7E"
        );
    }

    #[test]
    fn identity_token_errors_name_the_registry_and_source_and_say_log_in_again() {
        let helper = AuthSource::Helper("acr".to_string());
        let e = RegistryError::IdentityTokenRefused {
            registry: "r.io".to_string(),
            creds: helper.clone(),
            status: 401,
            oauth_error: Some("invalid_grant".to_string()),
        };
        assert_eq!(
            e.to_string(),
            "the token service of registry `r.io` refused the identity token from \
             `docker-credential-acr` (HTTP 401: `invalid_grant`)"
        );
        assert!(e.hint().unwrap().contains("log in again"), "{:?}", e.hint());
        assert!(e.hint().unwrap().contains("docker login r.io"));
        let e = RegistryError::IdentityTokenUnsupported {
            registry: "r.io".to_string(),
            creds: helper.clone(),
            challenge: "it asks for `Basic`".to_string(),
        };
        assert_eq!(
            e.to_string(),
            "registry `r.io` does not hand out bearer tokens (it asks for `Basic`), so the \
             identity token from `docker-credential-acr` cannot be used"
        );
        assert!(e.hint().unwrap().contains("--creds"));
        let cx = Context {
            registry: "r.io".to_string(),
            reference: "r.io/x:1".to_string(),
            creds: Some(helper),
            kind: CredsKind::IdentityToken,
        };
        let e = cx.error(MANIFEST, server_error(401));
        assert_eq!(
            e.to_string(),
            "registry `r.io` refused access to `r.io/x:1` with the identity token from \
             `docker-credential-acr`"
        );
        assert!(e.hint().unwrap().contains("log in again"));
    }

    /// Our reference parser gives exactly what oci-spec's `FromStr` gives, valid or not.
    #[test]
    fn reference_parser_agrees_with_oci_spec() {
        let d64 = "0".repeat(64);
        let long_tag = "t".repeat(128);
        let too_long_tag = "t".repeat(129);
        let long_path = format!("r.io/{}", "a/".repeat(130) + "b");
        let cases = [
            "alpine".to_string(),
            "alpine:3.20".to_string(),
            "library/alpine".to_string(),
            "user/app:v1.2_3-rc".to_string(),
            "docker.io/alpine".to_string(),
            "index.docker.io/alpine:1".to_string(),
            "index.docker.io/org/app".to_string(),
            "localhost/app".to_string(),
            "localhost:5000/app:tag".to_string(),
            "127.0.0.1:5000/x/y".to_string(),
            format!("127.0.0.1:5000/x/y@sha256:{d64}"),
            format!("ghcr.io/o/r:tag@sha256:{d64}"),
            format!("quay.io/o/r@sha512:{}", "a".repeat(128)),
            format!("quay.io/o/r@sha384:{}", "B".repeat(96)),
            format!("quay.io/o/r@sha256:{}", "0".repeat(63)),
            format!("quay.io/o/r@md5:{}", "0".repeat(32)),
            format!("quay.io/o/r@sha256{d64}"),
            "test.com:tag".to_string(),
            "test.com:5000".to_string(),
            "test.com/repo:tag".to_string(),
            "test:5000/repo".to_string(),
            "my-registry.example.com:443/a.b/c__d/e-f--g".to_string(),
            "Upper/case".to_string(),
            "UPPER.io/lower".to_string(),
            "a/Upper".to_string(),
            "-bad/x".to_string(),
            "a..b/x".to_string(),
            "x:".to_string(),
            "x@".to_string(),
            ":tag".to_string(),
            "".to_string(),
            "a//b".to_string(),
            "a/b/".to_string(),
            "a_/b".to_string(),
            "a___b".to_string(),
            "a__b".to_string(),
            "a.-b".to_string(),
            format!("x:{long_tag}"),
            format!("x:{too_long_tag}"),
            "x:.tag".to_string(),
            "x:tag:more".to_string(),
            long_path,
            "sub.example.com/org/team/app:latest".to_string(),
        ];
        for case in &cases {
            let ours = parse_reference(case);
            let theirs = case.parse::<Reference>().ok();
            assert_eq!(ours, theirs, "{case}");
        }
        // The one difference: oci-spec's Unicode `\w` takes a tag like `taég`, which the
        // distribution spec (Go's ASCII `\w`) and so every registry refuses.
        assert!("x:ta\u{e9}g".parse::<Reference>().is_ok());
        assert_eq!(parse_reference("x:ta\u{e9}g"), None);
    }

    #[test]
    fn normalises_docker_hub_names() {
        let r = parse_reference("alpine").unwrap();
        assert_eq!(r.whole(), "docker.io/library/alpine:latest");
        let r = parse_reference(
            "127.0.0.1:5000/x/y@sha256:0000000000000000000000000000000000000000000000000000000000000000",
        )
        .unwrap();
        assert_eq!(r.registry(), "127.0.0.1:5000");
        assert_eq!(r.repository(), "x/y");
    }
}
