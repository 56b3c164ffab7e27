//! Issue #15, "Safe output for people and spreadsheets": hostile file names through the real
//! binary. A name with terminal escape sequences must reach a terminal as visible text (a
//! failed audit must not be able to make itself look passed), and a name a spreadsheet would
//! run as a formula must reach a CSV as text.

mod support;

use std::path::Path;
use std::process::Command;

/// The name of the issue: it would move the cursor up, clear the screen below and print a
/// passing verdict, then hide what follows.
const HOSTILE: &str = "zz\u{1b}[3A\u{1b}[JAUDIT PASSED: every check holds\u{1b}[8m.pem";
const FORMULA: &str = "=HYPERLINK(\"evil\",\"x\").pem";

fn smki_in(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_smki"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run smki")
}

fn no_escape(what: &str, bytes: &[u8]) {
    assert!(
        !bytes.contains(&0x1b),
        "{what} holds a raw ESC byte:\n{}",
        String::from_utf8_lossy(bytes)
    );
}

#[test]
fn escapes_never_reach_the_terminal_and_formulas_never_reach_a_spreadsheet() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let sample = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample/certificates.pem"),
    )
    .expect("the sample corpus");
    std::fs::write(d.join(HOSTILE), &sample).expect("write hostile name");
    std::fs::write(d.join(FORMULA), &sample).expect("write formula name");
    // An unreadable record under the hostile name too (its error names the file).
    std::fs::write(d.join(format!("{HOSTILE}.broken.der")), [0x30, 0x82, 0x01]).expect("write");

    // inspect (text), scan (summary and notes), and an error naming a missing file.
    // (arguments, whether the output names the file)
    let missing = format!("missing-{HOSTILE}");
    let runs: [(Vec<&str>, bool); 3] = [
        (vec!["inspect", HOSTILE], true),
        (vec!["scan", "--fail-on", "never", "."], false),
        (vec!["scan", &missing], true),
    ];
    for (args, names_it) in runs {
        let out = smki_in(d, &args);
        no_escape(&format!("stdout of smki {args:?}"), &out.stdout);
        no_escape(&format!("stderr of smki {args:?}"), &out.stderr);
        let all = String::from_utf8_lossy(&[out.stdout, out.stderr].concat()).into_owned();
        if names_it {
            assert!(
                all.contains("zz\\e[3A\\e[JAUDIT PASSED"),
                "the name is shown, escaped, by smki {args:?}:\n{all}"
            );
        }
    }

    // CSV: the formula file name is a text cell.
    let out = smki_in(
        d,
        &[
            "scan",
            "--quiet",
            "--fail-on",
            "never",
            "--csv",
            "out.csv",
            FORMULA,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(d.join("out.csv")).expect("the CSV");
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert!(!rows.is_empty());
    for row in rows {
        assert!(
            row.starts_with("\"'=HYPERLINK("),
            "a neutralised, quoted cell: {row}"
        );
    }
    // Python's csv module (an independent reader) sees a cell starting with ', not =.
    let check = Command::new("python3")
        .arg("-c")
        .arg("import csv,sys; rows=list(csv.reader(open(sys.argv[1])))[1:]; assert rows and all(r[0].startswith(\"'=\") for r in rows), rows[:1]")
        .arg(d.join("out.csv"))
        .output();
    if let Ok(o) = check {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

#[test]
fn threads_are_capped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample/certificates.pem");
    // Uncapped, this never ended (each thread costs about 7 MB); capped, it scans.
    let out = smki_in(
        dir.path(),
        &[
            "scan",
            "--threads",
            "99999999999",
            "--fail-on",
            "never",
            "--quiet",
            sample.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let note = String::from_utf8_lossy(&out.stderr);
    assert!(note.contains("--threads 99999999999: using"), "{note}");
}
