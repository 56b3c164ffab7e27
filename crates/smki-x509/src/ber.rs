//! Non-DER encodings anywhere in the certificate, named by certificate paths.
//!
//! The walk is [`smki_der::walk_with`] (the generic DER rules) under [`CertificateSchema`]:
//! what RFC 5280's ASN.1 module says beyond them, written here once.
use crate::{CertView, Oid};
use serde::Serialize;
use smki_der::{BerIssueKind, PathStep, Rule, Schema, Tag};

/// A non-DER encoding outside the signature's ECDSA-Sig-Value (`CERT_BER`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertBer {
    /// e.g. `tbsCertificate.extensions[2].extnValue`.
    pub path: String,
    /// Byte offset within the record.
    pub offset: usize,
    pub kind: BerIssueKind,
    pub detail: String,
    /// In the outer Certificate header or the signatureValue, which remediation rewrites;
    /// false inside tbsCertificate (signed: only a reissue fixes it) or signatureAlgorithm
    /// (which remediation never touches).
    pub fixed_by_reencoding: bool,
}

/// The strict DER walk of the whole record, with certificate paths. The signatureValue's
/// unused bits are left to the signature analyser (`SIG_BITSTRING_UNUSED_BITS`).
pub fn ber_issues(view: &CertView<'_>) -> Vec<CertBer> {
    let walk = smki_der::walk_with(view.der(), 0, &CertificateSchema);
    if walk.issues.is_empty() {
        return Vec::new();
    }
    let tbs_has_version = view.der().get(view.tbs.content.start) == Some(&0xa0);
    walk.issues
        .into_iter()
        .filter_map(|i| {
            let path = path_name(&i.path, tbs_has_version);
            if path == "signatureValue" && i.kind == BerIssueKind::BitStringPadding {
                return None;
            }
            let fixed_by_reencoding = i.path.get(1).is_none_or(|s| s.index == 2);
            Some(CertBer {
                path,
                offset: i.offset,
                kind: i.kind,
                detail: i.detail,
                fixed_by_reencoding,
            })
        })
        .collect()
}

/// What RFC 5280's ASN.1 module (section 4.1, and 4.2.1 for the extensions) says beyond
/// the generic DER rules, for the strict walk:
///
/// * which OCTET STRINGs hold DER: only the extnValue of an extension whose definition is
///   known (an extension in the [`Oid`] table: [`CertNode::ExtnValue`]), walked only as deep
///   as that definition goes. Every other OCTET STRING is opaque, whatever its contents
///   look like: a keyIdentifier (`KeyIdentifier ::= OCTET STRING`, in the
///   subjectKeyIdentifier and as the AKI's `[0] IMPLICIT`, primitive), the hwSerialNum of
///   a hardwareModuleName (`OCTET STRING`, RFC 4108), an unknown extension's extnValue; a
///   BIT STRING's contents (the x500UniqueIdentifier, `UniqueIdentifier ::= BIT STRING`)
///   are opaque anyway;
/// * the DEFAULT values DER leaves out (X.690 11.5):
///   ```text
///   TBSCertificate  ::=  SEQUENCE  {
///        version         [0]  EXPLICIT Version DEFAULT v1, ...
///   Version  ::=  INTEGER  {  v1(0), v2(1), v3(2)  }
///   Extension  ::=  SEQUENCE  {
///        extnID      OBJECT IDENTIFIER,
///        critical    BOOLEAN DEFAULT FALSE,
///        extnValue   OCTET STRING }
///   BasicConstraints ::= SEQUENCE {
///        cA                      BOOLEAN DEFAULT FALSE,
///        pathLenConstraint       INTEGER (0..MAX) OPTIONAL }
///   ```
/// * the BIT STRINGs with named bits, whose trailing 0 bits DER removes (X.690 11.2.2):
///   ```text
///   KeyUsage ::= BIT STRING {
///        digitalSignature        (0), ... decipherOnly (8) }
///   ```
///
/// * the one SET OF under an IMPLICIT tag, whose components DER orders as any SET OF's
///   (X.690 11.6; the generic walk assumes it of tag 0x31 only):
///   ```text
///   DistributionPointName ::= CHOICE {
///        fullName                [0]     GeneralNames,
///        nameRelativeToCRLIssuer [1]     RelativeDistinguishedName }
///   ```
///
/// Every other SET of the module is a SET OF (RelativeDistinguishedName) under tag 0x31,
/// which the generic walk orders.
#[derive(Debug, Clone, Copy, Default)]
pub struct CertificateSchema;

/// Where an element is in the certificate, as far as [`CertificateSchema`] needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertNode {
    /// The input, outside the Certificate.
    Input,
    /// `Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }`.
    Certificate,
    TbsCertificate,
    /// `[0] EXPLICIT Version DEFAULT v1`.
    Version,
    /// `[3] EXPLICIT Extensions`.
    ExtensionsWrapper,
    /// `Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension`.
    Extensions,
    /// An Extension, with its extnID once read when the definition is known.
    Extension(Option<KnownExtension>),
    /// `critical BOOLEAN DEFAULT FALSE`.
    Critical,
    /// The extnValue OCTET STRING of an extension whose definition is known: it holds the
    /// DER of one value.
    ExtnValue(KnownExtension),
    /// `BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, ... }`.
    BasicConstraints,
    /// `cA BOOLEAN DEFAULT FALSE`.
    CA,
    /// `KeyUsage ::= BIT STRING { digitalSignature (0), ... }`.
    KeyUsage,
    /// `CRLDistributionPoints ::= SEQUENCE SIZE (1..MAX) OF DistributionPoint`.
    CrlDistributionPoints,
    /// `DistributionPoint ::= SEQUENCE { distributionPoint [0] DistributionPointName
    /// OPTIONAL, ... }`.
    DistributionPoint,
    /// `distributionPoint [0] DistributionPointName` (a CHOICE, so explicitly tagged).
    DistributionPointName,
    /// `nameRelativeToCRLIssuer [1] RelativeDistinguishedName`: a SET OF under an IMPLICIT
    /// tag.
    NameRelativeToCrlIssuer,
    /// Anywhere else: the generic rules (constructed elements descended into, primitive
    /// contents opaque).
    Other,
}

/// An extension whose definition (RFC 5280 section 4.2.1) [`CertificateSchema`] knows, so
/// that its extnValue is walked. Each is an [`Oid`] table entry; the definitions of all but
/// keyUsage, basicConstraints and cRLDistributionPoints have nothing beyond the generic rules
/// (no DEFAULT, no named bits, no IMPLICIT SET OF, no OCTET STRING holding DER: a
/// GeneralName's iPAddress and an otherName's value stay as they are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownExtension(Oid);

impl KnownExtension {
    /// The extension of these extnID contents octets, if its definition is known.
    #[inline]
    fn of(extn_id: &[u8]) -> Option<KnownExtension> {
        match Oid::from_der(extn_id)? {
            oid @ (Oid::SubjectKeyIdentifier
            | Oid::KeyUsage
            | Oid::SubjectAltName
            | Oid::IssuerAltName
            | Oid::BasicConstraints
            | Oid::CertificatePolicies
            | Oid::AuthorityKeyIdentifier
            | Oid::ExtKeyUsage
            | Oid::CrlDistributionPoints
            | Oid::AuthorityInfoAccess) => Some(KnownExtension(oid)),
            _ => None,
        }
    }
    /// The extension's OID.
    pub fn oid(self) -> Oid {
        self.0
    }
}

impl Schema for CertificateSchema {
    type Node = CertNode;

    #[inline(always)]
    fn root(&self) -> CertNode {
        CertNode::Input
    }

    #[inline]
    fn child(&self, parent: &mut CertNode, index: usize, tag: u8, content: &[u8]) -> CertNode {
        match *parent {
            CertNode::Input => CertNode::Certificate,
            CertNode::Certificate if index == 0 => CertNode::TbsCertificate,
            CertNode::TbsCertificate => match tag {
                0xa0 if index == 0 => CertNode::Version,
                0xa3 => CertNode::ExtensionsWrapper,
                _ => CertNode::Other,
            },
            CertNode::ExtensionsWrapper => CertNode::Extensions,
            CertNode::Extensions => CertNode::Extension(None),
            CertNode::Extension(known) => match (index, tag) {
                (0, Tag::OID) => {
                    *parent = CertNode::Extension(KnownExtension::of(content));
                    CertNode::Other
                }
                (1, Tag::BOOLEAN) => CertNode::Critical,
                (1 | 2, Tag::OCTET_STRING) => known.map_or(CertNode::Other, CertNode::ExtnValue),
                _ => CertNode::Other,
            },
            CertNode::ExtnValue(known) => match known.0 {
                Oid::BasicConstraints => CertNode::BasicConstraints,
                Oid::KeyUsage => CertNode::KeyUsage,
                Oid::CrlDistributionPoints => CertNode::CrlDistributionPoints,
                _ => CertNode::Other,
            },
            CertNode::BasicConstraints if index == 0 && tag == Tag::BOOLEAN => CertNode::CA,
            CertNode::CrlDistributionPoints => CertNode::DistributionPoint,
            CertNode::DistributionPoint if tag == 0xa0 => CertNode::DistributionPointName,
            CertNode::DistributionPointName if tag == 0xa1 => CertNode::NameRelativeToCrlIssuer,
            _ => CertNode::Other,
        }
    }

    #[inline]
    fn rule(&self, node: CertNode) -> Rule {
        match node {
            CertNode::ExtnValue(_) => Rule::Encapsulates,
            CertNode::Version => Rule::Default {
                contents: &[Tag::INTEGER, 0x01, 0x00],
                value: "version v1",
            },
            CertNode::Critical => Rule::Default {
                contents: &[0x00],
                value: "critical FALSE",
            },
            CertNode::CA => Rule::Default {
                contents: &[0x00],
                value: "cA FALSE",
            },
            CertNode::KeyUsage => Rule::NamedBits,
            CertNode::NameRelativeToCrlIssuer => Rule::SetOf,
            _ => Rule::Generic,
        }
    }
}

/// Names a walk path the way RFC 5280 names the fields:
/// `tbsCertificate.extensions[2].extnValue[0][1]`; the root alone is `certificate`.
/// `tbs_has_version`: whether the tbsCertificate starts with the optional `[0] version`
/// (it shifts the positional fields).
pub fn path_name(path: &[PathStep], tbs_has_version: bool) -> String {
    #[derive(Clone, Copy, PartialEq)]
    enum Ctx {
        Cert,
        Tbs,
        ExtensionsWrapper,
        Extensions,
        Extension,
        Validity,
        Generic,
    }
    const TBS_FIELDS: [&str; 6] = [
        "serialNumber",
        "signature",
        "issuer",
        "validity",
        "subject",
        "subjectPublicKeyInfo",
    ];
    let steps = path.get(1..).unwrap_or(&[]);
    if steps.is_empty() {
        return "certificate".into();
    }
    let mut out = String::new();
    let mut ctx = Ctx::Cert;
    for step in steps {
        let (name, next) = match ctx {
            Ctx::Cert => match step.index {
                0 => (Some("tbsCertificate".to_string()), Ctx::Tbs),
                1 => (Some("signatureAlgorithm".into()), Ctx::Generic),
                2 => (Some("signatureValue".into()), Ctx::Generic),
                _ => (None, Ctx::Generic),
            },
            Ctx::Tbs => match step.tag {
                0xa0 => (Some("version".into()), Ctx::Generic),
                0xa1 => (Some("issuerUniqueID".into()), Ctx::Generic),
                0xa2 => (Some("subjectUniqueID".into()), Ctx::Generic),
                0xa3 => (Some("extensions".into()), Ctx::ExtensionsWrapper),
                _ => {
                    let field = step
                        .index
                        .checked_sub(usize::from(tbs_has_version))
                        .and_then(|i| TBS_FIELDS.get(i));
                    let next = if field == Some(&"validity") {
                        Ctx::Validity
                    } else {
                        Ctx::Generic
                    };
                    (field.map(|f| f.to_string()), next)
                }
            },
            Ctx::Validity => match step.index {
                0 => (Some("notBefore".into()), Ctx::Generic),
                1 => (Some("notAfter".into()), Ctx::Generic),
                _ => (None, Ctx::Generic),
            },
            // The [3] wrapper holds one SEQUENCE OF Extension: no name of its own.
            Ctx::ExtensionsWrapper => (Some(String::new()), Ctx::Extensions),
            Ctx::Extensions => (None, Ctx::Extension),
            Ctx::Extension => match step.tag {
                0x06 => (Some("extnID".into()), Ctx::Generic),
                0x01 => (Some("critical".into()), Ctx::Generic),
                0x04 => (Some("extnValue".into()), Ctx::Generic),
                _ => (None, Ctx::Generic),
            },
            Ctx::Generic => (None, Ctx::Generic),
        };
        match name {
            Some(n) if n.is_empty() => {}
            Some(n) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&n);
            }
            None => out.push_str(&format!("[{}]", step.index)),
        }
        ctx = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(steps: &[(usize, u8)]) -> Vec<PathStep> {
        std::iter::once(PathStep {
            index: 0,
            tag: 0x30,
        })
        .chain(steps.iter().map(|&(index, tag)| PathStep { index, tag }))
        .collect()
    }

    #[test]
    fn names() {
        type Case<'a> = (&'a [(usize, u8)], bool, &'a str);
        let cases: &[Case] = &[
            (&[], true, "certificate"),
            (&[(2, 0x03)], true, "signatureValue"),
            (&[(0, 0x30), (1, 0x02)], true, "tbsCertificate.serialNumber"),
            (
                &[(0, 0x30), (0, 0x02)],
                false,
                "tbsCertificate.serialNumber",
            ),
            (
                &[(0, 0x30), (5, 0x30), (1, 0x31)],
                true,
                "tbsCertificate.subject[1]",
            ),
            (
                &[(0, 0x30), (3, 0x30), (1, 0x18)],
                false,
                "tbsCertificate.validity.notAfter",
            ),
            (
                &[(0, 0x30), (7, 0xa3), (0, 0x30), (0, 0x30), (1, 0x01)],
                true,
                "tbsCertificate.extensions[0].critical",
            ),
            (
                &[
                    (0, 0x30),
                    (7, 0xa3),
                    (0, 0x30),
                    (2, 0x30),
                    (2, 0x04),
                    (0, 0x30),
                ],
                true,
                "tbsCertificate.extensions[2].extnValue[0]",
            ),
        ];
        for (steps, v, want) in cases {
            assert_eq!(path_name(&p(steps), *v), *want);
        }
    }
}
