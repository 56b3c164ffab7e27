//! `smki serve --db PATH --listen ADDR`: the repository service (docs/service.md).
use anyhow::{bail, Context};
use smki_store::Store;
use std::net::SocketAddr;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The store (`smki repo load` makes it): a SQLite file.
    #[arg(long, value_name = "PATH")]
    db: String,
    /// Address and port to listen on (port 0: any free port, printed on stderr).
    #[arg(long, default_value = "127.0.0.1:8083")]
    listen: SocketAddr,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !args.listen.ip().is_loopback() {
        bail!(
            "--listen {}: not a loopback address; the service has no access control yet, so it listens on loopback only (127.0.0.1 or ::1)",
            args.listen
        );
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
    smki_serve::serve(store, args.listen, |addr| {
        crate::output::note(format_args!(
            "smki: serving {} certificates from {} on http://{addr}",
            stats.certificates, args.db
        ));
    })
    .with_context(|| format!("serving on {}", args.listen))?;
    Ok(ExitCode::SUCCESS)
}
