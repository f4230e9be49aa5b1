//! Reading a snapshot body as it streams in: serde_json's streaming deserializer through
//! visitors over `{"data":{"COLLECTION":{"ID":VALUE,...},...},"cursor":N}`, each entity's value
//! taken as raw JSON text (`Box<RawValue>`) and handed to the [`Sink`]; and the reader, which
//! counts the bytes against the optional size limit and the one-entity bound.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io::{self, BufReader, Read};

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::{Sink, MAX_SNAPSHOT_ENTITY_BYTES};
use crate::client::http::body_read_failure;
use crate::protocol::codec::CodecError;
use crate::protocol::machine::{SnapshotFailure, TransportFailure};

/// The reader's buffer: serde_json reads byte by byte from it.
const READ_BUFFER_BYTES: usize = 64 * 1024;

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
    /// serde_json's error: the body ended early, or is not a snapshot.
    Json(serde_json::Error),
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
            Stopped::Json(e) if e.is_eof() => SnapshotFailure::Transport(
                TransportFailure::Network(format!("the snapshot body ended early: {e}")),
            ),
            Stopped::Json(e) => SnapshotFailure::Transport(TransportFailure::Decode(format!(
                "unexpected snapshot body: {e}"
            ))),
        }
    }
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
    let result = {
        let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(
            READ_BUFFER_BYTES,
            &mut reader,
        ));
        Body { sink }
            .deserialize(&mut de)
            .and_then(|cursor| de.end().map(|()| cursor))
    };
    result.map_err(|e| match reader {
        Limited { exceeded: true, .. } => Stopped::TooLarge,
        Limited {
            entity_too_large: true,
            ..
        } => Stopped::EntityTooLarge(progress.collection.take()),
        Limited {
            failed: Some(io), ..
        } => Stopped::Transport(io),
        _ => Stopped::Json(e),
    })
}

/// The body reader, counting bytes against the optional limit and the one entity's, and
/// keeping the transport's own error (serde_json keeps only its text).
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
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) => {
                let text = e.to_string();
                self.failed = Some(e);
                return Err(io::Error::other(text));
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

/// The JSON type a visitor met, for [`CodecError::NotAnObject`].
fn not_an_object<E: de::Error>(sink: &mut Sink<'_>, what: &'static str, found: &'static str) -> E {
    sink.fail(SnapshotFailure::Codec(CodecError::NotAnObject {
        what,
        found,
    }))
}

/// Implements the visitor methods for every JSON type but objects (and `null`, where allowed)
/// as a [`CodecError::NotAnObject`].
macro_rules! refuse_non_objects {
    ($what:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Err(not_an_object(self.sink, $what, "a boolean"))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Err(not_an_object(self.sink, $what, "a number"))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Err(not_an_object(self.sink, $what, "a number"))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Err(not_an_object(self.sink, $what, "a number"))
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Err(not_an_object(self.sink, $what, "a string"))
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(not_an_object(self.sink, $what, "an array"))
        }
    };
}

/// The whole body: `data` staged, `cursor` returned, other fields ignored.
struct Body<'s, 'a> {
    sink: &'s mut Sink<'a>,
}

impl<'de> DeserializeSeed<'de> for Body<'_, '_> {
    type Value = u64;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<u64, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Body<'_, '_> {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a snapshot response object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<u64, A::Error> {
        let (mut cursor, mut data_seen) = (None, false);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "data" if data_seen => return Err(de::Error::duplicate_field("data")),
                "data" => {
                    data_seen = true;
                    map.next_value_seed(Data {
                        sink: &mut *self.sink,
                    })?;
                }
                "cursor" if cursor.is_some() => return Err(de::Error::duplicate_field("cursor")),
                "cursor" => cursor = Some(map.next_value::<u64>()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        cursor.ok_or_else(|| de::Error::missing_field("cursor"))
    }
}

/// `data`: collections by name; `null` is an empty snapshot; any other type is a malformed
/// response.
struct Data<'s, 'a> {
    sink: &'s mut Sink<'a>,
}

impl<'de> DeserializeSeed<'de> for Data<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Data<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("snapshot data (an object of collections)")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    // Any other type: serde's "invalid type" error, a malformed response (the response itself
    // has the wrong shape, as when `cursor` is not a number), not a codec error.

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(collection) = map.next_key::<String>()? {
            if collection.is_empty() {
                return Err(self.sink.fail(SnapshotFailure::Codec(CodecError::Empty {
                    what: SNAPSHOT,
                    field: "collection",
                })));
            }
            self.sink.progress.mark();
            self.sink.progress.collection.replace(collection.clone());
            map.next_value_seed(Collection {
                sink: &mut *self.sink,
                name: &collection,
            })?;
        }
        Ok(())
    }
}

/// One collection: values by id; `null` is an empty collection.
struct Collection<'s, 'a, 'n> {
    sink: &'s mut Sink<'a>,
    name: &'n str,
}

impl<'de> DeserializeSeed<'de> for Collection<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Collection<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a snapshot collection (an object of entities)")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    refuse_non_objects!(COLLECTION);

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(id) = map.next_key::<String>()? {
            let raw: Box<RawValue> = map.next_value()?;
            self.sink.entity(self.name, id, &raw)?;
        }
        Ok(())
    }
}
