//! Reading a snapshot body as it streams in, in one pass over a window of the body's bytes:
//! `{"data":{"COLLECTION":{"ID":VALUE,...},...},"cursor":N}`, whose three levels of objects are
//! walked here and whose keys and values serde_json parses from the window in place (each
//! entity's value as raw JSON text borrowed from it, handed to the [`Sink`]); and the reader,
//! which counts the bytes against the optional size limit and the one-entity bound.
//!
//! Parsing from a slice rather than through serde_json's reader deserializer (which takes the
//! body byte by byte and copies every value's bytes once more into a buffer of its own) is what
//! keeps decoding a snapshot as fast as the server sends it. A value cut by the end of the
//! window is parsed again once more bytes came; the window grows when one value fills half of
//! it, so a long value is parsed again a logarithmic number of times.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::io::{self, Read};

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Sink, MAX_SNAPSHOT_ENTITY_BYTES};
use crate::client::http::body_read_failure;
use crate::protocol::codec::CodecError;
use crate::protocol::machine::{SnapshotFailure, TransportFailure};

/// The window's size to begin with (it grows for a value longer than half of it).
const WINDOW_BYTES: usize = 64 * 1024;

/// The largest the window grows: one entity's bound and a read's worth more (the reader stops
/// an entity longer than its bound before the window is full).
const MAX_WINDOW_BYTES: usize = MAX_SNAPSHOT_ENTITY_BYTES as usize + WINDOW_BYTES;

const SNAPSHOT: &str = "snapshot data";
const COLLECTION: &str = "snapshot collection";

/// How far the body has been read, shared by the reader (which counts) and the sink (which
/// marks where each entity ends).
#[derive(Default)]
pub(super) struct Progress {
    /// Bytes read from the body so far.
    read: Cell<u64>,
    /// `read` when the last entity was staged (or its collection began).
    entity_start: Cell<u64>,
    /// The collection being read, for the error of an entity too large.
    collection: RefCell<String>,
}

impl Progress {
    /// An entity (or a collection) starts here.
    pub(super) fn mark(&self) {
        self.entity_start.set(self.read.get());
    }
}

/// Why decoding the body stopped, before the sink's own reason is considered.
pub(super) enum Stopped {
    /// The body exceeded the configured limit.
    TooLarge,
    /// One entity took more than [`MAX_SNAPSHOT_ENTITY_BYTES`], in this collection.
    EntityTooLarge(String),
    /// The transport failed while the body was read.
    Transport(io::Error),
    /// The body ended before the snapshot did (what was expected next).
    EndedEarly(String),
    /// The body is not a snapshot response (why).
    Malformed(String),
    /// The sink stopped: its failure, or its writer's, says why.
    Sink,
}

impl Stopped {
    pub(super) fn into_failure(self, limit: Option<u64>) -> SnapshotFailure {
        match self {
            Stopped::TooLarge => SnapshotFailure::TooLarge {
                limit: limit.unwrap_or_default(),
            },
            Stopped::EntityTooLarge(collection) => {
                SnapshotFailure::Codec(CodecError::EntityTooLarge {
                    collection,
                    limit: MAX_SNAPSHOT_ENTITY_BYTES,
                })
            }
            Stopped::Transport(io) => SnapshotFailure::Transport(body_read_failure(io)),
            Stopped::EndedEarly(expected) => SnapshotFailure::Transport(TransportFailure::Network(
                format!("the snapshot body ended early: {expected}"),
            )),
            Stopped::Malformed(why) => SnapshotFailure::Transport(TransportFailure::Decode(
                format!("unexpected snapshot body: {why}"),
            )),
            Stopped::Sink => SnapshotFailure::Storage("the snapshot writer stopped".into()),
        }
    }
}

/// Why the walk over the body stopped; [`decode_body`] tells a failed read apart by the
/// reader's flags.
pub(super) enum Halt {
    /// The reader failed (the transport, the limit or the one-entity bound).
    Read(io::Error),
    /// See [`Stopped::EndedEarly`].
    EndedEarly(String),
    /// See [`Stopped::Malformed`].
    Malformed(String),
    /// See [`Stopped::Sink`].
    Sink,
    /// See [`Stopped::EntityTooLarge`].
    EntityTooLarge,
}

/// Decodes the whole body into `sink`; returns the snapshot's cursor.
pub(super) fn decode_body(
    body: &mut dyn Read,
    sink: &mut Sink<'_>,
    limit: Option<u64>,
) -> Result<u64, Stopped> {
    let progress = sink.progress;
    let mut reader = Limited {
        inner: body,
        progress,
        limit,
        exceeded: false,
        entity_too_large: false,
        failed: None,
    };
    let result = read_body(&mut Window::new(&mut reader), sink);
    result.map_err(|halt| match halt {
        Halt::Read(read) => match reader {
            Limited { exceeded: true, .. } => Stopped::TooLarge,
            Limited {
                entity_too_large: true,
                ..
            } => Stopped::EntityTooLarge(progress.collection.take()),
            Limited {
                failed: Some(io), ..
            } => Stopped::Transport(io),
            _ => Stopped::Transport(read),
        },
        Halt::EndedEarly(expected) => Stopped::EndedEarly(expected),
        Halt::Malformed(why) => Stopped::Malformed(why),
        Halt::Sink => Stopped::Sink,
        Halt::EntityTooLarge => Stopped::EntityTooLarge(progress.collection.take()),
    })
}

/// The body reader, counting bytes against the optional limit and the one entity's, and
/// keeping the transport's own error.
struct Limited<'a> {
    inner: &'a mut dyn Read,
    progress: &'a Progress,
    limit: Option<u64>,
    exceeded: bool,
    entity_too_large: bool,
    failed: Option<io::Error>,
}

impl Read for Limited<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = loop {
            match self.inner.read(buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let text = e.to_string();
                    self.failed = Some(e);
                    return Err(io::Error::other(text));
                }
            }
        };
        let read = self.progress.read.get() + n as u64;
        self.progress.read.set(read);
        if self.limit.is_some_and(|limit| read > limit) {
            self.exceeded = true;
            return Err(io::Error::other("the snapshot is larger than the limit"));
        }
        if read - self.progress.entity_start.get() > MAX_SNAPSHOT_ENTITY_BYTES {
            self.entity_too_large = true;
            return Err(io::Error::other("a snapshot entity is too large"));
        }
        Ok(n)
    }
}

/// The body's bytes from the current position on, as far as they were read: `buf[pos..end]`.
struct Window<'r> {
    reader: &'r mut dyn Read,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// The body's bytes before `buf[0]`, for the positions in errors.
    dropped: u64,
    /// The reader said the body ended.
    eof: bool,
}

/// What one attempt at parsing a value at the start of a window gave.
enum Attempt<T> {
    /// The value, and the bytes it took (with the whitespace before it).
    Parsed(T, usize),
    /// The window ends before the value surely did (a number may go on in bytes not yet read).
    More,
    Failed(serde_json::Error),
}

/// Parses one `T` at the start of `window` (after whitespace); `eof` says nothing follows it.
fn attempt<'w, T: Deserialize<'w>>(window: &'w [u8], eof: bool) -> Attempt<T> {
    let mut values = serde_json::Deserializer::from_slice(window).into_iter::<T>();
    match values.next() {
        Some(Ok(value)) if values.byte_offset() < window.len() || eof => {
            Attempt::Parsed(value, values.byte_offset())
        }
        None | Some(Ok(_)) => Attempt::More,
        // A number cut short ("-", "1.", "2e") is "invalid" rather than "EOF" to serde_json.
        Some(Err(e)) if !eof && (e.is_eof() || failed_at_end(window, &e)) => Attempt::More,
        Some(Err(e)) => Attempt::Failed(e),
    }
}

/// Whether serde_json stopped at the end of `window` (its line and column count the bytes it
/// took).
fn failed_at_end(window: &[u8], e: &serde_json::Error) -> bool {
    let line_start = match e.line() {
        0 | 1 => 0,
        line => match memchr::memchr_iter(b'\n', window).nth(line - 2) {
            Some(newline) => newline + 1,
            None => return false,
        },
    };
    line_start + e.column() >= window.len()
}

impl<'r> Window<'r> {
    fn new(reader: &'r mut dyn Read) -> Window<'r> {
        Window {
            reader,
            buf: vec![0; WINDOW_BYTES],
            pos: 0,
            end: 0,
            dropped: 0,
            eof: false,
        }
    }

    /// Where the window's position is in the body.
    fn offset(&self) -> u64 {
        self.dropped + self.pos as u64
    }

    /// Reads more of the body after what the window holds: at least one byte, and twice what
    /// it holds once that is more than half the window (which then grows). `false` at the
    /// body's end.
    fn more(&mut self) -> Result<bool, Halt> {
        if self.eof {
            return Ok(false);
        }
        let held = self.end - self.pos;
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.dropped += self.pos as u64;
            self.pos = 0;
            self.end = held;
        }
        if held * 2 > self.buf.len() {
            let grown = (self.buf.len() * 2).min(MAX_WINDOW_BYTES);
            self.buf.resize(grown, 0);
        }
        if held == self.buf.len() {
            // The reader stops an entity this long first, unless bytes of it came ahead of
            // the entity before (read with that one).
            return Err(Halt::EntityTooLarge);
        }
        let wanted = (held * 2).clamp(held + 1, self.buf.len());
        while self.end < wanted {
            let n = self
                .reader
                .read(&mut self.buf[self.end..])
                .map_err(Halt::Read)?;
            if n == 0 {
                self.eof = true;
                break;
            }
            self.end += n;
        }
        Ok(self.end > held)
    }

    /// The next byte that is not whitespace (not consumed).
    fn peek(&mut self, expected: &str) -> Result<u8, Halt> {
        loop {
            while let Some(&byte) = self.buf[..self.end].get(self.pos) {
                if !matches!(byte, b' ' | b'\t' | b'\n' | b'\r') {
                    return Ok(byte);
                }
                self.pos += 1;
            }
            if !self.more()? {
                return Err(Halt::EndedEarly(format!("expected {expected}")));
            }
        }
    }

    /// Consumes `byte`, after whitespace.
    fn expect(&mut self, byte: u8, expected: &str) -> Result<(), Halt> {
        if self.peek(expected)? != byte {
            return Err(self.malformed(format!("expected {expected}")));
        }
        self.pos += 1;
        Ok(())
    }

    fn malformed(&self, why: String) -> Halt {
        Halt::Malformed(format!("{why} at byte {}", self.offset()))
    }

    /// serde_json's error `e` while parsing `what` at the window's position (with the whole
    /// rest of the body in the window).
    fn json_error(&self, e: &serde_json::Error, what: &str) -> Halt {
        // serde_json's position is within the window: give the body's instead.
        let text = e.to_string();
        let at = format!(" at line {} column {}", e.line(), e.column());
        let reason = text.strip_suffix(&at).unwrap_or(&text);
        let why = format!("{what} at byte {}: {reason}", self.offset());
        if e.is_eof() || failed_at_end(&self.buf[self.pos..self.end], e) {
            Halt::EndedEarly(why)
        } else {
            Halt::Malformed(why)
        }
    }

    /// Reads more for a value that the window does not hold whole yet.
    fn more_of(&mut self, what: &str) -> Result<(), Halt> {
        if self.more()? {
            return Ok(());
        }
        Err(Halt::EndedEarly(format!(
            "expected {what} at byte {}",
            self.offset()
        )))
    }

    /// Parses one `T` (after whitespace).
    fn owned<T: DeserializeOwned>(&mut self, what: &str) -> Result<T, Halt> {
        loop {
            match attempt::<T>(&self.buf[self.pos..self.end], self.eof) {
                Attempt::Parsed(value, used) => {
                    self.pos += used;
                    return Ok(value);
                }
                Attempt::More => {}
                Attempt::Failed(e) => return Err(self.json_error(&e, what)),
            }
            self.more_of(what)?;
        }
    }

    /// Parses one JSON value (after whitespace) and hands its raw text, borrowed from the
    /// window, to `then`.
    fn raw(
        &mut self,
        what: &str,
        then: impl FnOnce(&RawValue) -> Result<(), Halt>,
    ) -> Result<(), Halt> {
        loop {
            match attempt::<&RawValue>(&self.buf[self.pos..self.end], self.eof) {
                Attempt::Parsed(raw, used) => {
                    then(raw)?;
                    self.pos += used;
                    return Ok(());
                }
                Attempt::More => {}
                Attempt::Failed(e) => return Err(self.json_error(&e, what)),
            }
            self.more_of(what)?;
        }
    }

    /// The next key of an object whose `{` was consumed, with its `:`; `None` (and the `}`
    /// consumed) at the object's end. `first` is whether no key was read yet.
    fn next_key(&mut self, first: &mut bool) -> Result<Option<String>, Halt> {
        match self.peek("a key or `}`")? {
            b'}' => {
                self.pos += 1;
                return Ok(None);
            }
            b',' if !*first => self.pos += 1,
            _ if *first => {}
            _ => return Err(self.malformed("expected `,` or `}`".into())),
        }
        *first = false;
        if self.peek("a key")? != b'"' {
            return Err(self.malformed("expected a key".into()));
        }
        let key = self.owned::<String>("a key")?;
        self.expect(b':', "`:`")?;
        Ok(Some(key))
    }

    /// Consumes `null` when it comes next; whether it did.
    fn null(&mut self, expected: &str) -> Result<bool, Halt> {
        if self.peek(expected)? != b'n' {
            return Ok(false);
        }
        self.owned::<()>(expected)?;
        Ok(true)
    }

    /// The body's end: only whitespace may follow.
    fn finish(&mut self) -> Result<(), Halt> {
        match self.peek("the end of the body") {
            Err(Halt::EndedEarly(_)) => Ok(()),
            Ok(_) => Err(self.malformed("trailing characters".into())),
            Err(e) => Err(e),
        }
    }
}

/// The whole body: `data` staged, `cursor` returned, other fields ignored.
fn read_body(window: &mut Window<'_>, sink: &mut Sink<'_>) -> Result<u64, Halt> {
    window.expect(b'{', "a snapshot response object")?;
    let (mut cursor, mut data_seen, mut first) = (None, false, true);
    while let Some(key) = window.next_key(&mut first)? {
        let duplicate = match key.as_str() {
            "data" => data_seen,
            "cursor" => cursor.is_some(),
            _ => false,
        };
        if duplicate {
            return Err(window.malformed(format!("duplicate field `{key}`")));
        }
        match key.as_str() {
            "data" => {
                data_seen = true;
                read_data(window, sink)?;
            }
            "cursor" => cursor = Some(window.owned::<u64>("the cursor")?),
            // Parsed as raw text, not skipped: that checks its strings are UTF-8 too.
            _ => window.raw("a field", |_| Ok(()))?,
        }
    }
    window.finish()?;
    cursor.ok_or_else(|| Halt::Malformed("missing field `cursor`".into()))
}

/// `data`: collections by name; `null` is an empty snapshot; any other type is a malformed
/// response (the response itself has the wrong shape, as when `cursor` is not a number), not
/// a codec error.
fn read_data(window: &mut Window<'_>, sink: &mut Sink<'_>) -> Result<(), Halt> {
    const EXPECTED: &str = "snapshot data (an object of collections)";
    if window.null(EXPECTED)? {
        return Ok(());
    }
    window.expect(b'{', EXPECTED)?;
    let mut first = true;
    // A name twice would merge two collections (a JSON tree keeps only the last one).
    let mut seen = HashSet::new();
    while let Some(collection) = window.next_key(&mut first)? {
        if !seen.insert(collection.clone()) {
            return Err(window.malformed(format!("duplicate collection `{collection}`")));
        }
        if collection.is_empty() {
            return Err(sink.fail(SnapshotFailure::Codec(CodecError::Empty {
                what: SNAPSHOT,
                field: "collection",
            })));
        }
        sink.progress.mark();
        sink.progress.collection.replace(collection.clone());
        read_collection(window, sink, &collection)?;
    }
    Ok(())
}

/// One collection: values by id; `null` is an empty collection; any other type is a
/// [`CodecError::NotAnObject`].
fn read_collection(window: &mut Window<'_>, sink: &mut Sink<'_>, name: &str) -> Result<(), Halt> {
    const EXPECTED: &str = "a snapshot collection (an object of entities)";
    if window.null(EXPECTED)? {
        return Ok(());
    }
    let found = match window.peek(EXPECTED)? {
        b'{' => None,
        b'[' => Some("an array"),
        b'"' => Some("a string"),
        b't' | b'f' => Some("a boolean"),
        b'-' | b'0'..=b'9' => Some("a number"),
        _ => return Err(window.malformed(format!("expected {EXPECTED}"))),
    };
    if let Some(found) = found {
        return Err(sink.fail(SnapshotFailure::Codec(CodecError::NotAnObject {
            what: COLLECTION,
            found,
        })));
    }
    window.pos += 1;
    let mut first = true;
    while let Some(id) = window.next_key(&mut first)? {
        window.raw("an entity's value", |raw| sink.entity(name, id, raw))?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "body_tests.rs"]
mod tests;
