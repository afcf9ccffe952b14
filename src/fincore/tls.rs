//! https for every client gameday builds: rustls with the `ring` provider (no system OpenSSL),
//! verifying against the system's root store through the platform verifier, plus the
//! certificates of `--ca-cert` (a PEM file), so a target with a self-signed certificate can be
//! trusted without trusting everything.
//!
//! The extra certificates are process-wide: they are set once from the settings, before any
//! client is built, and every client of the dashboard, the load and `cases validate` starts
//! from [`client_builder`].

use std::path::Path;
use std::sync::OnceLock;

static EXTRA_ROOTS: OnceLock<Vec<reqwest::Certificate>> = OnceLock::new();

/// The largest PEM file read: a bundle of a few hundred certificates is well under this.
const PEM_CAP: u64 = 1 << 20;

/// Reads the PEM certificates of `path` (one or a bundle) and trusts them, besides the
/// system's roots, for every client built afterwards. A second call keeps the first's.
pub fn trust_pem_file(path: &Path) -> Result<(), String> {
    let certificates = read_pem_file(path)?;
    let _ = EXTRA_ROOTS.set(certificates);
    Ok(())
}

/// The certificates of a PEM file, or why it cannot be used.
pub fn read_pem_file(path: &Path) -> Result<Vec<reqwest::Certificate>, String> {
    let shown = path.display();
    let metadata = std::fs::metadata(path)
        .map_err(|err| format!("cannot read the CA certificate {shown}: {err}"))?;
    if !metadata.is_file() {
        return Err(format!("the CA certificate {shown} is not a regular file"));
    }
    if metadata.len() > PEM_CAP {
        return Err(format!(
            "the CA certificate {shown} is over 1 MiB: not a PEM certificate"
        ));
    }
    let pem = std::fs::read(path)
        .map_err(|err| format!("cannot read the CA certificate {shown}: {err}"))?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|err| format!("the CA certificate {shown} is not PEM: {err}"))?;
    if certificates.is_empty() {
        return Err(format!(
            "the CA certificate {shown} holds no `BEGIN CERTIFICATE` block"
        ));
    }
    Ok(certificates)
}

/// A client builder with gameday's TLS: rustls on `ring`, the system's roots and the
/// certificates trusted by [`trust_pem_file`]. Every client must start here (tests too):
/// reqwest is built without a provider of its own and refuses to build a client before one
/// is installed.
pub fn client_builder() -> reqwest::ClientBuilder {
    let builder = rustls_builder();
    match EXTRA_ROOTS.get() {
        Some(certificates) if !certificates.is_empty() => {
            builder.tls_certs_merge(certificates.iter().cloned())
        }
        _ => builder,
    }
}

fn rustls_builder() -> reqwest::ClientBuilder {
    // reqwest is built without a provider of its own; the first client installs ours. A
    // second install fails harmlessly: one is already there.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().tls_backend_rustls()
}

/// Builds `configure(client_builder())`. Where the system has no root store to verify with
/// (a minimal container image), builds it again trusting only `--ca-cert`'s certificates:
/// plain http, all the sandbox and its provider speak between themselves, still works, and
/// an https peer fails at its request with a certificate error rather than at start.
pub fn build_client(
    configure: impl Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
) -> reqwest::Result<reqwest::Client> {
    configure(client_builder()).build().or_else(|first| {
        let extra = EXTRA_ROOTS.get().cloned().unwrap_or_default();
        configure(rustls_builder().tls_certs_only(extra))
            .build()
            .map_err(|_| first)
    })
}
