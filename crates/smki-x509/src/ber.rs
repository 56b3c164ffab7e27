//! Non-DER encodings anywhere in the certificate, named by certificate paths.
use crate::CertView;
use serde::Serialize;
use smki_der::{BerIssueKind, PathStep};

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
    let walk = smki_der::walk(view.der(), 0);
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
                    (field.map(|f| f.to_string()), Ctx::Generic)
                }
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
