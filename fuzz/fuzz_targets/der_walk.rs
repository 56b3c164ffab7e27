//! The strict DER walk and the lenient header reader on arbitrary bytes.
//!
//! Invariants: no panic; every issue offset inside the input, every path non-empty; a
//! header read at any offset lies within the input (offset, contents, end).
#![no_main]
use libfuzzer_sys::fuzz_target;
use smki_der::{read_header, walk};

const BASE: usize = 1000;

fuzz_target!(|data: &[u8]| {
    let w = walk(data, BASE);
    for i in &w.issues {
        assert!(
            (BASE..BASE + data.len()).contains(&i.offset),
            "{:?} at {} outside {}..{}",
            i.kind,
            i.offset,
            BASE,
            BASE + data.len()
        );
        assert!(!i.path.is_empty());
    }
    if let Some(e) = w.error {
        assert!(e.position >= BASE && e.position <= BASE + data.len(), "error at {}", e.position);
    }

    for pos in 0..data.len() {
        match read_header(data, pos, BASE) {
            Ok(h) => {
                assert_eq!(h.offset, BASE + pos);
                assert_eq!(h.content.start, h.offset + h.header_len);
                assert!(h.content.start <= h.content.end && h.content.end <= h.end);
                assert!(h.end <= BASE + data.len(), "header at {pos} ends at {}", h.end);
            }
            Err(e) => assert!(
                e.position >= BASE && e.position <= BASE + data.len(),
                "error at {} reading at {pos}",
                e.position
            ),
        }
    }
});
