//! The window's walk over snapshot bodies against serde_json's parse of the whole body (the
//! brute force), with the body handed over in random pieces: the same entities and cursor for
//! every valid body, and an error of the right kind for every broken one.

use std::collections::BTreeMap;
use std::io::{self, Read};

use serde_json::Value;

use super::super::stage_snapshot;
use crate::protocol::codec::DefaultCodec;
use crate::protocol::machine::{SnapshotFailure, TransportFailure};
use crate::store::Store;

/// A small deterministic generator (xorshift), so a failure names its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Hands the body over in pieces of random sizes (1 byte to 9 KiB).
struct Pieces<'a> {
    body: &'a [u8],
    rng: Rng,
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let range = if self.rng.below(4) == 0 { 9 * 1024 } else { 40 };
        let most = 1 + self.rng.below(range) as usize;
        let n = most.min(buf.len()).min(self.body.len());
        buf[..n].copy_from_slice(&self.body[..n]);
        self.body = &self.body[n..];
        Ok(n)
    }
}

fn space(rng: &mut Rng) -> &'static str {
    [" ", "", "", "\n", "\t ", "", "\r\n  "][rng.below(7) as usize]
}

fn string(rng: &mut Rng) -> String {
    let parts = [
        "a", "todo", "x", "é", "\\n", "\\\"", "\\u00e9", "\\\\", "日本", "42", " ", "\\/",
    ];
    let n = rng.below(6);
    let mut s = String::from("\"");
    for _ in 0..n {
        s.push_str(parts[rng.below(parts.len() as u64) as usize]);
    }
    s.push('"');
    s
}

fn value(rng: &mut Rng, depth: u32) -> String {
    match rng.below(if depth > 3 { 6 } else { 9 }) {
        0 => "true".into(),
        1 => "false".into(),
        2 => ["0", "-7", "12345678901234567890", "1.5", "-2e10", "3E-2"][rng.below(6) as usize]
            .into(),
        3 | 4 => string(rng),
        5 => "null".into(),
        6 | 7 => {
            let n = rng.below(4);
            let members: Vec<String> = (0..n)
                .map(|_| {
                    let (a, b, c) = (space(rng), space(rng), space(rng));
                    format!("{a}{}{b}:{c}{}", string(rng), value(rng, depth + 1))
                })
                .collect();
            format!("{{{}{}}}", members.join(","), space(rng))
        }
        _ => {
            let n = rng.below(4);
            let items: Vec<String> = (0..n)
                .map(|_| format!("{}{}", space(rng), value(rng, depth + 1)))
                .collect();
            format!("[{}{}]", items.join(","), space(rng))
        }
    }
}

/// A snapshot body: collections of entities (ids distinct, values never `null`), maybe an
/// unknown field, fields in random order, random whitespace.
fn body(rng: &mut Rng) -> String {
    let mut fields = vec![format!("\"cursor\":{}{}", space(rng), rng.below(1 << 40))];
    let data = match rng.below(8) {
        0 => "null".to_string(),
        _ => {
            let collections: Vec<String> = (0..rng.below(4))
                .map(|c| {
                    if rng.below(8) == 0 {
                        return format!("\"c{c}\":null");
                    }
                    let entities: Vec<String> = (0..rng.below(40))
                        .map(|i| {
                            let mut v = value(rng, 0);
                            if v == "null" {
                                v = "{}".into();
                            }
                            format!("{}\"id{i}\\u0021\":{}{v}", space(rng), space(rng))
                        })
                        .collect();
                    format!("\"c{c}\":{}{{{}}}", space(rng), entities.join(","))
                })
                .collect();
            format!("{{{}}}", collections.join(","))
        }
    };
    fields.push(format!("\"data\":{data}"));
    if rng.below(3) == 0 {
        fields.push(format!("\"extra\":{}", value(rng, 0)));
    }
    if rng.below(2) == 0 {
        fields.reverse();
    }
    format!(
        "{}{{{}}}{}",
        space(rng),
        fields.join(&format!(",{}", space(rng))),
        space(rng)
    )
}

/// Each collection's entities (id → compact value), and the cursor.
type Snapshot = (BTreeMap<String, BTreeMap<String, String>>, u64);

/// What the brute force makes of a body.
fn expected(body: &str) -> Snapshot {
    let whole: Value = serde_json::from_str(body).expect("a valid body");
    let mut collections = BTreeMap::new();
    if let Some(data) = whole["data"].as_object() {
        for (name, entities) in data {
            let Some(entities) = entities.as_object() else {
                continue;
            };
            if entities.is_empty() {
                continue;
            }
            let entities = entities
                .iter()
                .map(|(id, v)| (id.clone(), v.to_string()))
                .collect();
            collections.insert(name.clone(), entities);
        }
    }
    (collections, whole["cursor"].as_u64().expect("a cursor"))
}

/// What the client makes of `body` read in random pieces: the store's collections after the
/// snapshot, and the cursor; or why it failed.
fn staged(body: &str, seed: u64) -> Result<Snapshot, SnapshotFailure> {
    let store = Store::open_in_memory();
    let mut reader = Pieces {
        body: body.as_bytes(),
        rng: Rng(seed | 1),
    };
    let (result, staging) = stage_snapshot(&mut reader, &store, &DefaultCodec, None);
    let staged = result?;
    store
        .commit_snapshot(staging.expect("a staging"), staged.cursor)
        .expect("commit");
    let collections = ["c0", "c1", "c2", "c3", "todo", "n", "extra"]
        .into_iter()
        .map(|name| {
            let entities = store
                .all(name)
                .into_iter()
                .map(|(id, v)| (id, v.to_string()))
                .collect::<BTreeMap<_, _>>();
            (name.to_owned(), entities)
        })
        .filter(|(_, entities)| !entities.is_empty())
        .collect();
    Ok((collections, staged.cursor))
}

#[test]
fn random_bodies_in_random_pieces_stage_what_serde_json_reads_whole() {
    for seed in 1..400u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let body = body(&mut rng);
        let (want, cursor) = expected(&body);
        let got = staged(&body, seed).unwrap_or_else(|e| panic!("seed {seed}: {e:?}\n{body}"));
        assert_eq!(got, (want, cursor), "seed {seed}\n{body}");
    }
}

/// `body` cut after each of its bytes: every cut fails as a body that ended early, never as
/// a success or another kind of error.
#[test]
fn a_body_cut_anywhere_ended_early() {
    let body = r#" { "data" : { "todo" : { "a" : {"t":[1,2.5,"x\"y"]} , "b":12 }, "n":null } , "cursor" : 1234 } "#;
    assert!(staged(body, 7).is_ok());
    let end = body.trim_end().len();
    for cut in 0..end {
        match staged(&body[..cut], cut as u64) {
            Err(SnapshotFailure::Transport(TransportFailure::Network(m)))
                if m.contains("ended early") => {}
            other => panic!("cut at {cut} ({:?}): {other:?}", &body[..cut]),
        }
    }
}

#[test]
fn broken_bodies_are_malformed_with_the_body_position() {
    for (body, why) in [
        (r#"[1]"#, "expected a snapshot response object at byte 0"),
        (r#"{"cursor":1,"cursor":2}"#, "duplicate field `cursor`"),
        (
            r#"{"data":null,"data":null,"cursor":1}"#,
            "duplicate field `data`",
        ),
        (r#"{"data":{}}"#, "missing field `cursor`"),
        (r#"{"data":[],"cursor":1}"#, "expected snapshot data"),
        (r#"{"cursor":-1}"#, "the cursor at byte 10"),
        (r#"{"cursor":1} x"#, "trailing characters at byte 13"),
        (r#"{"cursor":1,}"#, "expected a key at byte 12"),
        (r#"{"cursor" 1}"#, "expected `:` at byte 10"),
        (
            r#"{"cursor":1 "data":null}"#,
            "expected `,` or `}` at byte 12",
        ),
        (
            r#"{"data":{"t":{"a":tru}},"cursor":1}"#,
            "an entity's value at byte 18",
        ),
        (
            r#"{"data":{"t":{"a":"\x"}},"cursor":1}"#,
            "an entity's value at byte 18",
        ),
        (
            r#"{"data":{"t":{"a":1},"u":null,"t":{"b":2}},"cursor":1}"#,
            "duplicate collection `t` at byte 34",
        ),
    ] {
        match staged(body, 3) {
            Err(SnapshotFailure::Transport(TransportFailure::Decode(m))) if m.contains(why) => {}
            other => panic!("{body}: {other:?}, expected {why:?}"),
        }
    }
}

/// A value longer than the window, cut into tiny reads, is read whole and kept as it came.
#[test]
fn a_value_longer_than_the_window_is_read_whole() {
    let long = "y".repeat(3 * super::WINDOW_BYTES + 17);
    let number = "9".repeat(17);
    let body = format!(
        r#"{{"data":{{"todo":{{"a":"{long}","b":{number},"c":[{number}]}}}},"cursor":{number}}}"#
    );
    let (collections, cursor) = staged(&body, 11).expect("staged");
    assert_eq!(cursor, number.parse::<u64>().unwrap());
    let todo = &collections["todo"];
    assert_eq!(todo["a"], format!("\"{long}\""));
    assert_eq!(todo["b"], number);
    assert_eq!(todo["c"], format!("[{number}]"));
}
