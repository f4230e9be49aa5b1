//! A snapshot body read as the client streams it in, checked against the tree decoder.

use std::io::{self, Read};

use serde_json::Value;

use super::Script;
use crate::client::snapshot::stage_snapshot;
use crate::protocol::codec::{Codec, DefaultCodec};
use crate::protocol::entity::SnapshotData;
use crate::protocol::machine::{SnapshotFailure, TransportFailure};
use crate::store::Store;

/// Hands a body over in pieces whose sizes the script chooses.
struct Pieces<'a> {
    body: &'a [u8],
    sizes: Script<'a>,
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let size = match self.sizes.byte() {
            0 => 64 * 1024,
            n => usize::from(n),
        };
        let n = size.min(buf.len()).min(self.body.len());
        buf[..n].copy_from_slice(&self.body[..n]);
        self.body = &self.body[n..];
        Ok(n)
    }
}

/// What the tree decoder makes of a whole body.
enum Tree {
    /// The snapshot's data and cursor.
    Reads(SnapshotData, u64),
    /// Not a snapshot response.
    Refuses,
    /// No verdict: nested deeper than serde_json builds a tree, or holding a lone surrogate
    /// escape (`\ud800`: the JSON grammar allows it, a tree's string cannot hold it). The
    /// streamed reader may accept such a body (it checks values the store keeps, not the
    /// fields it skips).
    Unsure,
}

fn through_tree(body: &[u8]) -> Tree {
    let whole: Value = match serde_json::from_slice(body) {
        Ok(whole) => whole,
        Err(e)
            if ["recursion limit", "surrogate", "hex escape"]
                .iter()
                .any(|reason| e.to_string().contains(reason)) =>
        {
            return Tree::Unsure
        }
        Err(_) => return Tree::Refuses,
    };
    let cursor = whole
        .as_object()
        .and_then(|fields| fields.get("cursor")?.as_u64());
    match (cursor, DefaultCodec.decode_snapshot(&whole["data"])) {
        (Some(cursor), Ok(data)) => Tree::Reads(data, cursor),
        _ => Tree::Refuses,
    }
}

/// The input: one chunk of piece sizes, an optional size limit, then the body (the rest).
/// The body is staged into an in-memory store as the client does it, read in those pieces.
///
/// # Panics
/// When the reader panics, stages a snapshot that the tree decoder reads differently (or
/// refuses), or refuses one the tree decoder reads, for any reason but a duplicate (a key
/// twice, which a tree keeps once) or the size limit.
pub fn snapshot_body(data: &[u8]) {
    let mut script = Script::new(data);
    let sizes = script.chunk();
    let limit = match script.byte() {
        0 => None,
        n => Some(u64::from(n) * 16),
    };
    let body = script.rest();
    let store = Store::open_in_memory();
    let mut reader = Pieces {
        body,
        sizes: Script::new(sizes),
    };
    let (result, staging) = stage_snapshot(&mut reader, &store, &DefaultCodec, limit);
    let expected = match through_tree(body) {
        Tree::Unsure => return,
        Tree::Refuses => None,
        Tree::Reads(data, cursor) => Some((data, cursor)),
    };
    let staged = match result {
        Ok(staged) => staged,
        Err(failure) => {
            if expected.is_none() {
                return;
            }
            let allowed = match &failure {
                SnapshotFailure::TooLarge { limit } => body.len() as u64 > *limit,
                SnapshotFailure::Codec(e) => e.to_string().contains("twice"),
                SnapshotFailure::Transport(TransportFailure::Decode(m)) => m.contains("duplicate"),
                _ => false,
            };
            assert!(
                allowed,
                "a body the tree decoder reads was refused: {failure:?}"
            );
            return;
        }
    };
    let (data, cursor) = expected.expect("a staged body is one the tree decoder reads");
    assert_eq!(staged.cursor, cursor, "the cursor");
    store
        .commit_snapshot(staging.expect("a staging"), staged.cursor)
        .expect("the staged snapshot commits");
    let entities: usize = data.values().map(|ids| ids.len()).sum();
    assert_eq!(staged.entities, entities as u64, "as many entities");
    for (collection, ids) in &data {
        let stored = store.all(collection);
        assert_eq!(stored.len(), ids.len(), "{collection}: as many entities");
        for (id, value) in stored {
            assert_eq!(ids.get(&id), Some(&value), "{collection}/{id}");
        }
    }
}
