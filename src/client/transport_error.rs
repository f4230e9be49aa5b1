//! Errors of the transport layer: a failed exchange ([`TransportFailure`], defined by the sync
//! machine that classifies it) and a configuration that cannot work at all
//! ([`TransportConfigError`]).

pub(crate) use crate::protocol::machine::TransportFailure;

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
