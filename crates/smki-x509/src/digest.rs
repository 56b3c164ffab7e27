//! The digests that name certificates and keys: the SHA-256 of a certificate (its
//! fingerprint) or of a tbsCertificate (what ecdsa-with-SHA256 signs), and the SMKI key
//! identifier of a public key (RFC 5280 section 4.2.1.2 method 2).

/// SHA-256 of `data`: a certificate's fingerprint, or the digest ECDSA signs for
/// ecdsa-with-SHA256 when `data` is the tbsCertificate.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}

/// The SMKI subject key identifier of a subjectPublicKey's bits, whatever they are (RFC 5280
/// section 4.2.1.2 method 2: "0100" and the least significant 60 bits of their SHA-1):
/// 8 octets.
pub fn key_id(subject_public_key: &[u8]) -> [u8; 8] {
    use sha1::Digest;
    let h = sha1::Sha1::digest(subject_public_key);
    let mut id = [0u8; 8];
    id.copy_from_slice(&h[12..20]);
    id[0] = 0x40 | (id[0] & 0x0f);
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // FIPS 180-2 "abc".
        assert_eq!(
            hex::encode(sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // SHA-1("abc") = a9993e36 4706816a ba3e2571 7850c26c 9cd0d89d: the low 8 octets
        // 7850c26c9cd0d89d, the top 4 bits replaced by 0100.
        assert_eq!(hex::encode(key_id(b"abc")), "4850c26c9cd0d89d");
    }
}
