//! Errors of the transport layer: a failed exchange ([`TransportFailure`]) and a configuration
//! that cannot work at all ([`TransportConfigError`]).

/// Why one HTTP exchange with the sync server failed.
///
/// The sync machine classifies these: `Network`, `Timeout` and 5xx are retried with backoff;
/// 4xx are surfaced; `Decode` means the server (or something in between) answered with a body
/// this client cannot read.
#[derive(Debug, Clone, PartialEq)]
pub enum TransportFailure {
    /// Connection refused or reset, DNS or TLS failure, or a truncated body.
    Network(String),
    /// A connect, read or overall timeout elapsed.
    Timeout,
    /// A non-2xx answer; `code` and `message` come from the JSON `ErrorBody` when there is one,
    /// else `message` is the (truncated) body text.
    Http {
        /// HTTP status code.
        status: u16,
        /// The `code` of the JSON error body, when present.
        code: Option<String>,
        /// The `error` of the JSON error body, or the body text.
        message: String,
    },
    /// A 2xx answer whose body is not the expected JSON (not JSON, wrong types, trailing garbage,
    /// or larger than the client accepts).
    Decode(String),
}

/// A transport configuration that cannot work (found before any request is made).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportConfigError {
    /// The URL does not parse, or has the wrong scheme, or no host.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A configured header name or value is not valid HTTP.
    #[error("invalid header {name:?}: {reason}")]
    InvalidHeader {
        /// The header name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No TLS client configuration could be built for a `wss://` URL.
    #[error("cannot configure TLS: {reason}")]
    Tls {
        /// What went wrong.
        reason: String,
    },
    /// The operating system refused to start the connection's thread.
    #[error("cannot start a transport thread: {reason}")]
    Thread {
        /// The system's error.
        reason: String,
    },
}
