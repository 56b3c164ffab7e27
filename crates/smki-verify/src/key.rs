use crate::{Error, ErrorKind};

/// A P-256 public key, validated, as its 65-octet uncompressed SEC1 encoding.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; 65]);

impl core::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "PublicKey(")?;
        for b in &self.0[..9] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "...)")
    }
}

impl PublicKey {
    /// Validates an uncompressed SEC1 point (0x04 || X || Y) on P-256.
    pub fn from_sec1(bytes: &[u8]) -> Result<PublicKey, Error> {
        if bytes.len() != 65 || bytes[0] != 0x04 {
            return Err(Error {
                kind: ErrorKind::NotUncompressedPoint,
                position: 0,
            });
        }
        p256::PublicKey::from_sec1_bytes(bytes).map_err(|_| Error {
            kind: ErrorKind::NotOnCurve,
            position: 1,
        })?;
        let mut out = [0u8; 65];
        out.copy_from_slice(bytes);
        Ok(PublicKey(out))
    }
    /// The 65-octet uncompressed encoding.
    pub fn as_bytes(&self) -> &[u8; 65] {
        &self.0
    }
    /// The SMKI subject key identifier: RFC 5280 section 4.2.1.2 method 2, "0100" followed by
    /// the least significant 60 bits of the SHA-1 of the subjectPublicKey bits: 8 octets
    /// ([`smki_x509::key_id`] of the encoding).
    pub fn key_id(&self) -> [u8; 8] {
        smki_x509::key_id(&self.0)
    }
}
