//! Certificates that break the SMKI profile rules (crates/smki-x509/src/profile.rs) one at a
//! time, for the snapshots: every lint code, and every sentence each code has.
//!
//! Made by hand, byte by byte (with the DER helpers of the harness, not with the crates under
//! test), from a device and an organisation certificate that follow their profile, and
//! signed by a root CA of this file: every key is derived from a fixed label, every signature
//! is RFC 6979 (deterministic), every date is fixed. The same bytes on every run.
//!
//! Also the SMKI-shaped certificates of tests/relying_party_matrix.rs ([`Root::smki_leaves`]),
//! which uses only part of this file.
#![allow(dead_code)]
use crate::support::{assemble_certificate, bit_string, der_int, der_sig, tlv};
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::{Signature, SigningKey};
use sha2::Digest;

const ECDSA_WITH_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const PRIME256V1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// secp384r1 (1.3.132.0.34).
const SECP384R1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
/// rsaEncryption (1.2.840.113549.1.1.1).
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const CN: &[u8] = &[0x55, 0x04, 0x03];
const OU: &[u8] = &[0x55, 0x04, 0x0b];
/// x500UniqueIdentifier (2.5.4.45).
const UNIQUE_ID: &[u8] = &[0x55, 0x04, 0x2d];
const KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
const SKI: &[u8] = &[0x55, 0x1d, 0x0e];
const SAN: &[u8] = &[0x55, 0x1d, 0x11];
const BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
const POLICIES: &[u8] = &[0x55, 0x1d, 0x20];
const AKI: &[u8] = &[0x55, 0x1d, 0x23];
/// id-on-hardwareModuleName (1.3.6.1.5.5.7.8.4).
const HARDWARE_MODULE_NAME: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x08, 0x04];
/// The SMKI hwType 1.2.826.0.1.8641679.1.2.2.1.
const HW_TYPE: &[u8] = &[
    0x2a, 0x86, 0x3a, 0x00, 0x01, 0x84, 0x8f, 0xb9, 0x0f, 0x01, 0x02, 0x02, 0x01,
];
/// A hwType outside the SMKI arc: 1.2.3.4.
const OTHER_HW_TYPE: &[u8] = &[0x2a, 0x03, 0x04];
/// The SMKI policy 1.2.826.0.1.8641679.1.2.1.4.
const POLICY: &[u8] = &[
    0x2a, 0x86, 0x3a, 0x00, 0x01, 0x84, 0x8f, 0xb9, 0x0f, 0x01, 0x02, 0x01, 0x04,
];
/// Another policy: 1.2.3.5.
const OTHER_POLICY: &[u8] = &[0x2a, 0x03, 0x05];

/// keyUsage BIT STRINGs: digitalSignature; keyAgreement; both; keyCertSign and cRLSign.
const KU_DS: &[u8] = &[0x03, 0x02, 0x07, 0x80];
const KU_KA: &[u8] = &[0x03, 0x02, 0x03, 0x08];
const KU_DS_KA: &[u8] = &[0x03, 0x02, 0x03, 0x88];
const KU_CERT_SIGN: &[u8] = &[0x03, 0x02, 0x01, 0x06];

fn oid(content: &[u8]) -> Vec<u8> {
    tlv(0x06, content)
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn sha256(data: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(data).into()
}

/// A P-256 key derived from `label` (its SHA-256 as the scalar).
pub fn key(label: &str) -> SigningKey {
    SigningKey::from_bytes(&sha256(label.as_bytes()).into()).expect("a scalar below n")
}

/// The uncompressed (65 octets) or compressed (33) point of a key.
fn point(k: &SigningKey, compressed: bool) -> Vec<u8> {
    k.verifying_key()
        .to_encoded_point(compressed)
        .as_bytes()
        .to_vec()
}

/// RFC 5280 section 4.2.1.2 method 2 of a subjectPublicKey's bits: "0100" and the least
/// significant 60 bits of their SHA-1.
pub fn method2(bits: &[u8]) -> Vec<u8> {
    let h = sha1::Sha1::digest(bits);
    let mut id = h[12..20].to_vec();
    id[0] = 0x40 | (id[0] & 0x0f);
    id
}

/// An attribute of a name.
#[derive(Clone, Copy)]
enum Attr<'a> {
    Cn(&'a str),
    Ou(&'a str),
    /// x500UniqueIdentifier: a BIT STRING of these octets.
    UniqueId(&'a [u8]),
}

impl Attr<'_> {
    fn der(self) -> Vec<u8> {
        let (id, value) = match self {
            Attr::Cn(v) => (CN, tlv(0x13, v.as_bytes())),
            Attr::Ou(v) => (OU, tlv(0x13, v.as_bytes())),
            Attr::UniqueId(v) => (UNIQUE_ID, bit_string(0, v)),
        };
        seq(&[&oid(id), &value])
    }
}

/// A Name: one RelativeDistinguishedName (SET) per slice of attributes.
fn name(rdns: &[&[Attr]]) -> Vec<u8> {
    let rdns: Vec<Vec<u8>> = rdns
        .iter()
        .map(|rdn| {
            let atvs: Vec<Vec<u8>> = rdn.iter().map(|a| a.der()).collect();
            tlv(0x31, &atvs.concat())
        })
        .collect();
    tlv(0x30, &rdns.concat())
}

fn utc_time(text: &str) -> Vec<u8> {
    tlv(0x17, text.as_bytes())
}

fn generalized_time(text: &str) -> Vec<u8> {
    tlv(0x18, text.as_bytes())
}

/// A SubjectPublicKeyInfo: algorithm OID, its parameters, and the key's bits.
fn spki(algorithm: &[u8], parameters: &[u8], bits: &[u8]) -> Vec<u8> {
    seq(&[&seq(&[&oid(algorithm), parameters]), &bit_string(0, bits)])
}

fn p256_spki(bits: &[u8]) -> Vec<u8> {
    spki(EC_PUBLIC_KEY, &oid(PRIME256V1), bits)
}

/// A hardwareModuleName otherName (GeneralName [0]).
fn hardware_module_name(hw_type: &[u8], serial: &[u8]) -> Vec<u8> {
    let hmn = seq(&[&oid(hw_type), &tlv(0x04, serial)]);
    tlv(0xa0, &[oid(HARDWARE_MODULE_NAME), tlv(0xa0, &hmn)].concat())
}

fn policies(ids: &[&[u8]]) -> Vec<u8> {
    let infos: Vec<Vec<u8>> = ids.iter().map(|id| seq(&[&oid(id)])).collect();
    tlv(0x30, &infos.concat())
}

fn authority_key_id(key_id: &[u8]) -> Vec<u8> {
    seq(&[&tlv(0x80, key_id)])
}

/// basicConstraints cA TRUE, with a pathLenConstraint or without.
fn ca_constraints(path_len: Option<u8>) -> Vec<u8> {
    let mut c = vec![0x01, 0x01, 0xff];
    if let Some(n) = path_len {
        c.extend(der_int(&[n]));
    }
    tlv(0x30, &c)
}

/// One extension: its OID, critical or not, and the extnValue's contents.
#[derive(Clone)]
struct Ext {
    id: &'static [u8],
    critical: bool,
    value: Vec<u8>,
}

fn ext(id: &'static [u8], critical: bool, value: Vec<u8>) -> Ext {
    Ext {
        id,
        critical,
        value,
    }
}

/// Every field of a tbsCertificate, as elements.
#[derive(Clone)]
struct Tbs {
    /// The Version INTEGER's value; None: the [0] element left out (v1).
    version: Option<u8>,
    serial: Vec<u8>,
    signature: Vec<u8>,
    issuer: Vec<u8>,
    not_before: Vec<u8>,
    not_after: Vec<u8>,
    subject: Vec<u8>,
    spki: Vec<u8>,
    extensions: Vec<Ext>,
}

impl Tbs {
    fn der(&self) -> Vec<u8> {
        let mut body = Vec::new();
        if let Some(v) = self.version {
            body.extend(tlv(0xa0, &der_int(&[v])));
        }
        body.extend(tlv(0x02, &self.serial));
        body.extend_from_slice(&self.signature);
        body.extend_from_slice(&self.issuer);
        body.extend(seq(&[&self.not_before, &self.not_after]));
        body.extend_from_slice(&self.subject);
        body.extend_from_slice(&self.spki);
        let exts: Vec<Vec<u8>> = self
            .extensions
            .iter()
            .map(|e| {
                let critical: &[u8] = if e.critical { &[0x01, 0x01, 0xff] } else { &[] };
                seq(&[&oid(e.id), critical, &tlv(0x04, &e.value)])
            })
            .collect();
        body.extend(tlv(0xa3, &tlv(0x30, &exts.concat())));
        tlv(0x30, &body)
    }

    fn ext(&mut self, id: &[u8]) -> &mut Ext {
        self.extensions
            .iter_mut()
            .find(|e| e.id == id)
            .expect("the template has this extension")
    }

    fn without(mut self, id: &[u8]) -> Tbs {
        self.extensions.retain(|e| e.id != id);
        self
    }

    /// The subjectPublicKeyInfo replaced, and the subjectKeyIdentifier made method 2 of
    /// the new key's bits.
    fn with_key(mut self, spki: Vec<u8>, bits: &[u8]) -> Tbs {
        self.spki = spki;
        self.ext(SKI).value = tlv(0x04, &method2(bits));
        self
    }
}

/// The Certificate of `tbs`, signed by `signer` (RFC 6979).
fn certificate(tbs: &Tbs, signer: &SigningKey) -> Vec<u8> {
    let tbs = tbs.der();
    let sig: Signature = signer
        .sign_prehash(&sha256(&tbs))
        .expect("signing a 32-octet prehash");
    let (r, s) = sig.split_bytes();
    assemble_certificate(
        &tbs,
        &seq(&[&oid(ECDSA_WITH_SHA256)]),
        &bit_string(0, &der_sig(&r.into(), &s.into())),
    )
}

/// A 16-octet positive serial derived from `label`.
fn serial(label: &str) -> Vec<u8> {
    let mut s = sha256(format!("serial {label}").as_bytes())[..16].to_vec();
    s[0] = (s[0] & 0x7f).max(1);
    s
}

/// The root CA of the corpus: its certificate, its key and its key identifier.
pub struct Root {
    pub der: Vec<u8>,
    key: SigningKey,
    key_id: Vec<u8>,
    name: Vec<u8>,
}

impl Root {
    pub fn new() -> Root {
        let key = key("smki lint corpus root");
        let bits = point(&key, false);
        let key_id = method2(&bits);
        let name = name(&[&[Attr::Ou("00")], &[Attr::Cn("ZL")]]);
        let tbs = Tbs {
            version: Some(2),
            serial: serial("root"),
            signature: seq(&[&oid(ECDSA_WITH_SHA256)]),
            issuer: name.clone(),
            not_before: utc_time("200101000000Z"),
            not_after: utc_time("491231235959Z"),
            subject: name.clone(),
            spki: p256_spki(&bits),
            extensions: vec![
                ext(KEY_USAGE, true, KU_CERT_SIGN.to_vec()),
                ext(BASIC_CONSTRAINTS, true, ca_constraints(None)),
                ext(POLICIES, true, policies(&[POLICY])),
                ext(SKI, false, tlv(0x04, &key_id)),
            ],
        };
        Root {
            der: certificate(&tbs, &key),
            key,
            key_id,
            name,
        }
    }

    /// (r, s) of the root key's signature over `tbs` (any bytes: a tbsCertificate edited by a
    /// test), RFC 6979.
    pub fn sign(&self, tbs: &[u8]) -> ([u8; 32], [u8; 32]) {
        let sig: Signature = self
            .key
            .sign_prehash(&sha256(tbs))
            .expect("signing a 32-octet prehash");
        let (r, s) = sig.split_bytes();
        (r.into(), s.into())
    }

    /// A conforming device certificate and a conforming organisation certificate issued by
    /// this root (SMKI-shaped: critical certificatePolicies, a hardwareModuleName, an
    /// x500UniqueIdentifier), as (label, DER).
    pub fn smki_leaves(&self) -> [(&'static str, Vec<u8>); 2] {
        [
            (
                "device",
                certificate(&self.template(Shape::Device, "device"), &self.key),
            ),
            (
                "organisation",
                certificate(
                    &self.template(Shape::Organisation, "organisation"),
                    &self.key,
                ),
            ),
        ]
    }

    /// A certificate of `profile`'s shape issued by this root to a key of `label`: its
    /// serial, key and EUI-64 derived from `label`.
    fn template(&self, profile: Shape, label: &str) -> Tbs {
        let bits = point(&key(&format!("subject {label}")), false);
        let eui = &sha256(format!("eui {label}").as_bytes())[..8];
        let common = |subject: Vec<u8>, not_after: Vec<u8>, extensions: Vec<Ext>| Tbs {
            version: Some(2),
            serial: serial(label),
            signature: seq(&[&oid(ECDSA_WITH_SHA256)]),
            issuer: self.name.clone(),
            not_before: utc_time("210301000000Z"),
            not_after,
            subject,
            spki: p256_spki(&bits),
            extensions,
        };
        let ski = ext(SKI, false, tlv(0x04, &method2(&bits)));
        let aki = ext(AKI, false, authority_key_id(&self.key_id));
        let policy = ext(POLICIES, true, policies(&[POLICY]));
        match profile {
            Shape::Device => common(
                name(&[]),
                generalized_time("99991231235959Z"),
                vec![
                    ext(KEY_USAGE, true, KU_DS.to_vec()),
                    ski,
                    ext(SAN, true, tlv(0x30, &hardware_module_name(HW_TYPE, eui))),
                    policy,
                    aki,
                ],
            ),
            Shape::Organisation => common(
                name(&[
                    &[Attr::Cn("LINT SUPPLIER")],
                    &[Attr::Ou("02")],
                    &[Attr::UniqueId(eui)],
                ]),
                utc_time("310228235959Z"),
                vec![ext(KEY_USAGE, true, KU_KA.to_vec()), ski, policy, aki],
            ),
            Shape::DeviceCa | Shape::IssuingCa => common(
                if profile == Shape::IssuingCa {
                    name(&[&[Attr::Ou("07")], &[Attr::Cn("ZL1")]])
                } else {
                    name(&[&[Attr::Cn("EL01")]])
                },
                utc_time("491231235959Z"),
                vec![
                    ext(KEY_USAGE, true, KU_CERT_SIGN.to_vec()),
                    ext(BASIC_CONSTRAINTS, true, ca_constraints(Some(0))),
                    policy,
                    ski,
                    aki,
                ],
            ),
        }
    }
}

/// The shape a certificate of the corpus starts from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Device,
    Organisation,
    DeviceCa,
    IssuingCa,
}

/// The corpus: (file name, DER), in file name order, the root first; every certificate
/// signed by the root (`Root::der`, to pass with `--issuers`).
pub fn corpus(root: &Root) -> Vec<(String, Vec<u8>)> {
    use Shape::*;
    let t = |shape: Shape, label: &str| root.template(shape, label);
    // (label, tbsCertificate): each breaks one rule of its shape's profile (or none).
    let mut certs: Vec<(&str, Tbs)> = Vec::new();
    let mut add = |label: &'static str, shape: Shape, change: &dyn Fn(Tbs) -> Tbs| {
        certs.push((label, change(t(shape, label))));
    };
    let same = |tbs: Tbs| tbs;
    add("device-conforming", Device, &same);
    add("organisation-conforming", Organisation, &same);
    add("device-ca-conforming", DeviceCa, &same);
    add("issuing-ca-conforming", IssuingCa, &same);
    // PROFILE_VERSION
    add("version-2", Device, &|tbs| Tbs {
        version: Some(1),
        ..tbs
    });
    // PROFILE_SIG_ALG (and CERT_SIG_ALG_MISMATCH: signatureAlgorithm stays without NULL).
    add("sig-alg-null-parameters", Device, &|tbs| Tbs {
        signature: seq(&[&oid(ECDSA_WITH_SHA256), &[0x05, 0x00]]),
        ..tbs
    });
    // PROFILE_SERIAL
    add("serial-8-octets", Device, &|tbs| Tbs {
        serial: tbs.serial[..8].to_vec(),
        ..tbs
    });
    add("serial-negative", Device, &|tbs| {
        let mut serial = tbs.serial.clone();
        serial[0] |= 0x80;
        Tbs { serial, ..tbs }
    });
    // PROFILE_KEY
    add("key-compressed", Device, &|tbs| {
        let bits = point(&key("subject key-compressed"), true);
        tbs.with_key(p256_spki(&bits), &bits)
    });
    add("key-p384-curve", Device, &|tbs| {
        // Some 97 octets in the form of an uncompressed point (not checked: a lint).
        let bits = [&[0x04][..], &[0x5a; 96][..]].concat();
        tbs.with_key(spki(EC_PUBLIC_KEY, &oid(SECP384R1), &bits), &bits)
    });
    add("key-rsa", Organisation, &|tbs| {
        let bits = seq(&[&der_int(&[0xc5; 64]), &der_int(&[0x01, 0x00, 0x01])]);
        tbs.with_key(spki(RSA_ENCRYPTION, &[0x05, 0x00], &bits), &bits)
    });
    // PROFILE_KU
    add("ku-missing", Organisation, &|tbs| tbs.without(KEY_USAGE));
    add("ku-not-critical", Device, &|mut tbs| {
        tbs.ext(KEY_USAGE).critical = false;
        tbs
    });
    add("ku-ds-and-ka", Device, &|mut tbs| {
        tbs.ext(KEY_USAGE).value = KU_DS_KA.to_vec();
        tbs
    });
    add("ku-ca-without-cert-sign", DeviceCa, &|mut tbs| {
        tbs.ext(KEY_USAGE).value = KU_DS.to_vec();
        tbs
    });
    // PROFILE_POLICIES
    add("policies-missing", Organisation, &|tbs| {
        tbs.without(POLICIES)
    });
    add("policies-not-critical", Device, &|mut tbs| {
        tbs.ext(POLICIES).critical = false;
        tbs
    });
    add("policies-two", Device, &|mut tbs| {
        tbs.ext(POLICIES).value = policies(&[POLICY, OTHER_POLICY]);
        tbs
    });
    // PROFILE_SKI
    add("ski-missing", Organisation, &|tbs| tbs.without(SKI));
    add("ski-critical", Device, &|mut tbs| {
        tbs.ext(SKI).critical = true;
        tbs
    });
    add("ski-4-octets", Device, &|mut tbs| {
        let id = tbs.ext(SKI).value[2..6].to_vec();
        tbs.ext(SKI).value = tlv(0x04, &id);
        tbs
    });
    add("ski-not-method-2", Device, &|mut tbs| {
        tbs.ext(SKI).value = tlv(0x04, &[0x40, 1, 2, 3, 4, 5, 6, 7]);
        tbs
    });
    // PROFILE_AKI (the issuer found by name without it)
    add("aki-missing", Device, &|tbs| tbs.without(AKI));
    add("aki-critical", Organisation, &|mut tbs| {
        tbs.ext(AKI).critical = true;
        tbs
    });
    add("aki-with-serial", Device, &|mut tbs| {
        let id = root.key_id.clone();
        tbs.ext(AKI).value = seq(&[&tlv(0x80, &id), &tlv(0x82, &[0x01])]);
        tbs
    });
    // PROFILE_BASIC_CONSTRAINTS
    add("bc-not-critical", DeviceCa, &|mut tbs| {
        tbs.ext(BASIC_CONSTRAINTS).critical = false;
        tbs
    });
    add("bc-issuing-ca-no-path-len", IssuingCa, &|mut tbs| {
        tbs.ext(BASIC_CONSTRAINTS).value = ca_constraints(None);
        tbs
    });
    // PROFILE_DEVICE_SUBJECT
    add("device-subject", Device, &|tbs| Tbs {
        subject: name(&[&[Attr::Cn("LINT DEVICE")]]),
        ..tbs
    });
    // PROFILE_DEVICE_VALIDITY
    add("device-not-before-generalized", Device, &|tbs| Tbs {
        not_before: generalized_time("20210301000000Z"),
        ..tbs
    });
    add("device-not-after-2049", Device, &|tbs| Tbs {
        not_after: utc_time("491231235959Z"),
        ..tbs
    });
    // PROFILE_DEVICE_SAN (a device by its empty subject, the SAN gone)
    add("san-missing", Device, &|tbs| tbs.without(SAN));
    add("san-not-critical", Device, &|mut tbs| {
        tbs.ext(SAN).critical = false;
        tbs
    });
    add("san-with-dns-name", Device, &|mut tbs| {
        let names = [
            hardware_module_name(HW_TYPE, &[0x0a; 8]),
            tlv(0x82, b"lint.example"),
        ];
        tbs.ext(SAN).value = tlv(0x30, &names.concat());
        tbs
    });
    add("san-serial-7-octets", Device, &|mut tbs| {
        tbs.ext(SAN).value = tlv(0x30, &hardware_module_name(HW_TYPE, &[0x0b; 7]));
        tbs
    });
    add("san-other-hw-type", Device, &|mut tbs| {
        tbs.ext(SAN).value = tlv(0x30, &hardware_module_name(OTHER_HW_TYPE, &[0x0c; 8]));
        tbs
    });
    // PROFILE_EXTENSION_ORDER
    add("device-extension-order", Device, &|mut tbs| {
        tbs.extensions.swap(0, 1);
        tbs
    });
    // PROFILE_ORG_SUBJECT
    add("org-two-attributes-in-an-rdn", Organisation, &|tbs| Tbs {
        subject: name(&[
            &[Attr::Cn("LINT SUPPLIER"), Attr::Ou("02")],
            &[Attr::UniqueId(&[
                0x90, 0xb3, 0xd5, 0x1f, 0x30, 0x00, 0x00, 0x01,
            ])],
        ]),
        ..tbs
    });
    add("org-no-ou", Organisation, &|tbs| Tbs {
        subject: name(&[
            &[Attr::Cn("LINT SUPPLIER")],
            &[Attr::UniqueId(&[
                0x90, 0xb3, 0xd5, 0x1f, 0x30, 0x00, 0x00, 0x02,
            ])],
        ]),
        ..tbs
    });
    add("org-eui-7-octets", Organisation, &|tbs| Tbs {
        subject: name(&[
            &[Attr::Cn("LINT SUPPLIER")],
            &[Attr::Ou("02")],
            &[Attr::UniqueId(&[0x90, 0xb3, 0xd5, 0x1f, 0x30, 0x00, 0x03])],
        ]),
        ..tbs
    });
    // PROFILE_ORG_ROLE
    add("org-role-99", Organisation, &|tbs| Tbs {
        subject: name(&[
            &[Attr::Cn("LINT SUPPLIER")],
            &[Attr::Ou("99")],
            &[Attr::UniqueId(&[
                0x90, 0xb3, 0xd5, 0x1f, 0x30, 0x00, 0x00, 0x04,
            ])],
        ]),
        ..tbs
    });
    // PROFILE_UNKNOWN: not a CA, no hardwareModuleName, no x500UniqueIdentifier.
    add("unknown-profile", Organisation, &|tbs| Tbs {
        subject: name(&[&[Attr::Cn("LINT SERVER")]]),
        ..tbs
    });
    // CERT_DUPLICATE_EXTENSION (RFC 5280 section 4.2 rather than a profile rule): keyUsage
    // twice; the signature still verifies.
    add("duplicate-extension", Device, &|mut tbs| {
        let ku = tbs.ext(KEY_USAGE).clone();
        tbs.extensions.push(ku);
        tbs
    });

    let mut out = vec![("00-root.der".to_string(), root.der.clone())];
    for (i, (label, tbs)) in certs.iter().enumerate() {
        out.push((
            format!("{:02}-{label}.der", i + 1),
            certificate(tbs, &root.key),
        ));
    }
    out
}
