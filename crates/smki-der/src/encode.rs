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
/// below 2^248 starts with 0x00 octets. They are redundant (`SIG_INT_LEADING_ZERO`) when
/// the value is below 2^247; from 2^247 to 2^248 the one 0x00 is the pad DER requires
/// anyway, and the encoding happens to be canonical. Lengths are DER; the BIT STRING has 0
/// unused bits.
pub fn faulty_fixed_width_bit_string(r: &[u8; 32], s: &[u8; 32]) -> Vec<u8> {
    let mut ints = Vec::with_capacity(70);
    for v in [r, s] {
        let pad = v[0] & 0x80 != 0;
        ints.push(crate::Tag::INTEGER);
        length(32 + pad as usize, &mut ints);
        if pad {
            ints.push(0);
        }
        ints.extend_from_slice(v);
    }
    let mut seq = Vec::with_capacity(72);
    tlv(crate::Tag::SEQUENCE, &ints, &mut seq);
    bit_string(0, &seq)
}

/// A BIT STRING element with DER length: the unused-bits octet, then `content`.
fn bit_string(unused: u8, content: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(content.len() + 1);
    body.push(unused);
    body.extend_from_slice(content);
    let mut out = Vec::with_capacity(body.len() + 3);
    tlv(crate::Tag::BIT_STRING, &body, &mut out);
    out
}

/// The minimal big-endian magnitude of `v` (no leading 0x00; empty for 0).
fn magnitude(v: &[u8]) -> &[u8] {
    &v[v.iter().take_while(|&&b| b == 0).count()..]
}

/// The content octets of the minimal DER INTEGER of the unsigned value `v`.
fn canonical_content(v: &[u8]) -> Vec<u8> {
    let m = magnitude(v);
    match m.first() {
        None => vec![0],
        Some(&b) if b & 0x80 != 0 => [&[0u8][..], m].concat(),
        Some(_) => m.to_vec(),
    }
}

/// How [`inject`] writes one length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Len {
    Der,
    /// `0x81 len` (lengths here are always < 128, where DER uses the short form).
    LongForm,
    /// `0x80|(k+1)`, k octets 0x00, then the length in one octet.
    LeadingZeros(usize),
    /// `0x80`, contents, `00 00` (constructed elements only).
    Indefinite,
}

fn write_length(len: usize, how: Len, out: &mut Vec<u8>) {
    match how {
        Len::Der => length(len, out),
        Len::LongForm => out.extend_from_slice(&[0x81, len as u8]),
        Len::LeadingZeros(k) => {
            out.push(0x80 | (k as u8 + 1));
            out.extend(core::iter::repeat_n(0u8, k));
            out.push(len as u8);
        }
        Len::Indefinite => out.push(0x80),
    }
}

/// A deterministic stream of choices drawn from `variant` (splitmix64).
struct Choices(u64);
impl Choices {
    /// A number in `0..n` (`n` > 0).
    fn pick(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

/// Whether dropping the 0x00 pad of `m` (a minimal magnitude) leaves an INTEGER that reads
/// back as `m` unsigned and is reported only as negative: high bit set, and not 0xFF
/// followed by a byte >= 0x80 (which would read as a redundant 0xFF octet instead).
fn clean_negative(m: &[u8]) -> bool {
    match m {
        [first, rest @ ..] => {
            *first >= 0x80 && !(*first == 0xff && rest.first().is_some_and(|&b| b >= 0x80))
        }
        [] => false,
    }
}

/// A signatureValue BIT STRING element for (r, s) carrying exactly the signature defects in
/// `codes` (each at most once; a code that is not a signature defect, such as `CertBer`, is
/// refused). `variant` picks among equivalent ways (which integer, how many octets, ...) deterministically.
/// Returns `None` when the combination cannot be applied to this (r, s) (for example
/// `SigIntNegative` needs r or s with its high bit set).
///
/// r and s must both be in [1, n-1] (else `None`): [`crate::analyse_signature`] of the
/// output then reports exactly `codes` (as a set) and reads back the same r and s, except
/// where a code makes one unreadable (`SigIntEmpty`, `SigTruncated` on s) or replaces it
/// (`SigRange`). Each code, with `variant` choosing where the text says "or":
///
/// * Content defects, one per INTEGER at most (so at most two of these), r or s:
///   * `SigIntLeadingZero`: 1-3 redundant 0x00 octets before the DER content.
///   * `SigIntNegative`: the 0x00 pad dropped from an integer whose high bit is set (and
///     whose magnitude does not start `FF` then a byte >= 0x80, which would read as
///     `SigIntLeadingFf`).
///   * `SigIntLeadingFf`: the pad dropped and 1-3 0xFF octets put before that same kind of
///     magnitude.
///   * `SigIntEmpty`: the INTEGER becomes `02 00`.
///   * `SigRange`: the value becomes n, n+1 or 0 (minimal DER).
/// * Length defects, each on a different one of the SEQUENCE, r and s:
///   * `SigLenLongForm`: `81 LL`; `SigLenLeadingZero`: `8k 00.. LL` with 1-3 0x00 octets;
///   * `SigLenIndefinite`: on the SEQUENCE only, `30 80 ... 00 00`.
/// * `SigExtraElement`: `02 01 01` after s inside the SEQUENCE.
/// * `SigTrailingData`: 1-4 0x00 bytes after the SEQUENCE inside the BIT STRING.
/// * `SigNotSequence`: the SEQUENCE's tag becomes 0x31 (SET) or 0x04 (OCTET STRING). The
///   analyser stops there, so it combines only with `SigBitstringUnusedBits`.
/// * `SigTruncated`: s keeps its declared length but loses its last 1-4 content octets; the
///   SEQUENCE's length counts only the octets present, so only s overruns. No content defect
///   goes on s then; incompatible with `SigExtraElement` (s would swallow it) and
///   `SigLenIndefinite`.
/// * `SigBitstringUnusedBits`: the unused-bits octet becomes 1-7, the content unchanged.
pub fn inject(r: &[u8; 32], s: &[u8; 32], codes: &[DefectCode], variant: u64) -> Option<Vec<u8>> {
    use DefectCode::*;
    let in_range = |v: &[u8; 32]| v.iter().any(|&b| b != 0) && v < &crate::P256_ORDER;
    let distinct = codes
        .iter()
        .enumerate()
        .all(|(i, c)| !codes[..i].contains(c));
    if !in_range(r) || !in_range(s) || !distinct || codes.iter().any(|c| !c.is_signature()) {
        return None;
    }
    let has = |c| codes.contains(&c);
    let truncated = has(SigTruncated);
    if has(SigNotSequence)
        && codes
            .iter()
            .any(|&c| !matches!(c, SigNotSequence | SigBitstringUnusedBits))
        || truncated && (has(SigExtraElement) || has(SigLenIndefinite))
    {
        return None;
    }
    let mut choose = Choices(variant);
    let values = [r, s];
    let mut contents = [canonical_content(r), canonical_content(s)];
    // Content defects, the constrained ones first so that a greedy choice cannot fail.
    let mut used = [false, truncated];
    for code in [
        SigIntNegative,
        SigIntLeadingFf,
        SigIntLeadingZero,
        SigIntEmpty,
        SigRange,
    ] {
        if !has(code) {
            continue;
        }
        let needs_negative = matches!(code, SigIntNegative | SigIntLeadingFf);
        let candidates: Vec<usize> = (0..2)
            .filter(|&i| !used[i] && (!needs_negative || clean_negative(magnitude(values[i]))))
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let i = candidates[choose.pick(candidates.len())];
        used[i] = true;
        let m = magnitude(values[i]);
        contents[i] = match code {
            SigIntNegative => m.to_vec(),
            SigIntLeadingFf => [
                vec![0xff; 33usize.saturating_sub(m.len()).max(1) + choose.pick(3)],
                m.to_vec(),
            ]
            .concat(),
            SigIntLeadingZero => [vec![0; 1 + choose.pick(3)], contents[i].clone()].concat(),
            SigIntEmpty => Vec::new(),
            _ => {
                let mut n_plus_1 = crate::P256_ORDER;
                n_plus_1[31] += 1; // n ends in 0x51: no carry
                let replacement = [crate::P256_ORDER, n_plus_1, [0; 32]];
                canonical_content(&replacement[choose.pick(3)])
            }
        };
    }
    // Length defects: element 0 is the SEQUENCE, 1 is r, 2 is s.
    let mut lens = [Len::Der; 3];
    if has(SigLenIndefinite) {
        lens[0] = Len::Indefinite;
    }
    for code in [SigLenLongForm, SigLenLeadingZero] {
        if !has(code) {
            continue;
        }
        let candidates: Vec<usize> = (0..3).filter(|&i| lens[i] == Len::Der).collect();
        let i = candidates[choose.pick(candidates.len())];
        lens[i] = if code == SigLenLongForm {
            Len::LongForm
        } else {
            Len::LeadingZeros(1 + choose.pick(3))
        };
    }
    let mut inner = Vec::with_capacity(96);
    for (i, content) in contents.iter().enumerate() {
        inner.push(crate::Tag::INTEGER);
        write_length(content.len(), lens[i + 1], &mut inner);
        inner.extend_from_slice(content);
    }
    if truncated {
        let drop = (1 + choose.pick(4)).min(contents[1].len());
        inner.truncate(inner.len() - drop);
    }
    if has(SigExtraElement) {
        inner.extend_from_slice(&[crate::Tag::INTEGER, 1, 1]);
    }
    let mut seq = Vec::with_capacity(inner.len() + 8);
    seq.push(if has(SigNotSequence) {
        [crate::Tag::SET, crate::Tag::OCTET_STRING][choose.pick(2)]
    } else {
        crate::Tag::SEQUENCE
    });
    write_length(inner.len(), lens[0], &mut seq);
    seq.extend_from_slice(&inner);
    if lens[0] == Len::Indefinite {
        seq.extend_from_slice(&[0, 0]);
    }
    if has(SigTrailingData) {
        seq.extend(core::iter::repeat_n(0u8, 1 + choose.pick(4)));
    }
    let unused = if has(SigBitstringUnusedBits) {
        1 + choose.pick(7) as u8
    } else {
        0
    };
    Some(bit_string(unused, &seq))
}
