//! The OBJECT IDENTIFIERs the workspace names, in one table: each one's ASN.1 name, dotted
//! text and DER contents octets, written once. The parser compares OIDs by their octets
//! ([`Oid::from_der`], a `match` on them) and turns them into text only to keep them; the
//! profile lints compare the kept text ([`Oid::text`]); the simulator and the first pass of a
//! scan take the octets ([`Oid::der`]). A test checks every entry's octets against its text
//! with [`smki_der::oid_text`].
//!
//! ```text
//! OBJECT IDENTIFIER contents (X.690 8.19): subidentifiers in base 128, bit 8 set on every
//! octet but the last of each; the first is X * 40 + Y for the first two arcs X.Y.
//! ```
//!
//! The tests keep their own spellings on purpose (an independent check of these).
use smki_der::oid_text;

/// Builds [`Oid`] and its methods from the table below, so that each OID is spelt once.
macro_rules! oid_table {
    ($($(#[doc = $doc:literal])* $variant:ident = $name:literal, $text:literal, [$($byte:literal),+];)+) => {
        /// An OBJECT IDENTIFIER the workspace names (the table in this module).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Oid {
            $($(#[doc = $doc])* $variant,)+
        }

        impl Oid {
            /// Every entry, in table order.
            pub const ALL: &'static [Oid] = &[$(Oid::$variant),+];

            /// The ASN.1 name (`id-ce-keyUsage`).
            pub const fn name(self) -> &'static str {
                match self {
                    $(Oid::$variant => $name,)+
                }
            }

            /// The dotted text (`2.5.29.15`).
            pub const fn text(self) -> &'static str {
                match self {
                    $(Oid::$variant => $text,)+
                }
            }

            /// The contents octets, DER (`55 1d 0f`: what follows the tag and length).
            pub const fn der(self) -> &'static [u8] {
                match self {
                    $(Oid::$variant => &[$($byte),+],)+
                }
            }

            /// The entry whose contents octets these are.
            #[inline]
            pub fn from_der(der: &[u8]) -> Option<Oid> {
                match der {
                    $([$($byte),+] => Some(Oid::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

oid_table! {
    // Attribute types of names (X.520).
    /// id-at-commonName (CN)
    CommonName = "id-at-commonName", "2.5.4.3", [0x55, 0x04, 0x03];
    /// id-at-countryName (C)
    CountryName = "id-at-countryName", "2.5.4.6", [0x55, 0x04, 0x06];
    /// id-at-organizationName (O)
    OrganizationName = "id-at-organizationName", "2.5.4.10", [0x55, 0x04, 0x0a];
    /// id-at-organizationalUnitName (OU; an SMKI organisation's remote-party role)
    OrganizationalUnitName = "id-at-organizationalUnitName", "2.5.4.11", [0x55, 0x04, 0x0b];
    /// id-at-uniqueIdentifier (x500UniqueIdentifier; an SMKI organisation's EUI-64)
    UniqueIdentifier = "id-at-uniqueIdentifier", "2.5.4.45", [0x55, 0x04, 0x2d];

    // Certificate extensions (RFC 5280 section 4.2.1).
    /// id-ce-subjectKeyIdentifier
    SubjectKeyIdentifier = "id-ce-subjectKeyIdentifier", "2.5.29.14", [0x55, 0x1d, 0x0e];
    /// id-ce-keyUsage
    KeyUsage = "id-ce-keyUsage", "2.5.29.15", [0x55, 0x1d, 0x0f];
    /// id-ce-subjectAltName
    SubjectAltName = "id-ce-subjectAltName", "2.5.29.17", [0x55, 0x1d, 0x11];
    /// id-ce-issuerAltName
    IssuerAltName = "id-ce-issuerAltName", "2.5.29.18", [0x55, 0x1d, 0x12];
    /// id-ce-basicConstraints
    BasicConstraints = "id-ce-basicConstraints", "2.5.29.19", [0x55, 0x1d, 0x13];
    /// id-ce-certificatePolicies
    CertificatePolicies = "id-ce-certificatePolicies", "2.5.29.32", [0x55, 0x1d, 0x20];
    /// id-ce-cRLDistributionPoints
    CrlDistributionPoints = "id-ce-cRLDistributionPoints", "2.5.29.31", [0x55, 0x1d, 0x1f];
    /// id-ce-authorityKeyIdentifier
    AuthorityKeyIdentifier = "id-ce-authorityKeyIdentifier", "2.5.29.35", [0x55, 0x1d, 0x23];
    /// id-ce-extKeyUsage
    ExtKeyUsage = "id-ce-extKeyUsage", "2.5.29.37", [0x55, 0x1d, 0x25];
    /// id-pe-authorityInfoAccess (RFC 5280 section 4.2.2.1)
    AuthorityInfoAccess = "id-pe-authorityInfoAccess", "1.3.6.1.5.5.7.1.1",
        [0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01];

    // otherName types (RFC 4108 section 5).
    /// id-on-hardwareModuleName
    HardwareModuleName = "id-on-hardwareModuleName", "1.3.6.1.5.5.7.8.4",
        [0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x08, 0x04];

    // Algorithms (RFC 5480, RFC 5758).
    /// id-ecPublicKey
    EcPublicKey = "id-ecPublicKey", "1.2.840.10045.2.1", [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    /// secp256r1 (prime256v1, P-256)
    Secp256r1 = "secp256r1", "1.2.840.10045.3.1.7",
        [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    /// ecdsa-with-SHA256
    EcdsaWithSha256 = "ecdsa-with-SHA256", "1.2.840.10045.4.3.2",
        [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    /// ecdsa-with-SHA224 (RFC 5758)
    EcdsaWithSha224 = "ecdsa-with-SHA224", "1.2.840.10045.4.3.1",
        [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x01];
    /// ecdsa-with-SHA384 (RFC 5758)
    EcdsaWithSha384 = "ecdsa-with-SHA384", "1.2.840.10045.4.3.3",
        [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
    /// ecdsa-with-SHA512 (RFC 5758)
    EcdsaWithSha512 = "ecdsa-with-SHA512", "1.2.840.10045.4.3.4",
        [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];
    /// ecdsa-with-SHA1 (RFC 3279)
    EcdsaWithSha1 = "ecdsa-with-SHA1", "1.2.840.10045.4.1",
        [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01];
    /// secp384r1 (P-384)
    Secp384r1 = "secp384r1", "1.3.132.0.34", [0x2b, 0x81, 0x04, 0x00, 0x22];
    /// secp521r1 (P-521)
    Secp521r1 = "secp521r1", "1.3.132.0.35", [0x2b, 0x81, 0x04, 0x00, 0x23];
    /// sha1WithRSAEncryption (RFC 3279)
    Sha1WithRsaEncryption = "sha1WithRSAEncryption", "1.2.840.113549.1.1.5",
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05];
    /// sha256WithRSAEncryption (RFC 4055)
    Sha256WithRsaEncryption = "sha256WithRSAEncryption", "1.2.840.113549.1.1.11",
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
    /// sha384WithRSAEncryption (RFC 4055)
    Sha384WithRsaEncryption = "sha384WithRSAEncryption", "1.2.840.113549.1.1.12",
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
    /// sha512WithRSAEncryption (RFC 4055)
    Sha512WithRsaEncryption = "sha512WithRSAEncryption", "1.2.840.113549.1.1.13",
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
    /// id-RSASSA-PSS (RFC 4055)
    RsassaPss = "id-RSASSA-PSS", "1.2.840.113549.1.1.10",
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
    /// id-dsa-with-sha1 (RFC 3279)
    DsaWithSha1 = "id-dsa-with-sha1", "1.2.840.10040.4.3",
        [0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x03];
    /// id-Ed25519 (RFC 8410)
    Ed25519 = "id-Ed25519", "1.3.101.112", [0x2b, 0x65, 0x70];
    /// id-Ed448 (RFC 8410)
    Ed448 = "id-Ed448", "1.3.101.113", [0x2b, 0x65, 0x71];

    // SMKI (GBCS), as in the DCC test certificates.
    /// The hwType of an SMKI device's hardwareModuleName.
    SmkiHwType = "smki-hwType", "1.2.826.0.1.8641679.1.2.2.1",
        [0x2a, 0x86, 0x3a, 0x00, 0x01, 0x84, 0x8f, 0xb9, 0x0f, 0x01, 0x02, 0x02, 0x01];
    /// The certificate policy of the DCC test organisation and CA certificates.
    SmkiPolicyOrganisation = "smki-policy-organisation", "1.2.826.0.1.8641679.1.2.1.4",
        [0x2a, 0x86, 0x3a, 0x00, 0x01, 0x84, 0x8f, 0xb9, 0x0f, 0x01, 0x02, 0x01, 0x04];
    /// The certificate policy of the DCC test device certificates (device CA E357).
    SmkiPolicyDevice = "smki-policy-device", "1.2.826.0.1.1800000.1.2.1.4",
        [0x2a, 0x86, 0x3a, 0x00, 0x01, 0xed, 0xee, 0x40, 0x01, 0x02, 0x01, 0x04];
}

/// The dotted text of an OID's contents: a table entry's text, others decoded
/// ([`oid_text`]); `None` for an invalid encoding.
#[inline]
pub(crate) fn oid_string(der: &[u8]) -> Option<String> {
    match Oid::from_der(der) {
        Some(oid) => Some(oid.text().to_string()),
        None => oid_text(der),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each entry's octets are its text, and no two entries share octets or text.
    #[test]
    fn every_entry_is_its_text() {
        for &oid in Oid::ALL {
            assert_eq!(oid_text(oid.der()).as_deref(), Some(oid.text()), "{oid:?}");
            assert_eq!(
                oid_string(oid.der()).as_deref(),
                Some(oid.text()),
                "{oid:?}"
            );
            assert_eq!(Oid::from_der(oid.der()), Some(oid), "{oid:?}");
            let same_text = Oid::ALL.iter().filter(|o| o.text() == oid.text()).count();
            let same_name = Oid::ALL.iter().filter(|o| o.name() == oid.name()).count();
            assert_eq!((same_text, same_name), (1, 1), "{oid:?}");
        }
    }

    #[test]
    fn others_are_decoded() {
        assert_eq!(
            oid_string(&[0x55, 0x1d, 0x1e]).as_deref(),
            Some("2.5.29.30")
        );
        assert_eq!(Oid::from_der(&[0x55, 0x1d, 0x1e]), None);
        assert_eq!(oid_string(&[0x55, 0x80, 0x01]), None);
    }

    /// The signature AlgorithmIdentifiers of the view hold the table's ecdsa-with-SHA256.
    #[test]
    fn algorithm_identifiers_hold_the_table_oid() {
        let mut oid = Vec::new();
        smki_der::encode::tlv(smki_der::Tag::OID, Oid::EcdsaWithSha256.der(), &mut oid);
        let mut absent = Vec::new();
        smki_der::encode::tlv(smki_der::Tag::SEQUENCE, &oid, &mut absent);
        assert_eq!(crate::ECDSA_WITH_SHA256, absent);
        oid.extend_from_slice(&[smki_der::Tag::NULL, 0x00]);
        let mut null = Vec::new();
        smki_der::encode::tlv(smki_der::Tag::SEQUENCE, &oid, &mut null);
        assert_eq!(crate::view::ECDSA_WITH_SHA256_NULL, null);
    }
}
