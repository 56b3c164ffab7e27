//! Inputs found while fuzzing (see fuzz/README.md), each run through the API its fuzz target
//! uses. The inputs are in tests/fuzz_regressions/.
//!
//! Both bugs so far are stack overflows, which abort the whole process rather than fail a
//! test: each such case runs in a child process (this test binary, running only that test),
//! on a thread with a 2 MiB stack, Rust's default for spawned threads (rayon's workers, which
//! `smki scan` examines records on, and the test harness's threads).
use smki_repo::{parse_buffer, Locator, RecordReader};
use smki_scan::{Examiner, Input, Verdict};
use smki_x509::CertView;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

const CHILD: &str = "SMKI_FUZZ_REGRESSION_CHILD";

fn input(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `f` in a child process so that a stack overflow fails this test alone.
fn in_child(test: &str, f: fn()) {
    if std::env::var_os(CHILD).is_some() {
        let t = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(f)
            .unwrap();
        if let Err(panic) = t.join() {
            std::panic::resume_unwind(panic);
        }
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{test} failed in its child process ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// 32768 nested constructed elements with indefinite lengths (`30 80` repeated, 64 KiB, no
/// end-of-contents anywhere). `read_header` finds the end of an indefinite length by
/// recursing into `read_header` for each nested element (crates/smki-der/src/header.rs,
/// `read_header_declared`), with no depth limit: one stack frame pair per level. Found by
/// review, confirmed with the der_walk / certificate fuzz binaries; `smki scan` aborts on
/// it from about 40 KB, `smki inspect` from about 200 KB.
#[test]
fn nested_indefinite_lengths_do_not_overflow_the_stack() {
    in_child(
        "nested_indefinite_lengths_do_not_overflow_the_stack",
        || {
            let der = input("nested-indefinite-32768.der");
            // fuzz target der_walk
            let w = smki_der::walk(&der, 0);
            assert!(
                w.error.is_some(),
                "no end-of-contents: the walk must report an error"
            );
            assert!(smki_der::read_header(&der, 0, 0).is_err());
            // fuzz target certificate
            assert!(CertView::split(&der).is_err());
            let locator = Locator {
                file: "nested".into(),
                record: 0,
                line: None,
                offset: 0,
            };
            let finding = Examiner::builder(smki_verify::PlainBackend)
                .build(1)
                .unwrap()
                .examiner
                .examine(Input::der(&der, &locator));
            assert_eq!(finding.verdict, Verdict::Unreadable);
            // fuzz target readers
            let records = parse_buffer("nested", &der);
            assert_eq!(records.len(), 1);
            assert!(records[0].is_err());
        },
    );
}

/// 4000 concatenated empty SEQUENCEs with indefinite lengths (`30 80 00 00` repeated, 16 KB).
/// `RecordReader::next_der` (crates/smki-repo/src/reader.rs) reads an indefinite-length
/// record by reading the rest of the source, then hands what follows the record to a new
/// `RecordReader` and drains it, recursively: one nested reader (and a copy of the rest of
/// the input) per record, so the stack grows with the number of such records and the time
/// with its square. `smki scan` aborts on it from about 2000 records (8 KB).
#[test]
fn concatenated_indefinite_records_do_not_overflow_the_stack() {
    in_child(
        "concatenated_indefinite_records_do_not_overflow_the_stack",
        || {
            let bytes = input("indefinite-records-4000.der");
            let file: Arc<str> = "records".into();
            // fuzz target readers: parse_buffer, and RecordReader over a Cursor
            let records = parse_buffer(&file, &bytes);
            assert_eq!(records.len(), 4000);
            for (i, r) in records.iter().enumerate() {
                let rec = r.as_ref().expect("each record is a complete TLV");
                assert_eq!(rec.locator.record, i);
                assert_eq!(rec.locator.offset, 4 * i);
                assert_eq!(rec.der, [0x30, 0x80, 0x00, 0x00]);
            }
            let streamed: Vec<_> = RecordReader::new(file, std::io::Cursor::new(&bytes)).collect();
            assert_eq!(streamed, records);
        },
    );
}

/// After an indefinite-length record, the errors of the records that follow name byte
/// positions relative to the end of that record instead of the file: `30 80 00 00` then a
/// truncated `30 05` gives "truncated at byte 0" for a record whose locator says byte 4.
/// The same nested `RecordReader` (crates/smki-repo/src/reader.rs, `next_der`) reads the
/// rest from offset 0 and only the locators are shifted afterwards. Found while checking a
/// fix for the case above against the readers corpus (the readers target does not look at
/// error texts).
#[test]
fn errors_after_an_indefinite_record_name_file_offsets() {
    let bytes = [0x30, 0x80, 0x00, 0x00, 0x30, 0x05, 0x02];
    let records = parse_buffer("tail", &bytes);
    assert_eq!(records.len(), 2);
    let e = records[1].as_ref().unwrap_err();
    assert_eq!(e.locator.offset, 4);
    let text = e.to_string();
    assert!(text.contains("truncated at byte 4:"), "{text}");
}
