//! Bearer-token authentication shared by the HTTP and live transports.

use std::fmt;

/// Supplies the bearer token sent as `Authorization: Bearer <token>` with every sync request and
/// every live (WebSocket) handshake.
///
/// The client asks for a token before each request, so a provider can hand out a cached token
/// cheaply and renew it when it nears expiry. When the server answers 401 or 403, the client
/// calls `token(true)` once and retries that request once with the new token.
///
/// # Threading
///
/// Called from the client's background threads, possibly from several at once, and never while
/// the client holds one of its locks: the provider may call back into the client.
///
/// # Example
///
/// ```
/// use mizu_sync::AuthProvider;
///
/// struct Static(String);
///
/// impl AuthProvider for Static {
///     fn token(&self, _refresh: bool) -> Result<Option<String>, String> {
///         Ok(Some(self.0.clone()))
///     }
/// }
/// # assert_eq!(Static("t".into()).token(false), Ok(Some("t".to_string())));
/// ```
pub trait AuthProvider: Send + Sync {
    /// Returns the token to send, or `None` to send the request without `Authorization`.
    ///
    /// `refresh` is `true` when the server has just rejected the previous token (401 or 403):
    /// the provider should obtain a new one rather than return a cached one.
    ///
    /// # Errors
    ///
    /// Return `Err(reason)` when no token can be had (for example the refresh itself failed).
    /// The request is then not sent; it fails as an HTTP 401 whose code is
    /// [`AUTH_PROVIDER_FAILED`] and whose message is `reason`, and a live connection reports it as
    /// a disconnection and retries later.
    fn token(&self, refresh: bool) -> Result<Option<String>, String>;
}

/// The error code of the synthetic 401 a request fails with when the [`AuthProvider`] errs.
pub const AUTH_PROVIDER_FAILED: &str = "auth_provider_failed";

/// Why no `Authorization` value could be produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthError(pub(crate) String);

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Asks `provider` (if any) for a token and formats the `Authorization` header value.
pub(crate) fn bearer(
    provider: Option<&dyn AuthProvider>,
    refresh: bool,
) -> Result<Option<String>, AuthError> {
    let Some(provider) = provider else {
        return Ok(None);
    };
    match provider.token(refresh) {
        Ok(None) => Ok(None),
        Ok(Some(token)) => {
            if token.bytes().any(|b| b.is_ascii_control()) {
                return Err(AuthError(
                    "the token contains control characters and cannot be sent as a header".into(),
                ));
            }
            Ok(Some(format!("Bearer {token}")))
        }
        Err(reason) => Err(AuthError(reason)),
    }
}

/// A provider for the transport tests: records every call and hands out `stale` until asked to
/// refresh, then `fresh`.
#[cfg(test)]
#[derive(Default)]
pub(crate) struct RotatingToken {
    pub(crate) calls: std::sync::Mutex<Vec<bool>>,
}

#[cfg(test)]
impl AuthProvider for RotatingToken {
    fn token(&self, refresh: bool) -> Result<Option<String>, String> {
        self.calls.lock().expect("calls lock").push(refresh);
        Ok(Some(if refresh { "fresh" } else { "stale" }.to_string()))
    }
}
