//! Conversions keep every record (issue 15): `smki remediate --format` over every (input
//! format x output format) pair of the five dump formats, on a corpus with byte-identical
//! records, two certificates with one serial, and unreadable records mixed in. For every
//! pair: the records in the output, counted by smki's reader and by an independent reader
//! (tests/oracles/count_records.py: files in a tree, PEM blocks and pyca's
//! `load_pem_x509_certificates`, a DER walk and pyca's `load_der_x509_certificate`, Python's
//! csv module), equal the records in the input minus those the manifest lists as kept out;
//! in a conversion every record kept out is unreadable and every record written loads in
//! pyca; an extract has no empty serial and lists pyca's serial number; and `smki audit`
//! passes. A record dropped without being listed as kept out fails the audit.
//!
//! And file names that are not UTF-8 survive, exactly (docs/outputs.md, "File names").
use serde_json::Value;
use smki_repo::{extract_row, pem_block, Record};
use smki_scan::manifest::{Entry, ManifestWriter};
use smki_scan::Verdict;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const SMKI: &str = env!("CARGO_BIN_EXE_smki");
const FORMATS: [&str; 5] = ["der-tree", "pem-tree", "pem", "der", "extract"];

fn smki(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(SMKI).args(args).output().expect("run smki")
}

fn run(args: &[&str]) {
    let o = Command::new(SMKI).args(args).output().expect("run smki");
    assert!(
        o.status.success(),
        "smki {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn is_tree(f: &str) -> bool {
    f.ends_with("-tree")
}

/// The dump as `smki simulate` lays it out.
fn input_of(dir: &Path, f: &str) -> PathBuf {
    dir.join(match f {
        "der-tree" | "pem-tree" => "certs",
        "pem" => "certificates.pem",
        "der" => "certificates.der",
        _ => "extract",
    })
}

/// A simulated dump in format `f` (unreadable records injected), with two more records
/// appended: a byte-identical copy of a readable certificate, and the same certificate
/// with another signature (the same serial, other bytes).
fn corpus(root: &Path, f: &str) -> (PathBuf, PathBuf) {
    let dir = root.join(format!("in-{f}"));
    run(&[
        "simulate",
        "--quiet",
        "--count",
        "40",
        "--seed",
        "11",
        "--defect-rate",
        "0.25",
        "--inject",
        "UNREADABLE=0.1",
        "--inject",
        "BAD_SIGNATURE=0.05",
        "--format",
        f,
        "--out",
        dir.to_str().unwrap(),
    ]);
    let input = input_of(&dir, f);
    let first: Record = smki_repo::open(&input)
        .flatten()
        .find(|r| smki_x509::CertView::split(&r.der).is_ok())
        .expect("a readable certificate");
    let mut other = first.der.clone();
    *other.last_mut().unwrap() ^= 1;
    let append = |path: &Path, bytes: &[u8]| {
        let mut all = fs::read(path).unwrap();
        all.extend_from_slice(bytes);
        fs::write(path, all).unwrap();
    };
    match f {
        "der-tree" | "pem-tree" => {
            let enc = |der: &[u8]| {
                if f == "pem-tree" {
                    pem_block(der).into_bytes()
                } else {
                    der.to_vec()
                }
            };
            let ext = if f == "pem-tree" { "pem" } else { "der" };
            fs::create_dir_all(input.join("zz")).unwrap();
            fs::write(input.join(format!("zz/copy.{ext}")), enc(&first.der)).unwrap();
            fs::write(input.join(format!("zz/same-serial.{ext}")), enc(&other)).unwrap();
        }
        "pem" => append(
            &input,
            (pem_block(&first.der) + &pem_block(&other)).as_bytes(),
        ),
        "der" => append(&input, &[first.der.clone(), other].concat()),
        _ => {
            let full = fs::read_dir(&input)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("full"))
                .unwrap();
            let meta = first.meta.as_ref();
            append(
                &full,
                (extract_row(&first.der, meta) + &extract_row(&other, meta)).as_bytes(),
            );
        }
    }
    (input, dir.join("cas"))
}

/// The independent count (tests/oracles/count_records.py) of the dump at `path`.
fn oracle_count(format: &str, path: &Path) -> Option<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracles/count_records.py");
    let o = Command::new("python3")
        .arg(script)
        .arg(format)
        .arg(path)
        .output()
        .ok()?;
    if !o.status.success() {
        if std::env::var("CI").is_ok_and(|v| v == "true") || format != "der" {
            panic!(
                "count_records.py {format} {}: {}",
                path.display(),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        return None;
    }
    Some(serde_json::from_slice(&o.stdout).unwrap())
}

fn entries(manifest: &Path) -> (Vec<Entry>, u64) {
    let mut all: Vec<Entry> = fs::read_to_string(manifest)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let Some(Entry::End { records, .. }) = all.pop() else {
        panic!("no end line")
    };
    (all, records)
}

fn audit(input: &Path, out: &Path, manifest: &Path, cas: &Path, json: &Path) -> (i32, Value) {
    let o = smki(&[
        "audit".as_ref(),
        "--quiet".as_ref(),
        "--original".as_ref(),
        input.as_os_str(),
        "--remediated".as_ref(),
        out.as_os_str(),
        "--manifest".as_ref(),
        manifest.as_os_str(),
        "--issuers".as_ref(),
        cas.as_os_str(),
        "--json".as_ref(),
        json.as_os_str(),
    ]);
    let report = serde_json::from_slice(&fs::read(json).unwrap()).unwrap();
    (o.status.code().unwrap_or(-1), report)
}

fn codes(report: &Value) -> Vec<String> {
    let mut c: Vec<String> = report["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    c.sort();
    c.dedup();
    c
}

#[test]
fn every_conversion_keeps_every_record() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut table = vec![format!(
        "{:<9} -> {:<9} {:>4} {:>4} {:>8}  audit",
        "input", "output", "in", "out", "kept-out"
    )];
    let mut problems = Vec::new();
    let mut converted = None;
    for f in FORMATS {
        let (input, cas) = corpus(root, f);
        let read: Vec<_> = smki_repo::open(&input).collect();
        let n_in = read.len() as u64;
        let reader_errors = read.iter().filter(|r| r.is_err()).count() as u64;
        for o in FORMATS {
            let tag = format!("{f} -> {o}");
            let out = if is_tree(o) {
                root.join(format!("out-{f}-{o}"))
            } else {
                root.join(format!("out-{f}-{o}.{o}"))
            };
            let manifest = root.join(format!("m-{f}-{o}.jsonl"));
            let r = smki(&[
                "remediate".as_ref(),
                input.as_os_str(),
                "--quiet".as_ref(),
                "--issuers".as_ref(),
                cas.as_os_str(),
                "--format".as_ref(),
                o.as_ref(),
                "--out".as_ref(),
                out.as_os_str(),
                "--manifest".as_ref(),
                manifest.as_os_str(),
            ]);
            assert!(
                r.status.success(),
                "{tag}: {}",
                String::from_utf8_lossy(&r.stderr)
            );
            let (entries, records) = entries(&manifest);
            assert_eq!(records, n_in, "{tag}: the manifest counts the input");
            let kept: Vec<&Entry> = entries
                .iter()
                .filter(|e| matches!(e, Entry::LeftAlone { kept_out: true, .. }))
                .collect();
            let k = kept.len() as u64;
            let unreadable = entries
                .iter()
                .filter(|e| {
                    matches!(e, Entry::LeftAlone { verdict, .. } if *verdict == Verdict::Unreadable)
                })
                .count() as u64;
            assert!(unreadable > 0, "{tag}: the corpus has unreadable records");
            let back: Vec<_> = smki_repo::open(&out).collect();
            let n_out = back.len() as u64;
            if n_out != n_in - k {
                problems.push(format!(
                    "{tag}: smki reads {n_out} records, expected {n_in} - {k}"
                ));
            }
            if f == o {
                assert_eq!(k, 0, "{tag}: the same format keeps every record");
            } else {
                // Every unreadable record is kept out (reader errors among them), none else.
                assert_eq!(k, unreadable, "{tag}: kept out = unreadable");
                assert!(k >= reader_errors, "{tag}");
                assert!(back.iter().all(|r| r.is_ok()), "{tag}: {back:?}");
            }
            // The independent reader.
            if let Some(c) = oracle_count(o, &out) {
                let count = |k: &str| c[k].as_u64().unwrap();
                if count("records") != n_out {
                    problems.push(format!("{tag}: the oracle counts {c}, smki {n_out}"));
                }
                if is_tree(o) && count("files") != n_out {
                    problems.push(format!(
                        "{tag}: {} files for {n_out} records",
                        count("files")
                    ));
                }
                if f != o && count("certificates") != n_out {
                    problems.push(format!("{tag}: pyca loads {c} of {n_out}"));
                }
                if o == "extract" && (count("empty_serials") + count("serial_mismatches")) > 0 {
                    problems.push(format!("{tag}: extract serials {c}"));
                }
            }
            let json = root.join(format!("audit-{f}-{o}.json"));
            let (code, report) = audit(&input, &out, &manifest, &cas, &json);
            let reported_k = report["kept_out"].as_u64().unwrap_or(0);
            if code != 0 || reported_k != k {
                problems.push(format!(
                    "{tag}: audit exit {code}, kept_out {reported_k}: {:?}",
                    codes(&report)
                ));
            }
            table.push(format!(
                "{f:<9} -> {o:<9} {n_in:>4} {n_out:>4} {k:>8}  {}",
                if code == 0 { "passed" } else { "FAILED" }
            ));
            if f == "pem" && o == "der" {
                converted = Some((input.clone(), out, cas.clone(), manifest, entries, records));
            }
        }
    }
    println!("{}", table.join("\n"));
    assert!(problems.is_empty(), "{problems:#?}");

    // A record dropped without being listed as kept out fails the audit (DROPPED), and a
    // record listed as kept out that is still there fails it too (MANIFEST_MISMATCH).
    let (input, out, cas, _, entries, records) = converted.unwrap();
    let forge = |name: &str, entries: &[Entry]| -> PathBuf {
        let mut w = ManifestWriter::new(Vec::new());
        for e in entries {
            w.push(e.clone()).unwrap();
        }
        let path = root.join(format!("forged-{name}.jsonl"));
        fs::write(&path, w.finish(records).unwrap()).unwrap();
        path
    };
    let mut silent = entries.clone();
    let at = silent
        .iter()
        .position(|e| matches!(e, Entry::LeftAlone { kept_out: true, .. }))
        .unwrap();
    if let Entry::LeftAlone { kept_out, .. } = &mut silent[at] {
        *kept_out = false;
    }
    let json = root.join("audit-forged.json");
    let (code, report) = audit(&input, &out, &forge("silent", &silent), &cas, &json);
    assert_eq!((code, codes(&report)), (1, vec!["DROPPED".to_string()]));
    let mut claimed = entries.clone();
    let at = claimed
        .iter()
        .position(|e| {
            matches!(
                e,
                Entry::LeftAlone {
                    kept_out: false,
                    ..
                }
            )
        })
        .expect("a record left alone and written");
    if let Entry::LeftAlone { kept_out, .. } = &mut claimed[at] {
        *kept_out = true;
    }
    let (code, report) = audit(&input, &out, &forge("claimed", &claimed), &cas, &json);
    assert_eq!(
        (code, codes(&report)),
        (1, vec!["MANIFEST_MISMATCH".to_string()])
    );
}

/// In a dump of the same format, nothing may be kept out: an unreadable file removed from
/// a remediated tree and listed as kept out is a record dropped.
#[test]
fn only_a_conversion_keeps_records_out() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (input, cas) = corpus(root, "der-tree");
    let out = root.join("rem");
    let manifest = root.join("m.jsonl");
    run(&[
        "remediate",
        input.to_str().unwrap(),
        "--quiet",
        "--issuers",
        cas.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--manifest",
        manifest.to_str().unwrap(),
    ]);
    let (mut entries, records) = entries(&manifest);
    let at = entries
        .iter()
        .position(
            |e| matches!(e, Entry::LeftAlone { verdict, .. } if *verdict == Verdict::Unreadable),
        )
        .unwrap();
    let Entry::LeftAlone {
        locator, kept_out, ..
    } = &mut entries[at]
    else {
        unreachable!()
    };
    *kept_out = true;
    let rel = locator.file.as_path().strip_prefix(&input).unwrap();
    fs::remove_file(out.join(rel)).unwrap();
    let mut w = ManifestWriter::new(Vec::new());
    for e in &entries {
        w.push(e.clone()).unwrap();
    }
    let forged = root.join("forged.jsonl");
    fs::write(&forged, w.finish(records).unwrap()).unwrap();
    let (code, report) = audit(&input, &out, &forged, &cas, &root.join("a.json"));
    assert_eq!((code, codes(&report)), (1, vec!["DROPPED".to_string()]));
}

/// Three files whose names are not UTF-8, two of them differing only in a byte that is not
/// UTF-8: every record is read, scanned, remediated into a tree (same format and
/// converted) and audited under its exact name; JSON gives each name's bytes exactly.
#[cfg(unix)]
#[test]
fn file_names_that_are_not_utf8_survive() {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let sim = root.join("sim");
    run(&[
        "simulate",
        "--quiet",
        "--count",
        "6",
        "--seed",
        "4",
        "--defect-rate",
        "0.5",
        "--format",
        "der-tree",
        "--out",
        sim.to_str().unwrap(),
    ]);
    let certs: Vec<Record> = smki_repo::open(&sim.join("certs"))
        .map(|r| r.unwrap())
        .collect();
    let names: [&[u8]; 3] = [b"a\xff.der", b"a\xfe.der", b"\xc3(-cert.der"];
    let input = root.join("input");
    fs::create_dir(&input).unwrap();
    for (name, rec) in names.iter().zip(&certs) {
        fs::write(input.join(std::ffi::OsStr::from_bytes(name)), &rec.der).unwrap();
    }
    let exact = |name: &[u8]| [input.as_os_str().as_bytes(), b"/", name].concat();
    // smki's reader: three records, under their exact names.
    let read: Vec<Record> = smki_repo::open(&input).map(|r| r.unwrap()).collect();
    let mut got: Vec<Vec<u8>> = read
        .iter()
        .map(|r| r.locator.file.as_bytes().to_vec())
        .collect();
    got.sort();
    let mut want: Vec<Vec<u8>> = names.iter().map(|n| exact(n)).collect();
    want.sort();
    assert_eq!(got, want);

    // scan --findings: each locator's file_bytes_hex is the name's bytes; file its text.
    let findings = root.join("findings.jsonl");
    let o = smki(&[
        "scan".as_ref(),
        "--quiet".as_ref(),
        "--fail-on".as_ref(),
        "never".as_ref(),
        input.as_os_str(),
        "--issuers".as_ref(),
        sim.join("cas").as_os_str(),
        "--findings".as_ref(),
        findings.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut from_json: Vec<Vec<u8>> = fs::read_to_string(&findings)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let loc = &v["locator"];
            let bytes =
                hex::decode(loc["file_bytes_hex"].as_str().expect("file_bytes_hex")).unwrap();
            let text = loc["file"].as_str().unwrap();
            assert!(text.contains("\\x"), "{text}");
            bytes
        })
        .collect();
    from_json.sort();
    assert_eq!(from_json, want);

    // remediate into a tree, same format and converted: three files, the same names.
    let cas = sim.join("cas");
    for format in [None, Some("pem-tree")] {
        let out = root.join(format!("rem-{}", format.unwrap_or("same")));
        let manifest = root.join(format!("m-{}.jsonl", format.unwrap_or("same")));
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "remediate".as_ref(),
            "--quiet".as_ref(),
            input.as_os_str(),
            "--issuers".as_ref(),
            cas.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
            "--manifest".as_ref(),
            manifest.as_os_str(),
        ];
        if let Some(f) = format {
            args.push("--format".as_ref());
            args.push(f.as_ref());
        }
        let o = smki(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut files: Vec<Vec<u8>> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_vec())
            .filter(|n| !n.starts_with(b"."))
            .collect();
        files.sort();
        let mut expected: Vec<Vec<u8>> = names.iter().map(|n| n.to_vec()).collect();
        expected.sort();
        assert_eq!(files, expected, "{format:?}");
        let (code, report) = audit(
            &input,
            &out,
            &manifest,
            &sim.join("cas"),
            &root.join("audit.json"),
        );
        assert_eq!(code, 0, "{format:?}: {:?}", report["failures"]);
        assert_eq!(report["original_records"], 3);
        assert_eq!(report["remediated_records"], 3);
    }
}
