//! Simulated SMKI repositories against the real relying parties.
//!
//! * `clean_simulated_certificates_are_accepted_by_java_and_openssl`: every certificate of a
//!   simulated repository without defects (root, issuing CA, device CAs, organisations,
//!   devices) is accepted by Java (`X509Certificate.verify` under the key of the CA whose
//!   subjectKeyIdentifier is the certificate's authorityKeyIdentifier, found by hand in
//!   the simulator's `cas/`) and by `openssl verify` with the chain (`-CAfile` the root,
//!   `-untrusted` the issuing and device CAs).
//! * `remediated_defects_are_accepted_and_predictions_hold`: a simulated repository carrying
//!   every remediable defect code is remediated with `smki remediate`; every changed
//!   certificate is accepted by Java and OpenSSL after remediation, and for every original
//!   that is not clean, what Java and OpenSSL did is what `smki scan` predicted.
//!
//! About `openssl verify` and the SMKI profiles (OpenSSL 3.0): the critical
//! certificatePolicies and the critical subjectAltName with an otherName
//! (hardwareModuleName) are handled, the chain builds from the authorityKeyIdentifier, and
//! no purpose is checked by default: no `-ignore_critical`, `-purpose` or `-partial_chain`
//! is needed. The one refusal not about the signature is time: organisation certificates
//! are valid for 10 years and the simulator issues them from 2016, so the early ones have
//! expired ("error 10 ... certificate has expired"). The first test checks that expiry is
//! the only reason openssl gives without flags, then both tests verify with
//! `-no_check_time` (Java's `X509Certificate.verify` checks no dates either). The clean
//! certificates also pass `-x509_strict -policy_check`. (`-partial_chain -CAfile
//! ISSUING_CA` works as well; the tests use the whole chain.)

mod support;

use serde_json::Value;
use sha2::Digest;
use smki_der::DefectCode::{self, *};
use smki_scan::manifest::Entry;
use smki_scan::{Prediction, RelyingParty, Verdict};
use smki_x509::Profile;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use support::{jsonl, smki, typed, verdict};
use support::{Answer, IssuerKey, JavaVerifier};

/// Every signature-encoding defect `smki remediate` can fix, as injected by the simulator
/// (CERT_BER: the half of the injections on the signatureValue BIT STRING's own length;
/// the other half is inside the tbsCertificate and needs reissue). SIG_INT_LEADING_ZERO
/// also comes from the default 2018 faulty signer.
const REMEDIABLE_CODES: &[DefectCode] = &[
    SigIntLeadingZero,
    SigIntNegative,
    SigIntLeadingFf,
    SigLenLongForm,
    SigLenIndefinite,
    SigLenLeadingZero,
    SigTrailingData,
    SigExtraElement,
    SigBitstringUnusedBits,
    CertBer,
];

const PROFILES: &[Profile] = &[
    Profile::Root,
    Profile::IssuingCa,
    Profile::DeviceCa,
    Profile::Organisation,
    Profile::Device,
];

/// See the module documentation: organisation certificates from 2016 have expired.
const OPENSSL_FLAGS: &[&str] = &["-no_check_time"];

fn simulate(out: &Path, format: &str, count: u32, seed: u32, extra: &[String]) {
    let count = count.to_string();
    let seed = seed.to_string();
    let mut args = vec![
        "simulate", "--quiet", "--count", &count, "--seed", &seed, "--format", format,
    ];
    args.extend(extra.iter().map(String::as_str));
    let o = smki(&args, &[("--out", out)]);
    assert!(
        o.status.success(),
        "smki simulate failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The DER of a certificate file (PEM or DER).
fn read_der(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    if bytes.starts_with(b"-----BEGIN") {
        support::pem_to_der(std::str::from_utf8(&bytes).expect("PEM is text"))
    } else {
        bytes
    }
}

fn sha256_hex(der: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(der))
}

/// The simulator's CA certificates, keyed by subjectKeyIdentifier (read by hand), and the
/// PEM files `openssl verify` needs: the root alone (trust anchor) and the others
/// (untrusted intermediates).
struct Cas {
    by_ski: HashMap<Vec<u8>, PathBuf>,
    root_pem: PathBuf,
    untrusted_pem: PathBuf,
}

impl Cas {
    fn load(sim: &Path, work: &Path) -> Cas {
        let mut by_ski = HashMap::new();
        let mut root = None;
        let mut untrusted = String::new();
        let mut names: Vec<PathBuf> = std::fs::read_dir(sim.join("cas"))
            .expect("cas/")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "der"))
            .collect();
        names.sort();
        for path in names {
            let der = std::fs::read(&path).expect("CA certificate");
            let ski = support::subject_key_id(&der)
                .unwrap_or_else(|| panic!("{}: no subjectKeyIdentifier", path.display()));
            let aki = support::authority_key_id(&der);
            if aki.is_none() || aki.as_ref() == Some(&ski) {
                assert!(root.is_none(), "one self-signed root in cas/");
                root = Some(support::pem_certificate(&der));
            } else {
                untrusted.push_str(&support::pem_certificate(&der));
            }
            assert!(
                by_ski.insert(ski, path.clone()).is_none(),
                "{}: duplicate SKI",
                path.display()
            );
        }
        let root_pem = work.join("root.pem");
        let untrusted_pem = work.join("untrusted.pem");
        std::fs::write(&root_pem, root.expect("a self-signed root in cas/")).unwrap();
        std::fs::write(&untrusted_pem, untrusted).unwrap();
        Cas {
            by_ski,
            root_pem,
            untrusted_pem,
        }
    }

    /// The CA certificate whose SKI is the certificate's AKI (a root without AKI: itself).
    fn issuer_of(&self, der: &[u8], path: &Path) -> PathBuf {
        let id = support::authority_key_id(der)
            .or_else(|| support::subject_key_id(der))
            .unwrap_or_else(|| panic!("{}: neither AKI nor SKI", path.display()));
        self.by_ski
            .get(&id)
            .unwrap_or_else(|| {
                panic!(
                    "{}: no CA in cas/ with SKI {}",
                    path.display(),
                    hex::encode(&id)
                )
            })
            .clone()
    }

    fn openssl(&self, openssl: &Path, flags: &[&str], leaves: &[PathBuf]) -> Vec<Answer> {
        support::openssl_verify_many(
            openssl,
            flags,
            &self.root_pem,
            Some(&self.untrusted_pem),
            leaves,
        )
    }
}

fn ar(accept: bool) -> &'static str {
    if accept {
        "A"
    } else {
        "R"
    }
}

#[test]
fn clean_simulated_certificates_are_accepted_by_java_and_openssl() {
    let t0 = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let sim = tmp.path().join("sim");
    simulate(
        &sim,
        "der-tree",
        400,
        // Seed 11: 14 organisation certificates, two of them issued in 2016 (expired).
        11,
        &["--defect-rate".into(), "0".into()],
    );
    let openssl = support::require_tool("openssl");
    let java = JavaVerifier::compile(tmp.path());
    eprintln!(
        "java: {}; openssl: {}",
        java.version(),
        support::one_line(&support::run_ok(Command::new(&openssl).arg("version")))
    );
    let cas = Cas::load(&sim, tmp.path());

    // Every certificate, CA certificates included, with its profile from the ground truth.
    let truth = jsonl(&sim.join("ground-truth.jsonl"));
    let mut certs: Vec<(Profile, PathBuf)> = Vec::new();
    let mut seen = BTreeSet::new();
    for t in &truth {
        let file = t["file"].as_str().unwrap();
        if !seen.insert(file.to_string()) {
            continue;
        }
        assert_eq!(
            typed::<Verdict>(&t["expected_verdict"]),
            Verdict::Clean,
            "defect rate 0: {t}"
        );
        certs.push((typed(&t["profile"]), sim.join(file)));
    }
    let mut per_profile: BTreeMap<Profile, usize> = BTreeMap::new();
    for (p, _) in &certs {
        *per_profile.entry(*p).or_default() += 1;
    }
    for p in PROFILES {
        assert!(per_profile.contains_key(p), "no {p} certificate simulated");
    }

    let pairs: Vec<(IssuerKey, PathBuf)> = certs
        .iter()
        .map(|(_, path)| {
            let der = std::fs::read(path).unwrap();
            (IssuerKey::Cert(cas.issuer_of(&der, path)), path.clone())
        })
        .collect();
    let paths: Vec<PathBuf> = certs.iter().map(|(_, p)| p.clone()).collect();
    let java_answers = java.verify_pairs(tmp.path(), &pairs);
    let no_flags = cas.openssl(&openssl, &[], &paths);
    let openssl_answers = cas.openssl(&openssl, OPENSSL_FLAGS, &paths);
    // OpenSSL's strict mode (RFC 5280 checks on the chain: AKI/SKI presence, CA flags, ...)
    // with policy processing: the SMKI profiles pass it too.
    let strict_flags = ["-no_check_time", "-x509_strict", "-policy_check"];
    let strict_answers = cas.openssl(&openssl, &strict_flags, &paths);

    let mut failures = Vec::new();
    let mut expired: BTreeMap<&str, usize> = BTreeMap::new();
    let mut table: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
    for ((((profile, path), ja), (sa, oa)), xa) in certs
        .iter()
        .zip(&java_answers)
        .zip(no_flags.iter().zip(&openssl_answers))
        .zip(&strict_answers)
    {
        let row = table.entry(profile.as_str()).or_default();
        row[0] += 1;
        row[1] += ja.accept as usize;
        row[2] += oa.accept as usize;
        row[3] += xa.accept as usize;
        if !ja.accept {
            failures.push(format!(
                "Java rejects {profile} {}: {}",
                path.display(),
                ja.detail
            ));
        }
        if !oa.accept {
            failures.push(format!(
                "openssl (-no_check_time) rejects {profile} {}: {}",
                path.display(),
                oa.detail
            ));
        }
        if !xa.accept {
            failures.push(format!(
                "openssl ({}) rejects {profile} {}: {}",
                strict_flags.join(" "),
                path.display(),
                xa.detail
            ));
        }
        // Without flags, expiry is the only acceptable refusal.
        if !sa.accept {
            if sa.detail.contains("certificate has expired") && !sa.detail.contains("error 7 ") {
                *expired.entry(profile.as_str()).or_default() += 1;
            } else {
                failures.push(format!(
                    "openssl (no flags) rejects {profile} {} for another reason than time: {}",
                    path.display(),
                    sa.detail
                ));
            }
        }
    }
    eprintln!(
        "\n{:<14} {:>6} {:>12} {:>15} {:>22}",
        "profile", "certs", "java accept", "openssl accept", "openssl strict accept"
    );
    for (p, [n, j, o, x]) in &table {
        eprintln!("{p:<14} {n:>6} {j:>12} {o:>15} {x:>22}");
    }
    eprintln!("openssl without -no_check_time: {expired:?} refused as expired (and nothing else)");

    // Negative controls: the same harness rejects when it should, so the acceptances above
    // are real. A device certificate under the root's key (not its issuer); and openssl
    // without the intermediates.
    let (_, device) = certs.iter().find(|(p, _)| *p == Profile::Device).unwrap();
    let root_der = support::pem_to_der(&std::fs::read_to_string(&cas.root_pem).unwrap());
    let root_der_path = tmp.path().join("root.der");
    std::fs::write(&root_der_path, root_der).unwrap();
    let wrong = java.verify_pairs(
        tmp.path(),
        &[(IssuerKey::Cert(root_der_path), device.clone())],
    );
    assert!(
        !wrong[0].accept,
        "Java must reject a device certificate under the root's key"
    );
    let no_chain = support::openssl_verify_many(
        &openssl,
        OPENSSL_FLAGS,
        &cas.root_pem,
        None,
        std::slice::from_ref(device),
    );
    assert!(
        !no_chain[0].accept,
        "openssl must not accept a device certificate without its device CA"
    );
    eprintln!(
        "negative controls: Java under the wrong key: {}; openssl without the chain: {}",
        wrong[0].detail, no_chain[0].detail
    );

    eprintln!("time: {:.1} s", t0.elapsed().as_secs_f64());
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// One certificate of the remediation corpus that smki did not call clean.
struct Case {
    codes: Vec<DefectCode>,
    verdict: Verdict,
    original: PathBuf,
    /// The remediated file, for changed certificates.
    remediated: Option<PathBuf>,
    issuer: PathBuf,
    predicted_java: Prediction,
    predicted_openssl: Prediction,
}

#[derive(Default)]
struct Tally {
    n: usize,
    java_pred_accept: usize,
    java_accept: usize,
    openssl_pred_accept: usize,
    openssl_accept: usize,
    changed: usize,
    remediated_ok: usize,
    mismatches: usize,
}

#[test]
fn remediated_defects_are_accepted_and_predictions_hold() {
    let t0 = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let sim = tmp.path().join("sim");
    let mut extra = Vec::new();
    for code in REMEDIABLE_CODES {
        extra.push("--inject".to_string());
        extra.push(format!("{code}=0.025"));
    }
    simulate(&sim, "pem-tree", 1200, 29, &extra);
    let certs = sim.join("certs");
    let openssl = support::require_tool("openssl");
    let java = JavaVerifier::compile(tmp.path());
    let cas = Cas::load(&sim, tmp.path());

    // smki's findings on the originals, then the remediation.
    let findings_path = tmp.path().join("findings.jsonl");
    let o = smki(
        &["scan", "--quiet", "--fail-on", "never"],
        &[
            ("", &certs),
            ("--issuers", &sim.join("cas")),
            ("--findings", &findings_path),
        ],
    );
    assert!(
        o.status.success(),
        "smki scan: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let rem = tmp.path().join("rem");
    let manifest_path = tmp.path().join("manifest.jsonl");
    let o = smki(
        &["remediate", "--quiet"],
        &[
            ("", &certs),
            ("--issuers", &sim.join("cas")),
            ("--out", &rem),
            ("--manifest", &manifest_path),
        ],
    );
    assert!(
        o.status.success(),
        "smki remediate: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let t_smki = t0.elapsed();

    let findings: HashMap<PathBuf, Value> = jsonl(&findings_path)
        .into_iter()
        .map(|f| (PathBuf::from(f["locator"]["file"].as_str().unwrap()), f))
        .collect();
    let manifest = jsonl(&manifest_path);
    let changed: HashMap<PathBuf, Entry> = manifest
        .iter()
        .map(typed::<Entry>)
        .filter_map(|e| match &e {
            Entry::Changed { locator, .. } => Some((locator.file.as_path().to_path_buf(), e)),
            _ => None,
        })
        .collect();
    let remediable: BTreeSet<&PathBuf> = findings
        .iter()
        .filter(|(_, f)| verdict(f) == Verdict::Remediable)
        .map(|(p, _)| p)
        .collect();
    assert_eq!(
        changed.keys().collect::<BTreeSet<_>>(),
        remediable,
        "the manifest changed exactly what the scan calls remediable"
    );

    let mut cases: Vec<Case> = Vec::new();
    for (path, f) in &findings {
        if verdict(f) == Verdict::Clean {
            continue;
        }
        let der = read_der(path);
        assert_eq!(sha256_hex(&der), f["sha256"].as_str().unwrap(), "{path:?}");
        let mut codes: Vec<DefectCode> = f["defects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| typed(&d["code"]))
            .collect();
        codes.sort();
        codes.dedup();
        let remediated = changed.get(path).map(|entry| {
            let Entry::Changed {
                old_sha256,
                new_sha256,
                defects_fixed,
                ..
            } = entry
            else {
                unreachable!("changed entries only")
            };
            let file = rem.join(path.strip_prefix(&certs).expect("under certs/"));
            let new = read_der(&file);
            assert_eq!(sha256_hex(&der), hex::encode(old_sha256));
            assert_eq!(
                sha256_hex(&new),
                hex::encode(new_sha256),
                "{file:?}: the remediated file is the one the manifest names"
            );
            let mut fixed = defects_fixed.clone();
            fixed.sort();
            fixed.dedup();
            assert_eq!(fixed, codes, "{path:?}: defects_fixed = the scan's defects");
            // Only the signature changed: same tbsCertificate and algorithm.
            let (tbs0, alg0, _) = support::split_certificate(&der);
            let (tbs1, alg1, _) = support::split_certificate(&new);
            assert!(
                tbs0 == tbs1 && alg0 == alg1,
                "{file:?}: only the signature changed"
            );
            file
        });
        cases.push(Case {
            codes,
            verdict: verdict(f),
            issuer: cas.issuer_of(&der, path),
            original: path.clone(),
            remediated,
            predicted_java: typed(&f["predictions"]["java"]),
            predicted_openssl: typed(&f["predictions"]["openssl"]),
        });
    }
    cases.sort_by(|a, b| a.original.cmp(&b.original));

    // The real relying parties: Java (one JVM) and openssl (one process per 200 files), on
    // the originals and the remediated files.
    let t1 = Instant::now();
    let mut pairs: Vec<(IssuerKey, PathBuf)> = cases
        .iter()
        .map(|c| (IssuerKey::Cert(c.issuer.clone()), c.original.clone()))
        .collect();
    let fixed: Vec<&Case> = cases.iter().filter(|c| c.remediated.is_some()).collect();
    pairs.extend(fixed.iter().map(|c| {
        (
            IssuerKey::Cert(c.issuer.clone()),
            c.remediated.clone().unwrap(),
        )
    }));
    let java_all = java.verify_pairs(tmp.path(), &pairs);
    let files: Vec<PathBuf> = pairs.iter().map(|(_, p)| p.clone()).collect();
    let openssl_all = cas.openssl(&openssl, OPENSSL_FLAGS, &files);
    let t_rp = t1.elapsed();
    let (java_orig, java_fixed) = java_all.split_at(cases.len());
    let (openssl_orig, openssl_fixed) = openssl_all.split_at(cases.len());

    let mut failures = Vec::new();
    let mut tally: BTreeMap<String, Tally> = BTreeMap::new();
    let mut fixed_answers = java_fixed.iter().zip(openssl_fixed);
    let mut examples: BTreeMap<(String, &str), String> = BTreeMap::new();
    for ((c, ja), oa) in cases.iter().zip(java_orig).zip(openssl_orig) {
        let codes: Vec<&str> = c.codes.iter().map(|c| c.as_str()).collect();
        let label = if c.verdict == Verdict::Remediable {
            codes.join("+")
        } else {
            format!("{} ({})", codes.join("+"), c.verdict)
        };
        let t = tally.entry(label.clone()).or_default();
        t.n += 1;
        t.java_pred_accept += (c.predicted_java == Prediction::Accept) as usize;
        t.java_accept += ja.accept as usize;
        t.openssl_pred_accept += (c.predicted_openssl == Prediction::Accept) as usize;
        t.openssl_accept += oa.accept as usize;
        if !ja.accept {
            examples
                .entry((label.clone(), RelyingParty::Java.as_str()))
                .or_insert(ja.detail.clone());
        }
        if !oa.accept {
            examples
                .entry((label.clone(), RelyingParty::Openssl.as_str()))
                .or_insert(oa.detail.clone());
        }
        for (rp, predicted, answer) in [
            (RelyingParty::Java, &c.predicted_java, ja),
            (RelyingParty::Openssl, &c.predicted_openssl, oa),
        ] {
            let actual = if answer.accept {
                Prediction::Accept
            } else {
                Prediction::Reject
            };
            if *predicted != actual {
                t.mismatches += 1;
                failures.push(format!(
                    "{label}: {}: smki predicts {rp} {predicted}, {rp} did {actual} ({})",
                    c.original.display(),
                    answer.detail
                ));
            }
        }
        if let Some(file) = &c.remediated {
            let (jf, of) = fixed_answers.next().unwrap();
            t.changed += 1;
            if jf.accept && of.accept {
                t.remediated_ok += 1;
            } else {
                failures.push(format!(
                    "{label}: remediated {}: Java {} ({}), openssl {} ({})",
                    file.display(),
                    ar(jf.accept),
                    jf.detail,
                    ar(of.accept),
                    of.detail
                ));
            }
        }
    }

    eprintln!(
        "\n{:<40} {:>4}  {:>17}  {:>17}  {:>16}",
        "defects (originals)", "n", "java pred/actual", "openssl pred/act", "remediated J+O"
    );
    let acc = |a: usize, n: usize| format!("{a}A {}R", n - a);
    for (label, t) in &tally {
        eprintln!(
            "{:<40} {:>4}  {:>8}/{:<8}  {:>8}/{:<8}  {:>7}{}",
            label,
            t.n,
            acc(t.java_pred_accept, t.n),
            acc(t.java_accept, t.n),
            acc(t.openssl_pred_accept, t.n),
            acc(t.openssl_accept, t.n),
            if t.changed > 0 {
                format!("{}/{}", t.remediated_ok, t.changed)
            } else {
                "left alone".to_string()
            },
            if t.mismatches > 0 {
                format!("  {} MISMATCH(ES)", t.mismatches)
            } else {
                String::new()
            }
        );
    }
    for ((label, rp), why) in &examples {
        eprintln!("  e.g. {label}, {rp}: {why}");
    }
    eprintln!(
        "{} non-clean originals, {} changed; time: smki {:.1} s, Java + openssl {:.1} s, total {:.1} s",
        cases.len(),
        fixed.len(),
        t_smki.as_secs_f64(),
        t_rp.as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );

    // Every remediable code was remediated at least once.
    for code in REMEDIABLE_CODES {
        let n = fixed.iter().filter(|c| c.codes.contains(code)).count();
        assert!(n > 0, "no changed certificate carries {code}");
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
