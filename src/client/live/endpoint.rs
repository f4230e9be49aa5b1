//! Where a live connection goes and the byte stream under it: plain TCP for `ws://`, rustls (ring
//! provider, webpki roots) over TCP for `wss://`.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use tungstenite::http::Uri;

use crate::client::transport_error::TransportConfigError;

/// A checked `ws://` or `wss://` URL, with the TLS settings a `wss://` one needs.
#[derive(Clone)]
pub(crate) struct Endpoint {
    /// The URL as given, used as the handshake request target.
    pub(crate) url: String,
    /// Host name or IP address, without IPv6 brackets.
    pub(crate) host: String,
    /// Port, explicit or the scheme's default.
    pub(crate) port: u16,
    tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
}

impl Endpoint {
    /// Checks `url` and, for `wss://`, prepares the TLS client configuration.
    ///
    /// # Errors
    ///
    /// [`TransportConfigError::InvalidUrl`] for anything but a `ws://` or `wss://` URL with a
    /// host, and [`TransportConfigError::Tls`] when no TLS configuration can be built.
    pub(crate) fn parse(url: &str) -> Result<Self, TransportConfigError> {
        let invalid = |reason: String| TransportConfigError::InvalidUrl {
            url: url.to_string(),
            reason,
        };
        let uri: Uri = url.parse().map_err(|e| invalid(format!("{e}")))?;
        let secure = match uri.scheme_str() {
            Some("ws") => false,
            Some("wss") => true,
            _ => return Err(invalid("the scheme must be ws or wss".into())),
        };
        let host = uri
            .host()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
            .filter(|h| !h.is_empty())
            .ok_or_else(|| invalid("no host".into()))?
            .to_string();
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
        let tls = if secure {
            let name = ServerName::try_from(host.clone())
                .map_err(|e| invalid(format!("not a TLS server name: {e}")))?;
            Some((tls_config()?, name))
        } else {
            None
        };
        Ok(Endpoint {
            url: url.to_string(),
            host,
            port,
            tls,
        })
    }

    /// Resolves the host and connects to the first address that answers within `timeout`.
    pub(crate) fn connect(&self, timeout: Duration) -> Result<TcpStream, String> {
        let (host, port) = (self.host.as_str(), self.port);
        let addrs = (host, port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {host}: {e}"))?;
        let mut last = format!("{host} has no address");
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(tcp) => return Ok(tcp),
                Err(e) => last = format!("cannot connect to {addr}: {e}"),
            }
        }
        Err(last)
    }

    /// Wraps a connected socket: as is for `ws://`, in a TLS client session for `wss://` (the TLS
    /// handshake happens on first use, under the socket's timeouts).
    pub(crate) fn stream(&self, tcp: TcpStream) -> Result<LiveStream, String> {
        match &self.tls {
            None => Ok(LiveStream::Plain(tcp)),
            Some((config, name)) => {
                let session = ClientConnection::new(config.clone(), name.clone())
                    .map_err(|e| format!("cannot start TLS: {e}"))?;
                Ok(LiveStream::Tls(Box::new(StreamOwned::new(session, tcp))))
            }
        }
    }
}

fn tls_config() -> Result<Arc<ClientConfig>, TransportConfigError> {
    let roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| TransportConfigError::Tls {
                reason: e.to_string(),
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The byte stream a WebSocket runs over.
pub(crate) enum LiveStream {
    /// `ws://`.
    Plain(TcpStream),
    /// `wss://`.
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl LiveStream {
    /// The socket underneath, to set timeouts on.
    pub(crate) fn tcp(&self) -> &TcpStream {
        match self {
            LiveStream::Plain(tcp) => tcp,
            LiveStream::Tls(tls) => &tls.sock,
        }
    }
}

impl Read for LiveStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            LiveStream::Plain(tcp) => tcp.read(buf),
            LiveStream::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for LiveStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            LiveStream::Plain(tcp) => tcp.write(buf),
            LiveStream::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            LiveStream::Plain(tcp) => tcp.flush(),
            LiveStream::Tls(tls) => tls.flush(),
        }
    }
}
