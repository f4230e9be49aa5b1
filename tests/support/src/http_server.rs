//! A small HTTP/1.1 server on 127.0.0.1 for transport tests: records every request and answers
//! as the test says, including the broken ways real servers and networks answer.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Header names in lower case, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

/// How the server answers one request.
pub enum Answer {
    /// A complete response; the connection stays open for the next request.
    Full {
        status: u16,
        content_type: &'static str,
        body: String,
    },
    /// Headers announcing `declared` bytes, then `body` (shorter), then the connection closes.
    Truncated { declared: usize, body: String },
    /// Reads the request and never answers.
    Silent,
    /// Sends headers announcing a body, then never sends it.
    HeadersThenStall,
}

impl Answer {
    /// A complete JSON response.
    pub fn json(status: u16, body: &str) -> Answer {
        Answer::Full {
            status,
            content_type: "application/json",
            body: format!("{body}\n"),
        }
    }

    /// A complete plain-text response.
    pub fn text(status: u16, body: &str) -> Answer {
        Answer::Full {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.to_string(),
        }
    }
}

type Handler = dyn Fn(&Recorded) -> Answer + Send + Sync;

/// The running server; stops accepting when dropped.
pub struct HttpServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    stopping: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Starts a server that answers each request with `handler(request)`.
    pub fn start(handler: impl Fn(&Recorded) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stopping = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let acceptor = {
            let (requests, stopping) = (requests.clone(), stopping.clone());
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (handler, requests) = (handler.clone(), requests.clone());
                    thread::spawn(move || serve(stream, &*handler, &requests));
                }
            })
        };
        HttpServer {
            addr,
            requests,
            stopping,
            acceptor: Some(acceptor),
        }
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("requests lock").clone()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the acceptor so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// Serves requests on one connection until the client closes it or an answer ends it.
fn serve(stream: TcpStream, handler: &Handler, requests: &Mutex<Vec<Recorded>>) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let answer = handler(&request);
        requests.lock().expect("requests lock").push(request);
        let keep_open = match answer {
            Answer::Full {
                status,
                content_type,
                body,
            } => {
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                writer.write_all(head.as_bytes()).is_ok()
                    && writer.write_all(body.as_bytes()).is_ok()
            }
            Answer::Truncated { declared, body } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\n\r\n{body}"
                );
                let _ = writer.write_all(head.as_bytes());
                false
            }
            Answer::Silent => {
                drain(&mut reader);
                false
            }
            Answer::HeadersThenStall => {
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{";
                let _ = writer.write_all(head.as_bytes());
                drain(&mut reader);
                false
            }
        };
        if !keep_open {
            break;
        }
    }
}

/// Blocks until the client closes the connection.
fn drain(reader: &mut BufReader<TcpStream>) {
    let mut sink = [0u8; 1024];
    while matches!(reader.read(&mut sink), Ok(n) if n > 0) {}
}

/// Reads one request (`Content-Length` bodies only); `None` at end of stream or on garbage.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Recorded> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    Some(Recorded {
        method,
        path,
        headers,
        body,
    })
}
