//! Fuzz target: `mizu_sync::__fuzz::store_operations` (see its docs for what is checked).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mizu_sync::__fuzz::store_operations(data));
