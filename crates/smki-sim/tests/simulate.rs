//! End-to-end tests of the simulator: reproducibility, the 2018 rate, every injection, and
//! reading every output format back.
use smki_der::{analyse_signature, read_header, DefectCode};
use smki_scan::Verdict;
use smki_sim::{simulate, Injection, OutputFormat, SimOptions};
use smki_verify::{Backend, PlainBackend, PublicKey};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

fn files(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

fn truth(out: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(out.join("ground-truth.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A ground-truth line's expected verdict.
fn verdict(t: &serde_json::Value) -> Verdict {
    serde_json::from_value(t["expected_verdict"].clone()).unwrap()
}

/// A ground-truth line's injection, if any.
fn injected(t: &serde_json::Value) -> Option<Injection> {
    t["injected"]
        .as_str()
        .map(|name| Injection::parse(name).unwrap())
}

fn all_injections(rate: f64) -> Vec<(String, f64)> {
    Injection::all()
        .iter()
        .map(|i| (i.name().to_string(), rate))
        .collect()
}

fn opts(dir: &Path, format: OutputFormat, count: u64) -> SimOptions {
    SimOptions {
        count,
        seed: 7,
        format,
        out: dir.to_path_buf(),
        ..SimOptions::default()
    }
}

#[test]
fn same_seed_same_bytes_in_every_format_whatever_the_threads() {
    for &format in OutputFormat::ALL {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let inject = all_injections(0.01);
        let mut oa = SimOptions {
            inject: inject.clone(),
            threads: Some(1),
            chunk: 64,
            ..opts(a.path(), format, 300)
        };
        simulate(&oa).unwrap();
        let ob = SimOptions {
            inject,
            threads: Some(2),
            chunk: 4096,
            ..opts(b.path(), format, 300)
        };
        simulate(&ob).unwrap();
        let (fa, fb) = (files(a.path()), files(b.path()));
        assert!(fa.len() > 3, "{format}: {} files", fa.len());
        assert_eq!(
            fa.keys().collect::<Vec<_>>(),
            fb.keys().collect::<Vec<_>>(),
            "{format}"
        );
        for (k, v) in &fa {
            assert!(v == &fb[k], "{format}: {} differs", k.display());
        }
        // Another seed gives other bytes.
        oa.seed = 8;
        let c = tempfile::tempdir().unwrap();
        oa.out = c.path().to_path_buf();
        simulate(&oa).unwrap();
        assert_ne!(
            files(c.path()).get(Path::new("ground-truth.jsonl")),
            fa.get(Path::new("ground-truth.jsonl"))
        );
    }
}

/// (tbs, signatureValue) elements of a certificate, None when it cannot be split.
fn split(der: &[u8]) -> Option<(&[u8], &[u8], usize)> {
    let outer = read_header(der, 0, 0).ok()?;
    let tbs = read_header(der, outer.content.start, 0).ok()?;
    let alg = read_header(der, tbs.end, 0).ok()?;
    let sig = read_header(der, alg.end, 0).ok()?;
    Some((&der[tbs.element()], &der[sig.element()], sig.offset))
}

struct Cas(HashMap<String, PublicKey>);

impl Cas {
    fn load(out: &Path) -> Cas {
        let mut keys = HashMap::new();
        for t in truth(out)
            .iter()
            .filter(|t| t["file"].as_str().unwrap().starts_with("cas/"))
        {
            let der = std::fs::read(out.join(t["file"].as_str().unwrap())).unwrap();
            // The SPKI point: the 65 octets after `03 42 00`.
            let at = der
                .windows(3)
                .position(|w| w == [0x03, 0x42, 0x00])
                .unwrap()
                + 3;
            let key = PublicKey::from_sec1(&der[at..at + 65]).unwrap();
            keys.insert(hex::encode(key.key_id()), key);
        }
        Cas(keys)
    }

    fn verify(&self, key_id: &str, tbs: &[u8], r: &[u8; 32], s: &[u8; 32]) -> Option<bool> {
        let key = self.0.get(key_id)?;
        let b = PlainBackend;
        Some(b.verify(&b.prepare(key), &smki_x509::sha256(tbs), r, s))
    }
}

#[test]
fn default_corpus_has_the_incident_rate_and_the_defects_are_real() {
    let dir = tempfile::tempdir().unwrap();
    let s = simulate(&opts(dir.path(), OutputFormat::Der, 4000)).unwrap();
    let rate = s.faulty_signer as f64 / 4000.0;
    assert!((0.035..=0.045).contains(&rate), "{rate}");
    assert_eq!(s.faulty_signer, 160);
    let cas = Cas::load(dir.path());
    let der = std::fs::read(dir.path().join("certificates.der")).unwrap();
    let recs = smki_repo::parse_buffer("certificates.der", &der);
    let gt: Vec<_> = truth(dir.path())
        .into_iter()
        .filter(|t| t["file"] == "certificates.der")
        .collect();
    assert_eq!(recs.len(), 4000);
    let mut affected = 0;
    let mut months = BTreeMap::new();
    for (rec, t) in recs.iter().zip(&gt) {
        let rec = rec.as_ref().unwrap();
        assert_eq!(t["record"].as_u64().unwrap() as usize, rec.locator.record);
        assert_eq!(
            hex::encode(smki_x509::sha256(&rec.der)),
            t["sha256"].as_str().unwrap()
        );
        let (tbs, sig, base) = split(&rec.der).unwrap();
        let enc = analyse_signature(sig, base);
        let (r, s) = enc.rs().unwrap();
        assert_eq!(
            cas.verify(t["issuer_key_id"].as_str().unwrap(), tbs, &r, &s),
            Some(true)
        );
        if t["faulty_signer"] == true {
            affected += 1;
            assert!(enc.has(DefectCode::SigIntLeadingZero), "{t}");
            assert!(enc
                .defects
                .iter()
                .all(|d| d.code == DefectCode::SigIntLeadingZero));
            assert_eq!(verdict(t), Verdict::Remediable);
            assert!(["Z1", "E357", "E358"].contains(&t["issuer"].as_str().unwrap()));
            *months
                .entry(t["issued"].as_str().unwrap()[..7].to_string())
                .or_insert(0) += 1;
        } else {
            assert!(enc.is_canonical(), "{t}");
            assert_eq!(verdict(t), Verdict::Clean);
        }
    }
    assert_eq!(affected, 160);
    let (first, last) = (
        months.keys().next().unwrap().clone(),
        months.keys().last().unwrap().clone(),
    );
    assert!(
        first.as_str() >= "2016-10" && last.as_str() <= "2018-06",
        "{first}..{last}"
    );
}

#[test]
fn every_injection_is_in_the_bytes_and_the_ground_truth() {
    let dir = tempfile::tempdir().unwrap();
    let s = simulate(&SimOptions {
        inject: all_injections(0.03),
        ..opts(dir.path(), OutputFormat::DerTree, 1600)
    })
    .unwrap();
    let cas = Cas::load(dir.path());
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for t in truth(dir.path()) {
        let file = t["file"].as_str().unwrap();
        if file.starts_with("cas/") {
            continue;
        }
        let bytes = std::fs::read(dir.path().join(file)).unwrap();
        assert_eq!(
            hex::encode(smki_x509::sha256(&bytes)),
            t["sha256"].as_str().unwrap()
        );
        let verdict = verdict(&t);
        let Some(injection) = injected(&t) else {
            continue;
        };
        *seen.entry(injection.name().to_string()).or_default() += 1;
        let key_id = t["issuer_key_id"].as_str().unwrap();
        let defects: Vec<DefectCode> = serde_json::from_value(t["defects"].clone()).unwrap();
        match injection {
            Injection::Unreadable => {
                assert_eq!(verdict, Verdict::Unreadable);
                assert!(
                    split(&bytes).is_none_or(|(tbs, _, _)| tbs.len() < 200),
                    "{file} splits"
                );
            }
            Injection::IssuerAbsent => {
                assert_eq!(verdict, Verdict::Unverifiable);
                assert!(!cas.0.contains_key(key_id));
                let (_, sig, base) = split(&bytes).unwrap();
                assert!(analyse_signature(sig, base).is_canonical());
            }
            Injection::BadSignature => {
                assert_eq!(verdict, Verdict::NeedsReissue);
                let (tbs, sig, base) = split(&bytes).unwrap();
                let enc = analyse_signature(sig, base);
                assert!(enc.is_canonical());
                let (r, s) = enc.rs().unwrap();
                assert_eq!(cas.verify(key_id, tbs, &r, &s), Some(false));
            }
            Injection::CertBer => {
                assert_eq!(defects, [DefectCode::CertBer]);
                let (tbs, sig, base) = split(&bytes).unwrap();
                let walk = smki_der::walk(&bytes, 0);
                assert!(!walk.issues.is_empty(), "{file}: no BER found");
                let enc = analyse_signature(sig, base);
                let (r, s) = enc.rs().unwrap();
                assert_eq!(
                    cas.verify(key_id, tbs, &r, &s),
                    Some(true),
                    "signed over the bytes as written"
                );
                let in_tbs = !smki_der::walk(tbs, 0).issues.is_empty();
                assert_eq!(
                    verdict,
                    if in_tbs {
                        Verdict::NeedsReissue
                    } else {
                        Verdict::Remediable
                    }
                );
            }
            Injection::Sig(code) => {
                assert_eq!(defects, [code]);
                let (tbs, sig, base) = split(&bytes).unwrap();
                let enc = analyse_signature(sig, base);
                assert!(
                    enc.has(code),
                    "{file}: {code} not found in {:?}",
                    enc.defects
                );
                assert_eq!(verdict, Injection::Sig(code).expected_verdict(false));
                if verdict == Verdict::Remediable {
                    let (r, s) = enc.rs().unwrap();
                    assert_eq!(
                        cas.verify(key_id, tbs, &r, &s),
                        Some(true),
                        "{file}: {code}"
                    );
                }
            }
        }
    }
    for inj in Injection::all() {
        assert!(
            seen.get(inj.name()).copied().unwrap_or(0) > 0,
            "{} never injected: {seen:?}",
            inj.name()
        );
    }
    assert_eq!(
        s.by_injection.values().sum::<u64>(),
        seen.values().sum::<usize>() as u64
    );
}

#[test]
fn every_format_reads_back() {
    for &format in OutputFormat::ALL {
        let dir = tempfile::tempdir().unwrap();
        let count = 3000;
        let inject = vec![
            (Injection::Unreadable.name().to_string(), 0.01),
            (DefectCode::SigIntNegative.as_str().to_string(), 0.01),
        ];
        let s = simulate(&SimOptions {
            inject,
            ..opts(dir.path(), format, count)
        })
        .unwrap();
        let gt: Vec<_> = truth(dir.path())
            .into_iter()
            .filter(|t| !t["file"].as_str().unwrap().starts_with("cas/"))
            .collect();
        assert_eq!(
            gt.len() as u64,
            count,
            "{format}: one ground-truth line per certificate"
        );
        let by_sha: HashMap<&str, &serde_json::Value> = gt
            .iter()
            .map(|t| (t["sha256"].as_str().unwrap(), t))
            .collect();
        let records: Vec<_> = if format == OutputFormat::Extract {
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir.path().join("extract"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            files.sort_by_key(|p| {
                (
                    !p.file_name().unwrap().to_string_lossy().starts_with("full"),
                    p.clone(),
                )
            });
            assert_eq!(files.len(), 8, "full + 7 deltas");
            smki_repo::read_extracts(&files).collect()
        } else {
            smki_repo::open(&dir.path().join(&s.outputs[0])).collect()
        };
        let mut found = std::collections::HashSet::new();
        let mut errors = 0;
        for r in &records {
            match r {
                Ok(rec) => {
                    if let Some(t) = by_sha.get(hex::encode(smki_x509::sha256(&rec.der)).as_str()) {
                        found.insert(t["sha256"].as_str().unwrap());
                        if injected(t) == Some(Injection::Unreadable) {
                            assert!(
                                split(&rec.der).is_none_or(|(tbs, _, _)| tbs.len() < 200),
                                "{format}: unreadable splits"
                            );
                        }
                        if let Some(m) = &rec.meta {
                            assert_eq!(m.serial.as_deref(), t["serial"].as_str());
                            assert_eq!(
                                m.status.as_deref(),
                                t["status"].as_str(),
                                "{format}: latest status"
                            );
                            assert_eq!(m.usage.as_deref(), t["usage"].as_str());
                            assert_eq!(m.lifecycle.as_deref(), t["lifecycle"].as_str());
                        }
                    }
                }
                Err(_) => errors += 1,
            }
        }
        for t in &gt {
            if !found.contains(t["sha256"].as_str().unwrap()) {
                assert_eq!(
                    injected(t),
                    Some(Injection::Unreadable),
                    "{format}: {t} not read back"
                );
            }
        }
        let unreadable = gt
            .iter()
            .filter(|t| injected(t) == Some(Injection::Unreadable))
            .count();
        assert!(
            unreadable > 0 && found.len() >= gt.len() - unreadable,
            "{format}: {} found, {errors} errors",
            found.len()
        );
        assert!(records.len() as u64 >= count - unreadable as u64);
        if format == OutputFormat::Extract {
            assert!(
                s.status_updates > 0,
                "some deltas update the status of earlier rows"
            );
            assert_eq!(
                records.len() as u64,
                count,
                "{format}: one record per serial after the deltas"
            );
        }
    }
}

#[test]
fn bad_options_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = |o: SimOptions| simulate(&o).unwrap_err().to_string();
    assert!(bad(SimOptions {
        inject: vec![("NOPE".into(), 0.1)],
        ..opts(dir.path(), OutputFormat::Der, 10)
    })
    .contains("NOPE"));
    assert!(bad(SimOptions {
        defect_rate: 1.5,
        ..opts(dir.path(), OutputFormat::Der, 10)
    })
    .contains("defect rate"));
    assert!(bad(SimOptions {
        count: 0,
        ..opts(dir.path(), OutputFormat::Der, 10)
    })
    .contains("count"));
}
