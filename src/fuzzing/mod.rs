//! Fuzzing harnesses (cargo feature `fuzzing`; not a public API).
//!
//! Each function takes the raw bytes of one fuzz input and panics only when the library breaks
//! one of its own promises (a panic inside the library, or a violated invariant). The cargo-fuzz
//! targets in `fuzz/` call them, and `tests/fuzz_regressions.rs` replays the inputs that once
//! failed, on stable Rust.
//!
//! - [`sync_session()`]: the sans-IO [`SyncMachine`](crate::protocol::machine::SyncMachine)
//!   driven by a simulated driver over a real in-memory store, fed arbitrary push / pull /
//!   snapshot responses (raw JSON through serde, and well-formed ones), failures, live
//!   notices, timers and lifecycle inputs.
//! - [`live_message()`]: one live WebSocket text frame through [`LiveEnvelope`] and
//!   [`LiveEnvelope::sync_cursor`].
//! - [`codec_round_trip()`]: [`DefaultCodec`] decoding of change and snapshot data, and
//!   `encode_write` → decode round trips.
//! - [`snapshot_body()`]: a snapshot body streamed into a store in arbitrary pieces, against
//!   the tree decoder's reading of the whole body.
//! - [`store_operations()`]: the in-memory store under an arbitrary sequence of enqueue / settle /
//!   apply_remote / replace_base, checked against a model recomputed from scratch.
//!
//! [`LiveEnvelope`]: crate::protocol::wire::LiveEnvelope
//! [`LiveEnvelope::sync_cursor`]: crate::protocol::wire::LiveEnvelope::sync_cursor
//! [`DefaultCodec`]: crate::protocol::codec::DefaultCodec

mod codec_round_trip;
mod session;
mod snapshot_body;
mod store_model;

pub use codec_round_trip::{codec_round_trip, live_message};
pub use session::sync_session;
pub use snapshot_body::snapshot_body;
pub use store_model::store_operations;

/// Reads a fuzz input as a script: single bytes choose operations, length-prefixed chunks carry
/// payloads. Reading past the end yields zeros and empty chunks, so every input is a valid
/// script.
pub(crate) struct Script<'a> {
    data: &'a [u8],
}

impl<'a> Script<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Script { data }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub(crate) fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((first, rest)) => {
                self.data = rest;
                *first
            }
            None => 0,
        }
    }

    /// A small number below `n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n
    }

    /// Up to eight bytes, little-endian.
    pub(crate) fn u64(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        for b in &mut bytes {
            *b = self.byte();
        }
        u64::from_le_bytes(bytes)
    }

    /// Everything not read yet.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }

    /// A chunk of at most 65 535 bytes, preceded by its two-byte length.
    pub(crate) fn chunk(&mut self) -> &'a [u8] {
        let len = usize::from(u16::from_le_bytes([self.byte(), self.byte()]));
        let len = len.min(self.data.len());
        let (chunk, rest) = self.data.split_at(len);
        self.data = rest;
        chunk
    }
}
