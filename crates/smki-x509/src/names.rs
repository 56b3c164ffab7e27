//! Names (RFC 5280 section 4.1.2.4): the RDNs of an issuer or subject read in order, shown
//! to people (`CN=Z1, OU=07`) and normalised for comparison (RFC 5280 section 7.1).
use crate::elements::Elements;
use crate::oid::Oid;
use crate::{Error, FieldProblem};
use serde::Serialize;
use smki_der::{oid_text, Header, Tag};
use std::borrow::Cow;

/// A distinguished name: as shown to people, and normalised for comparison
/// (RFC 5280 section 7.1: string types unified, case and white space folded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Name {
    pub text: String,
    #[serde(skip)]
    pub normalised: Vec<u8>,
    /// One attribute per RDN, each single-valued.
    #[serde(skip)]
    pub one_attribute_per_rdn: bool,
    /// Every attribute, in order.
    #[serde(skip)]
    pub attributes: Vec<Attribute>,
}

/// One attribute of a name (an AttributeTypeAndValue), as encoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attribute {
    /// The type's dotted text.
    pub oid: String,
    /// The value's tag number: the identifier octet's low five bits (0x13 for a
    /// PrintableString, 0x03 for a BIT STRING), as x509-parser gave it.
    pub tag: u8,
    /// The value's contents octets.
    pub value: Vec<u8>,
}

impl Name {
    pub fn is_empty(&self) -> bool {
        self.attributes.is_empty()
    }
    /// The first attribute of this type.
    pub fn attribute(&self, oid: Oid) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.oid == oid.text())
    }
    /// The value of the first attribute of this type, as text (strings) or hex (others).
    pub fn get(&self, oid: Oid) -> Option<String> {
        self.attribute(oid).map(|a| value_text(a.tag, &a.value))
    }
}

/// ```text
/// Name ::= CHOICE { -- only one possibility for now --
///   rdnSequence  RDNSequence }
///
/// RDNSequence ::= SEQUENCE OF RelativeDistinguishedName
///
/// RelativeDistinguishedName ::=
///   SET SIZE (1..MAX) OF AttributeTypeAndValue
///
/// AttributeTypeAndValue ::= SEQUENCE {
///   type     AttributeType,
///   value    AttributeValue }
///
/// AttributeType ::= OBJECT IDENTIFIER
///
/// AttributeValue ::= ANY -- DEFINED BY AttributeType
/// ```
/// `text`: `short=value` of every attribute, joined by `, `; `normalised`: per RDN, its
/// `oid=value` keys (strings: white space runs made one space, trimmed, lower case; other
/// values `#hex`) sorted and joined by `+`, RDNs joined by `/`.
pub(crate) fn name(der: &[u8], h: &Header) -> Result<Name, Error> {
    let mut text = String::with_capacity(h.content.len());
    let mut normalised = Vec::with_capacity(h.content.len());
    // Most names have one or two attributes (an empty subject none).
    let mut attributes: Vec<Attribute> =
        Vec::with_capacity(if h.content.is_empty() { 0 } else { 2 });
    let mut one_attribute_per_rdn = true;
    // The keys of a multi-valued RDN, to sort.
    let mut keys: Vec<Vec<u8>> = Vec::new();
    let mut rdns = Elements::of(der, h);
    let mut i = 0;
    while !rdns.is_empty() {
        let at_rdn = |e: Error| e.within(&format!("[{i}]"));
        let rdn = rdns.expect(Tag::SET, "").map_err(at_rdn)?;
        if i > 0 {
            normalised.push(b'/');
        }
        let rdn_start = normalised.len();
        let mut atvs = Elements::of(der, &rdn);
        if atvs.is_empty() {
            return Err(at_rdn(Error::field(
                "",
                FieldProblem::BadValue("empty RelativeDistinguishedName"),
                rdn.offset,
            )));
        }
        let mut j = 0;
        while !atvs.is_empty() {
            let at_atv = |e: Error| e.within(&format!("[{i}][{j}]"));
            let atv = atvs.expect(Tag::SEQUENCE, "").map_err(at_atv)?;
            let mut it = Elements::of(der, &atv);
            let ty = it.expect(Tag::OID, "type").map_err(at_atv)?;
            let oid_bytes = it.contents(&ty);
            let known = Oid::from_der(oid_bytes);
            let oid = match known {
                Some(k) => k.text().to_string(),
                None => oid_text(oid_bytes)
                    .ok_or_else(|| at_atv(Error::field("type", FieldProblem::BadOid, ty.offset)))?,
            };
            let value = it.any("value").map_err(at_atv)?;
            it.end("").map_err(at_atv)?;
            let tag = value.tag & 0x1f;
            let v = it.contents(&value);
            if !attributes.is_empty() {
                text.push_str(", ");
            }
            let string = string_value(tag, v);
            text.push_str(known.and_then(short_name).unwrap_or(&oid));
            text.push('=');
            push_value_text(&mut text, string.as_deref(), v);
            // The key goes straight into `normalised`; a second attribute in the RDN moves
            // the keys aside, to be sorted.
            if j == 1 {
                keys.push(normalised.split_off(rdn_start));
            }
            let key_at = normalised.len();
            normalised.extend_from_slice(oid.as_bytes());
            normalised.push(b'=');
            push_normalised(&mut normalised, string.as_deref(), v);
            if j >= 1 {
                keys.push(normalised.split_off(key_at));
            }
            attributes.push(Attribute {
                oid,
                tag,
                value: v.to_vec(),
            });
            j += 1;
        }
        if j > 1 {
            one_attribute_per_rdn = false;
            keys.sort();
            normalised.extend(keys.join(&b'+'));
            keys.clear();
        }
        i += 1;
    }
    Ok(Name {
        text,
        normalised,
        one_attribute_per_rdn,
        attributes,
    })
}

/// The short names shown in [`Name::text`] (others are shown as their OID).
fn short_name(oid: Oid) -> Option<&'static str> {
    Some(match oid {
        Oid::CommonName => "CN",
        Oid::OrganizationalUnitName => "OU",
        Oid::OrganizationName => "O",
        Oid::CountryName => "C",
        Oid::UniqueIdentifier => "x500UniqueIdentifier",
        _ => return None,
    })
}

/// The value of a string-typed attribute (UTF8String, NumericString, PrintableString,
/// TeletexString, IA5String, VisibleString, BMPString), by tag number, if it decodes.
fn string_value(tag: u8, v: &[u8]) -> Option<Cow<'_, str>> {
    match tag {
        0x0c | 0x12 | 0x13 | 0x14 | 0x16 | 0x1a => std::str::from_utf8(v).ok().map(Cow::Borrowed),
        0x1e if v.len().is_multiple_of(2) => String::from_utf16(
            &v.chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect::<Vec<_>>(),
        )
        .ok()
        .map(Cow::Owned),
        _ => None,
    }
}

/// A value as text: the string, or `#` and the contents in hex.
fn value_text(tag: u8, v: &[u8]) -> String {
    let mut out = String::new();
    push_value_text(&mut out, string_value(tag, v).as_deref(), v);
    out
}

/// `string`: the value as a string ([`string_value`]), if it is one.
fn push_value_text(out: &mut String, string: Option<&str>, v: &[u8]) {
    match string {
        Some(s) => out.push_str(s),
        None => {
            out.push('#');
            push_hex(out, v);
        }
    }
}

/// A value as compared: white space runs made one space and trimmed, lower case; not a
/// string (`string`: [`string_value`]): `#` and the contents in hex.
fn push_normalised(out: &mut Vec<u8>, string: Option<&str>, v: &[u8]) {
    match string {
        Some(s) if s.is_ascii() => {
            let mut space = false;
            let mut started = false;
            for &b in s.as_bytes() {
                if char::from(b).is_whitespace() {
                    space = started;
                } else {
                    if space {
                        out.push(b' ');
                        space = false;
                    }
                    out.push(b.to_ascii_lowercase());
                    started = true;
                }
            }
        }
        Some(s) => out.extend_from_slice(
            s.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
                .as_bytes(),
        ),
        None => {
            let mut hex = String::with_capacity(1 + 2 * v.len());
            hex.push('#');
            push_hex(&mut hex, v);
            out.extend_from_slice(hex.as_bytes());
        }
    }
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    out.push_str(&hex::encode(bytes));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalised_values() {
        let mut out = Vec::new();
        push_normalised(&mut out, Some("  Some \t Name\x0b "), b"");
        assert_eq!(out, b"some name");
        out.clear();
        push_normalised(&mut out, Some("\u{a0}Ünïcode  NAME"), b"");
        assert_eq!(String::from_utf8(out.clone()).unwrap(), "ünïcode name");
        out.clear();
        push_normalised(&mut out, None, &[0x00, 0xab]);
        assert_eq!(out, b"#00ab");
    }
}
