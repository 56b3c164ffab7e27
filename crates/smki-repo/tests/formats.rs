//! Writers and readers: every format round-trips; extracts apply full + deltas; bad rows and
//! unreadable files are errors with their place, and the rest is read.
use smki_repo::*;
use std::path::{Path, PathBuf};

/// A DER SEQUENCE of `n` content octets (long-form length from 128).
fn fake_der(i: usize, n: usize) -> Vec<u8> {
    let mut content = vec![0x04, 0x00];
    content.resize(n, (i % 251) as u8);
    content[1] = (n - 2).min(127) as u8;
    let content = &content[..if n - 2 > 127 { 129 } else { n }];
    let mut out = vec![0x30];
    if content.len() < 128 {
        out.push(content.len() as u8);
    } else {
        out.extend_from_slice(&[0x81, content.len() as u8]);
    }
    out.extend_from_slice(content);
    out
}

fn records(n: usize) -> Vec<Record> {
    (0..n)
        .map(|i| Record {
            locator: Locator {
                file: format!("t/{}/{i:04}.der", i % 3).into(),
                record: 0,
                line: None,
                offset: 0,
            },
            der: fake_der(i, 10 + (i * 37) % 200),
            meta: Some(Metadata {
                status: Some(["I", "N", "P"][i % 3].into()),
                role: Some("ESME".into()),
                usage: Some(if i % 2 == 0 { "DS" } else { "KA" }.into()),
                manufacturing: Some(i % 5 != 0),
                lifecycle: Some("installed".into()),
                serial: Some(format!("{i:032x}")),
                subject: (i % 4 == 0).then(|| format!("CN=PARTY{i},OU=02")),
                eui64: Some(format!("00-1A-3C-01-00-00-00-{:02X}", i % 256)),
                issued: Some("2017-03-01".into()),
            }),
        })
        .collect()
}

#[test]
fn every_format_round_trips() {
    let recs = records(40);
    for &format in OutputFormat::ALL {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join(format!("out.{}", format.extension()));
        let mut w = Writer::create(format, &target)
            .unwrap()
            .with_input_root(Path::new("t"));
        for (i, r) in recs.iter().enumerate() {
            let at = w.write(i as u64, r).unwrap();
            if format.is_tree() {
                assert_eq!(at.file, format!("{}/{i:04}.der", i % 3));
            } else {
                assert_eq!(at.record, i);
            }
        }
        assert!(!target.exists(), "{format}: nothing in place before finish");
        w.finish().unwrap();
        let back: Vec<Record> = open(&target).map(|r| r.unwrap()).collect();
        assert_eq!(back.len(), recs.len(), "{format}");
        let mut got: Vec<&Vec<u8>> = back.iter().map(|r| &r.der).collect();
        let mut want: Vec<&Vec<u8>> = recs.iter().map(|r| &r.der).collect();
        if format.is_tree() {
            // The tree is read in path order.
            got.sort();
            want.sort();
        }
        assert_eq!(got, want, "{format}");
        if format == OutputFormat::Extract {
            for (a, b) in back.iter().zip(&recs) {
                assert_eq!(a.meta, b.meta);
            }
        }
        // No temporary file left behind.
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

#[test]
fn extract_full_and_deltas_apply_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let recs = records(6);
    let write = |name: &str, rows: &[Record]| -> PathBuf {
        let p = dir.path().join(name);
        let mut w = Writer::create(OutputFormat::Extract, &p).unwrap();
        for (i, r) in rows.iter().enumerate() {
            w.write(i as u64, r).unwrap();
        }
        w.finish().unwrap();
        p
    };
    let full = write("full-20210324.csv", &recs[..4]);
    let mut updated = recs[1].clone();
    updated.meta.as_mut().unwrap().status = Some("R".into());
    let d1 = write("delta-20210325.csv", &[updated.clone(), recs[4].clone()]);
    let d2 = write("delta-20210326.csv", &[recs[5].clone()]);
    let all: Vec<Record> = read_extracts(&[full, d1, d2]).map(|r| r.unwrap()).collect();
    assert_eq!(all.len(), 6);
    assert_eq!(all[1].meta.as_ref().unwrap().status.as_deref(), Some("R"));
    assert!(all[1].locator.file.ends_with("delta-20210325.csv"));
    assert_eq!(all[4].der, recs[4].der);
    assert_eq!(all[5].der, recs[5].der);
}

#[test]
fn a_bad_row_is_an_error_with_line_and_offset_and_the_rest_is_read() {
    let rows = [
        "serial,subject,eui64,status,role,usage,manufacturing,lifecycle,issued,certificate\n",
        "01,,,I,ESME,DS,Y,installed,2017-03-01,MAMCAQU=\n",
        "02,,,I,ESME,DS,Y,installed,2017-03-01,MA!!\n",
        "03,,,I,ESME,DS\n",
        "04,\"CN=A,OU=02\",,I,02,KA,N,,2017-03-01,MAMCAQY=\n",
    ];
    let text = rows.concat();
    let out = parse_buffer("x.csv", text.as_bytes());
    assert_eq!(out.len(), 4);
    assert_eq!(out[0].as_ref().unwrap().der, [0x30, 0x03, 0x02, 0x01, 0x05]);
    let e = out[1].as_ref().unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Csv(_)), "{e}");
    assert_eq!(
        (e.locator.record, e.locator.line, e.locator.offset),
        (1, Some(3), rows[0].len() + rows[1].len())
    );
    let e = out[2].as_ref().unwrap_err();
    assert_eq!(e.locator.line, Some(4));
    assert!(e.to_string().contains("x.csv#2 (line 4, byte"), "{e}");
    let r = out[3].as_ref().unwrap();
    assert_eq!(
        r.meta.as_ref().unwrap().subject.as_deref(),
        Some("CN=A,OU=02")
    );
    assert_eq!(r.meta.as_ref().unwrap().manufacturing, Some(false));
    assert_eq!(r.locator.line, Some(5));
}

#[test]
fn tree_walk_is_sorted_skips_other_files_and_survives_loops_and_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for p in ["b/2.der", "b/1.pem", "a/z.crt", "a/readme.txt", "c.cer"] {
        let path = root.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let content = if p.ends_with(".pem") {
            pem_block(&fake_der(1, 20)).into_bytes()
        } else {
            fake_der(2, 30)
        };
        std::fs::write(path, content).unwrap();
    }
    std::fs::write(root.join("b/3.der"), b"not a certificate").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(root, root.join("b/loop")).unwrap();
    let files: Vec<String> = read_dir_tree(root)
        .filter_map(|f| f.ok())
        .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, ["a/z.crt", "b/1.pem", "b/2.der", "b/3.der", "c.cer"]);
    #[cfg(unix)]
    assert_eq!(
        read_dir_tree(root).filter(|f| f.is_err()).count(),
        1,
        "the loop is reported once"
    );
    let recs: Vec<_> = open(root).collect();
    assert_eq!(recs.iter().filter(|r| r.is_ok()).count(), 4);
    let bad: Vec<_> = recs.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(bad
        .iter()
        .any(|e| e.locator.file.ends_with("3.der") && e.kind == ErrorKind::UnknownFormat));
}

#[test]
fn streaming_der_reads_long_and_indefinite_lengths() {
    let mut bytes = fake_der(1, 200);
    bytes.extend_from_slice(&[0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00]);
    bytes.extend_from_slice(&fake_der(2, 20));
    bytes.extend_from_slice(b"\n");
    let out = parse_buffer("c.der", &bytes);
    assert_eq!(out.len(), 3, "{out:?}");
    assert_eq!(
        out[1].as_ref().unwrap().der,
        [0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00]
    );
    let third = out[2].as_ref().unwrap();
    assert_eq!((third.locator.record, third.locator.offset), (2, 132 + 7));
}

#[cfg(unix)]
#[test]
fn two_symlink_loops_are_each_reported_once_as_loops_and_the_walk_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for p in ["a/1.der", "b/2.der", "b/c/3.der"] {
        std::fs::create_dir_all(root.join(p).parent().unwrap()).unwrap();
        std::fs::write(root.join(p), fake_der(1, 20)).unwrap();
    }
    std::os::unix::fs::symlink("..", root.join("a/loop")).unwrap();
    std::os::unix::fs::symlink("../b", root.join("b/loop2")).unwrap();
    // Not a loop: a second way into a directory read already.
    std::os::unix::fs::symlink("a", root.join("z")).unwrap();
    let walked: Vec<_> = read_dir_tree(root).collect();
    let files: Vec<String> = walked
        .iter()
        .filter_map(|f| f.as_ref().ok())
        .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, ["a/1.der", "b/2.der", "b/c/3.der"]);
    let errors: Vec<&Error> = walked.iter().filter_map(|f| f.as_ref().err()).collect();
    let canonical = |p: &str| std::fs::canonicalize(root.join(p)).unwrap();
    let loops: Vec<(&str, &Path)> = errors
        .iter()
        .filter_map(|e| match &e.kind {
            ErrorKind::SymlinkLoop { target } => {
                Some((e.locator.file.to_str().unwrap(), target.as_path()))
            }
            _ => None,
        })
        .collect();
    let (a_loop, b_loop) = (root.join("a/loop"), root.join("b/loop2"));
    assert_eq!(
        loops,
        [
            (&*a_loop.to_string_lossy(), canonical("").as_path()),
            (&*b_loop.to_string_lossy(), canonical("b").as_path()),
        ]
    );
    assert!(errors[0]
        .to_string()
        .contains("a/loop#0 (byte 0): cannot read: symlink loop"));
    let again: Vec<&Error> = errors
        .iter()
        .copied()
        .filter(|e| matches!(&e.kind, ErrorKind::AlreadyVisited { target } if *target == canonical("a")))
        .collect();
    assert_eq!(again.len(), 1, "{errors:?}");
    assert!(again[0].locator.file.ends_with("/z"));
    assert_eq!(errors.len(), 3, "{errors:?}");
}

#[test]
fn open_reads_the_certificate_files_then_the_extracts_of_a_tree_in_one_walk() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let recs = records(5);
    std::fs::create_dir_all(root.join("x/y")).unwrap();
    std::fs::write(root.join("x/y/cert.der"), &recs[0].der).unwrap();
    let write = |name: &str, rows: &[Record]| {
        let mut w = Writer::create(OutputFormat::Extract, &root.join(name)).unwrap();
        for (i, r) in rows.iter().enumerate() {
            w.write(i as u64, r).unwrap();
        }
        w.finish().unwrap();
    };
    // The delta sorts before the full extract by path: the full one is applied first all
    // the same.
    let mut revoked = recs[1].clone();
    revoked.meta.as_mut().unwrap().status = Some("R".into());
    write("a-delta-20210325.csv", &[revoked, recs[4].clone()]);
    write("x/full-20210324.csv", &recs[1..4]);
    let all: Vec<Record> = open(root).map(|r| r.unwrap()).collect();
    let files: Vec<&str> = all
        .iter()
        .map(|r| r.locator.file.to_str().unwrap())
        .collect();
    assert_eq!(all.len(), 5, "{files:?}");
    assert!(files[0].ends_with("x/y/cert.der"));
    assert_eq!(all[0].der, recs[0].der);
    assert!(files[1].ends_with("a-delta-20210325.csv"), "{files:?}");
    assert_eq!(all[1].meta.as_ref().unwrap().status.as_deref(), Some("R"));
    assert!(files[2].ends_with("full-20210324.csv"));
    assert_eq!(all[4].der, recs[4].der);
    // A file given itself is read for what it is, extract or not.
    let one: Vec<Record> = open(&root.join("a-delta-20210325.csv"))
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(one.len(), 2);
}

#[test]
fn dump_format_names_the_shape_of_a_dump() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let recs = records(3);
    for (format, name) in [
        (OutputFormat::Der, "d.der"),
        (OutputFormat::Pem, "p.pem"),
        (OutputFormat::Extract, "e.csv"),
    ] {
        let mut w = Writer::create(format, &root.join(name)).unwrap();
        for (i, r) in recs.iter().enumerate() {
            w.write(i as u64, r).unwrap();
        }
        w.finish().unwrap();
        assert_eq!(dump_format(&root.join(name)).unwrap(), format, "{name}");
    }
    // A tree is named by the content of its first certificate file, whatever its name's
    // extension (extracts beside it do not count).
    let pem = smki_repo::pem_block(&recs[0].der).into_bytes();
    for (format, file, bytes) in [
        (OutputFormat::DerTree, "dt/b/1.der", &recs[0].der),
        (OutputFormat::PemTree, "pt/b/1.pem", &pem),
        (OutputFormat::PemTree, "pc/b/1.crt", &pem),
        (OutputFormat::DerTree, "dp/b/1.pem", &recs[0].der),
    ] {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        std::fs::copy(root.join("e.csv"), path.with_file_name("a.csv")).unwrap();
        let tree = path.parent().unwrap().parent().unwrap();
        assert_eq!(dump_format(tree).unwrap(), format, "{file}");
    }
    std::fs::create_dir(root.join("ex")).unwrap();
    std::fs::rename(root.join("e.csv"), root.join("ex/full-1.csv")).unwrap();
    assert_eq!(
        dump_format(&root.join("ex")).unwrap(),
        OutputFormat::Extract
    );
    std::fs::write(root.join("junk"), b"hello").unwrap();
    let e = dump_format(&root.join("junk")).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::UnknownFormat), "{e}");
    std::fs::write(root.join("empty"), b"").unwrap();
    let e = dump_format(&root.join("empty")).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Empty), "{e}");
    let e = dump_format(&root.join("missing")).unwrap_err();
    assert!(matches!(&e.kind, ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::NotFound));
}

#[test]
fn errors_keep_their_facts() {
    use std::error::Error as _;
    // An I/O error keeps its kind and is the source.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.der");
    let e = open(&missing).next().unwrap().unwrap_err();
    let ErrorKind::Io(io) = &e.kind else {
        panic!("{e:?}")
    };
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    let source = e.source().unwrap();
    assert_eq!(
        source.downcast_ref::<std::io::Error>().unwrap().kind(),
        std::io::ErrorKind::NotFound
    );
    assert!(
        e.to_string().ends_with(&format!("cannot read: {source}")),
        "{e}"
    );
    // A DER error keeps the DER reader's error, its position in the file.
    let mut bytes = fake_der(1, 20);
    let at = bytes.len();
    bytes.extend_from_slice(&[0x30, 0x10, 0x00]);
    let recs = parse_buffer("t.der", &bytes);
    let e = recs[1].as_ref().unwrap_err();
    let ErrorKind::Der(der) = &e.kind else {
        panic!("{e:?}")
    };
    assert_eq!(der.position, at);
    assert!(matches!(der.kind, smki_der::ErrorKind::Truncated { .. }));
    assert_eq!(e.locator.offset, at);
    assert_eq!(
        e.to_string(),
        format!("t.der#1 (byte {at}): bad DER: {der}")
    );
    // Base64 in PEM and extract rows.
    let pem = "-----BEGIN CERTIFICATE-----\nM!!!\n-----END CERTIFICATE-----\n";
    let e = parse_buffer("p", pem.as_bytes()).remove(0).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Pem(PemError::Base64(_))), "{e}");
    assert!(e.source().is_some());
    let csv = format!("{EXTRACT_HEADER}\n01,,,I,,,Q,,,MAMCAQU=\n");
    let e = parse_buffer("c", csv.as_bytes()).remove(0).unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::Csv(CsvError::ManufacturingFlag("Q".into()))
    );
    assert_eq!(
        e.to_string(),
        format!(
            "c#0 (line 2, byte {}): bad extract row: manufacturing flag \"Q\" is not Y or N",
            EXTRACT_HEADER.len() + 1
        )
    );
}
