//! Canonical DER encoding, and the defect injectors used by the simulator and the tests.
use crate::DefectCode;

/// Appends a DER length.
pub fn length(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Appends a TLV with a DER length.
pub fn tlv(tag: u8, content: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    length(content.len(), out);
    out.extend_from_slice(content);
}

/// Appends the minimal DER INTEGER whose value is the unsigned big-endian `magnitude`
/// (leading zero octets are trimmed; a 0x00 pad is added when the high bit is set).
pub fn unsigned_integer(magnitude: &[u8], out: &mut Vec<u8>) {
    let skip = magnitude.iter().take_while(|&&b| b == 0).count();
    let m = &magnitude[skip..];
    out.push(crate::Tag::INTEGER);
    if m.is_empty() {
        out.extend_from_slice(&[1, 0]);
        return;
    }
    let pad = m[0] & 0x80 != 0;
    length(m.len() + pad as usize, out);
    if pad {
        out.push(0);
    }
    out.extend_from_slice(m);
}

/// The canonical DER `ECDSA-Sig-Value` of (r, s).
pub fn ecdsa_sig_value(r: &[u8; 32], s: &[u8; 32]) -> Vec<u8> {
    let mut ints = Vec::with_capacity(72);
    unsigned_integer(r, &mut ints);
    unsigned_integer(s, &mut ints);
    let mut out = Vec::with_capacity(74);
    tlv(crate::Tag::SEQUENCE, &ints, &mut out);
    out
}

/// The canonical signatureValue BIT STRING element (0 unused bits) holding the DER
/// `ECDSA-Sig-Value` of (r, s).
pub fn signature_bit_string(r: &[u8; 32], s: &[u8; 32]) -> Vec<u8> {
    let sig = ecdsa_sig_value(r, s);
    let mut content = Vec::with_capacity(sig.len() + 1);
    content.push(0);
    content.extend_from_slice(&sig);
    let mut out = Vec::with_capacity(content.len() + 2);
    tlv(crate::Tag::BIT_STRING, &content, &mut out);
    out
}

/// The DER `Certificate` SEQUENCE from its three parts, each a whole element as bytes.
pub fn certificate(tbs: &[u8], signature_algorithm: &[u8], signature_value: &[u8]) -> Vec<u8> {
    let len = tbs.len() + signature_algorithm.len() + signature_value.len();
    let mut out = Vec::with_capacity(len + 4);
    out.push(crate::Tag::SEQUENCE);
    length(len, &mut out);
    out.extend_from_slice(tbs);
    out.extend_from_slice(signature_algorithm);
    out.extend_from_slice(signature_value);
    out
}

/// The signatureValue the faulty 2018 signer wrote: r and s each as a fixed-width 32-octet
/// INTEGER (33 with the 0x00 pad when the high bit is set), never trimmed, so any r or s
/// below 2^248 carries redundant leading 0x00 octets.
pub fn faulty_fixed_width_bit_string(r: &[u8; 32], s: &[u8; 32]) -> Vec<u8> {
    let _ = (r, s);
    todo!("smki-der faulty signer")
}

/// A signatureValue BIT STRING element for (r, s) carrying exactly the signature defects in
/// `codes` (each at most once; `CertBer` is not a signature defect and is refused). `variant`
/// picks among equivalent ways (which integer, how many octets, ...) deterministically.
/// Returns `None` when the combination cannot be applied to this (r, s) (for example
/// `SigIntNegative` needs r or s with its high bit set).
pub fn inject(r: &[u8; 32], s: &[u8; 32], codes: &[DefectCode], variant: u64) -> Option<Vec<u8>> {
    let _ = (r, s, codes, variant);
    todo!("smki-der defect injector")
}
