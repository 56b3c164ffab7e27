//! The zero-copy split of a certificate into its three parts.
use crate::{Error, ErrorKind, Oid};
use core::ops::Range;
use smki_der::{read_header, Curve, Header, SignatureEncoding, Tag};

/// `AlgorithmIdentifier { ecdsa-with-SHA256 }` as DER (RFC 5758: parameters absent).
pub const ECDSA_WITH_SHA256: &[u8] = &[
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
];

/// The same with an explicit NULL parameter (not RFC 5758, seen in the wild).
pub const ECDSA_WITH_SHA256_NULL: &[u8] = &[
    0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x05, 0x00,
];

/// A certificate split without copying: the headers of the outer SEQUENCE and of its three
/// elements, read leniently (BER lengths are accepted here and reported by the strict walk).
#[derive(Debug, Clone)]
pub struct CertView<'a> {
    der: &'a [u8],
    pub outer: Header,
    pub tbs: Header,
    pub signature_algorithm: Header,
    pub signature_value: Header,
}

impl<'a> CertView<'a> {
    /// Splits `der` into tbsCertificate, signatureAlgorithm and signatureValue. Fails (with
    /// the byte offset) when the record is not a SEQUENCE of a SEQUENCE, a SEQUENCE and a
    /// BIT STRING, exactly filling the record.
    pub fn split(der: &'a [u8]) -> Result<CertView<'a>, Error> {
        let outer = read_header(der, 0, 0).map_err(Error::der)?;
        expect(&outer, Tag::SEQUENCE, "Certificate")?;
        if outer.end < der.len() {
            return Err(Error {
                kind: ErrorKind::TrailingData(der.len() - outer.end),
                position: outer.end,
            });
        }
        let mut pos = outer.content.start;
        let mut next = |name: &'static str, tag: u8| -> Result<Header, Error> {
            if pos >= outer.content.end {
                return Err(Error {
                    kind: ErrorKind::Missing(name),
                    position: pos,
                });
            }
            let h = read_header(&der[..outer.content.end], pos, 0).map_err(Error::der)?;
            expect(&h, tag, name)?;
            pos = h.end;
            Ok(h)
        };
        let tbs = next("tbsCertificate", Tag::SEQUENCE)?;
        let signature_algorithm = next("signatureAlgorithm", Tag::SEQUENCE)?;
        let signature_value = next("signatureValue", Tag::BIT_STRING)?;
        if pos < outer.content.end {
            return Err(Error {
                kind: ErrorKind::ExtraElement,
                position: pos,
            });
        }
        Ok(CertView {
            der,
            outer,
            tbs,
            signature_algorithm,
            signature_value,
        })
    }

    /// The whole record.
    pub fn der(&self) -> &'a [u8] {
        self.der
    }
    fn slice(&self, r: Range<usize>) -> &'a [u8] {
        &self.der[r]
    }
    /// The tbsCertificate element as signed (header included).
    pub fn tbs_bytes(&self) -> &'a [u8] {
        self.slice(self.tbs.element())
    }
    /// The signatureAlgorithm element.
    pub fn signature_algorithm_bytes(&self) -> &'a [u8] {
        self.slice(self.signature_algorithm.element())
    }
    /// The signatureValue BIT STRING element.
    pub fn signature_value_bytes(&self) -> &'a [u8] {
        self.slice(self.signature_value.element())
    }
    /// Is the outer signature algorithm ecdsa-with-SHA256? Parameters must be absent
    /// (RFC 5758); a NULL is tolerated here (some DCC Boxed certificates carry one) and left
    /// to the profile lints.
    pub fn is_ecdsa_with_sha256(&self) -> bool {
        let alg = self.signature_algorithm_bytes();
        alg == ECDSA_WITH_SHA256 || alg == ECDSA_WITH_SHA256_NULL
    }
    /// The signature algorithm the signatureAlgorithm names (its OID; the parameters are
    /// judged by the profile lints).
    pub fn signature_algorithm(&self) -> SignatureAlgorithm {
        let alg = self.signature_algorithm_bytes();
        let oid = read_header(alg, 0, 0)
            .ok()
            .and_then(|seq| read_header(&alg[..seq.content.end], seq.content.start, 0).ok())
            .filter(|h| h.tag == Tag::OID)
            .map(|h| &alg[h.content]);
        match oid.map(|o| (o, Oid::from_der(o))) {
            Some((_, Some(oid))) if SignatureAlgorithm::ecdsa_hash(oid).is_some() => {
                SignatureAlgorithm::Ecdsa(oid)
            }
            Some((_, Some(oid))) => SignatureAlgorithm::Other(oid.name().to_string()),
            Some((der, None)) => SignatureAlgorithm::Other(
                smki_der::oid_text(der).unwrap_or_else(|| "an invalid OID".into()),
            ),
            None => SignatureAlgorithm::Other("an unreadable AlgorithmIdentifier".into()),
        }
    }
    /// Lenient analysis of the signatureValue as a P-256 ECDSA-Sig-Value (offsets within
    /// the record).
    pub fn analyse_signature(&self) -> SignatureEncoding {
        self.analyse_signature_on(Curve::P256)
    }
    /// [`CertView::analyse_signature`] with r and s judged against `curve`'s order.
    pub fn analyse_signature_on(&self, curve: Curve) -> SignatureEncoding {
        smki_der::analyse_signature_on(
            self.signature_value_bytes(),
            self.signature_value.offset,
            curve,
        )
    }
    /// The certificate with its signatureValue replaced by the canonical encoding of (r, s):
    /// tbsCertificate and signatureAlgorithm are copied byte for byte, the outer SEQUENCE
    /// gets a DER length.
    pub fn reencoded(&self, r: &[u8; 32], s: &[u8; 32]) -> Vec<u8> {
        smki_der::encode::certificate(
            self.tbs_bytes(),
            self.signature_algorithm_bytes(),
            &smki_der::encode::signature_bit_string(r, s),
        )
    }
    /// Would [`CertView::reencoded`] leave these bytes as they are? True when what it
    /// rewrites is already DER: the outer SEQUENCE's length, the signatureValue BIT STRING's
    /// length, and the ECDSA-Sig-Value inside (`sig`, this view's [`analyse_signature`]).
    ///
    /// [`analyse_signature`]: CertView::analyse_signature
    pub fn reencoding_changes_nothing(&self, sig: &SignatureEncoding) -> bool {
        sig.is_canonical() && self.outer.is_der_length() && self.signature_value.is_der_length()
    }
    /// The extensions of the tbsCertificate, read leniently and cheaply: only headers are
    /// read (each element before `[3]` is skipped whole, each extension's value is read
    /// only when asked for), and the walk ends quietly at the first element that cannot be
    /// read. For the certificate's fields as they are judged, strictly, see [`Fields`].
    ///
    /// [`Fields`]: crate::Fields
    pub fn extensions(&self) -> Extensions<'a> {
        Extensions::in_tbs(self.der, &self.tbs)
    }
    /// The keyIdentifier of the authorityKeyIdentifier extension, read leniently (see
    /// [`CertView::extensions`]; the strict reading is `Fields::authority_key_id`).
    pub fn authority_key_id(&self) -> Option<&'a [u8]> {
        self.extensions()
            .find(|e| e.oid == Oid::AuthorityKeyIdentifier.der())?
            .authority_key_id()
    }
}

/// What a certificate's signatureAlgorithm names.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// ECDSA with a hash (`ecdsa-with-SHA256`, ...: RFC 5758, RFC 3279): the signatureValue
    /// holds an `ECDSA-Sig-Value`.
    Ecdsa(Oid),
    /// Any other algorithm (RSA, DSA, EdDSA, ...): its ASN.1 name when the OID table knows
    /// it, else its dotted text. Its signatureValue is not an `ECDSA-Sig-Value` and is
    /// never analysed as one.
    Other(String),
}

impl SignatureAlgorithm {
    /// The hash of an ECDSA signature algorithm (`SHA-256`), `None` for other OIDs.
    fn ecdsa_hash(oid: Oid) -> Option<&'static str> {
        match oid {
            Oid::EcdsaWithSha1 => Some("SHA-1"),
            Oid::EcdsaWithSha224 => Some("SHA-224"),
            Oid::EcdsaWithSha256 => Some("SHA-256"),
            Oid::EcdsaWithSha384 => Some("SHA-384"),
            Oid::EcdsaWithSha512 => Some("SHA-512"),
            _ => None,
        }
    }
    /// The name of the algorithm (`ecdsa-with-SHA384`, `sha256WithRSAEncryption`,
    /// `1.2.3.4`).
    pub fn name(&self) -> &str {
        match self {
            SignatureAlgorithm::Ecdsa(oid) => oid.name(),
            SignatureAlgorithm::Other(name) => name,
        }
    }
    /// Is this an ECDSA algorithm (whatever the hash)?
    pub fn is_ecdsa(&self) -> bool {
        matches!(self, SignatureAlgorithm::Ecdsa(_))
    }
}

/// The identifier octet of `[3] EXPLICIT Extensions` in a tbsCertificate.
const EXTENSIONS: u8 = 0xa3;

/// The extensions of a tbsCertificate, in order: see [`CertView::extensions`].
#[derive(Debug, Clone)]
pub struct Extensions<'a> {
    /// The record up to the end of the extensions (offsets are the record's).
    der: &'a [u8],
    /// Where the next extension starts.
    pos: usize,
}

impl<'a> Extensions<'a> {
    /// The extensions of the certificate `der`, read as [`CertView::extensions`] reads
    /// them but without splitting the certificate first (of what comes before them, only
    /// the headers of the Certificate, the tbsCertificate and its elements are read): what
    /// a pass over every record of a dump can afford.
    #[inline]
    pub fn of_certificate(der: &'a [u8]) -> Extensions<'a> {
        let tbs = match read_header(der, 0, 0) {
            Ok(outer) if outer.tag == Tag::SEQUENCE => {
                read_header(&der[..outer.content.end], outer.content.start, 0)
            }
            _ => return Extensions::none(der),
        };
        match tbs {
            Ok(tbs) if tbs.tag == Tag::SEQUENCE => Extensions::in_tbs(der, &tbs),
            _ => Extensions::none(der),
        }
    }

    fn none(der: &'a [u8]) -> Extensions<'a> {
        Extensions {
            der: &der[..0],
            pos: 0,
        }
    }

    /// The extensions of the tbsCertificate `tbs` of `der`.
    #[inline]
    fn in_tbs(der: &'a [u8], tbs: &Header) -> Extensions<'a> {
        let elements = &der[..tbs.content.end];
        let mut pos = tbs.content.start;
        while pos < elements.len() {
            let Ok(h) = read_header(elements, pos, 0) else {
                break;
            };
            if h.tag == EXTENSIONS {
                // [3] EXPLICIT Extensions, Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension
                return match read_header(&der[..h.content.end], h.content.start, 0) {
                    Ok(seq) if seq.tag == Tag::SEQUENCE => Extensions {
                        der: &der[..seq.content.end],
                        pos: seq.content.start,
                    },
                    _ => Extensions::none(der),
                };
            }
            pos = h.end;
        }
        Extensions::none(der)
    }
}

impl<'a> Iterator for Extensions<'a> {
    type Item = Extension<'a>;

    // Inlined where the extensions are walked: the scan's first pass walks those of every
    // record, and a call per extension cost it a third more (callgrind).
    #[inline(always)]
    fn next(&mut self) -> Option<Extension<'a>> {
        if self.pos < self.der.len() {
            // Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER,
            //                          critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
            if let Ok(ext) = read_header(self.der, self.pos, 0) {
                let der = &self.der[..ext.content.end];
                match read_header(der, ext.content.start, 0) {
                    Ok(id) if ext.tag == Tag::SEQUENCE && id.tag == Tag::OID => {
                        self.pos = ext.end;
                        return Some(Extension {
                            oid: &der[id.content],
                            der,
                            rest: id.end,
                        });
                    }
                    _ => {}
                }
            }
            self.pos = self.der.len();
        }
        None
    }
}

/// One extension of a [`CertView`], read leniently.
#[derive(Debug, Clone)]
pub struct Extension<'a> {
    /// The record up to the end of this extension (offsets are the record's).
    der: &'a [u8],
    /// The extnID's contents ([`Oid::from_der`] tells which).
    pub oid: &'a [u8],
    /// Where what follows the extnID starts: critical, if there, and extnValue.
    rest: usize,
}

impl<'a> Extension<'a> {
    /// The contents of extnValue (the DER of the extension's value), if readable.
    pub fn value(&self) -> Option<&'a [u8]> {
        self.value_header().map(|h| self.slice(h.content))
    }
    #[inline]
    fn value_header(&self) -> Option<Header> {
        let mut h = read_header(self.der, self.rest, 0).ok()?;
        if h.tag == Tag::BOOLEAN {
            h = read_header(self.der, h.end, 0).ok()?;
        }
        (h.tag == Tag::OCTET_STRING).then_some(h)
    }
    fn slice(&self, r: Range<usize>) -> &'a [u8] {
        &self.der[r]
    }
    /// Read as an authorityKeyIdentifier, its keyIdentifier:
    /// ```text
    /// AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] KeyIdentifier OPTIONAL, ... }
    /// ```
    #[inline]
    pub fn authority_key_id(&self) -> Option<&'a [u8]> {
        let value = self.value_header()?;
        let seq = read_header(&self.der[..value.content.end], value.content.start, 0).ok()?;
        if seq.tag != Tag::SEQUENCE {
            return None;
        }
        let key_id = read_header(&self.der[..seq.content.end], seq.content.start, 0).ok()?;
        (key_id.tag == KEY_IDENTIFIER).then(|| self.slice(key_id.content))
    }
}

/// The identifier octet of `keyIdentifier [0] IMPLICIT OCTET STRING` in an
/// AuthorityKeyIdentifier.
const KEY_IDENTIFIER: u8 = 0x80;

fn expect(h: &Header, tag: u8, element: &'static str) -> Result<(), Error> {
    if h.tag != tag {
        return Err(Error {
            kind: ErrorKind::WrongTag {
                element,
                expected: tag,
                found: h.tag,
            },
            position: h.offset,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Vec<u8> {
        let sig = smki_der::encode::signature_bit_string(&[1; 32], &[0x80; 32]);
        smki_der::encode::certificate(&[0x30, 0x00], ECDSA_WITH_SHA256, &sig)
    }

    #[test]
    fn split_and_reencode() {
        let der = tiny();
        let v = CertView::split(&der).unwrap();
        assert_eq!(v.tbs_bytes(), &[0x30, 0x00]);
        assert!(v.is_ecdsa_with_sha256());
        assert!(v.analyse_signature().is_canonical());
        assert_eq!(v.reencoded(&[1; 32], &[0x80; 32]), der);
    }

    /// `reencoding_changes_nothing` says exactly when `reencoded` gives back the same bytes.
    #[test]
    fn reencoding_changes_nothing_iff_the_bytes_stay() {
        let (r, s) = ([1; 32], [0x80; 32]);
        let der = tiny();
        let v = CertView::split(&der).unwrap();
        let body = &der[2..];
        // The outer length in the long form.
        let long_outer = [&[0x30, 0x81, body.len() as u8][..], body].concat();
        // The signatureValue BIT STRING's length in the long form.
        let bits = v.signature_value_bytes();
        let long_bits = [&[0x03, 0x81][..], &bits[1..]].concat();
        let mut inner = [v.tbs_bytes(), v.signature_algorithm_bytes()].concat();
        inner.extend(&long_bits);
        let long_bit_string = smki_der::encode::certificate(&inner, &[], &[]);
        // A non-canonical ECDSA-Sig-Value: the 2018 fixed-width encoding of an r below
        // 2^248 (a redundant leading zero).
        let mut small_r = r;
        small_r[0] = 0;
        let fixed = smki_der::encode::certificate(
            v.tbs_bytes(),
            ECDSA_WITH_SHA256,
            &smki_der::encode::faulty_fixed_width_bit_string(&small_r, &s),
        );
        for (name, der, unchanged) in [
            ("canonical", der.clone(), true),
            ("outer long form", long_outer, false),
            ("BIT STRING long form", long_bit_string, false),
            ("fixed-width integers", fixed, false),
        ] {
            let v = CertView::split(&der).unwrap();
            let sig = v.analyse_signature();
            assert_eq!(v.reencoding_changes_nothing(&sig), unchanged, "{name}");
            let (r, s) = sig.rs().unwrap();
            assert_eq!(v.reencoded(&r, &s) == der, unchanged, "{name}");
        }
    }

    #[test]
    fn split_errors_name_the_place() {
        let der = tiny();
        let mut trailing = der.clone();
        trailing.push(0);
        assert_eq!(
            CertView::split(&trailing).unwrap_err().kind,
            ErrorKind::TrailingData(1)
        );
        let mut wrong = der.clone();
        let sig_at = 2 + 2 + ECDSA_WITH_SHA256.len();
        wrong[sig_at] = 0x04;
        let e = CertView::split(&wrong).unwrap_err();
        assert_eq!(e.position, sig_at);
        assert!(matches!(
            e.kind,
            ErrorKind::WrongTag {
                element: "signatureValue",
                ..
            }
        ));
        let e = CertView::split(&der[..10]).unwrap_err();
        assert!(matches!(
            e.kind,
            ErrorKind::Der(smki_der::ErrorKind::Truncated { .. })
        ));
    }
}
