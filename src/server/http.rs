//! A small HTTP/1.1 server side over one `TcpStream`: request heads with bounded size and a
//! deadline, `Content-Length` and chunked bodies with a size limit, `Expect: 100-continue`,
//! keep-alive, and responses shaped like Go's `net/http` writes them.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use super::clock::http_date;

/// Largest request head accepted (request line and headers); beyond it: 431.
pub(crate) const MAX_HEAD: usize = 64 * 1024;
/// How long a kept-alive connection may sit idle before the next request (Go: IdleTimeout).
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a client may take to send a request head (Go: ReadHeaderTimeout).
pub(crate) const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a client may take to send a whole body.
pub(crate) const BODY_TIMEOUT: Duration = Duration::from_secs(15);

/// Oversized bodies up to this size are read and dropped before the error answer is sent.
pub(crate) const DRAIN_LIMIT: usize = 16 * 1024 * 1024;

/// A parsed request line and headers.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: String,
    /// `true` for HTTP/1.0.
    pub(crate) http10: bool,
    /// (lower-case name, value), in order.
    pub(crate) headers: Vec<(String, String)>,
}

impl Head {
    /// The first value of header `name` (give it lower-case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the connection stays open after this request.
    pub(crate) fn keep_alive(&self) -> bool {
        let tokens: Vec<String> = self
            .headers
            .iter()
            .filter(|(n, _)| n == "connection")
            .flat_map(|(_, v)| v.split(','))
            .map(|t| t.trim().to_ascii_lowercase())
            .collect();
        if self.http10 {
            tokens.iter().any(|t| t == "keep-alive")
        } else {
            !tokens.iter().any(|t| t == "close")
        }
    }

    /// The value of query parameter `name` (percent-decoded), if present.
    pub(crate) fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k) == name).then(|| percent_decode(v))
        })
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Why no request head could be read.
#[derive(Debug)]
pub(crate) enum HeadError {
    /// The peer closed (or stayed idle) between requests: close quietly.
    Closed,
    /// The head exceeds [`MAX_HEAD`]: answer 431 and close.
    TooLarge,
    /// Not HTTP: answer 400 and close.
    Malformed,
    /// Timeout or I/O failure in the middle of a head: close.
    Io,
}

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Larger than the route's limit: answer the route's 400 and close.
    TooLarge,
    /// Unreadable framing (bad length, bad chunk): answer 400 and close.
    Malformed,
    /// A transfer encoding other than chunked: answer 501 and close.
    Unsupported,
    /// Timeout or I/O failure: close.
    Io,
}

/// A response to write.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
    /// Close the connection after writing.
    pub(crate) close: bool,
}

impl Response {
    /// A JSON response: `application/json; charset=utf-8`, the value then a newline (as Go's
    /// `json.Encoder` writes it).
    pub(crate) fn json(status: u16, value: &impl Serialize) -> Response {
        let mut body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
        body.push(b'\n');
        Response {
            status,
            headers: vec![("Content-Type", "application/json; charset=utf-8".to_owned())],
            body,
            close: false,
        }
    }

    /// A plain-text error like Go's `http.Error`: the text then a newline, with `nosniff`.
    pub(crate) fn text(status: u16, text: &str) -> Response {
        Response {
            status,
            headers: vec![
                ("Content-Type", "text/plain; charset=utf-8".to_owned()),
                ("X-Content-Type-Options", "nosniff".to_owned()),
            ],
            body: format!("{text}\n").into_bytes(),
            close: false,
        }
    }

    /// Adds a header.
    pub(crate) fn with_header(mut self, name: &'static str, value: &str) -> Response {
        self.headers.push((name, value.to_owned()));
        self
    }

    /// Marks the connection to close after this response.
    pub(crate) fn closing(mut self) -> Response {
        self.close = true;
        self
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        410 => "Gone",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// One server-side HTTP connection: the stream and the bytes read past the last request.
pub(crate) struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

fn find_head_end(buf: &[u8]) -> Option<(usize, usize)> {
    let crlf = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| (p, p + 4));
    let lf = buf
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|p| (p, p + 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

fn parse_head(text: &str) -> Option<Head> {
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r'));
    let mut parts = lines.next()?.split(' ');
    let method = parts.next()?.to_owned();
    let target = parts.next()?;
    let version = parts.next()?;
    if parts.next().is_some() || method.is_empty() || !target.starts_with('/') {
        return None;
    }
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return None,
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        if name.is_empty() || name.contains(' ') {
            return None;
        }
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    Some(Head {
        method,
        path: path.to_owned(),
        query: query.to_owned(),
        http10,
        headers,
    })
}

impl Conn {
    pub(crate) fn new(stream: TcpStream) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    /// Reads more bytes into the buffer before `deadline`; `Ok(0)` at end of stream.
    fn fill(&mut self, deadline: Instant) -> io::Result<usize> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        let mut chunk = [0u8; 8192];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Reads the next request head (waiting up to [`IDLE_TIMEOUT`] for it to start).
    pub(crate) fn read_head(&mut self) -> Result<Head, HeadError> {
        if self.buf.is_empty() {
            match self.fill(Instant::now() + IDLE_TIMEOUT) {
                Ok(0) | Err(_) => return Err(HeadError::Closed),
                Ok(_) => {}
            }
        }
        let deadline = Instant::now() + HEAD_TIMEOUT;
        loop {
            if let Some((end, next)) = find_head_end(&self.buf) {
                if end > MAX_HEAD {
                    return Err(HeadError::TooLarge);
                }
                let text = String::from_utf8_lossy(&self.buf[..end]).into_owned();
                self.buf.drain(..next);
                return parse_head(&text).ok_or(HeadError::Malformed);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(HeadError::TooLarge);
            }
            match self.fill(deadline) {
                Ok(0) | Err(_) => return Err(HeadError::Io),
                Ok(_) => {}
            }
        }
    }

    /// Reads the body of `head`, at most `limit` bytes.
    pub(crate) fn read_body(&mut self, head: &Head, limit: usize) -> Result<Vec<u8>, BodyError> {
        let deadline = Instant::now() + BODY_TIMEOUT;
        if let Some(te) = head.header("transfer-encoding") {
            if !te.eq_ignore_ascii_case("chunked") {
                return Err(BodyError::Unsupported);
            }
            self.continue_if_expected(head)?;
            return self.read_chunked(limit, deadline);
        }
        let length = match head.header("content-length") {
            None => 0,
            Some(v) => v
                .trim()
                .parse::<usize>()
                .map_err(|_| BodyError::Malformed)?,
        };
        if length > limit {
            // Read the rest before answering, so the client (still sending) sees the answer.
            if length <= DRAIN_LIMIT {
                self.continue_if_expected(head)?;
                self.discard(length, deadline)?;
            }
            return Err(BodyError::TooLarge);
        }
        self.continue_if_expected(head)?;
        while self.buf.len() < length {
            match self.fill(deadline) {
                Ok(0) | Err(_) => return Err(BodyError::Io),
                Ok(_) => {}
            }
        }
        Ok(self.buf.drain(..length).collect())
    }

    fn discard(&mut self, mut length: usize, deadline: Instant) -> Result<(), BodyError> {
        loop {
            let n = length.min(self.buf.len());
            self.buf.drain(..n);
            length -= n;
            if length == 0 {
                return Ok(());
            }
            match self.fill(deadline) {
                Ok(0) | Err(_) => return Err(BodyError::Io),
                Ok(_) => {}
            }
        }
    }

    fn continue_if_expected(&mut self, head: &Head) -> Result<(), BodyError> {
        let expects = head
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
        if expects && !head.http10 {
            self.stream
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .map_err(|_| BodyError::Io)?;
        }
        Ok(())
    }

    fn read_line(&mut self, deadline: Instant) -> Result<String, BodyError> {
        loop {
            if let Some(p) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=p).collect();
                let line = String::from_utf8_lossy(&line).trim_end().to_owned();
                return Ok(line);
            }
            if self.buf.len() > 4096 {
                return Err(BodyError::Malformed);
            }
            match self.fill(deadline) {
                Ok(0) | Err(_) => return Err(BodyError::Io),
                Ok(_) => {}
            }
        }
    }

    fn read_chunked(&mut self, limit: usize, deadline: Instant) -> Result<Vec<u8>, BodyError> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line(deadline)?;
            let size = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size, 16).map_err(|_| BodyError::Malformed)?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !self.read_line(deadline)?.is_empty() {}
                return Ok(body);
            }
            if body.len().saturating_add(size) > limit {
                return Err(BodyError::TooLarge);
            }
            while self.buf.len() < size + 2 {
                match self.fill(deadline) {
                    Ok(0) | Err(_) => return Err(BodyError::Io),
                    Ok(_) => {}
                }
            }
            body.extend(self.buf.drain(..size));
            if !self.read_line(deadline)?.is_empty() {
                return Err(BodyError::Malformed);
            }
        }
    }

    /// Writes `response` (no body for a `HEAD` request).
    pub(crate) fn write(&mut self, response: &Response, head_request: bool) -> io::Result<()> {
        let mut out = format!(
            "HTTP/1.1 {} {}\r\n",
            response.status,
            reason(response.status)
        );
        for (name, value) in &response.headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str(&format!("Date: {}\r\n", http_date(SystemTime::now())));
        out.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
        if response.close {
            out.push_str("Connection: close\r\n");
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        if !head_request {
            bytes.extend_from_slice(&response.body);
        }
        self.stream.write_all(&bytes)?;
        self.stream.flush()
    }

    /// The stream and the bytes already read past the last request (for the WebSocket).
    pub(crate) fn into_parts(self) -> (TcpStream, Vec<u8>) {
        (self.stream, self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_request_head_with_query_and_headers() {
        let head =
            parse_head("GET /ws?scope=a%20b&x HTTP/1.1\r\nHost: h\r\nConnection: Upgrade").unwrap();
        assert_eq!(head.method, "GET");
        assert_eq!(head.path, "/ws");
        assert_eq!(head.query_param("scope").as_deref(), Some("a b"));
        assert_eq!(head.query_param("x").as_deref(), Some(""));
        assert_eq!(head.header("host"), Some("h"));
        assert!(head.keep_alive());
    }

    #[test]
    fn rejects_what_is_not_http() {
        assert!(parse_head("hello").is_none());
        assert!(parse_head("GET / HTTP/2.0").is_none());
        assert!(parse_head("GET / HTTP/1.1\r\nbad header").is_none());
    }
}
