//! The Python oracles of tests/oracles/x509_oracle.py: real OpenSSL 3 (libcrypto through
//! ctypes) and real pyca/cryptography, asked what they do with a certificate.
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One party's answer (see the script's documentation).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct PartyAnswer {
    /// "accept" or "reject": what the party does with the certificate.
    pub outcome: String,
    /// The party's own words ("" on accept).
    pub error: String,
    /// Its answer on the signature alone ("accept", "reject"), `None` when it could not be
    /// asked (pyca cannot load a non-DER certificate).
    pub signature: Option<String>,
}

impl PartyAnswer {
    pub fn accepts(&self) -> bool {
        self.outcome == "accept"
    }
    pub fn signature_verifies(&self) -> Option<bool> {
        self.signature.as_deref().map(|s| s == "accept")
    }
}

/// What both parties did with one (certificate, issuer) pair.
#[derive(Debug, Clone, Deserialize)]
pub struct OracleAnswer {
    pub cert: String,
    pub issuer: String,
    pub openssl: PartyAnswer,
    pub pyca: PartyAnswer,
}

/// The oracle script, runnable.
pub struct Oracle {
    script: PathBuf,
}

impl Oracle {
    /// The oracle, or `None` (saying why on stderr) when python3 or pyca/cryptography is
    /// missing. Under CI (`CI=true`) a missing oracle fails the test instead: .ci/run
    /// installs it.
    pub fn find() -> Option<Oracle> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracles/x509_oracle.py");
        let ok = Command::new("python3")
            .arg(&script)
            .arg("versions")
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(Oracle { script });
        }
        let why = "python3 with pyca/cryptography is not available \
                   (pip install -r tests/oracles/requirements.txt)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{why}: CI must have it");
        }
        eprintln!("SKIPPED (oracle part): {why}");
        None
    }

    /// The versions of the parties: `{"openssl": ..., "pyca": ...}`.
    pub fn versions(&self) -> serde_json::Value {
        let out = self.run(&["versions"]);
        serde_json::from_slice(&out).expect("versions JSON")
    }

    /// What OpenSSL and pyca do with each certificate given its issuer (DER files).
    pub fn verify(&self, pairs: &[(&Path, &Path)]) -> Vec<OracleAnswer> {
        let mut args = vec!["verify".to_string()];
        for (c, i) in pairs {
            args.push(c.display().to_string());
            args.push(i.display().to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self.run(&args);
        let answers: Vec<OracleAnswer> = String::from_utf8_lossy(&out)
            .lines()
            .map(|l| serde_json::from_str(l).expect("an oracle JSON line"))
            .collect();
        assert_eq!(answers.len(), pairs.len(), "one answer per pair");
        answers
    }

    /// Every certificate under `dir` as the oracle sees it (see the script: `corpus`).
    pub fn corpus(&self, dir: &Path) -> Vec<serde_json::Value> {
        let out = self.run(&["corpus", &dir.display().to_string()]);
        String::from_utf8_lossy(&out)
            .lines()
            .map(|l| serde_json::from_str(l).expect("an oracle JSON line"))
            .collect()
    }

    fn run(&self, args: &[&str]) -> Vec<u8> {
        let out = Command::new("python3")
            .arg("-W")
            .arg("ignore")
            .arg(&self.script)
            .args(args)
            .output()
            .expect("run python3");
        assert!(
            out.status.success(),
            "x509_oracle.py {}: {}",
            args.first().copied().unwrap_or_default(),
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }
}
