//! `smki serve --db PATH --listen ADDR`: the repository service (docs/service.md).
use anyhow::{bail, Context};
use smki_serve::{Issuance, Keys, Options, Role, BOXED_TEST_KEY};
use smki_store::{Day, Store};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The store (`smki repo load` makes it): a SQLite file, or a PostgreSQL database
    /// (`postgres://USER@HOST:PORT/DB`).
    #[arg(long, value_name = "PATH|URL")]
    db: String,
    /// Address and port to listen on (port 0: any free port, printed on stderr). A
    /// non-loopback address needs --keys.
    #[arg(long, default_value = "127.0.0.1:8083")]
    listen: SocketAddr,
    /// API keys: one a line, `ROLE SHA256 [NAME]` (role reader, operator or approver; the
    /// key's SHA-256 as `printf %s KEY | sha256sum` prints it, never the key). Every request
    /// but /health must then present a key (?apikey=, X-API-Key or Authorization: Bearer).
    #[arg(long, value_name = "FILE")]
    keys: Option<PathBuf>,
    /// Also accept DCC Boxed's published test key (the one its client sends) as a reader:
    /// for local testing with the DCC's client.
    #[arg(long)]
    boxed_compat: bool,
    /// A living repository: keep issuing RATE new certificates a second (simulated, in
    /// DS + KA pairs, examined and stored) and moving device certificates' statuses
    /// (P->I, N->I, I->N, I->R), each change recorded on the simulated day it happens.
    #[arg(long, value_name = "RATE")]
    simulate_issuance: Option<f64>,
    /// Status moves a second (default: a tenth of --simulate-issuance).
    #[arg(long, value_name = "RATE", requires = "simulate_issuance")]
    sim_moves: Option<f64>,
    /// Real seconds a simulated day lasts (default 86400: a day a day).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 86_400.0,
        requires = "simulate_issuance"
    )]
    sim_day_seconds: f64,
    /// The first simulated day (default: the day after the store's last change).
    #[arg(long, value_name = "DAY", requires = "simulate_issuance", value_parser = super::repo::parse_day)]
    sim_start: Option<Day>,
    /// The simulation's seed: the same as `smki simulate --seed` made the store's
    /// repository with, for the same PKI.
    #[arg(
        long,
        value_name = "SEED",
        default_value_t = 1,
        requires = "simulate_issuance"
    )]
    sim_seed: u64,
    /// Share of new certificates signed by the faulty 2018 signer.
    #[arg(
        long,
        value_name = "RATE",
        default_value_t = 0.04,
        requires = "simulate_issuance"
    )]
    sim_defect_rate: f64,
    /// Inject another defect into new certificates: NAME=RATE (repeatable), as `smki
    /// simulate --inject` (not UNREADABLE).
    #[arg(long = "sim-inject", value_name = "NAME=RATE", value_parser = super::simulate::parse_inject, requires = "simulate_issuance")]
    sim_inject: Vec<(String, f64)>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !args.listen.ip().is_loopback() && args.keys.is_none() {
        bail!(
            "--listen {}: not a loopback address, and no --keys: a service reachable from other machines must require API keys",
            args.listen
        );
    }
    let mut keys = args.keys.as_deref().map(Keys::load).transpose()?;
    if args.boxed_compat {
        keys.get_or_insert_with(Keys::default)
            .add_key(BOXED_TEST_KEY, Role::Reader);
    }
    super::existing_store(&args.db)?;
    let store = Store::open(&args.db)?;
    let shown = smki_store::shown(&args.db);
    let stats = store.stats()?;
    let access = match &keys {
        Some(_) => "API keys required",
        None => "no API keys (loopback only)",
    };
    let issuance = args.simulate_issuance.map(|rate| {
        let mut i = Issuance::new(rate, |m| crate::output::note(format_args!("smki: {m}")));
        i.moves = args.sim_moves.unwrap_or(rate / 10.0);
        i.day_seconds = args.sim_day_seconds;
        i.start = args.sim_start.clone();
        i.live.seed = args.sim_seed;
        i.live.defect_rate = args.sim_defect_rate;
        i.live.inject = args.sim_inject.clone();
        // After the indices of the simulated repository the store was loaded from.
        i.live.first_index = stats.certificates;
        i
    });
    let lived = smki_serve::serve(
        store,
        args.listen,
        Options::with_keys(keys).with_issuance(issuance),
        |addr| {
            crate::output::note(format_args!(
                "smki: serving {} certificates from {} on http://{addr} ({access})",
                stats.certificates, shown
            ));
        },
    )
    .with_context(|| format!("serving on {}", args.listen))?;
    if let Some((issued, moved)) = lived {
        crate::output::note(format_args!(
            "smki: stopped: {issued} certificates issued, {moved} status moves"
        ));
    }
    Ok(ExitCode::SUCCESS)
}
