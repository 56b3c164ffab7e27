//! The 2018 incident reproduced on the real DCC test certificates, and its remediation.
//!
//! The 460 DCC test certificates (../shared/fixtures/dcc-test-certs relative to the
//! workspace root, GPL-3.0: read in place, never copied into this repository; the test is
//! skipped, saying so, when the folder is absent) are remediated with
//! `smki remediate --recover-issuer-keys` and audited with `smki audit` (exit 0). Then:
//! * exactly the certificates `smki scan --recover-issuer-keys` calls remediable were
//!   changed (sets of file names), every other file is byte-identical, and the changed ones
//!   scan as clean;
//! * Java (`X509Certificate.verify`) REJECTS the originals of the changed certificates (the
//!   2018 defect, "Invalid encoding: redundant leading 0s") and ACCEPTS the remediated ones.
//!
//! The issuing device CA of these certificates is not in the set: its public key is
//! recovered here from the original signature (`smki_verify::recover_keys`), pinned by the
//! certificate's authorityKeyIdentifier (read by hand), and handed to Java as a DER
//! SubjectPublicKeyInfo. So that the check is not circular, the recovered key must also make
//! Java accept other, untouched certificates of the set with the same authorityKeyIdentifier
//! (signatures the key was not recovered from).

mod support;

use serde_json::Value;
use sha2::Digest;
use smki_scan::manifest::Entry;
use smki_scan::{Prediction, Verdict};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;
use support::{jsonl, smki, typed, verdict};
use support::{IssuerKey, JavaVerifier};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/dcc-test-certs"
);

/// How many other certificates of the same issuer Java verifies under each recovered key.
const CROSS_CHECKS: usize = 25;

/// The `.der` files of a directory: file name -> bytes.
fn der_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "der"))
        .map(|p| {
            (
                p.file_name().unwrap().to_str().unwrap().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

/// File name of a finding's or manifest entry's locator.
fn locator_name(v: &Value) -> String {
    Path::new(v["locator"]["file"].as_str().expect("locator.file"))
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string()
}

/// `smki scan --recover-issuer-keys --findings` of `dir`: file name -> finding.
fn scan(dir: &Path, findings: &Path) -> BTreeMap<String, Value> {
    let o = smki(
        &[
            "scan",
            "--recover-issuer-keys",
            "--quiet",
            "--fail-on",
            "never",
        ],
        &[("", dir), ("--findings", findings)],
    );
    assert!(
        o.status.success(),
        "smki scan {}: {}",
        dir.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    jsonl(findings)
        .into_iter()
        .map(|f| (locator_name(&f), f))
        .collect()
}

/// (r, s) of a signatureValue BIT STRING element read leniently, by hand: BIT STRING
/// (definite length, 0 unused bits) { SEQUENCE { INTEGER r, INTEGER s } }, each INTEGER
/// positive with any number of redundant leading 0x00 octets, at most 32 significant
/// octets. Enough for the 2018 defect; None for anything else.
fn lenient_rs(sig_value: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    let (tag, hl, len) = support::try_header(sig_value)?;
    let content = &sig_value[hl..hl + len];
    if tag != 0x03 || content.first() != Some(&0) {
        return None;
    }
    let (tag, hl, len) = support::try_header(&content[1..])?;
    if tag != 0x30 || 1 + hl + len != content.len() {
        return None;
    }
    let ints = support::try_elements(&content[1 + hl..1 + hl + len])?;
    if ints.len() != 2 {
        return None;
    }
    let mut out = [[0u8; 32]; 2];
    for ((tag, v), slot) in ints.into_iter().zip(out.iter_mut()) {
        let skip = v.iter().take_while(|&&b| b == 0).count();
        let m = &v[skip..];
        if tag != 0x02 || m.len() > 32 || (skip == 0 && m.first().is_some_and(|b| b & 0x80 != 0)) {
            return None;
        }
        slot[32 - m.len()..].copy_from_slice(m);
    }
    Some((out[0], out[1]))
}

#[test]
fn dcc_remediation_audits_clean_and_java_accepts() {
    let t0 = Instant::now();
    let dir = PathBuf::from(DIR);
    if !dir.is_dir() {
        eprintln!("skipped: {DIR} not found (the DCC test certificates are not vendored)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let rem = t.join("rem");
    let manifest_path = t.join("m.jsonl");

    // Remediate, then audit.
    let o = smki(
        &["remediate", "--recover-issuer-keys", "--quiet"],
        &[("", &dir), ("--out", &rem), ("--manifest", &manifest_path)],
    );
    assert!(
        o.status.success(),
        "smki remediate: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let audit_json = t.join("a.json");
    let o = smki(
        &["audit", "--recover-issuer-keys", "--quiet"],
        &[
            ("--original", &dir),
            ("--remediated", &rem),
            ("--manifest", &manifest_path),
            ("--json", &audit_json),
        ],
    );
    let report: Value =
        serde_json::from_slice(&std::fs::read(&audit_json).expect("a.json")).expect("audit JSON");
    assert_eq!(
        o.status.code(),
        Some(0),
        "smki audit must pass: {}\n{report}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        report["failures"].as_array().is_some_and(|f| f.is_empty()),
        "audit failures: {}",
        report["failures"]
    );
    let t_smki = t0.elapsed();

    // Exactly the remediable certificates changed; every other file is byte-identical.
    let findings = scan(&dir, &t.join("findings.jsonl"));
    let originals = der_files(&dir);
    let remediated = der_files(&rem);
    assert_eq!(originals.len(), 460, "the 460 DCC test certificates");
    assert_eq!(
        originals.keys().collect::<Vec<_>>(),
        remediated.keys().collect::<Vec<_>>(),
        "the remediated tree has the same file names"
    );
    assert_eq!(
        findings.keys().collect::<Vec<_>>(),
        originals.keys().collect::<Vec<_>>(),
        "one finding per certificate"
    );
    let remediable: BTreeSet<&String> = findings
        .iter()
        .filter(|(_, f)| verdict(f) == Verdict::Remediable)
        .map(|(n, _)| n)
        .collect();
    let changed: BTreeSet<&String> = originals
        .iter()
        .filter(|(n, der)| remediated[*n] != **der)
        .map(|(n, _)| n)
        .collect();
    assert!(!remediable.is_empty(), "the set carries the 2018 defect");
    assert_eq!(
        changed, remediable,
        "changed files = what the scan calls remediable"
    );
    let manifest = jsonl(&manifest_path);
    let entries: BTreeMap<String, &Value> = manifest
        .iter()
        .filter(|e| matches!(typed(e), Entry::Changed { .. }))
        .map(|e| (locator_name(e), e))
        .collect();
    assert_eq!(
        entries.keys().collect::<BTreeSet<_>>(),
        changed,
        "the manifest's changed entries"
    );

    // The remediated tree scans clean where it changed, and the same elsewhere.
    let rescan = scan(&rem, &t.join("findings-rem.jsonl"));
    for (name, f) in &findings {
        let g = &rescan[name];
        if changed.contains(name) {
            assert_eq!(verdict(g), Verdict::Clean, "{name} after remediation: {g}");
            assert_eq!(
                typed::<Prediction>(&g["predictions"]["java"]),
                Prediction::Accept,
                "{name}"
            );
        } else {
            assert_eq!(
                g["verdict"], f["verdict"],
                "{name}: untouched, same verdict"
            );
        }
    }

    // Recover each changed certificate's issuer key, pinned by its AKI, as an SPKI file.
    let java = JavaVerifier::compile(t);
    let keys_dir = t.join("keys");
    std::fs::create_dir_all(&keys_dir).unwrap();
    let mut key_files: BTreeMap<Vec<u8>, PathBuf> = BTreeMap::new();
    let mut pairs: Vec<(IssuerKey, PathBuf)> = Vec::new();
    let mut rows: Vec<(String, String, String)> = Vec::new();
    for name in &changed {
        let der = &originals[*name];
        let aki = support::authority_key_id(der).expect("a device certificate has an AKI");
        let (tbs, _, sig_value) = support::split_certificate(der);
        let (r, s) = lenient_rs(&sig_value).expect("(r, s) read leniently");
        let entry = entries[*name];
        assert_eq!(hex::encode(r), entry["r"].as_str().unwrap(), "{name}: r");
        assert_eq!(hex::encode(s), entry["s"].as_str().unwrap(), "{name}: s");
        assert_eq!(
            hex::encode(&aki),
            entry["issuer_key_id"].as_str().unwrap(),
            "{name}: issuer key id"
        );
        let digest: [u8; 32] = sha2::Sha256::digest(&tbs).into();
        let candidates = smki_verify::recover_keys(&digest, &r, &s);
        let pinned: Vec<_> = candidates
            .iter()
            .filter(|k| k.key_id()[..] == aki[..])
            .collect();
        assert_eq!(
            pinned.len(),
            1,
            "{name}: exactly one of {} recovered keys matches the AKI {}",
            candidates.len(),
            hex::encode(&aki)
        );
        let spki = support::p256_spki_der(pinned[0].as_bytes());
        let key_file = key_files
            .entry(aki.clone())
            .or_insert_with(|| {
                let p = keys_dir.join(format!("{}.spki.der", hex::encode(&aki)));
                std::fs::write(&p, &spki).unwrap();
                p
            })
            .clone();
        assert_eq!(
            std::fs::read(&key_file).unwrap(),
            spki,
            "{name}: the same key as recovered from the other certificates of {}",
            hex::encode(&aki)
        );
        pairs.push((IssuerKey::Spki(key_file.clone()), dir.join(name.as_str())));
        pairs.push((IssuerKey::Spki(key_file), rem.join(name.as_str())));
        rows.push((
            name.to_string(),
            hex::encode(&aki),
            findings[*name]["defects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["detail"].as_str().unwrap_or_default().to_string())
                .collect::<Vec<_>>()
                .join("; "),
        ));
    }
    // Cross-checks: untouched certificates of the same issuers, clean per smki.
    let mut cross = 0;
    for (aki, key_file) in &key_files {
        let others: Vec<&String> = originals
            .iter()
            .filter(|(n, der)| {
                !changed.contains(n)
                    && verdict(&findings[*n]) == Verdict::Clean
                    && support::authority_key_id(der).as_ref() == Some(aki)
            })
            .map(|(n, _)| n)
            .take(CROSS_CHECKS)
            .collect();
        assert!(
            !others.is_empty(),
            "no other certificate of {} to cross-check the recovered key on",
            hex::encode(aki)
        );
        for n in others {
            pairs.push((IssuerKey::Spki(key_file.clone()), dir.join(n.as_str())));
            cross += 1;
        }
    }
    let answers = java.verify_pairs(t, &pairs);

    eprintln!(
        "\n{:<22} {:<18} {:<10} {:<10} defect",
        "certificate", "issuer (AKI)", "original", "remediated"
    );
    let mut failures = Vec::new();
    for (i, (name, aki, defect)) in rows.iter().enumerate() {
        let (orig, fixed) = (&answers[2 * i], &answers[2 * i + 1]);
        eprintln!(
            "{:<22} {:<18} {:<10} {:<10} {defect}",
            name,
            aki,
            if orig.accept { "ACCEPT" } else { "REJECT" },
            if fixed.accept { "ACCEPT" } else { "REJECT" },
        );
        if !orig.accept {
            eprintln!("{:>24}java on the original: {}", "", orig.detail);
        }
        if orig.accept {
            failures.push(format!(
                "{name}: Java accepts the original (the 2018 defect must be rejected)"
            ));
        } else if !orig.detail.contains("redundant leading 0s") {
            // Java's ECUtil.decodeSignature says "Invalid encoding: redundant leading 0s".
            failures.push(format!(
                "{name}: Java rejects the original for another reason: {}",
                orig.detail
            ));
        }
        if !fixed.accept {
            failures.push(format!(
                "{name}: Java rejects the remediated certificate: {}",
                fixed.detail
            ));
        }
    }
    for ((_, path), a) in pairs.iter().zip(&answers).skip(2 * rows.len()) {
        if !a.accept {
            failures.push(format!(
                "cross-check: Java rejects the untouched {} under the recovered key: {}",
                path.display(),
                a.detail
            ));
        }
    }
    eprintln!(
        "{} of 460 changed; audit passed; {} recovered issuer key(s) also verified {} untouched \
         certificates in Java; time: smki {:.1} s, total {:.1} s",
        changed.len(),
        key_files.len(),
        cross,
        t_smki.as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
