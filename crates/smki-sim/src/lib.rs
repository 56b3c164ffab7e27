//! The SMKI repository simulator: a realistic, reproducible certificate repository with the
//! 2018 signature-encoding defect (docs/incident.md).
//!
//! * **PKI**: root `ZA` (OU=00), issuing organisation CA `Z1` (OU=07, pathLen 0), device CAs
//!   `E357`, `E358`, `E359` (and `E35A`, `E35B` coming into service later); two CAs whose
//!   certificates are never written (`E360`, `Z2`) issue the ISSUER_ABSENT certificates.
//! * **Population**: certificates come in pairs (DS then KA) for one subject: organisations
//!   (about 1.5 %: suppliers, network operators, the DCC's own roles, ...; EUI-64 in
//!   90-B3-D5-1F-3x) and devices (ESME, GSME, CHF, GPF, PPMID, HCALCS, SAPC; EUI-64 =
//!   manufacturer OUI, a range octet per type, a serial allocated in sequence). Issuance is
//!   spread over the timeline in index order. Profiles: [`tbs`] (byte-identical to the DCC
//!   test certificates that follow them).
//! * **Reproducible**: everything derives from (seed, index): seeded keys, RFC 6979
//!   signatures. Chunking and thread count never change a byte.
//! * **The 2018 defect**: the faulty CAs (`Z1`, `E357`, `E358`) sign with the faulty
//!   signer inside the defect window. The real signer only wrote a redundant leading zero
//!   when r or s happened to be below 2^247 (about 1 signature in 256; from 2^247 to 2^248
//!   the 0x00 is the pad DER requires); the simulator reproduces the
//!   incident's *rate*, not that probability: exactly `round(defect_rate x count)`
//!   certificates, spread evenly over those issued by a faulty CA inside the window, are
//!   signed with a nonce walked forward from the RFC 6979 one (k, k+1, ...) until r < 2^247,
//!   s < 2^247 or n - s < 2^247 (then the high-s twin n - s is used: an equally valid
//!   signature), and written fixed-width. The other certificates of those CAs are written
//!   canonically.
//! * **Injection** (`--inject NAME=RATE`, fraction of all certificates, one per certificate):
//!   every signature defect code of `smki_der::DefectCode`, `CERT_BER` (half inside the
//!   tbsCertificate: the subjectKeyIdentifier's extnValue with a long-form length, signed as
//!   written; half on the signatureValue BIT STRING's own length), `BAD_SIGNATURE`,
//!   `ISSUER_ABSENT`, `UNREADABLE`.
//! * **Expected verdicts**: unreadable = UNREADABLE; needs_reissue = SIG_INT_EMPTY,
//!   SIG_NOT_SEQUENCE, SIG_TRUNCATED, SIG_RANGE, BAD_SIGNATURE, CERT_BER inside the
//!   tbsCertificate; unverifiable = ISSUER_ABSENT; remediable = the 2018 defect and every
//!   other signature defect, CERT_BER on the BIT STRING length; clean otherwise.
//!
//! Output in `out`: `cas/` (root.der, issuing-ca.der, device-ca-N.der, bundle.pem),
//! `ground-truth.jsonl` and the dump (see [`smki_repo::OutputFormat`]): `certs/` (trees:
//! `certs/<device type or party role>/<YYYY-MM>/<serial>.der|pem`), `certificates.pem`,
//! `certificates.der`, or `extract/full-YYYYMMDD.csv` plus `extract/delta-YYYYMMDD.csv`
//! (one per day after the cut-off; a delta first repeats the rows of earlier certificates
//! whose status changed, then adds the day's new ones).
//!
//! Ground truth: one JSON line per certificate (the CA certificates first, `file` under
//! `cas/`): `file` (relative to `out`), `record` (index in the file), `sha256` (hex, of the
//! DER as written; for UNREADABLE records, of the record's bytes as written: the file, the
//! framed DER, the PEM block from BEGIN to END line feed included, or the whole CSV row line
//! feed included), serial, profile, device_type / role, usage, eui64, issuer,
//! issuer_key_id, issued, status, lifecycle, manufacturing, defects, injected,
//! faulty_signer, expected_verdict. In an extract, a certificate whose status a delta
//! updates is listed once, at its latest row (in the delta).
#![forbid(unsafe_code)]

pub mod crypto;
pub mod date;
mod gen;
mod live;
mod model;
pub mod pki;
pub mod tbs;

pub use date::Date;
pub use gen::Truth;
pub use live::{Issued, LiveIssuer, LiveOptions};
pub use model::{DeviceType, Lifecycle, Role, ROLES};
pub use smki_repo::OutputFormat;

use gen::{generate, generate_batch, render_unreadable, Config, Generated};
use rayon::prelude::*;
use smki_der::DefectCode;
use smki_repo::{AtomicFile, Record, Writer};
use smki_scan::Verdict;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What `--inject NAME=RATE` can put into a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Injection {
    /// A signature-encoding defect (any code but `CERT_BER`).
    Sig(DefectCode),
    /// A non-DER length: inside the tbsCertificate or on the signatureValue BIT STRING.
    CertBer,
    /// A canonical signature that does not verify (made over another message).
    BadSignature,
    /// Issued by a CA whose certificate is not written out.
    IssuerAbsent,
    /// A record that is not a certificate.
    Unreadable,
}

impl Injection {
    /// The name on the command line and in the ground truth.
    pub fn name(self) -> &'static str {
        match self {
            Injection::Sig(c) => c.as_str(),
            Injection::CertBer => DefectCode::CertBer.as_str(),
            Injection::BadSignature => "BAD_SIGNATURE",
            Injection::IssuerAbsent => "ISSUER_ABSENT",
            Injection::Unreadable => "UNREADABLE",
        }
    }

    /// Every injection name.
    pub fn all() -> Vec<Injection> {
        let mut v: Vec<Injection> = DefectCode::ALL
            .iter()
            .filter(|c| c.is_signature())
            .map(|&c| Injection::Sig(c))
            .collect();
        v.extend([
            Injection::CertBer,
            Injection::BadSignature,
            Injection::IssuerAbsent,
            Injection::Unreadable,
        ]);
        v
    }

    pub fn parse(name: &str) -> Option<Injection> {
        Injection::all()
            .into_iter()
            .find(|i| i.name().eq_ignore_ascii_case(name))
    }

    /// The verdict a correct scan reaches for a certificate with this injection.
    pub fn expected_verdict(self, ber_in_tbs: bool) -> Verdict {
        gen::verdict(Some(self), false, ber_in_tbs)
    }
}

/// Options of one simulation.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Certificates in the dump (the CA certificates come in addition).
    pub count: u64,
    pub seed: u64,
    pub format: OutputFormat,
    pub out: PathBuf,
    /// Share of all certificates with the 2018 defect (default 0.04, the incident's figure).
    pub defect_rate: f64,
    /// `(NAME, RATE)`: share of all certificates with that injection.
    pub inject: Vec<(String, f64)>,
    /// Worker threads (None: rayon's default).
    pub threads: Option<usize>,
    /// First issuance day.
    pub start: Date,
    /// Last issuance day (the extract's last delta).
    pub end: Date,
    /// The faulty signer's issuance window (inclusive).
    pub defect_window: (Date, Date),
    /// Extract: number of daily delta files after the full extract's cut-off.
    pub delta_days: u32,
    /// Certificates generated per parallel chunk (memory bound; never changes the output).
    pub chunk: usize,
    /// Share of certificate pairs that are organisation certificates.
    pub organisation_share: f64,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            count: 1000,
            seed: 1,
            format: OutputFormat::DerTree,
            out: PathBuf::from("smki-sim-out"),
            defect_rate: 0.04,
            inject: Vec::new(),
            threads: None,
            start: Date::new(2016, 4, 1),
            end: Date::new(2021, 3, 31),
            defect_window: (Date::new(2016, 10, 1), Date::new(2018, 6, 30)),
            delta_days: 7,
            chunk: 4096,
            organisation_share: 0.015,
        }
    }
}

/// The crate's error.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Invalid options.
    Options(String),
    /// The worker threads could not be started.
    ThreadPool(rayon::ThreadPoolBuildError),
    /// Writing the output failed.
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Options(m) => write!(f, "invalid simulation options: {m}"),
            Error::ThreadPool(e) => write!(f, "invalid simulation options: thread pool: {e}"),
            Error::Io { path, error } => write!(f, "{}: {error}", path.display()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { error, .. } => Some(error),
            Error::ThreadPool(e) => Some(e),
            Error::Options(_) => None,
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |error| Error::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// What a simulation produced.
#[derive(Debug, Clone, Default)]
pub struct SimSummary {
    /// Certificates in the dump (without the CA certificates).
    pub certificates: u64,
    /// CA certificates written to `cas/`.
    pub ca_certificates: usize,
    /// Dump records by expected verdict (in name order).
    pub by_verdict: BTreeMap<&'static str, u64>,
    /// Dump records by defect code, in name order (the 2018 defect counts as
    /// SIG_INT_LEADING_ZERO).
    pub by_defect: BTreeMap<&'static str, u64>,
    /// Dump records by injection name.
    pub by_injection: BTreeMap<String, u64>,
    /// Certificates with the 2018 defect.
    pub faulty_signer: u64,
    /// Certificates the faulty CAs issued inside the window (the most that can be affected).
    pub faulty_eligible: u64,
    /// Status updates written to the extract deltas.
    pub status_updates: u64,
    pub elapsed: Duration,
    pub out: PathBuf,
    /// The dump's files or directory, relative to `out`.
    pub outputs: Vec<String>,
    pub ground_truth: PathBuf,
}

impl std::fmt::Display for SimSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        writeln!(
            f,
            "{} certificates (+{} CA certificates) in {:.2} s ({:.0}/s) -> {}",
            self.certificates,
            self.ca_certificates,
            secs,
            self.certificates as f64 / secs.max(1e-9),
            self.out.display()
        )?;
        let pct = |n: u64| 100.0 * n as f64 / self.certificates.max(1) as f64;
        writeln!(
            f,
            "2018 defect (faulty signer): {} ({:.2} %) of {} issued by faulty CAs in the window",
            self.faulty_signer,
            pct(self.faulty_signer),
            self.faulty_eligible
        )?;
        writeln!(f, "expected verdicts:")?;
        for (v, n) in &self.by_verdict {
            writeln!(f, "  {v:<14} {n:>9} ({:.2} %)", pct(*n))?;
        }
        if !self.by_injection.is_empty() {
            writeln!(f, "injected:")?;
            for (v, n) in &self.by_injection {
                writeln!(f, "  {v:<26} {n:>9}")?;
            }
        }
        if self.status_updates > 0 {
            writeln!(f, "status updates in the deltas: {}", self.status_updates)?;
        }
        writeln!(f, "dump: {}", self.outputs.join(", "))?;
        write!(f, "ground truth: {}", self.ground_truth.display())
    }
}

fn validate(opts: &SimOptions) -> Result<Vec<(Injection, f64)>, Error> {
    if opts.chunk == 0 {
        return Err(Error::Options("chunk must be at least 1".into()));
    }
    if opts.end < opts.start {
        return Err(Error::Options(format!(
            "timeline ends ({}) before it starts ({})",
            opts.end, opts.start
        )));
    }
    validate_rates(
        opts.count,
        opts.defect_rate,
        opts.organisation_share,
        &opts.inject,
    )
}

/// The rates of a simulation (batch or live), checked; the injections with their
/// cumulative rates.
fn validate_rates(
    count: u64,
    defect_rate: f64,
    organisation_share: f64,
    injections: &[(String, f64)],
) -> Result<Vec<(Injection, f64)>, Error> {
    let bad = |m: String| Err(Error::Options(m));
    if count == 0 {
        return bad("count must be at least 1".into());
    }
    if !(0.0..=1.0).contains(&defect_rate) {
        return bad(format!("defect rate {defect_rate} is not in [0, 1]"));
    }
    if !(0.0..=1.0).contains(&organisation_share) {
        return bad("organisation share must be in [0, 1]".into());
    }
    let mut inject = Vec::new();
    let mut cum = 0.0;
    for (name, rate) in injections {
        let Some(inj) = Injection::parse(name) else {
            let names: Vec<&str> = Injection::all().iter().map(|i| i.name()).collect();
            return bad(format!(
                "unknown injection {name:?} (one of {})",
                names.join(", ")
            ));
        };
        if !(0.0..=1.0).contains(rate) {
            return bad(format!("rate {rate} of {name} is not in [0, 1]"));
        }
        cum += rate;
        inject.push((inj, cum));
    }
    if cum + defect_rate > 1.0 + 1e-12 {
        return bad(format!(
            "injection rates ({cum}) and defect rate ({defect_rate}) add up to more than 1"
        ));
    }
    Ok(inject)
}

/// Runs the simulation (see the crate documentation).
pub fn simulate(opts: &SimOptions) -> Result<SimSummary, Error> {
    let t0 = Instant::now();
    let inject = validate(opts)?;
    let pool = {
        let mut b = rayon::ThreadPoolBuilder::new();
        if let Some(t) = opts.threads {
            b = b.num_threads(t);
        }
        b.build().map_err(Error::ThreadPool)?
    };
    pool.install(|| run(opts, inject, t0))
}

fn run(opts: &SimOptions, inject: Vec<(Injection, f64)>, t0: Instant) -> Result<SimSummary, Error> {
    let out = &opts.out;
    std::fs::create_dir_all(out).map_err(io(out))?;
    let start = opts.start.days();
    let end = opts.end.days();
    let cutoff = (end - opts.delta_days as i64).max(start - 1);
    let cfg = Config {
        seed: opts.seed,
        count: opts.count,
        start,
        days: end - start + 1,
        window: (opts.defect_window.0.days(), opts.defect_window.1.days()),
        cutoff,
        end,
        inject,
        hierarchy: pki::Hierarchy::new(opts.seed, opts.start),
        org_per_mille: (opts.organisation_share * 1000.0).round() as u64,
        live_day: None,
    };
    let mut summary = SimSummary {
        out: out.clone(),
        ground_truth: out.join("ground-truth.jsonl"),
        ..Default::default()
    };

    // Ground truth, CA certificates first.
    let gt_path = out.join("ground-truth.jsonl");
    let mut gt = AtomicFile::create(&gt_path).map_err(io(&gt_path))?;
    let cas_dir = out.join("cas");
    std::fs::create_dir_all(&cas_dir).map_err(io(&cas_dir))?;
    let mut bundle = String::new();
    for ca in cfg.hierarchy.cas.iter().filter(|c| c.written) {
        let path = cas_dir.join(&ca.file);
        AtomicFile::write_all_to(&path, &ca.der).map_err(io(&path))?;
        bundle.push_str(&smki_repo::pem_block(&ca.der));
        let issuer = if ca.profile == tbs::Profile::Root {
            ca
        } else {
            &cfg.hierarchy.cas[pki::ROOT]
        };
        let truth = Truth {
            file: format!("cas/{}", ca.file),
            record: 0,
            sha256: hex::encode(smki_x509::sha256(&ca.der)),
            serial: hex::encode(ca.serial),
            profile: ca.profile.as_str(),
            device_type: None,
            role: None,
            usage: None,
            eui64: None,
            issuer: issuer.name.clone(),
            issuer_key_id: hex::encode(issuer.key.key_id),
            issued: Date::from_days(ca.active_from).to_string(),
            status: Some("I"),
            lifecycle: None,
            manufacturing: None,
            defects: Vec::new(),
            injected: None,
            faulty_signer: false,
            expected_verdict: Verdict::Clean,
        };
        write_truth(&mut gt, &truth, &gt_path)?;
        summary.ca_certificates += 1;
    }
    let bundle_path = cas_dir.join("bundle.pem");
    AtomicFile::write_all_to(&bundle_path, bundle.as_bytes()).map_err(io(&bundle_path))?;

    // Pass 1 (cheap, no crypto): certificates eligible for the faulty signer, per chunk, so
    // that the affected ones can be chosen exactly and evenly whatever the chunking.
    let n = opts.count;
    let chunk = opts.chunk as u64;
    let chunks = n.div_ceil(chunk);
    let eligible_per_chunk: Vec<u64> = (0..chunks)
        .into_par_iter()
        .map(|c| {
            (c * chunk..((c + 1) * chunk).min(n))
                .filter(|&i| cfg.plan(i).eligible)
                .count() as u64
        })
        .collect();
    let eligible: u64 = eligible_per_chunk.iter().sum();
    let target = ((opts.defect_rate * n as f64).round() as u64).min(eligible);
    summary.faulty_eligible = eligible;
    // Rank k among the eligible is affected iff floor((k+1) T / E) > floor(k T / E).
    let affected = |rank: u64| -> bool {
        eligible > 0
            && ((rank + 1) as u128 * target as u128 / eligible as u128)
                > (rank as u128 * target as u128 / eligible as u128)
    };

    let mut sink = Sink::new(opts.format, out, &cfg)?;
    if opts.format == OutputFormat::Extract {
        // Earlier certificates whose status a delta changes (few: about 0.4 % of those in
        // the full extract), by day then index.
        let full_end = cfg.first_index_after(cfg.cutoff);
        sink.updates = (0..full_end)
            .into_par_iter()
            .filter_map(|i| cfg.plan(i).update_day.map(|d| (d, i)))
            .collect();
        sink.updates.sort_unstable();
    }
    // Generation runs on the pool, chunk by chunk; a writer thread writes each chunk in
    // order while the next is generated. At most two chunks wait in between.
    // Certificates per generate_batch: their keys and signatures are computed together
    // (one field inversion per addition step and one scalar inversion for the batch), so
    // larger batches share those inversions more widely.
    const BATCH: u64 = 256;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Generated>>(2);
    let cfg_ref = &cfg;
    let (gt, summary) = std::thread::scope(|scope| {
        let gt_path = &gt_path;
        let writer = scope.spawn(move || -> Result<(AtomicFile, SimSummary), Error> {
            // Not on the pool: the generator may hold every pool thread while it waits.
            for chunk in rx {
                for g in chunk {
                    sink.put(g, cfg_ref, &mut gt, gt_path, &mut summary)?;
                }
            }
            sink.finish(cfg_ref, &mut gt, gt_path, &mut summary)?;
            Ok((gt, summary))
        });
        let mut rank = 0u64;
        for c in 0..chunks {
            let lo = c * chunk;
            let hi = ((c + 1) * chunk).min(n);
            // The affected flags of this chunk, in order (cheap: plans only).
            let flags: Vec<bool> = (lo..hi)
                .map(|i| {
                    if cfg_ref.plan(i).eligible {
                        rank += 1;
                        affected(rank - 1)
                    } else {
                        false
                    }
                })
                .collect();
            let batches: Vec<Vec<Generated>> = (lo..hi)
                .step_by(BATCH as usize)
                .collect::<Vec<u64>>()
                .into_par_iter()
                .map(|b| {
                    generate_batch(
                        cfg_ref,
                        b,
                        &flags[(b - lo) as usize..((b + BATCH).min(hi) - lo) as usize],
                    )
                })
                .collect();
            if tx.send(batches.into_iter().flatten().collect()).is_err() {
                break; // the writer failed: its error is reported below
            }
        }
        drop(tx);
        writer.join().expect("writer thread")
    })?;
    let mut summary = summary;
    gt.commit().map_err(io(&gt_path))?;
    summary.certificates = n;
    summary.elapsed = t0.elapsed();
    Ok(summary)
}

fn write_truth(gt: &mut AtomicFile, truth: &Truth, path: &Path) -> Result<(), Error> {
    let mut line = serde_json::to_vec(truth).expect("serialisable");
    line.push(b'\n');
    gt.write_all(&line).map_err(io(path))
}

/// Where generated certificates go, in order.
struct Sink {
    format: OutputFormat,
    out: PathBuf,
    /// The open writer, its path relative to `out`, and (extract) the day it holds (None:
    /// the full extract).
    writer: Option<(Writer, PathBuf)>,
    day: Option<i64>,
    /// Extract: (day, index) of the status updates the deltas carry.
    updates: Vec<(i64, u64)>,
}

impl Sink {
    fn new(format: OutputFormat, out: &Path, cfg: &Config) -> Result<Sink, Error> {
        let (rel, day) = match format {
            OutputFormat::DerTree | OutputFormat::PemTree => (PathBuf::from("certs"), None),
            OutputFormat::Pem => (PathBuf::from("certificates.pem"), None),
            OutputFormat::Der => (PathBuf::from("certificates.der"), None),
            OutputFormat::Extract => (
                PathBuf::from(format!(
                    "extract/full-{}.csv",
                    Date::from_days(cfg.cutoff).compact()
                )),
                None,
            ),
        };
        let mut sink = Sink {
            format,
            out: out.to_path_buf(),
            writer: None,
            day,
            updates: Vec::new(),
        };
        sink.open(&rel)?;
        Ok(sink)
    }

    fn open(&mut self, rel: &Path) -> Result<(), Error> {
        let path = self.out.join(rel);
        let w = Writer::create(self.format, &path).map_err(io(&path))?;
        self.writer = Some((w, rel.to_path_buf()));
        Ok(())
    }

    fn close(&mut self, summary: &mut SimSummary) -> Result<(), Error> {
        if let Some((w, rel)) = self.writer.take() {
            let path = self.out.join(&rel);
            w.finish().map_err(io(&path))?;
            summary
                .outputs
                .push(rel.to_string_lossy().replace('\\', "/"));
        }
        Ok(())
    }

    /// Writes one record with `meta` (the metadata as of this file) and returns where.
    fn write(
        &mut self,
        g: &Generated,
        meta: &smki_repo::Metadata,
    ) -> Result<(String, usize, Vec<u8>), Error> {
        let format = self.format;
        let (w, rel) = self.writer.as_mut().expect("open writer");
        let path = self.out.join(&*rel);
        let tree_rel = format!("{}.{}", g.rel, format.extension());
        let (written, hashed) = if g.unreadable.is_some() {
            let bytes = render_unreadable(format, g, meta);
            let as_read = as_read(format, &bytes);
            (
                w.write_raw(Some(Path::new(&tree_rel)), &bytes)
                    .map_err(io(&path))?,
                as_read,
            )
        } else {
            let rec = Record {
                locator: smki_repo::Locator {
                    file: tree_rel.as_str().into(),
                    record: 0,
                    line: None,
                    offset: 0,
                },
                der: g.der.clone(),
                meta: Some(meta.clone()),
            };
            (
                w.write_at(Some(Path::new(&tree_rel)), &rec)
                    .map_err(io(&path))?,
                g.der.clone(),
            )
        };
        let file = if format.is_tree() {
            format!("{}/{}", rel.to_string_lossy(), written.file)
        } else {
            rel.to_string_lossy().into_owned()
        };
        Ok((file.replace('\\', "/"), written.record, hashed))
    }

    /// (`as_read` is below: the bytes a reader yields for an unreadable record.)
    fn record_truth(
        g: &Generated,
        file: String,
        record: usize,
        hashed: &[u8],
        gt: &mut AtomicFile,
        gt_path: &Path,
        summary: &mut SimSummary,
    ) -> Result<(), Error> {
        let mut truth = g.truth.clone();
        truth.file = file;
        truth.record = record;
        truth.sha256 = hex::encode(smki_x509::sha256(hashed));
        *summary
            .by_verdict
            .entry(truth.expected_verdict.as_str())
            .or_default() += 1;
        for d in &truth.defects {
            *summary.by_defect.entry(d.as_str()).or_default() += 1;
        }
        if let Some(i) = truth.injected {
            *summary.by_injection.entry(i.to_string()).or_default() += 1;
        }
        summary.faulty_signer += truth.faulty_signer as u64;
        write_truth(gt, &truth, gt_path)
    }

    /// Moves the extract on to the delta file of `day`, writing the empty days before it
    /// and, at the head of each delta, the status updates of that day.
    fn advance_to(
        &mut self,
        day: i64,
        cfg: &Config,
        gt: &mut AtomicFile,
        gt_path: &Path,
        summary: &mut SimSummary,
    ) -> Result<(), Error> {
        while self.day.is_none_or(|d| d < day) {
            let next = self.day.map_or(cfg.cutoff + 1, |d| d + 1);
            self.close(summary)?;
            self.open(Path::new(&format!(
                "extract/delta-{}.csv",
                Date::from_days(next).compact()
            )))?;
            self.day = Some(next);
            // Earlier certificates whose status changes on `next`: regenerated (pure
            // functions of the index; never affected by the faulty signer, see
            // `Plan::eligible`) and written with their new status.
            let regenerated: Vec<Generated> = self
                .updates
                .iter()
                .filter(|&&(d, _)| d == next)
                .map(|&(_, i)| generate(cfg, i, false))
                .collect();
            for g in regenerated {
                let (file, record, hashed) = self.write(&g, &g.meta.clone())?;
                Self::record_truth(&g, file, record, &hashed, gt, gt_path, summary)?;
                summary.status_updates += 1;
            }
        }
        Ok(())
    }

    fn put(
        &mut self,
        g: Generated,
        cfg: &Config,
        gt: &mut AtomicFile,
        gt_path: &Path,
        summary: &mut SimSummary,
    ) -> Result<(), Error> {
        if self.format == OutputFormat::Extract && g.plan_day > cfg.cutoff {
            self.advance_to(g.plan_day, cfg, gt, gt_path, summary)?;
        }
        if self.format == OutputFormat::Extract && g.update_day.is_some() {
            // The full extract shows the device still in storage; its delta row (and its
            // ground truth line) comes with the update.
            let mut meta = g.meta.clone();
            meta.status = Some("N".into());
            meta.lifecycle = Some(Lifecycle::InStorage.as_str().into());
            self.write(&g, &meta)?;
            return Ok(());
        }
        let (file, record, hashed) = self.write(&g, &g.meta)?;
        Self::record_truth(&g, file, record, &hashed, gt, gt_path, summary)
    }

    fn finish(
        mut self,
        cfg: &Config,
        gt: &mut AtomicFile,
        gt_path: &Path,
        summary: &mut SimSummary,
    ) -> Result<(), Error> {
        if self.format == OutputFormat::Extract && cfg.end > cfg.cutoff {
            self.advance_to(cfg.end, cfg, gt, gt_path, summary)?;
        }
        self.close(summary)
    }
}

/// What a reader yields for the bytes of an unreadable record, as `scan` hashes it: the DER
/// when the bytes still frame a record (which then fails to split as a certificate), else the
/// bad record's bytes as they stand in the file.
fn as_read(format: OutputFormat, bytes: &[u8]) -> Vec<u8> {
    let framed = if format == OutputFormat::Extract {
        [smki_repo::EXTRACT_HEADER.as_bytes(), b"\n", bytes].concat()
    } else {
        bytes.to_vec()
    };
    match smki_repo::parse_buffer("unreadable", &framed)
        .into_iter()
        .next()
    {
        Some(Ok(rec)) => rec.der,
        Some(Err(e)) => e.raw.unwrap_or_else(|| bytes.to_vec()),
        None => bytes.to_vec(),
    }
}
