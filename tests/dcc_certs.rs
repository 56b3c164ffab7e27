//! The 460 real DCC test certificates (../shared/fixtures/dcc-test-certs, GPL-3.0: read in
//! place, never copied into this repository; skipped, saying so, when the folder is absent).
//!
//! With issuer-key recovery on and every CA certificate of the set registered first (the
//! way `smki inspect` does it), every certificate must be split and classified, every one
//! whose authorityKeyIdentifier pins its issuer must get a definite verdict, and the verdicts
//! must be the ones observed and explained in the set's README:
//! * 2 remediable: SIG_INT_LEADING_ZERO, the real 2018 defect; re-encoded, they are clean;
//! * 2 needs reissue: certificates from RTDS *error* test messages (signatures that do not
//!   verify);
//! * 7 unverifiable: DCC Boxed organisation certificates with no AKI whose issuer
//!   "OU=07, CN=Z1" is another CA than the Z1 in the set;
//! * the other 449 clean.
//!
//! The `smki` binary must agree with the library, and its run time is printed.

use smki_der::DefectCode;
use smki_repo::Locator;
use smki_scan::{Examiner, Finding, Input, Prediction, SignatureCheck, Verdict};
use smki_verify::KeySource;
use smki_x509::{CertView, Fields};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/dcc-test-certs"
);

const TOTAL: usize = 460;
const REMEDIABLE: &[&str] = &["65b551b0f45f75bf", "7a8799dadf29ab1b"];
const NEEDS_REISSUE: &[&str] = &["73fc57695f8db7d9", "db20cea1fd378195"];
const UNVERIFIABLE: &[&str] = &[
    "0ff78f27cae3ca27",
    "55a283c04aa0399a",
    "6484080e96ac3d51",
    "9975e934fe04de2e",
    "9b2c31e0b9cd42d5",
    "bb937db0bd69d141",
    "ea21155e6f0021ee",
];

struct Cert {
    /// File name, e.g. `65b551b0f45f75bf.der`.
    name: String,
    der: Vec<u8>,
}

impl Cert {
    fn prefix(&self) -> &str {
        self.name.strip_suffix(".der").unwrap_or(&self.name)
    }
}

/// The certificates, in byte order of their file names (the order `smki inspect` reads a
/// directory in), or None (with a message) when the folder is absent.
fn load() -> Option<Vec<Cert>> {
    let dir = Path::new(DIR);
    if !dir.is_dir() {
        eprintln!("skipped: {DIR} not found (the DCC test certificates are not vendored)");
        return None;
    }
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read the fixture folder")
        .map(|e| {
            e.expect("directory entry")
                .file_name()
                .into_string()
                .expect("UTF-8 name")
        })
        .filter(|n| n.ends_with(".der"))
        .collect();
    names.sort();
    Some(
        names
            .into_iter()
            .map(|name| Cert {
                der: std::fs::read(dir.join(&name)).expect("read certificate"),
                name,
            })
            .collect(),
    )
}

fn locator(name: &str) -> Locator {
    Locator {
        file: name.into(),
        record: 0,
        line: None,
        offset: 0,
    }
}

/// An examiner with issuer-key recovery and every CA certificate of `certs` registered.
/// An examiner prepared the way `smki inspect` and `smki scan` prepare theirs: a first pass
/// over the records (in the order given) registers the CA certificates and recovers the key
/// of every authorityKeyIdentifier.
fn examiner_in_order<'a>(certs: impl Iterator<Item = &'a Cert>) -> (Examiner, usize) {
    let records = certs.map(|c| {
        Ok(smki_repo::Record {
            locator: locator(&c.name),
            der: c.der.clone(),
            meta: None,
        })
    });
    let prepared = Examiner::builder(smki_verify::PlainBackend)
        .recover(true)
        .dump(records)
        .build(2)
        .unwrap();
    (prepared.examiner, prepared.found.anchors)
}

fn examiner(certs: &[Cert]) -> (Examiner, usize) {
    examiner_in_order(certs.iter())
}

/// Every certificate examined, in the order given.
fn examine_in_order<'a>(ex: &Examiner, certs: impl Iterator<Item = &'a Cert>) -> Vec<Finding> {
    certs
        .map(|c| ex.examine(Input::der(&c.der, &locator(&c.name))))
        .collect()
}

fn verdict_counts(findings: &[Finding]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for f in findings {
        *m.entry(f.verdict.as_str()).or_default() += 1;
    }
    m
}

fn prefixes_with(certs: &[Cert], findings: &[Finding], v: Verdict) -> BTreeSet<String> {
    certs
        .iter()
        .zip(findings)
        .filter(|(_, f)| f.verdict == v)
        .map(|(c, _)| c.prefix().to_string())
        .collect()
}

fn set(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn library_verdicts_on_the_dcc_test_certificates() {
    let Some(certs) = load() else { return };
    assert_eq!(
        certs.len(),
        TOTAL,
        "the fixture set holds {TOTAL} certificates"
    );
    let (ex, cas) = examiner(&certs);
    assert!(cas >= 1, "the set holds CA certificates (Z1 at least)");
    // The subject key identifiers the CA certificates of the set declare.
    let anchor_skis: BTreeSet<Vec<u8>> = certs
        .iter()
        .filter_map(|c| {
            let view = CertView::split(&c.der).ok()?;
            let f = Fields::parse(&view).ok()?;
            let ca = f.basic_constraints.is_some_and(|bc| bc.ca);
            f.subject_key_id.filter(|_| ca)
        })
        .collect();
    let findings = examine_in_order(&ex, certs.iter());

    let mut failures = Vec::new();
    for (c, f) in certs.iter().zip(&findings) {
        if CertView::split(&c.der).is_err() || f.verdict == Verdict::Unreadable {
            failures.push(format!("{}: not split: {}", c.name, f.reason));
        }
        if f.profile.is_none() {
            failures.push(format!("{}: not classified (no profile)", c.name));
        }
        let definite = matches!(
            f.verdict,
            Verdict::Clean | Verdict::Remediable | Verdict::NeedsReissue
        );
        // An authorityKeyIdentifier pins the issuer key (anchor or recovered): definite.
        if f.issuer_key_id.is_some() && !definite {
            failures.push(format!(
                "{}: AKI {} but verdict {} ({})",
                c.name,
                f.issuer_key_id
                    .as_deref()
                    .map(hex::encode)
                    .unwrap_or_default(),
                f.verdict,
                f.reason
            ));
        }
        match &f.signature {
            SignatureCheck::Valid {
                issuer_key_id,
                key_source,
            }
            | SignatureCheck::Invalid {
                issuer_key_id,
                key_source,
            } => {
                // Recovered keys are reported as recovered; anchors are the set's CAs (or
                // the certificate itself when self-signed).
                let anchor = anchor_skis.contains(issuer_key_id);
                let ok = match key_source {
                    KeySource::Anchor { from } => anchor || from == "self-signed",
                    KeySource::Recovered { .. } => !anchor,
                };
                if !ok {
                    failures.push(format!(
                        "{}: issuer key {} reported as {key_source:?}",
                        c.name,
                        hex::encode(issuer_key_id)
                    ));
                }
            }
            _ => {}
        }
        // Every party accepts a clean certificate, but for the refusals of the whole
        // certificate that its fields make (Go: an x500UniqueIdentifier BIT STRING in a
        // name; webpki: the critical certificatePolicies), measured in
        // tests/relying_party_matrix.rs.
        let refusals: Vec<_> = CertView::split(&c.der)
            .ok()
            .and_then(|v| Fields::parse(&v).ok())
            .map(|fields| smki_scan::certificate_refusals(&fields))
            .unwrap_or_default();
        let all_accept = smki_scan::RelyingParty::ALL.iter().all(|&rp| {
            f.predictions.get(rp) == Prediction::Accept || refusals.iter().any(|(r, _)| *r == rp)
        });
        if f.verdict == Verdict::Clean && (!f.defects.is_empty() || !all_accept) {
            failures.push(format!(
                "{}: clean, yet defects {:?} / predictions {:?}",
                c.name,
                f.codes().collect::<Vec<_>>(),
                f.predictions
            ));
        }
    }

    let counts = verdict_counts(&findings);
    eprintln!(
        "library verdicts on the {} DCC test certificates: {counts:?}",
        certs.len()
    );
    let want = BTreeMap::from([
        (
            Verdict::Clean.as_str(),
            TOTAL - REMEDIABLE.len() - NEEDS_REISSUE.len() - UNVERIFIABLE.len(),
        ),
        (Verdict::Remediable.as_str(), REMEDIABLE.len()),
        (Verdict::NeedsReissue.as_str(), NEEDS_REISSUE.len()),
        (Verdict::Unverifiable.as_str(), UNVERIFIABLE.len()),
    ]);
    if counts != want {
        failures.push(format!("verdict counts {counts:?}, expected {want:?}"));
    }
    for (v, list) in [
        (Verdict::Remediable, REMEDIABLE),
        (Verdict::NeedsReissue, NEEDS_REISSUE),
        (Verdict::Unverifiable, UNVERIFIABLE),
    ] {
        let got = prefixes_with(&certs, &findings, v);
        if got != set(list) {
            failures.push(format!("{v}: {got:?}, expected {list:?}"));
        }
    }

    // Needs reissue: a readable, canonical signature that does not verify under a pinned key.
    for (c, f) in certs.iter().zip(&findings) {
        if f.verdict == Verdict::NeedsReissue
            && !matches!(f.signature, SignatureCheck::Invalid { .. })
        {
            failures.push(format!("{}: needs reissue but {:?}", c.name, f.signature));
        }
        // Unverifiable: no AKI, the issuer is looked up by name and the Z1 known here did
        // not sign it.
        if f.verdict == Verdict::Unverifiable
            && (f.issuer_key_id.is_some()
                || !f.issuer.as_deref().unwrap_or("").contains("Z1")
                || !f.reason.contains("no authorityKeyIdentifier"))
        {
            failures.push(format!(
                "{}: unverifiable, issuer {:?}, AKI {:?}: {}",
                c.name, f.issuer, f.issuer_key_id, f.reason
            ));
        }
    }

    // The remediable ones: exactly the 2018 defect; re-encoded, clean; nothing else changed.
    for (c, f) in certs.iter().zip(&findings) {
        if f.verdict != Verdict::Remediable {
            continue;
        }
        if !f.codes().eq([DefectCode::SigIntLeadingZero]) {
            failures.push(format!(
                "{}: remediable with {:?}",
                c.name,
                f.codes().collect::<Vec<_>>()
            ));
        }
        if f.predictions.java != Prediction::Reject {
            failures.push(format!(
                "{}: Java (8u121+) must be predicted to reject",
                c.name
            ));
        }
        let view = CertView::split(&c.der).expect("splits");
        let sig = view.analyse_signature();
        let (r, s) = sig.rs().expect("(r, s) read leniently");
        let redundant: u32 = sig.defects.iter().map(|d| d.count).sum();
        let fixed = view.reencoded(&r, &s);
        let fixed_view = CertView::split(&fixed).expect("re-encoded splits");
        assert_eq!(
            fixed_view.tbs_bytes(),
            view.tbs_bytes(),
            "{}: tbs kept",
            c.name
        );
        assert_eq!(
            fixed_view.signature_algorithm_bytes(),
            view.signature_algorithm_bytes()
        );
        assert_eq!(
            fixed.len() + redundant as usize,
            c.der.len(),
            "{}: re-encoding removes exactly the {redundant} redundant octet(s)",
            c.name
        );
        let again = ex.examine(Input::der(
            &fixed,
            &locator(&format!("{}#reencoded", c.name)),
        ));
        if again.verdict != Verdict::Clean {
            failures.push(format!(
                "{}: re-encoded, verdict {} ({})",
                c.name, again.verdict, again.reason
            ));
        }
        if again.r != f.r || again.s != f.s {
            failures.push(format!("{}: re-encoding changed (r, s)", c.name));
        }
        eprintln!(
            "  {} remediable ({} redundant octet(s)); re-encoded: {}",
            c.name, redundant, again.verdict
        );
    }
    if !failures.is_empty() {
        panic!("{} failure(s):\n{}", failures.len(), failures.join("\n"));
    }
}

fn smki_inspect(dir: &Path) -> (Vec<serde_json::Value>, std::time::Duration) {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_smki"));
    let started = std::time::Instant::now();
    let out = std::process::Command::new(&bin)
        .args(["inspect", "--recover-issuer-keys", "--format", "json"])
        .arg(dir)
        .output()
        .expect("run smki");
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "smki inspect failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("smki inspect --format json prints JSON");
    (
        v.as_array().expect("a JSON array of findings").clone(),
        took,
    )
}

#[test]
fn smki_inspect_binary_agrees_with_the_library() {
    let Some(certs) = load() else { return };
    let (ex, _) = examiner(&certs);
    let findings = examine_in_order(&ex, certs.iter());
    let library: BTreeMap<&str, Verdict> = certs
        .iter()
        .zip(&findings)
        .map(|(c, f)| (c.name.as_str(), f.verdict))
        .collect();

    let (report, took) = smki_inspect(Path::new(DIR));
    eprintln!(
        "smki inspect --recover-issuer-keys --format json on {} certificates: {:.3} s ({:.0} certificates/s; {} build)",
        report.len(),
        took.as_secs_f64(),
        report.len() as f64 / took.as_secs_f64(),
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
    assert_eq!(report.len(), certs.len(), "one finding per certificate");
    let mut binary: BTreeMap<String, Verdict> = BTreeMap::new();
    for f in &report {
        let file = f["locator"]["file"].as_str().expect("locator.file");
        let name = Path::new(file)
            .file_name()
            .and_then(|n| n.to_str())
            .expect("file name")
            .to_string();
        let verdict: Verdict = serde_json::from_value(f["verdict"].clone()).expect("verdict");
        assert!(
            binary.insert(name.clone(), verdict).is_none(),
            "{name} reported twice"
        );
        // The JSON carries what an operator needs for each certificate.
        for key in [
            "sha256",
            "profile",
            "reason",
            "defects",
            "signature",
            "predictions",
        ] {
            assert!(!f[key].is_null(), "{name}: no {key} in the JSON finding");
        }
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for v in binary.values() {
        *counts.entry(v.as_str()).or_default() += 1;
    }
    eprintln!("binary verdicts: {counts:?}");
    assert_eq!(
        counts,
        verdict_counts(&findings),
        "binary and library counts"
    );
    let disagreements: Vec<String> = library
        .iter()
        .filter(|(name, v)| binary.get(**name) != Some(*v))
        .map(|(name, v)| format!("{name}: library {v}, binary {:?}", binary.get(*name)))
        .collect();
    assert!(
        disagreements.is_empty(),
        "binary and library disagree:\n{}",
        disagreements.join("\n")
    );
}

/// A verdict is a property of the certificate and the set of issuer keys, not of where the
/// certificate sits in the dump: examining the same set in reverse order must give every
/// certificate the same verdict. (With recovery, an issuer key is learnt from the first
/// certificate of that issuer whose signature is good; a bad signature examined before it
/// cannot pin the key.)
#[test]
fn verdicts_do_not_depend_on_record_order() {
    let Some(certs) = load() else { return };
    let (ex, _) = examiner(&certs);
    let forward = examine_in_order(&ex, certs.iter());
    let (ex_rev, _) = examiner_in_order(certs.iter().rev());
    let mut reverse = examine_in_order(&ex_rev, certs.iter().rev());
    reverse.reverse();
    let differ: Vec<String> = certs
        .iter()
        .zip(forward.iter().zip(&reverse))
        .filter(|(_, (a, b))| a.verdict != b.verdict)
        .map(|(c, (a, b))| {
            format!(
                "{}: in name order {} ({}); in reverse order {} ({})",
                c.name, a.verdict, a.reason, b.verdict, b.reason
            )
        })
        .collect();
    assert!(
        differ.is_empty(),
        "{} verdict(s) depend on the order of the records:\n{}",
        differ.len(),
        differ.join("\n")
    );
}

/// `smki scan --recover-issuer-keys` says of every certificate what `smki inspect` says of
/// it one by one (verdict, defect codes, signature status), and its summary counts agree.
#[test]
fn scan_summary_matches_inspect_one_by_one() {
    let Some(certs) = load() else { return };
    let dir = tempfile::tempdir().unwrap();
    let findings = dir.path().join("f.jsonl");
    let summary = dir.path().join("s.json");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_smki"))
        .args([
            "scan",
            "--recover-issuer-keys",
            "--quiet",
            "--fail-on",
            "never",
        ])
        .arg(DIR)
        .arg("--findings")
        .arg(&findings)
        .arg("--json")
        .arg(&summary)
        .output()
        .expect("run smki scan");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let scanned: Vec<serde_json::Value> = std::fs::read_to_string(&findings)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (inspected, _) = smki_inspect(Path::new(DIR));
    assert_eq!(scanned.len(), certs.len());
    assert_eq!(inspected.len(), certs.len());
    let key = |f: &serde_json::Value| {
        (
            f["locator"]["file"].as_str().unwrap().to_string(),
            f["verdict"].clone(),
            f["defects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["code"].clone())
                .collect::<Vec<_>>(),
            f["signature"]["status"].clone(),
            {
                // inspect names the versions in each finding, scan once in its summary.
                let mut p = f["predictions"].clone();
                p.as_object_mut().unwrap().remove("tested_with");
                p
            },
        )
    };
    for (s, i) in scanned.iter().zip(&inspected) {
        assert_eq!(key(s), key(i), "scan and inspect disagree");
        assert!(s["predictions"].get("tested_with").is_none());
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    for i in &inspected {
        assert_eq!(
            i["predictions"]["tested_with"], summary["relying_parties"],
            "inspect's tested_with is the scan summary's relying_parties"
        );
    }
    for v in Verdict::ALL.iter().map(|v| v.as_str()) {
        let n = inspected.iter().filter(|f| f["verdict"] == v).count() as u64;
        assert_eq!(summary["verdicts"][v], n, "summary count of {v}");
    }
    assert_eq!(
        summary["defects"][DefectCode::SigIntLeadingZero.as_str()],
        2
    );
}
