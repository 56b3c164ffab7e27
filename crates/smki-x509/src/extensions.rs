//! Certificate extensions (RFC 5280 section 4.2): the list of them as found, and a reader
//! for the value of each one SMKI needs, its ASN.1 quoted above it. A value reader returns
//! `Ok(None)` for a value x509-parser (which this crate replaced) could not read either: the
//! field is left empty and the profile lints report it as missing. A value of the expected
//! type that is malformed inside, or followed by other bytes, is an error.
use crate::elements::{boolean, is_der_integer, unsigned, wrong_tag, Elements};
use crate::oid::{oid_string, Oid};
use crate::{Error, FieldProblem, Fields};
use serde::Serialize;
use smki_der::{is_valid_oid, oid_text, Header, Tag};

/// One extension as found, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtensionInfo {
    pub oid: String,
    pub critical: bool,
}

/// A second extension of a type the certificate already has (RFC 5280 4.2: "A certificate
/// MUST NOT include more than one instance of a particular extension").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DuplicateExtension {
    /// The extnID, dotted.
    pub oid: String,
    /// Its index among the extensions (`tbsCertificate.extensions[index]`).
    pub index: usize,
    /// Byte offset of the Extension within the record.
    pub offset: usize,
}

/// A basicConstraints value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BasicConstraints {
    /// cA
    pub ca: bool,
    /// pathLenConstraint
    pub path_len: Option<u32>,
}

/// A hardwareModuleName otherName of the subjectAltName (RFC 4108): an SMKI device's
/// identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HardwareModuleName {
    /// hwType, as dotted text.
    pub hw_type: String,
    /// hwSerialNum (for an SMKI device: its EUI-64).
    pub serial: Vec<u8>,
}

/// ```text
/// Extensions  ::=  SEQUENCE SIZE (1..MAX) OF Extension
/// ```
/// inside `[3] EXPLICIT` (an empty SEQUENCE is taken, as x509-parser took it).
pub(crate) fn extensions(der: &[u8], explicit: &Header, f: &mut Fields) -> Result<(), Error> {
    const EXTENSIONS: &str = "tbsCertificate.extensions";
    let mut wrapper = Elements::of(der, explicit);
    let seq = wrapper.expect(Tag::SEQUENCE, EXTENSIONS)?;
    wrapper.end(EXTENSIONS)?;
    let mut list = Elements::of(der, &seq);
    let mut i = 0;
    while !list.is_empty() {
        let at = |e: Error| e.within(&format!("{EXTENSIONS}[{i}]"));
        let ext = list.expect(Tag::SEQUENCE, "").map_err(at)?;
        extension(der, &ext, i, f).map_err(at)?;
        i += 1;
    }
    Ok(())
}

/// ```text
/// Extension  ::=  SEQUENCE  {
///      extnID      OBJECT IDENTIFIER,
///      critical    BOOLEAN DEFAULT FALSE,
///      extnValue   OCTET STRING
///                  -- contains the DER encoding of an ASN.1 value
///                  -- corresponding to the extension type identified
///                  -- by extnID
///      }
/// ```
/// Lists the extension in `f.extensions` and, for a known one, fills its field; a second
/// extension of a type already listed goes to `f.duplicate_extensions` instead (its value
/// is not read: the first one's stands).
fn extension(der: &[u8], h: &Header, index: usize, f: &mut Fields) -> Result<(), Error> {
    let mut it = Elements::of(der, h);
    let id = it.expect(Tag::OID, "extnID")?;
    let oid = it.contents(&id);
    let known = Oid::from_der(oid);
    let text = match known {
        Some(k) => k.text().to_string(),
        None => {
            oid_text(oid).ok_or_else(|| Error::field("extnID", FieldProblem::BadOid, id.offset))?
        }
    };
    let critical = match it.optional(Tag::BOOLEAN, "critical")? {
        Some(b) => boolean(it.contents(&b)).ok_or_else(|| {
            Error::field(
                "critical",
                FieldProblem::BadValue("BOOLEAN not of one octet"),
                b.offset,
            )
        })?,
        None => false,
    };
    let value = it.expect(Tag::OCTET_STRING, "extnValue")?;
    it.end("")?;
    if f.extensions.iter().any(|e| e.oid == text) {
        f.duplicate_extensions.push(DuplicateExtension {
            oid: text,
            index,
            offset: h.offset,
        });
        return Ok(());
    }
    f.extensions.push(ExtensionInfo {
        oid: text,
        critical,
    });
    let within = |e: Error| e.within("extnValue");
    match known {
        Some(Oid::SubjectKeyIdentifier) => {
            f.subject_key_id = subject_key_identifier(der, &value).map_err(within)?
        }
        Some(Oid::AuthorityKeyIdentifier) => {
            if let Some(aki) = authority_key_identifier(der, &value).map_err(within)? {
                f.authority_key_id = aki.key_id;
                f.aki_has_issuer_serial = aki.has_issuer_serial;
            }
        }
        Some(Oid::KeyUsage) => f.key_usage = key_usage(der, &value).map_err(within)?,
        Some(Oid::BasicConstraints) => {
            f.basic_constraints = basic_constraints(der, &value).map_err(within)?
        }
        Some(Oid::CertificatePolicies) => {
            if let Some(p) = certificate_policies(der, &value).map_err(within)? {
                f.policies = p;
            }
        }
        Some(Oid::SubjectAltName) => {
            if let Some(san) = subject_alt_name(der, &value).map_err(within)? {
                f.hardware_module_names = san.hardware_module_names;
                f.other_san_entries = san.others;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The one element a known extension's value holds, if it carries `tag`. `Ok(None)` when
/// the value cannot be read as a TLV or has another tag number (the field is left empty,
/// as x509-parser left it). An error when the tag number is right but not the class or
/// form (x509-parser compared tag numbers only, and would have read the element), or bytes
/// follow the element (x509-parser ignored them).
fn extension_value(der: &[u8], value: &Header, tag: u8) -> Result<Option<Header>, Error> {
    let mut it = Elements::of(der, value);
    let Some(Ok(h)) = it.next() else {
        return Ok(None);
    };
    if h.tag != tag {
        if h.tag & 0x1f == tag & 0x1f {
            return Err(wrong_tag("", tag, &h));
        }
        return Ok(None);
    }
    it.end("")?;
    Ok(Some(h))
}

/// ```text
/// SubjectKeyIdentifier ::= KeyIdentifier
///
/// KeyIdentifier ::= OCTET STRING
/// ```
fn subject_key_identifier(der: &[u8], value: &Header) -> Result<Option<Vec<u8>>, Error> {
    Ok(extension_value(der, value, Tag::OCTET_STRING)?.map(|h| der[h.content].to_vec()))
}

/// What an AuthorityKeyIdentifier says.
struct AuthorityKeyIdentifier {
    /// keyIdentifier
    key_id: Option<Vec<u8>>,
    /// authorityCertIssuer or authorityCertSerialNumber is there.
    has_issuer_serial: bool,
}

/// ```text
/// AuthorityKeyIdentifier ::= SEQUENCE {
///     keyIdentifier             [0] KeyIdentifier           OPTIONAL,
///     authorityCertIssuer       [1] GeneralNames            OPTIONAL,
///     authorityCertSerialNumber [2] CertificateSerialNumber OPTIONAL  }
/// ```
/// (IMPLICIT tags.) The keyIdentifier, and whether authorityCertIssuer or
/// authorityCertSerialNumber is there. Each element must be in its place, the serial
/// number a DER INTEGER (x509-parser skipped a serial number it could not read, and
/// whatever followed an element out of place).
fn authority_key_identifier(
    der: &[u8],
    value: &Header,
) -> Result<Option<AuthorityKeyIdentifier>, Error> {
    let Some(seq) = extension_value(der, value, Tag::SEQUENCE)? else {
        return Ok(None);
    };
    let mut it = Elements::of(der, &seq);
    let key_id = it.optional(0x80, "keyIdentifier")?;
    let issuer = it.optional(0xa1, "authorityCertIssuer")?;
    let serial = it.optional(0x82, "authorityCertSerialNumber")?;
    it.end("")?;
    if let Some(s) = &serial {
        if !is_der_integer(it.contents(s)) {
            return Err(Error::field(
                "authorityCertSerialNumber",
                FieldProblem::BadValue("not a DER INTEGER"),
                s.offset,
            ));
        }
    }
    let key_id = key_id.map(|h| it.contents(&h).to_vec());
    Ok(Some(AuthorityKeyIdentifier {
        key_id,
        has_issuer_serial: issuer.is_some() || serial.is_some(),
    }))
}

/// ```text
/// KeyUsage ::= BIT STRING {
///      digitalSignature        (0),
///      nonRepudiation          (1),
///      keyEncipherment         (2),
///      dataEncipherment        (3),
///      keyAgreement            (4),
///      keyCertSign             (5),
///      cRLSign                 (6),
///      encipherOnly            (7),
///      decipherOnly            (8) }
/// ```
/// Bit n of the result is named bit n: bit `7 - n % 8` of contents octet `n / 8` (x509-parser's
/// order). Bits from the third octet on (none is named) are ignored, as x509-parser
/// ignored them; unused bits are cleared. A BIT STRING without its unused-bits octet or
/// with more than 7 is unreadable, as it was to x509-parser.
fn key_usage(der: &[u8], value: &Header) -> Result<Option<u16>, Error> {
    let Some(h) = extension_value(der, value, Tag::BIT_STRING)? else {
        return Ok(None);
    };
    let Some((&unused, bits)) = der[h.content].split_first() else {
        return Ok(None);
    };
    if unused > 7 {
        return Ok(None);
    }
    let octet = |i: usize| {
        let mut b = bits.get(i).copied().unwrap_or(0);
        if i + 1 == bits.len() {
            b &= 0xff << unused;
        }
        u16::from(b.reverse_bits())
    };
    Ok(Some(octet(0) | (octet(1) << 8)))
}

/// ```text
/// BasicConstraints ::= SEQUENCE {
///      cA                      BOOLEAN DEFAULT FALSE,
///      pathLenConstraint       INTEGER (0..MAX) OPTIONAL }
/// ```
/// Unreadable, as it was to x509-parser: an element that cannot be read as a TLV, more than
/// two elements, elements that are not [cA] [pathLenConstraint], a cA not of one octet, a
/// pathLenConstraint negative or beyond 32 bits. An error: an element with the tag number
/// of BOOLEAN or INTEGER but another class or form, or a BIT STRING or ENUMERATED, or a
/// pathLenConstraint without contents (x509-parser would have read them as a cA or a
/// pathLenConstraint, the last as 0). An explicit FALSE is taken (DER omits it), as
/// x509-parser took it.
fn basic_constraints(der: &[u8], value: &Header) -> Result<Option<BasicConstraints>, Error> {
    let Some(seq) = extension_value(der, value, Tag::SEQUENCE)? else {
        return Ok(None);
    };
    let mut it = Elements::of(der, &seq);
    let mut elements: [Option<Header>; 3] = [None, None, None];
    for slot in &mut elements {
        match it.next() {
            None => break,
            Some(Err(_)) => return Ok(None),
            Some(Ok(h)) => *slot = Some(h),
        }
    }
    for h in elements.iter().flatten() {
        let misread = match h.tag & 0x1f {
            0x01 => h.tag != Tag::BOOLEAN,
            0x02 => h.tag != Tag::INTEGER,
            0x03 | 0x0a => true,
            _ => false,
        };
        if misread {
            return Err(Error::field(
                "",
                FieldProblem::Unexpected { tag: h.tag },
                h.offset,
            ));
        }
    }
    let (ca, path_len) = match elements {
        [None, ..] => (None, None),
        [Some(a), None, None] if a.tag == Tag::BOOLEAN => (Some(a), None),
        [Some(a), None, None] if a.tag == Tag::INTEGER => (None, Some(a)),
        [Some(a), Some(b), None] if a.tag == Tag::BOOLEAN && b.tag == Tag::INTEGER => {
            (Some(a), Some(b))
        }
        _ => return Ok(None),
    };
    let ca = match ca {
        Some(h) => match boolean(it.contents(&h)) {
            Some(b) => b,
            None => return Ok(None),
        },
        None => false,
    };
    let path_len = match path_len {
        Some(h) if h.content.is_empty() => {
            return Err(Error::field(
                "pathLenConstraint",
                FieldProblem::BadValue("INTEGER without contents"),
                h.offset,
            ));
        }
        Some(h) => match unsigned(it.contents(&h)).and_then(|n| u32::try_from(n).ok()) {
            Some(n) => Some(n),
            None => return Ok(None),
        },
        None => None,
    };
    Ok(Some(BasicConstraints { ca, path_len }))
}

/// ```text
/// certificatePolicies ::= SEQUENCE SIZE (1..MAX) OF PolicyInformation
///
/// PolicyInformation ::= SEQUENCE {
///      policyIdentifier   CertPolicyId,
///      policyQualifiers   SEQUENCE SIZE (1..MAX) OF
///                              PolicyQualifierInfo OPTIONAL }
///
/// CertPolicyId ::= OBJECT IDENTIFIER
/// ```
/// The policyIdentifiers (an empty SEQUENCE is taken, as x509-parser took it). A
/// PolicyInformation that cannot be read, is not a SEQUENCE, or does not start with a
/// primitive element makes the value unreadable (x509-parser: the same); the qualifiers
/// are not looked into.
fn certificate_policies(der: &[u8], value: &Header) -> Result<Option<Vec<String>>, Error> {
    let Some(seq) = extension_value(der, value, Tag::SEQUENCE)? else {
        return Ok(None);
    };
    let mut list = Elements::of(der, &seq);
    let mut out = Vec::with_capacity(1);
    let mut i = 0;
    while !list.is_empty() {
        let at = |e: Error| e.within(&format!("[{i}]"));
        let Some(Ok(info)) = list.next() else {
            return Ok(None);
        };
        if info.tag != Tag::SEQUENCE {
            if info.tag & 0x1f == 0x10 {
                return Err(at(wrong_tag("", Tag::SEQUENCE, &info)));
            }
            return Ok(None);
        }
        let mut it = Elements::of(der, &info);
        let Some(Ok(id)) = it.next() else {
            return Ok(None);
        };
        if id.tag != Tag::OID {
            if Tag::is_constructed(id.tag) {
                return Ok(None);
            }
            return Err(at(wrong_tag("policyIdentifier", Tag::OID, &id)));
        }
        let text = oid_string(it.contents(&id)).ok_or_else(|| {
            at(Error::field(
                "policyIdentifier",
                FieldProblem::BadOid,
                id.offset,
            ))
        })?;
        it.optional(Tag::SEQUENCE, "policyQualifiers").map_err(at)?;
        it.end("").map_err(at)?;
        out.push(text);
        i += 1;
    }
    Ok(Some(out))
}

/// What a subjectAltName holds, as far as SMKI cares.
struct SubjectAltName {
    hardware_module_names: Vec<HardwareModuleName>,
    /// The number of other names.
    others: usize,
}

/// ```text
/// SubjectAltName ::= GeneralNames
///
/// GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName
///
/// GeneralName ::= CHOICE {
///      otherName                 [0]  OtherName,
///      rfc822Name                [1]  IA5String,
///      dNSName                   [2]  IA5String,
///      x400Address               [3]  ORAddress,
///      directoryName             [4]  Name,
///      ediPartyName              [5]  EDIPartyName,
///      uniformResourceIdentifier [6]  IA5String,
///      iPAddress                 [7]  OCTET STRING,
///      registeredID              [8]  OBJECT IDENTIFIER }
/// ```
/// (IMPLICIT tags, so [0], [3], [4] (a CHOICE, hence EXPLICIT) and [5] are constructed.)
/// The hardwareModuleNames and the number of other names. A name that cannot be read, not
/// context-specific, numbered above 8, or a string name that is not UTF-8, makes the value
/// unreadable (x509-parser: the same); the other names are not looked into, but for a
/// directoryName's being one SEQUENCE.
fn subject_alt_name(der: &[u8], value: &Header) -> Result<Option<SubjectAltName>, Error> {
    let Some(seq) = extension_value(der, value, Tag::SEQUENCE)? else {
        return Ok(None);
    };
    let mut list = Elements::of(der, &seq);
    let mut names = Vec::with_capacity(1);
    let mut others = 0;
    let mut i = 0;
    while !list.is_empty() {
        let at = |e: Error| e.within(&format!("[{i}]"));
        let Some(Ok(gn)) = list.next() else {
            return Ok(None);
        };
        let number = gn.tag & 0x1f;
        if gn.tag & 0xc0 != 0x80 || number > 8 {
            return Ok(None);
        }
        let constructed = matches!(number, 0 | 3 | 4 | 5);
        if Tag::is_constructed(gn.tag) != constructed {
            let expected = 0x80 | number | if constructed { 0x20 } else { 0 };
            return Err(at(wrong_tag("", expected, &gn)));
        }
        let content = list.contents(&gn);
        match number {
            0 => match other_name(der, &gn).map_err(at)? {
                None => return Ok(None),
                Some(OtherName::HardwareModuleName(name)) => names.push(name),
                Some(OtherName::Other) => others += 1,
            },
            1 | 2 | 6 if std::str::from_utf8(content).is_err() => return Ok(None),
            4 => {
                let mut it = Elements::of(der, &gn);
                match it.next() {
                    Some(Ok(n)) if n.tag == Tag::SEQUENCE => it.end("").map_err(at)?,
                    Some(Ok(n)) if n.tag & 0x1f == 0x10 => {
                        return Err(at(wrong_tag("", Tag::SEQUENCE, &n)))
                    }
                    _ => return Ok(None),
                }
                others += 1;
            }
            _ => others += 1,
        }
        i += 1;
    }
    Ok(Some(SubjectAltName {
        hardware_module_names: names,
        others,
    }))
}

/// ```text
/// OtherName ::= SEQUENCE {
///      type-id    OBJECT IDENTIFIER,
///      value      [0] EXPLICIT ANY DEFINED BY type-id }
/// ```
/// `None` when the type-id cannot be read or is constructed (x509-parser: unreadable).
fn other_name(der: &[u8], h: &Header) -> Result<Option<OtherName>, Error> {
    let mut it = Elements::of(der, h);
    let Some(Ok(id)) = it.next() else {
        return Ok(None);
    };
    if id.tag != Tag::OID {
        if Tag::is_constructed(id.tag) {
            return Ok(None);
        }
        return Err(wrong_tag("type-id", Tag::OID, &id));
    }
    let oid = it.contents(&id);
    if !is_valid_oid(oid) {
        return Err(Error::field("type-id", FieldProblem::BadOid, id.offset));
    }
    let value = it.expect(0xa0, "value")?;
    it.end("")?;
    if oid != Oid::HardwareModuleName.der() {
        return Ok(Some(OtherName::Other));
    }
    hardware_module_name(der, &value).map(|n| Some(OtherName::HardwareModuleName(n)))
}

/// An otherName of a subjectAltName, as far as SMKI cares.
enum OtherName {
    HardwareModuleName(HardwareModuleName),
    Other,
}

/// ```text
/// HardwareModuleName ::= SEQUENCE {
///      hwType OBJECT IDENTIFIER,
///      hwSerialNum OCTET STRING }
/// ```
/// (RFC 4108 section 5), inside the otherName's `[0] EXPLICIT`: exactly this, or an error
/// (the device's identity, its EUI-64, would be unknown).
fn hardware_module_name(der: &[u8], explicit: &Header) -> Result<HardwareModuleName, Error> {
    let mut outer = Elements::of(der, explicit);
    let seq = outer.expect(Tag::SEQUENCE, "value")?;
    outer.end("value")?;
    let mut it = Elements::of(der, &seq);
    let hw_type = it.expect(Tag::OID, "value.hwType")?;
    let text = oid_string(it.contents(&hw_type))
        .ok_or_else(|| Error::field("value.hwType", FieldProblem::BadOid, hw_type.offset))?;
    let serial = it.expect(Tag::OCTET_STRING, "value.hwSerialNum")?;
    it.end("value")?;
    Ok(HardwareModuleName {
        hw_type: text,
        serial: it.contents(&serial).to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use smki_der::read_header;

    #[test]
    fn key_usage_order() {
        // digitalSignature only: 03 02 07 80; keyCertSign + cRLSign: 03 02 01 06;
        // decipherOnly: 03 03 07 00 80.
        for (value, flags) in [
            (&[0x03, 0x02, 0x07, 0x80][..], 1),
            (&[0x03, 0x02, 0x03, 0x08], 1 << 4),
            (&[0x03, 0x02, 0x01, 0x06], (1 << 5) | (1 << 6)),
            (&[0x03, 0x03, 0x07, 0x00, 0x80], 1 << 8),
            (&[0x03, 0x01, 0x00], 0),
        ] {
            let mut der = vec![0x04, value.len() as u8];
            der.extend_from_slice(value);
            let h = read_header(&der, 0, 0).unwrap();
            assert_eq!(key_usage(&der, &h).unwrap(), Some(flags), "{value:02x?}");
        }
    }
}
