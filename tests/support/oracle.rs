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

/// One party's answer for one pair, as the Go and BouncyCastle verifiers print it.
#[derive(Debug, Clone, Deserialize)]
pub struct PairAnswer {
    pub cert: String,
    pub issuer: String,
    #[serde(flatten)]
    pub answer: PartyAnswer,
}

/// Another real relying party, run as a program over (certificate, issuer) DER pairs:
/// Go's crypto/x509 (tests/go/verify.go, Debian's golang-go) or BouncyCastle
/// (tests/java/VerifyBc.java, Debian's libbcprov-java).
pub struct Party {
    pub name: &'static str,
    program: Vec<std::ffi::OsString>,
    _build: Option<tempfile::TempDir>,
}

/// Where Debian's libbcprov-java puts the provider.
const BCPROV: &str = "/usr/share/java/bcprov.jar";

fn missing(name: &str, why: &str) -> Option<Party> {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{name}: {why}: CI must have it (.ci/run installs it)");
    }
    eprintln!("SKIPPED ({name}): {why}");
    None
}

impl Party {
    /// Go, with tests/go/verify.go built once (`go build`); `None` (saying why) without Go.
    pub fn go() -> Option<Party> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/go/verify.go");
        let dir = tempfile::tempdir().expect("tempdir");
        let bin = dir.path().join("verify");
        let built = Command::new("go")
            .args(["build", "-o"])
            .arg(&bin)
            .arg(&src)
            .env("GO111MODULE", "off")
            .output();
        match built {
            Ok(o) if o.status.success() => Some(Party {
                name: "go",
                program: vec![bin.into_os_string()],
                _build: Some(dir),
            }),
            Ok(o) => panic!(
                "go build tests/go/verify.go: {}",
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(_) => missing(
                "go",
                "the go toolchain is not installed (Debian: golang-go)",
            ),
        }
    }

    /// BouncyCastle, with tests/java/VerifyBc.java compiled once; `None` (saying why) without
    /// javac or bcprov.jar.
    pub fn bouncycastle() -> Option<Party> {
        if !Path::new(BCPROV).exists() {
            return missing(
                "bouncycastle",
                "bcprov.jar is not installed (Debian: libbcprov-java)",
            );
        }
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java/VerifyBc.java");
        let dir = tempfile::tempdir().expect("tempdir");
        let built = Command::new("javac")
            .args(["-cp", BCPROV, "-d"])
            .arg(dir.path())
            .arg(&src)
            .output();
        match built {
            Ok(o) if o.status.success() => {
                let cp = format!("{}:{BCPROV}", dir.path().display());
                Some(Party {
                    name: "bouncycastle",
                    program: vec!["java".into(), "-cp".into(), cp.into(), "VerifyBc".into()],
                    _build: Some(dir),
                })
            }
            Ok(o) => panic!(
                "javac VerifyBc.java: {}",
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(_) => missing("bouncycastle", "javac is not installed"),
        }
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.program[0]);
        c.args(&self.program[1..]);
        c
    }

    /// The party's version, as it reports it.
    pub fn version(&self) -> String {
        let out = self
            .command()
            .arg("version")
            .output()
            .expect("run the party");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// What the party does with each certificate given its issuer (DER files).
    pub fn verify(&self, pairs: &[(&Path, &Path)]) -> Vec<PartyAnswer> {
        let mut c = self.command();
        for (cert, issuer) in pairs {
            c.arg(cert).arg(issuer);
        }
        let out = c.output().expect("run the party");
        assert!(
            out.status.success(),
            "{}: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        let answers: Vec<PartyAnswer> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                serde_json::from_str::<PairAnswer>(l)
                    .expect("a JSON line")
                    .answer
            })
            .collect();
        assert_eq!(
            answers.len(),
            pairs.len(),
            "{}: one answer per pair",
            self.name
        );
        answers
    }
}
