pub mod inspect;

use smki_scan::Examiner;
use std::path::PathBuf;

/// Issuer options shared by the commands that verify.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct IssuerArgs {
    /// CA certificates to verify against: files, directories or bundles (repeatable).
    #[arg(long = "issuers", value_name = "PATH")]
    pub issuers: Vec<PathBuf>,
    /// Recover unknown issuer keys from signatures, pinned by the authorityKeyIdentifier
    /// (reported as recovered, never as anchors).
    #[arg(long)]
    pub recover_issuer_keys: bool,
}

impl IssuerArgs {
    /// An examiner with every CA certificate of `--issuers` registered. Unreadable issuer
    /// files are errors (exit 2): a run without its anchors would mislead.
    pub fn examiner(&self) -> Result<Examiner, String> {
        let ex = Examiner::plain(self.recover_issuer_keys);
        for path in &self.issuers {
            for rec in smki_repo::open(path) {
                let rec = rec.map_err(|e| format!("--issuers: {e}"))?;
                if let Err(e) = ex.add_issuer(&rec.der, rec.locator.to_string()) {
                    eprintln!("smki: --issuers: {}: skipped: {e}", rec.locator);
                }
            }
        }
        Ok(ex)
    }
}
