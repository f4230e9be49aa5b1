//! The sync protocol: wire types, entity changes, the data codec and the sans-IO sync machine.
//! No I/O, no threads, no clocks, no SQLite here.

pub mod codec;
pub mod entity;
pub mod machine;
pub mod wire;
