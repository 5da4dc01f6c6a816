//! The retry policy: which failures a later attempt may not see (throttling, server errors,
//! dropped connections), and exponential backoff between attempts.

use std::future::Future;
use std::io;
use std::time::Duration;

use oci_client::errors::{DigestError, OciDistributionError, OciErrorCode};

/// Attempts after the first, for a request that failed in a way worth retrying.
pub(super) const RETRIES: u32 = 3;
pub(super) const FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// True for failures a later attempt may not see: throttling, server errors, network drops.
pub(super) fn retryable(e: &OciDistributionError) -> bool {
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
pub(super) fn is_digest_error(e: &io::Error) -> bool {
    e.get_ref()
        .is_some_and(|inner| inner.downcast_ref::<DigestError>().is_some())
}

/// Runs `f`, and again up to `retries` times while it fails in a [`retryable`] way, with
/// exponential backoff between attempts.
pub(super) async fn with_retries<T, F, Fut>(
    retries: u32,
    mut f: F,
) -> Result<T, OciDistributionError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, OciDistributionError>>,
{
    let mut delay = FIRST_BACKOFF;
    let mut attempt = 0;
    loop {
        match f().await {
            Err(e) if attempt < retries && retryable(&e) => {
                attempt += 1;
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::error::tests::server_error;
    use super::*;

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
}
