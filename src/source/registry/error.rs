//! What goes wrong talking to a registry, in words a user can act on: [`RegistryError`] with
//! its hints, and [`Context`], which turns oci-client's errors into those variants for one
//! image reference.

use std::io;

use oci_client::errors::{OciDistributionError, OciErrorCode};

use super::super::auth::{AuthError, AuthSource, CredsKind};
use super::super::SourceError;

/// What the manifest is, in errors (a 404 on it means the image is missing, not a blob).
pub(super) const MANIFEST: &str = "the manifest";

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
            // This machine's registries are read over plain HTTP already: TLS is not why.
            RegistryError::Unreachable { registry, .. } if super::is_loopback(registry) => Some(
                format!("check that the registry is running and listens on `{registry}`"),
            ),
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
pub(super) struct Context {
    pub(super) registry: String,
    pub(super) reference: String,
    pub(super) creds: Option<AuthSource>,
    pub(super) kind: CredsKind,
    /// How many times a manifest, config or token request that failed in a retryable way
    /// is tried again.
    pub(super) retries: u32,
}

impl Context {
    pub(super) fn error(&self, what: &str, e: OciDistributionError) -> RegistryError {
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

    pub(super) fn failed(&self, what: &str, source: OciDistributionError) -> RegistryError {
        RegistryError::Failed {
            registry: self.registry.clone(),
            what: what.to_string(),
            source,
        }
    }
}

/// True when the registry refused the credentials or the access token.
pub(super) fn is_unauthorized(e: &OciDistributionError) -> bool {
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A registry's answer with HTTP status `code` and no body.
    pub(in crate::source::registry) fn server_error(code: u16) -> OciDistributionError {
        OciDistributionError::ServerError {
            code,
            url: "http://r/v2/x/manifests/1".to_string(),
            message: String::new(),
        }
    }

    #[test]
    fn maps_statuses_to_errors_a_user_can_act_on() {
        let cx = Context {
            registry: "r".to_string(),
            reference: "r/x:1".to_string(),
            creds: Some(AuthSource::Flag),
            kind: CredsKind::Basic,
            retries: 0,
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
            retries: 0,
        };
        let e = cx.error(MANIFEST, server_error(401));
        assert_eq!(
            e.to_string(),
            "registry `r.io` refused access to `r.io/x:1` with the identity token from \
             `docker-credential-acr`"
        );
        assert!(e.hint().unwrap().contains("log in again"));
    }
}
