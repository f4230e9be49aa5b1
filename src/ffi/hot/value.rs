//! Values across direct calls: canonical JSON text to a [`tag`] and a slot payload, and typed
//! host values to canonical JSON text.

use std::sync::Arc;

use serde_json::Value;

use super::{put_bytes, HotSlot};
use crate::ffi::error::MizuError;

/// What a direct read returned (non-negative return values; negative means failure).
pub mod tag {
    /// JSON `null`.
    pub const NULL: i32 = 0;
    /// JSON `false`.
    pub const FALSE: i32 = 1;
    /// JSON `true`.
    pub const TRUE: i32 = 2;
    /// An integer that fits `i64`, in the slot's `int`.
    pub const INT: i32 = 3;
    /// Another number, in the slot's `float`.
    pub const FLOAT: i32 = 4;
    /// A string, its UTF-8 characters at the slot's `ptr` / `len`.
    pub const STRING: i32 = 5;
    /// An array, an object or a number outside `i64` / `f64`: JSON text at `ptr` / `len`.
    pub const JSON: i32 = 6;
    /// The signal still holds the version the caller knows: nothing was copied.
    pub const UNCHANGED: i32 = 7;
    /// The entity does not exist.
    pub const ABSENT: i32 = 8;
}

/// A value decoded for a callback: a tag and its payload, the bytes owned.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub(crate) tag: i32,
    pub(crate) int: i64,
    pub(crate) float: f64,
    pub(crate) bytes: Option<Arc<str>>,
}

/// Decodes canonical JSON text (as the library stores it) into a tag and payload. Strings are
/// unescaped; arrays and objects stay JSON text.
pub(crate) fn decode(text: &Arc<str>) -> Decoded {
    let mut out = Decoded {
        tag: tag::JSON,
        int: 0,
        float: 0.0,
        bytes: None,
    };
    match text.as_bytes().first() {
        Some(b'n') if &**text == "null" => out.tag = tag::NULL,
        Some(b't') if &**text == "true" => out.tag = tag::TRUE,
        Some(b'f') if &**text == "false" => out.tag = tag::FALSE,
        Some(b'"') => match serde_json::from_str::<String>(text) {
            Ok(s) => {
                out.tag = tag::STRING;
                out.bytes = Some(s.into());
            }
            Err(_) => out.bytes = Some(Arc::clone(text)),
        },
        Some(b'-' | b'0'..=b'9') => {
            if let Ok(i) = text.parse::<i64>() {
                out.tag = tag::INT;
                out.int = i;
            } else if let Some(f) = float(text) {
                out.tag = tag::FLOAT;
                out.float = f;
            } else {
                out.bytes = Some(Arc::clone(text));
            }
        }
        _ => out.bytes = Some(Arc::clone(text)),
    }
    out
}

/// A JSON number that is not an integer, when it round-trips through `f64` (its canonical text
/// always has a fraction or an exponent; an integer outside `i64` stays JSON text).
fn float(text: &str) -> Option<f64> {
    if !text.contains(['.', 'e', 'E']) {
        return None;
    }
    text.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Writes `decoded` into the slot; returns its tag.
pub(crate) fn fill(slot: &mut HotSlot, decoded: &Decoded) -> i32 {
    slot.int = decoded.int;
    slot.float = decoded.float;
    match &decoded.bytes {
        Some(bytes) => put_bytes(slot, bytes.as_bytes()),
        None => {
            slot.ptr = std::ptr::null();
            slot.len = 0;
        }
    }
    decoded.tag
}

/// The canonical text of a host float.
///
/// # Errors
/// [`MizuError::InvalidJson`] for NaN and the infinities, which JSON cannot hold.
pub(crate) fn float_text(value: f64) -> Result<Arc<str>, MizuError> {
    serde_json::Number::from_f64(value)
        .map(|n| Value::Number(n).to_string().into())
        .ok_or_else(|| MizuError::InvalidJson {
            reason: format!("{value} is not a JSON number"),
        })
}

/// The canonical text of a host string.
pub(crate) fn string_text(value: &str) -> Arc<str> {
    Value::String(value.to_owned()).to_string().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(text: &str) -> Decoded {
        decode(&Arc::from(text))
    }

    #[test]
    fn scalars_decode_to_their_tags() {
        assert_eq!(round("null").tag, tag::NULL);
        assert_eq!(round("true").tag, tag::TRUE);
        assert_eq!(round("false").tag, tag::FALSE);
        let i = round("-42");
        assert_eq!((i.tag, i.int), (tag::INT, -42));
        let f = round("2.5");
        assert_eq!((f.tag, f.float), (tag::FLOAT, 2.5));
        let s = round(r#""a\"b\u00e9""#);
        assert_eq!(s.tag, tag::STRING);
        assert_eq!(s.bytes.as_deref(), Some("a\"bé"));
    }

    #[test]
    fn other_values_stay_json_text() {
        for text in [r#"{"a":1}"#, "[1,2]", "18446744073709551616"] {
            let d = round(text);
            assert_eq!(d.tag, tag::JSON, "{text}");
            assert_eq!(d.bytes.as_deref(), Some(text));
        }
    }

    #[test]
    fn host_values_print_canonically() {
        assert_eq!(&*float_text(5.0).unwrap(), "5.0");
        assert_eq!(&*float_text(0.1).unwrap(), "0.1");
        assert!(float_text(f64::NAN).is_err());
        assert_eq!(&*string_text("a\"b\n"), r#""a\"b\n""#);
    }
}
