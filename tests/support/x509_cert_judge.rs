//! x509-cert's judgement of whether a certificate is DER (tests/x509_cert_oracle.rs and
//! fuzz/fuzz_targets/x509_cert_agreement.rs): RustCrypto's `Certificate::from_der` reads
//! it, `to_der` writes it back byte for byte, and so does every extension whose value both
//! smki and x509-cert decode (to its `x509_cert::ext::pkix` type). The round trip is part
//! of the judgement because der 0.7 decodes a DEFAULT value that is present (its derive
//! reads `Option<T>` and falls back to the default) and a named BIT STRING with trailing 0
//! bits; its encoder writes both as DER (X.690 11.5, 11.2.2).
#![allow(dead_code)]

use der::{Decode, Encode};

/// x509-cert's judgement: `Ok` when it reads the certificate and its known
/// extensions and writes each back byte for byte.
pub fn x509_cert_is_der(der: &[u8]) -> Result<(), String> {
    use x509_cert::ext::pkix::*;
    let cert = x509_cert::Certificate::from_der(der).map_err(|e| format!("from_der: {e}"))?;
    round_trip_bytes("Certificate", der, cert.to_der())?;
    for e in cert.tbs_certificate.extensions.iter().flatten() {
        let v = e.extn_value.as_bytes();
        match e.extn_id.to_string().as_str() {
            "2.5.29.14" => round_trip::<SubjectKeyIdentifier>(v),
            "2.5.29.15" => round_trip::<KeyUsage>(v),
            "2.5.29.17" => round_trip::<SubjectAltName>(v),
            "2.5.29.18" => round_trip::<IssuerAltName>(v),
            "2.5.29.19" => round_trip::<BasicConstraints>(v),
            "2.5.29.32" => round_trip::<CertificatePolicies>(v),
            "2.5.29.35" => round_trip::<AuthorityKeyIdentifier>(v),
            "2.5.29.37" => round_trip::<ExtendedKeyUsage>(v),
            "2.5.29.31" => round_trip::<CrlDistributionPoints>(v),
            "1.3.6.1.5.5.7.1.1" => round_trip::<AuthorityInfoAccessSyntax>(v),
            _ => Ok(()),
        }
        .map_err(|m| format!("extension {}: {m}", e.extn_id))?;
    }
    Ok(())
}

fn round_trip<'a, T: Decode<'a> + Encode>(v: &'a [u8]) -> Result<(), String> {
    let t = T::from_der(v).map_err(|e| format!("from_der: {e}"))?;
    round_trip_bytes(std::any::type_name::<T>(), v, t.to_der())
}

fn round_trip_bytes(what: &str, input: &[u8], again: der::Result<Vec<u8>>) -> Result<(), String> {
    let again = again.map_err(|e| format!("{what}: to_der: {e}"))?;
    if again == input {
        return Ok(());
    }
    let at = input.iter().zip(&again).take_while(|(a, b)| a == b).count();
    Err(format!(
        "{what}: x509-cert writes it back differently from byte {at} ({} bytes read, {} written)",
        input.len(),
        again.len()
    ))
}
