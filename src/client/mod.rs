//! The client: the driver of the sync machine and its transports (HTTP for push / pull /
//! snapshot, a WebSocket for live notifications).

pub(crate) mod auth;
// The transports are driven by the client engine; until it lands, only their tests use them.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) mod http;
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) mod live;
#[cfg(test)]
mod test_http_server;
#[cfg(test)]
mod test_ws_server;
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) mod transport_failure;
