//! `smki serve --db PATH --listen ADDR`: the repository service (docs/service.md).
use anyhow::{bail, Context};
use smki_serve::{Keys, Options, Role, BOXED_TEST_KEY};
use smki_store::Store;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The store (`smki repo load` makes it): a SQLite file.
    #[arg(long, value_name = "PATH")]
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
    let path = args.db.strip_prefix("sqlite:").unwrap_or(&args.db);
    if !args.db.contains("://") && !std::path::Path::new(path).is_file() {
        bail!(
            "--db {}: no such store (make one with smki repo load)",
            args.db
        );
    }
    let store = Store::open(&args.db)?;
    let stats = store.stats()?;
    let access = match &keys {
        Some(_) => "API keys required",
        None => "no API keys (loopback only)",
    };
    smki_serve::serve(store, args.listen, Options::with_keys(keys), |addr| {
        crate::output::note(format_args!(
            "smki: serving {} certificates from {} on http://{addr} ({access})",
            stats.certificates, args.db
        ));
    })
    .with_context(|| format!("serving on {}", args.listen))?;
    Ok(ExitCode::SUCCESS)
}
