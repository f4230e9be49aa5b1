//! UniFFI's `uniffi-bindgen` command at the exact uniffi version of the `mizu-sync` library.
//!
//! Generate bindings in library mode from inside the repository (it runs `cargo metadata`):
//!
//! ```sh
//! cargo run --bin uniffi-bindgen -- generate --library "$CARGO_TARGET_DIR/debug/libmizu_sync.so" \
//!     --language kotlin --out-dir out --no-format
//! ```

fn main() {
    uniffi::uniffi_bindgen_main()
}
