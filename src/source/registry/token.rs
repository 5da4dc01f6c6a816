//! Credentials as requests present them ([`Login`]), and the identity-token exchange: the
//! registry's `WWW-Authenticate` challenge, parsed, and the OAuth2 `refresh_token` grant at
//! its token service that turns an identity token into a bearer access token.

use std::sync::Arc;

use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::Reference;

use super::super::auth::{AuthSource, IdentityToken};
use super::error::{Context, RegistryError};
use super::retry::with_retries;
use super::{is_loopback, CONNECT_TIMEOUT, READ_TIMEOUT, USER_AGENT};

/// What the `GET /v2/` of an identity-token exchange is, in errors.
const CHALLENGE: &str = "its authentication challenge (`GET /v2/`)";
/// What the token request of an identity-token exchange is, in errors.
const ACCESS_TOKEN: &str = "an access token for the identity token";
/// The most a token service reply may hold.
const MAX_TOKEN_REPLY_BYTES: usize = 1 << 20;

/// The plain HTTP client of an identity-token exchange: oci-client's transport settings
/// (certificate checks, timeouts, user agent), and no redirects, so the token is sent
/// nowhere but the token service the registry names.
pub(super) fn token_client(insecure: bool) -> Result<reqwest::Client, RegistryError> {
    super::install_tls_provider();
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
pub(super) struct Login {
    /// Anonymous or basic; anonymous when an identity token is set.
    pub(super) auth: RegistryAuth,
    pub(super) identity: Option<Arc<IdentityLogin>>,
}

/// An identity token and the HTTP client that trades it.
pub(super) struct IdentityLogin {
    pub(super) token: IdentityToken,
    pub(super) http: reqwest::Client,
    pub(super) insecure: bool,
    /// Where the identity token came from, for messages.
    pub(super) source: AuthSource,
}

impl Login {
    /// What to present to the registry, reached over `scheme` (`http` or `https`).
    pub(super) async fn auth(
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
    let reply = with_retries(cx.retries, || send(x.http.get(&url)))
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
    let reply = with_retries(cx.retries, || {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
