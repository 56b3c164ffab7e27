//! The dump readers on arbitrary bytes. The first byte picks a prefix so that PEM and
//! extract CSV are reached: 0 raw, 1 a PEM BEGIN line, 2 an extract header; the second
//! byte picks the buffer capacity of a streaming `RecordReader` run beside `parse_buffer`.
//!
//! Invariants: no panic; every locator offset <= input length; records in strictly
//! increasing offset order, numbered 0, 1, 2, ...; the streaming reader over a small
//! buffer yields the same records (when its first buffer detects the same format).
#![no_main]
use libfuzzer_sys::fuzz_target;
use smki_repo::{detect, parse_buffer, RecordReader};
use std::io::{BufReader, Cursor};
use std::sync::Arc;

const PREFIXES: [&[u8]; 3] = [b"", b"-----BEGIN CERTIFICATE-----\n", b"serial,certificate\n"];

fuzz_target!(|data: &[u8]| {
    let [mode, cap, rest @ ..] = data else { return };
    let input = [PREFIXES[*mode as usize % PREFIXES.len()], rest].concat();
    let file: Arc<str> = "fuzz".into();

    let records = parse_buffer(&file, &input);
    let mut last = None;
    for (i, r) in records.iter().enumerate() {
        let loc = match r {
            Ok(rec) => &rec.locator,
            Err(e) => &e.locator,
        };
        assert!(loc.offset <= input.len(), "record {i} at {} of {}", loc.offset, input.len());
        assert!(last.is_none_or(|l| l < loc.offset), "record {i} at {} after {last:?}", loc.offset);
        assert_eq!(loc.record, i, "record numbering");
        last = Some(loc.offset);
    }

    let cap = 1 + *cap as usize;
    if detect(&input[..cap.min(input.len())]) == detect(&input) {
        let src = BufReader::with_capacity(cap, Cursor::new(&input));
        let streamed: Vec<_> = RecordReader::new(file.clone(), src).collect();
        assert_eq!(streamed, records, "streaming with a {cap}-byte buffer differs");
    }
});
