//! The SMKI certificate profiles (GBCS section 12, SEC Appendix M) and their lints.
use crate::{BasicConstraints, Fields, HardwareModuleName, KeyAlgorithm, Oid};
use serde::Serialize;

smki_der::vocabulary! {
    /// Which SMKI profile a certificate follows (by its shape).
    #[derive(PartialOrd, Ord)]
    pub enum Profile {
        /// Self-signed root (OU=00, CN=ZA in the test PKI).
        Root = "root",
        /// The issuing organisation CA (OU=07, e.g. CN=Z1).
        IssuingCa = "issuing_ca",
        /// A device CA (subject CN only, e.g. CN=E357).
        DeviceCa = "device_ca",
        /// An organisation (remote party) certificate.
        Organisation = "organisation",
        /// A device certificate (empty subject, hardwareModuleName).
        Device = "device",
        /// None of the above.
        Unknown = "unknown",
    }
}

impl Profile {
    pub fn classify(f: &Fields) -> Profile {
        let ou = f.subject.get(Oid::OrganizationalUnitName);
        if f.basic_constraints.is_some_and(|bc| bc.ca) {
            if f.subject.normalised == f.issuer.normalised {
                Profile::Root
            } else if ou.as_deref() == Some("07") {
                Profile::IssuingCa
            } else {
                Profile::DeviceCa
            }
        } else if !f.hardware_module_names.is_empty() || (f.subject.is_empty() && f.version == 2) {
            Profile::Device
        } else if f.subject.get(Oid::UniqueIdentifier).is_some() {
            Profile::Organisation
        } else {
            Profile::Unknown
        }
    }
    pub fn is_ca(self) -> bool {
        matches!(self, Profile::Root | Profile::IssuingCa | Profile::DeviceCa)
    }
    /// The remote-party role of an organisation certificate (its OU: two hex digits).
    pub fn role(self, f: &Fields) -> Option<String> {
        (self == Profile::Organisation || self == Profile::IssuingCa || self == Profile::Root)
            .then(|| f.subject.get(Oid::OrganizationalUnitName))
            .flatten()
    }
}

/// Known remote-party roles (the OU of organisation certificates).
pub fn role_name(role: &str) -> Option<&'static str> {
    Some(match role {
        "00" => "root",
        "01" => "recovery",
        "02" => "supplier",
        "03" => "network operator",
        "04" => "access control broker",
        "05" => "transitional CoS",
        "06" => "WAN provider",
        "07" => "issuing authority",
        "08" => "load controller",
        "7F" | "7f" => "other",
        _ => return None,
    })
}

smki_der::vocabulary! {
    /// The SMKI profile lints' stable codes.
    pub enum LintCode {
        /// Not an X.509 v3 certificate.
        Version = "PROFILE_VERSION",
        /// The signature AlgorithmIdentifier is not ecdsa-with-SHA256 without parameters.
        SigAlg = "PROFILE_SIG_ALG",
        /// The serial is not 16 octets, positive.
        Serial = "PROFILE_SERIAL",
        /// The key is not an uncompressed P-256 point.
        Key = "PROFILE_KEY",
        /// keyUsage missing, not critical, or not the bits of the profile.
        Ku = "PROFILE_KU",
        /// certificatePolicies missing, not critical, or not exactly one policy.
        Policies = "PROFILE_POLICIES",
        /// subjectKeyIdentifier missing, critical, not 8 octets or not RFC 5280 method 2.
        Ski = "PROFILE_SKI",
        /// authorityKeyIdentifier missing (off a root), critical, or not keyIdentifier only.
        Aki = "PROFILE_AKI",
        /// A CA's basicConstraints not critical, or an issuing CA's not CA:TRUE, pathLen 0.
        BasicConstraints = "PROFILE_BASIC_CONSTRAINTS",
        /// A device certificate's subject is not empty.
        DeviceSubject = "PROFILE_DEVICE_SUBJECT",
        /// A device certificate's notBefore is not UTCTime, or notAfter not 99991231235959Z.
        DeviceValidity = "PROFILE_DEVICE_VALIDITY",
        /// A device certificate's subjectAltName is not one critical hardwareModuleName with
        /// an SMKI hwType and an EUI-64.
        DeviceSan = "PROFILE_DEVICE_SAN",
        /// A device certificate's extensions are not in the order KU, SKI, SAN, policies, AKI.
        ExtensionOrder = "PROFILE_EXTENSION_ORDER",
        /// An organisation certificate's subject is not one attribute per RDN, with an OU and
        /// an EUI-64 x500UniqueIdentifier.
        OrgSubject = "PROFILE_ORG_SUBJECT",
        /// An organisation certificate's OU is not a known remote-party role.
        OrgRole = "PROFILE_ORG_ROLE",
        /// The certificate matches no SMKI profile.
        Unknown = "PROFILE_UNKNOWN",
    }
}

/// A departure from the SMKI profile: a stable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lint {
    pub code: LintCode,
    pub detail: String,
}

/// The SMKI profile lints for a certificate of `profile`.
pub fn lints(f: &Fields, profile: Profile) -> Vec<Lint> {
    let mut out = Vec::new();
    let mut lint = |code: LintCode, detail: String| out.push(Lint { code, detail });
    if f.version != 2 {
        lint(
            LintCode::Version,
            format!("X.509 version {} (v3 required)", f.version + 1),
        );
    }
    if f.inner_signature_algorithm != crate::ECDSA_WITH_SHA256 {
        lint(
            LintCode::SigAlg,
            format!(
                "signature AlgorithmIdentifier {} is not ecdsa-with-SHA256 without parameters",
                hex::encode(&f.inner_signature_algorithm)
            ),
        );
    }
    if f.serial.len() != 16 || f.serial.first().is_some_and(|b| b & 0x80 != 0) {
        lint(
            LintCode::Serial,
            format!(
                "serial of {} octets (16 octets, positive, required)",
                f.serial.len()
            ),
        );
    }
    match &f.key_algorithm {
        KeyAlgorithm::P256 if f.public_key.len() == 65 && f.public_key[0] == 4 => {}
        KeyAlgorithm::P256 => lint(LintCode::Key, "P-256 key not in uncompressed form".into()),
        KeyAlgorithm::OtherCurve(c) => {
            lint(LintCode::Key, format!("EC key on curve {c}, not P-256"))
        }
        KeyAlgorithm::Other(a) => lint(
            LintCode::Key,
            format!("public key algorithm {a}, not id-ecPublicKey"),
        ),
    }
    // keyUsage
    match (f.extension(Oid::KeyUsage), f.key_usage) {
        (None, _) | (_, None) => lint(LintCode::Ku, "keyUsage missing".into()),
        (Some(e), Some(ku)) => {
            if !e.critical {
                lint(LintCode::Ku, "keyUsage not critical".into());
            }
            let ca_bits = (1 << 5) | (1 << 6); // keyCertSign, cRLSign
            if profile.is_ca() {
                if ku & ca_bits != ca_bits {
                    lint(
                        LintCode::Ku,
                        "CA keyUsage lacks keyCertSign and cRLSign".into(),
                    );
                }
            } else if f.usage().is_none() || ku & !((1 << 0) | (1 << 4)) != 0 {
                lint(LintCode::Ku, format!("keyUsage 0x{ku:03x}: exactly one of digitalSignature or keyAgreement required"));
            }
        }
    }
    // certificatePolicies
    match f.extension(Oid::CertificatePolicies) {
        None => lint(LintCode::Policies, "certificatePolicies missing".into()),
        Some(e) => {
            if !e.critical {
                lint(
                    LintCode::Policies,
                    "certificatePolicies not critical".into(),
                );
            }
            if f.policies.len() != 1 {
                lint(
                    LintCode::Policies,
                    format!("{} policies (exactly one required)", f.policies.len()),
                );
            }
        }
    }
    // subjectKeyIdentifier: 8 octets, method 2.
    match (f.extension(Oid::SubjectKeyIdentifier), &f.subject_key_id) {
        (Some(e), Some(ski)) => {
            if e.critical {
                lint(LintCode::Ski, "subjectKeyIdentifier critical".into());
            }
            if ski.len() != 8 {
                lint(
                    LintCode::Ski,
                    format!("subjectKeyIdentifier of {} octets (8 required)", ski.len()),
                );
            } else {
                // Method 2 is defined on the key's bits (no need to validate the point here:
                // LintCode::Key says when it is not one).
                let method2 = crate::key_id(&f.public_key);
                if method2[..] != ski[..] {
                    lint(
                        LintCode::Ski,
                        format!(
                            "subjectKeyIdentifier {} is not RFC 5280 method 2 of the key ({})",
                            hex::encode(ski),
                            hex::encode(method2)
                        ),
                    );
                }
            }
        }
        _ => lint(LintCode::Ski, "subjectKeyIdentifier missing".into()),
    }
    // authorityKeyIdentifier: keyIdentifier only; absent only on a self-signed root.
    match (
        f.extension(Oid::AuthorityKeyIdentifier),
        &f.authority_key_id,
    ) {
        (None, _) if profile == Profile::Root => {}
        (None, _) => lint(LintCode::Aki, "authorityKeyIdentifier missing".into()),
        (Some(e), aki) => {
            if e.critical {
                lint(LintCode::Aki, "authorityKeyIdentifier critical".into());
            }
            if aki.is_none() || f.aki_has_issuer_serial {
                lint(
                    LintCode::Aki,
                    "authorityKeyIdentifier must carry keyIdentifier only".into(),
                );
            }
        }
    }
    match profile {
        Profile::Root | Profile::IssuingCa | Profile::DeviceCa => {
            let bc_critical = f
                .extension(Oid::BasicConstraints)
                .is_some_and(|e| e.critical);
            if !bc_critical {
                lint(
                    LintCode::BasicConstraints,
                    "basicConstraints not critical".into(),
                );
            }
            if profile == Profile::IssuingCa
                && f.basic_constraints
                    != Some(BasicConstraints {
                        ca: true,
                        path_len: Some(0),
                    })
            {
                lint(
                    LintCode::BasicConstraints,
                    "issuing CA must have CA:TRUE, pathLen 0".into(),
                );
            }
        }
        Profile::Device => {
            if !f.subject.is_empty() {
                lint(
                    LintCode::DeviceSubject,
                    format!("device subject not empty: {}", f.subject.text),
                );
            }
            if f.not_before_raw.tag != 0x17 {
                lint(LintCode::DeviceValidity, "notBefore not UTCTime".into());
            }
            if (f.not_after_raw.tag, f.not_after_raw.text.as_str()) != (0x18, "99991231235959Z") {
                lint(
                    LintCode::DeviceValidity,
                    format!(
                        "notAfter {:?} (GeneralizedTime 99991231235959Z required)",
                        f.not_after_raw.text
                    ),
                );
            }
            match f.extension(Oid::SubjectAltName) {
                None => lint(LintCode::DeviceSan, "subjectAltName missing".into()),
                Some(e) => {
                    if !e.critical {
                        lint(LintCode::DeviceSan, "subjectAltName not critical".into());
                    }
                    if f.hardware_module_names.len() != 1 || f.other_san_entries != 0 {
                        lint(
                            LintCode::DeviceSan,
                            "subjectAltName must hold exactly one hardwareModuleName".into(),
                        );
                    }
                    if let Some(HardwareModuleName { hw_type, serial }) =
                        f.hardware_module_names.first()
                    {
                        if serial.len() != 8 {
                            lint(
                                LintCode::DeviceSan,
                                format!(
                                    "hwSerialNum of {} octets (an 8-octet EUI-64 required)",
                                    serial.len()
                                ),
                            );
                        }
                        if !hw_type.starts_with("1.2.826.0.1.") {
                            lint(
                                LintCode::DeviceSan,
                                format!("hwType {hw_type} is not an SMKI OID"),
                            );
                        }
                    }
                }
            }
            let order: Vec<&str> = f.extensions.iter().map(|e| e.oid.as_str()).collect();
            let device = [
                Oid::KeyUsage,
                Oid::SubjectKeyIdentifier,
                Oid::SubjectAltName,
                Oid::CertificatePolicies,
                Oid::AuthorityKeyIdentifier,
            ]
            .map(Oid::text);
            if order != device {
                lint(
                    LintCode::ExtensionOrder,
                    "device extensions not in the order KU, SKI, SAN, policies, AKI".into(),
                );
            }
        }
        Profile::Organisation => {
            if !f.subject.one_attribute_per_rdn {
                lint(
                    LintCode::OrgSubject,
                    "subject must have one attribute per RDN".into(),
                );
            }
            match f.subject.get(Oid::OrganizationalUnitName) {
                None => lint(
                    LintCode::OrgSubject,
                    "subject has no OU (remote-party role)".into(),
                ),
                Some(role) if role_name(&role).is_none() => lint(
                    LintCode::OrgRole,
                    format!("OU {role:?} is not a known remote-party role"),
                ),
                _ => {}
            }
            if f.eui64.is_none() {
                lint(
                    LintCode::OrgSubject,
                    "x500UniqueIdentifier missing or not an 8-octet EUI-64".into(),
                );
            }
        }
        Profile::Unknown => lint(LintCode::Unknown, "matches no SMKI profile".into()),
    }
    out
}
