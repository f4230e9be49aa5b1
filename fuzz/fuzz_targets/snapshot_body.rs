//! Fuzz target: `mizu_sync::__fuzz::snapshot_body` (see its docs for what is checked).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mizu_sync::__fuzz::snapshot_body(data));
