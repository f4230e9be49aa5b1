//! The sync protocol: wire types, entity changes and (later) the data codec and the sans-IO
//! sync machine. No I/O, no threads, no SQLite here.

pub mod entity;
pub mod wire;
