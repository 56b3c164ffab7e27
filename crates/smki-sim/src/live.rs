//! Live issuance: new certificates, day after day, for a repository that keeps changing
//! (`smki serve --simulate-issuance`, docs/service.md).
//!
//! The same PKI, population and defects as a simulation with the same seed and start
//! ([`crate::SimOptions`]): certificate `i` is made as the simulation makes it, but issued on
//! the day asked for. Indices continue after the simulated repository's, so that serials,
//! keys and EUI-64s do not repeat. The faulty 2018 signer signs a share `defect_rate` of the
//! certificates (those of the faulty CAs: `Z1`, `E357`, `E358`), whatever the day: a living
//! repository rehearses the incident, it does not replay its dates.
use crate::gen::{generate_batch, Config};
use crate::model::{h, D_UPDATE};
use crate::{pki, validate_rates, Date, Error, Injection};
use smki_repo::Metadata;
use smki_scan::Verdict;

/// What a live issuer makes.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// The simulation's seed (the PKI's keys derive from it).
    pub seed: u64,
    /// The simulation's first issuance day (the CAs' validity derives from it).
    pub start: Date,
    /// The index of the first certificate (after the simulated repository's).
    pub first_index: u64,
    /// Share of the certificates signed by the faulty 2018 signer.
    pub defect_rate: f64,
    /// `(NAME, RATE)` as `smki simulate --inject` (not UNREADABLE: a store holds
    /// certificates).
    pub inject: Vec<(String, f64)>,
    /// Share of certificate pairs that are organisation certificates.
    pub organisation_share: f64,
}

impl Default for LiveOptions {
    fn default() -> Self {
        let sim = crate::SimOptions::default();
        LiveOptions {
            seed: sim.seed,
            start: sim.start,
            first_index: sim.count,
            defect_rate: sim.defect_rate,
            inject: Vec::new(),
            organisation_share: sim.organisation_share,
        }
    }
}

/// A certificate issued live.
#[derive(Debug, Clone)]
pub struct Issued {
    pub der: Vec<u8>,
    /// Its extract metadata as issued (status, lifecycle, role, usage, issuance day...).
    pub meta: Metadata,
    /// The verdict a correct scan reaches.
    pub expected_verdict: Verdict,
}

/// Issues certificates on demand ([`LiveIssuer::issue`]).
#[derive(Debug)]
pub struct LiveIssuer {
    cfg: Config,
    defect_rate: f64,
    next: u64,
    issued: u64,
    faulty: u64,
    draws: u64,
}

impl LiveIssuer {
    pub fn new(opts: &LiveOptions) -> Result<LiveIssuer, Error> {
        let inject = validate_rates(1, opts.defect_rate, opts.organisation_share, &opts.inject)?;
        if inject.iter().any(|(i, _)| *i == Injection::Unreadable) {
            return Err(Error::Options(
                "UNREADABLE cannot be issued live: it makes records that are not certificates, and a store holds certificates".into(),
            ));
        }
        let start = opts.start.days();
        Ok(LiveIssuer {
            cfg: Config {
                seed: opts.seed,
                count: u64::MAX,
                start,
                days: 1,
                // The faulty CAs may sign faultily on any day (see the module documentation).
                window: (i64::MIN, i64::MAX),
                cutoff: start,
                end: start,
                inject,
                hierarchy: pki::Hierarchy::new(opts.seed, opts.start),
                org_per_mille: (opts.organisation_share * 1000.0).round() as u64,
                live_day: Some(start),
            },
            defect_rate: opts.defect_rate,
            // Pairs (DS then KA) start on an even index.
            next: opts.first_index.next_multiple_of(2),
            issued: 0,
            faulty: 0,
            draws: 0,
        })
    }

    /// The CA certificates of the PKI (those a simulation writes to `cas/`).
    pub fn ca_certificates(&self) -> Vec<Vec<u8>> {
        self.cfg
            .hierarchy
            .cas
            .iter()
            .filter(|c| c.written)
            .map(|c| c.der.clone())
            .collect()
    }

    /// `pairs` subjects' certificates (a DS and a KA certificate each) issued on `day`:
    /// as new certificates are, mostly pending (in manufacturing) or not in use (in storage).
    pub fn issue(&mut self, pairs: u64, day: Date) -> Vec<Issued> {
        let day = day.days();
        self.cfg.live_day = Some(day);
        self.cfg.end = day;
        self.cfg.cutoff = day;
        let lo = self.next;
        let n = pairs * 2;
        self.next += n;
        // The faulty signer keeps to its share of all certificates issued so far.
        let affected: Vec<bool> = (lo..lo + n)
            .map(|i| {
                self.issued += 1;
                let target = (self.defect_rate * self.issued as f64).round() as u64;
                let hit = self.faulty < target && self.cfg.plan(i).eligible;
                self.faulty += u64::from(hit);
                hit
            })
            .collect();
        let mut out = Vec::with_capacity(n as usize);
        const BATCH: usize = 256;
        for (k, flags) in affected.chunks(BATCH).enumerate() {
            let first = lo + (k * BATCH) as u64;
            out.extend(
                generate_batch(&self.cfg, first, flags)
                    .into_iter()
                    .map(|g| Issued {
                        der: g.der,
                        meta: g.meta,
                        expected_verdict: g.truth.expected_verdict,
                    }),
            );
        }
        out
    }

    /// A number from the issuer's own stream (reproducible from the seed): what a caller
    /// uses to pick which certificates move status.
    pub fn draw(&mut self) -> u64 {
        self.draws += 1;
        h(self.cfg.seed, D_UPDATE + 1000, self.draws)
    }

    /// Certificates issued so far, and how many of them by the faulty signer.
    pub fn counts(&self) -> (u64, u64) {
        (self.issued, self.faulty)
    }
}
