//! Differential test: `Fields::parse` (smki-x509's own reader) against the x509-parser based
//! implementation it replaced (tests/reference/mod.rs), on every certificate of the sample
//! corpus (fixtures/sample) and of the DCC test certificates
//! (../shared/fixtures/dcc-test-certs, skipped, saying so, when absent), and on mutants of
//! each: every byte of the tbsCertificate flipped with nine masks, and the tbsCertificate's
//! contents cut short at every length (re-wrapped so that the record still splits). Then
//! BER length forms and the error messages.
//!
//! Originals: both must read every certificate, to equal `Fields`.
//!
//! Mutants: where both read a mutant, the `Fields` must be equal, but for two classes, each
//! checked to explain the whole difference:
//! * "BER read leniently": the mutant is not DER in a way x509-parser's DER reader refuses
//!   (in practice: a keyUsage BIT STRING with non-zero unused bits), and x509-parser dropped
//!   the extension's value (its ParseError); ours reads BER (and clears the unused bits),
//!   the strict walk reporting the defect. Checked: the fields are equal once the values
//!   x509-parser dropped are dropped from ours.
//! * "OID 2.40 and up": an OBJECT IDENTIFIER with a first subidentifier of 120 or more.
//!   x509-parser 0.16 renders the first two arcs from the first octet alone (0x88 0x37 as
//!   `3.16.55` instead of `2.999`); ours follows X.690. Checked: the fields are equal with
//!   every OID text blanked.
//!
//! Where one reads a mutant and the other does not, the disagreement is counted and printed
//! by class (`cargo test -p smki-x509 --test fields_vs_x509_parser -- --nocapture`), not
//! failed. The classes seen (some 1.66 million mutants of 507 certificates: 0.92 million
//! read by both, 0.51 million by neither, 0.2 million by one), and why each is right:
//!
//! Ours refuses, x509-parser reads (all but one class):
//! * Wrong tags (`expected tag .., found ..`: ~60% of them). asn1-rs / der-parser compare
//!   tag numbers only, ignoring class and form, so x509-parser reads a SEQUENCE tagged 0x10
//!   or 0xb0, a constructed [2] as the subjectUniqueID (taking the extensions with it), a
//!   primitive [0] as the version; it does not check the tag of an OBJECT IDENTIFIER at all
//!   (an extnID, an attribute type, a curve tagged 0x07 is read as an OID). Ours compares
//!   identifier octets.
//! * Bytes or elements after the last element of a SEQUENCE (`unexpected element`), in an
//!   AlgorithmIdentifier, SubjectPublicKeyInfo, AttributeTypeAndValue, Extension or inside
//!   a known extension's value: x509-parser ignores them.
//! * An RDN or attribute that cannot be read (`truncated`, `length too long`, `missing`
//!   inside issuer / subject): x509-parser keeps the RDNs before it and silently drops the
//!   rest of the Name.
//! * A [3] extensions wrapper whose length disagrees with its contents: x509-parser reads
//!   the SEQUENCE after the wrapper's header and ignores the wrapper's length.
//! * Malformed OBJECT IDENTIFIERs (incomplete last subidentifier, 0x80 padding): x509-parser
//!   renders them anyway.
//! * Inside known extensions, structure x509-parser reads through: an AuthorityKeyIdentifier
//!   element that cannot be read or is out of place (x509-parser skips it), an otherName
//!   whose value is not `[0]` or a hardwareModuleName that is not one (the old code counted
//!   it as another SAN entry; without it the device's EUI-64 is unknown), a
//!   pathLenConstraint without contents (x509-parser reads 0).
//! * A second instance of an extension: x509-parser 0.16 takes both (the old code kept the
//!   last one's value); RFC 5280 section 4.2 forbids it and relying parties reject it.
//! * A subjectPublicKey BIT STRING with 8 or more unused bits (X.690 allows 0 to 7).
//!
//! Ours reads, x509-parser refuses (one class): a subjectPublicKey BIT STRING whose unused
//! bits are not zero (`InvalidSPKI`): BER, reported by the strict walk; a non-DER
//! tbsCertificate must still yield its fields so that the scan can report it as needing a
//! reissue. (Indefinite lengths, the other such case, are not reached by single-byte
//! mutations; `ber_lengths_give_the_same_fields` covers them.)
use smki_der::BerIssueKind;
use smki_x509::{CertView, Fields, KeyAlgorithm};
use std::collections::BTreeMap;
use std::sync::Mutex;

mod corpus;
mod reference;

/// All the certificates: the sample corpus, then the DCC ones when present.
fn certificates() -> Vec<corpus::Cert> {
    let mut certs = corpus::sample();
    assert!(
        certs.len() >= 40,
        "sample corpus: {} certificates",
        certs.len()
    );
    match corpus::dcc() {
        Some(dcc) => certs.extend(dcc),
        None => eprintln!(
            "DCC test certificates skipped: ../shared/fixtures/dcc-test-certs not found \
             (the folder is not vendored)"
        ),
    }
    certs
}

#[test]
fn originals_agree() {
    let certs = certificates();
    for c in &certs {
        let view = CertView::split(&c.der).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let old = reference::parse(&view).unwrap_or_else(|e| panic!("{}: old: {e}", c.name));
        let new = Fields::parse(&view).unwrap_or_else(|e| panic!("{}: new: {e}", c.name));
        assert_eq!(new, old, "{}", c.name);
    }
    eprintln!("{} certificates: equal fields", certs.len());
}

/// A mutant of a certificate and how it was made.
struct Mutant {
    der: Vec<u8>,
    how: String,
}

/// The byte flips and truncations of one certificate's tbsCertificate.
fn mutants(der: &[u8]) -> impl Iterator<Item = Mutant> + '_ {
    let view = CertView::split(der).unwrap();
    let tbs = view.tbs.clone();
    let flips = (tbs.offset..tbs.end).flat_map(move |pos| {
        [0x01u8, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff]
            .into_iter()
            .map(move |mask| {
                let mut m = der.to_vec();
                m[pos] ^= mask;
                Mutant {
                    der: m,
                    how: format!("byte {pos} ^= 0x{mask:02x}"),
                }
            })
    });
    let sig_alg = view.signature_algorithm_bytes();
    let sig = view.signature_value_bytes();
    let content = &der[tbs.content.clone()];
    let cuts = (0..content.len()).map(move |n| {
        let mut cut = Vec::new();
        smki_der::encode::tlv(0x30, &content[..n], &mut cut);
        Mutant {
            der: smki_der::encode::certificate(&cut, sig_alg, sig),
            how: format!("tbsCertificate contents cut to {n} bytes"),
        }
    });
    flips.chain(cuts)
}

/// Why a mutant read by both may give different fields (see the module documentation), if
/// it is one of the allowed classes and the fields differ only as that class explains.
fn allowed_difference(view: &CertView<'_>, old: &Fields, new: &Fields) -> Option<&'static str> {
    let ber = smki_x509::ber_issues(view).iter().any(|i| {
        i.path.starts_with("tbsCertificate")
            && matches!(
                i.kind,
                BerIssueKind::IndefiniteLength
                    | BerIssueKind::NonMinimalInteger
                    | BerIssueKind::BadBoolean
                    | BerIssueKind::BitStringPadding
                    | BerIssueKind::ConstructedString
            )
    });
    if ber && without_values_x509_parser_dropped(old, new) == *old {
        return Some("BER read leniently");
    }
    if has_oid_over_2_39(view.der(), view.tbs.content.clone(), 0)
        && without_oids(old) == without_oids(new)
    {
        return Some("OID 2.40 and up");
    }
    None
}

/// `new` with each extension field that x509-parser left empty (its ParseError) emptied.
fn without_values_x509_parser_dropped(old: &Fields, new: &Fields) -> Fields {
    let mut f = new.clone();
    if old.subject_key_id.is_none() {
        f.subject_key_id = None;
    }
    if old.authority_key_id.is_none() && !old.aki_has_issuer_serial {
        f.authority_key_id = None;
        f.aki_has_issuer_serial = false;
    }
    if old.key_usage.is_none() {
        f.key_usage = None;
    }
    if old.basic_constraints.is_none() {
        f.basic_constraints = None;
    }
    if old.policies.is_empty() {
        f.policies.clear();
    }
    if old.hardware_module_names.is_empty() && old.other_san_entries == 0 {
        f.hardware_module_names.clear();
        f.other_san_entries = 0;
        f.eui64 = old.eui64;
    }
    f
}

/// The fields with every OID text (and the texts made from them) blanked.
fn without_oids(f: &Fields) -> Fields {
    let mut f = f.clone();
    for name in [&mut f.issuer, &mut f.subject] {
        name.text.clear();
        name.normalised.clear();
        for a in &mut name.attributes {
            a.oid.clear();
        }
    }
    for e in &mut f.extensions {
        e.oid.clear();
    }
    for p in &mut f.policies {
        p.clear();
    }
    for h in &mut f.hardware_module_names {
        h.hw_type.clear();
    }
    if let KeyAlgorithm::Other(s) | KeyAlgorithm::OtherCurve(s) = &mut f.key_algorithm {
        s.clear();
    }
    f
}

/// Does an OBJECT IDENTIFIER with a first subidentifier of 120 or more occur anywhere
/// (descending into constructed elements and OCTET STRINGs that hold TLVs)?
fn has_oid_over_2_39(der: &[u8], range: std::ops::Range<usize>, depth: usize) -> bool {
    let mut pos = range.start;
    while pos < range.end && depth < 32 {
        let Ok(h) = smki_der::read_header(&der[..range.end], pos, 0) else {
            return false;
        };
        let inside = match h.tag {
            0x06 => der.get(h.content.start).is_some_and(|&b| b >= 0x78),
            t if t & 0x20 != 0 || t == 0x04 => has_oid_over_2_39(der, h.content.clone(), depth + 1),
            _ => false,
        };
        if inside {
            return true;
        }
        pos = h.end;
    }
    false
}

#[derive(Default)]
struct Tally {
    mutants: usize,
    unsplittable: usize,
    both_err: usize,
    equal: usize,
    allowed: BTreeMap<&'static str, usize>,
    /// (direction, class) -> (count, an example)
    disagreements: BTreeMap<(&'static str, String), (usize, String)>,
    failures: Vec<String>,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.mutants += other.mutants;
        self.unsplittable += other.unsplittable;
        self.both_err += other.both_err;
        self.equal += other.equal;
        for (k, n) in other.allowed {
            *self.allowed.entry(k).or_default() += n;
        }
        for (k, (n, ex)) in other.disagreements {
            self.disagreements.entry(k).or_insert((0, ex)).0 += n;
        }
        self.failures.extend(other.failures);
    }
}

/// An error message with its numbers (positions, indices, counts, tags) taken out, as a
/// class.
fn class_of(message: &str) -> String {
    let mut out = String::new();
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            if c == '0' && chars.peek() == Some(&'x') {
                chars.next();
                while chars.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                    chars.next();
                }
            }
            while chars.peek().is_some_and(|c| c.is_ascii_digit()) {
                chars.next();
            }
            out.push('#');
        } else {
            out.push(c);
        }
    }
    out
}

fn check(name: &str, m: &Mutant, t: &mut Tally) {
    t.mutants += 1;
    let Ok(view) = CertView::split(&m.der) else {
        t.unsplittable += 1;
        return;
    };
    let old = std::panic::catch_unwind(|| reference::parse(&view))
        .unwrap_or_else(|_| Err("x509-parser panicked".into()));
    // The reference has no offsets for duplicate extensions (x509-parser gives none).
    let new = Fields::parse(&view).map(|mut f| {
        for d in &mut f.duplicate_extensions {
            d.offset = 0;
        }
        f
    });
    let example = || format!("{name}: {}", m.how);
    match (old, new) {
        (Ok(o), Ok(n)) if o == n => t.equal += 1,
        (Ok(o), Ok(n)) => match allowed_difference(&view, &o, &n) {
            Some(why) => *t.allowed.entry(why).or_default() += 1,
            None => t.failures.push(format!(
                "{}: both read it, fields differ:\n  old {o:?}\n  new {n:?}",
                example()
            )),
        },
        (Err(_), Err(_)) => t.both_err += 1,
        (Ok(_), Err(e)) => {
            t.disagreements
                .entry(("x509-parser reads, ours refuses", class_of(&e.to_string())))
                .or_insert((0, format!("{}: {e}", example())))
                .0 += 1;
        }
        (Err(e), Ok(_)) => {
            t.disagreements
                .entry(("ours reads, x509-parser refuses", class_of(&e)))
                .or_insert((0, format!("{}: {e}", example())))
                .0 += 1;
        }
    }
}

#[test]
fn mutants_agree_where_both_read() {
    let certs = certificates();
    let next = Mutex::new(0usize);
    let total = Mutex::new(Tally::default());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = {
                    let mut n = next.lock().unwrap();
                    *n += 1;
                    *n - 1
                };
                let Some(c) = certs.get(i) else { break };
                let mut t = Tally::default();
                for m in mutants(&c.der) {
                    check(&c.name, &m, &mut t);
                }
                total.lock().unwrap().add(t);
            });
        }
    });
    let t = total.into_inner().unwrap();
    eprintln!(
        "{} mutants of {} certificates: {} do not split, {} refused by both, {} equal fields, \
         allowed differences {:?}",
        t.mutants,
        certs.len(),
        t.unsplittable,
        t.both_err,
        t.equal,
        t.allowed
    );
    let mut rows: Vec<_> = t.disagreements.iter().collect();
    rows.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
    eprintln!("Ok/Err disagreements ({} classes):", rows.len());
    for ((direction, class), (n, example)) in rows {
        eprintln!("{n:8}  {direction}: {class}\n          e.g. {example}");
    }
    assert!(
        t.failures.is_empty(),
        "{} mutants read by both with different fields; the first:\n{}",
        t.failures.len(),
        t.failures[..t.failures.len().min(5)].join("\n")
    );
}

/// A TLV tree, to re-encode a tbsCertificate with other length forms, or edit it.
#[derive(Clone, Debug)]
enum Tlv {
    Primitive(u8, Vec<u8>),
    Constructed(u8, Vec<Tlv>),
}

/// The elements of `der` (which they must fill), constructed ones read into.
fn tlvs(der: &[u8]) -> Vec<Tlv> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < der.len() {
        let h = smki_der::read_header(der, pos, 0).unwrap();
        let content = &der[h.content.clone()];
        out.push(match h.tag & 0x20 {
            0 => Tlv::Primitive(h.tag, content.to_vec()),
            _ => Tlv::Constructed(h.tag, tlvs(content)),
        });
        pos = h.end;
    }
    out
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Lengths {
    Der,
    /// Every length in two octets (`82 00 05`).
    Long,
    /// Every constructed element with an indefinite length.
    Indefinite,
}

fn encode(t: &Tlv, lengths: Lengths, out: &mut Vec<u8>) {
    let (tag, content) = match t {
        Tlv::Primitive(tag, content) => (*tag, content.clone()),
        Tlv::Constructed(tag, children) => {
            let mut content = Vec::new();
            for c in children {
                encode(c, lengths, &mut content);
            }
            if lengths == Lengths::Indefinite {
                out.extend([*tag, 0x80]);
                out.extend(content);
                out.extend([0, 0]);
                return;
            }
            (*tag, content)
        }
    };
    match lengths {
        Lengths::Long => {
            out.extend([tag, 0x82, (content.len() >> 8) as u8, content.len() as u8]);
            out.extend(content);
        }
        _ => smki_der::encode::tlv(tag, &content, out),
    }
}

/// The certificate with its tbsCertificate replaced (same signature, which no longer
/// matches: the fields do not care).
fn with_tbs(view: &CertView<'_>, tbs: &Tlv, lengths: Lengths) -> Vec<u8> {
    let mut out = Vec::new();
    encode(tbs, lengths, &mut out);
    smki_der::encode::certificate(
        &out,
        view.signature_algorithm_bytes(),
        view.signature_value_bytes(),
    )
}

/// Long-form and indefinite lengths give the fields the DER gives (the inner
/// AlgorithmIdentifier, kept as encoded, aside). x509-parser reads the long forms, and
/// refuses the indefinite ones.
#[test]
fn ber_lengths_give_the_same_fields() {
    for c in corpus::sample() {
        let view = CertView::split(&c.der).unwrap();
        let expected = Fields::parse(&view).unwrap();
        let tbs = tlvs(view.tbs_bytes()).remove(0);
        for lengths in [Lengths::Der, Lengths::Long, Lengths::Indefinite] {
            let der = with_tbs(&view, &tbs, lengths);
            let v = CertView::split(&der).unwrap();
            let mut f = Fields::parse(&v).unwrap_or_else(|e| panic!("{} {lengths:?}: {e}", c.name));
            f.inner_signature_algorithm = expected.inner_signature_algorithm.clone();
            assert_eq!(f, expected, "{} {lengths:?}", c.name);
            match (lengths, reference::parse(&v)) {
                (Lengths::Indefinite, old) => assert!(old.is_err(), "{}", c.name),
                (_, old) => {
                    let mut old = old.unwrap();
                    old.inner_signature_algorithm = expected.inner_signature_algorithm.clone();
                    assert_eq!(old, expected, "{} {lengths:?}", c.name);
                }
            }
        }
    }
}

/// A sample device certificate's tbsCertificate as a tree, its view, and its DER.
fn device_certificate() -> (Vec<u8>, Tlv) {
    let c = corpus::sample()
        .into_iter()
        .find(|c| c.name.contains("certificates.pem"))
        .unwrap();
    let view = CertView::split(&c.der).unwrap();
    let tbs = tlvs(view.tbs_bytes()).remove(0);
    (c.der, tbs)
}

fn children(t: &mut Tlv) -> &mut Vec<Tlv> {
    match t {
        Tlv::Constructed(_, c) => c,
        Tlv::Primitive(..) => panic!("primitive"),
    }
}

/// Parses the certificate with the edited tbsCertificate, expecting an error; returns its
/// message and the record.
fn error_after(edit: impl FnOnce(&mut Vec<Tlv>)) -> (String, usize, Vec<u8>) {
    let (der, mut tbs) = device_certificate();
    edit(children(&mut tbs));
    let view = CertView::split(&der).unwrap();
    let edited = with_tbs(&view, &tbs, Lengths::Der);
    let e = Fields::parse(&CertView::split(&edited).unwrap()).unwrap_err();
    (e.to_string(), e.position, edited)
}

#[test]
fn errors_name_the_element_and_the_byte() {
    // tbsCertificate children: version, serialNumber, signature, issuer, validity, subject,
    // subjectPublicKeyInfo, extensions.
    let (message, position, der) = error_after(|tbs| {
        let validity = children(&mut tbs[4]);
        validity[0] = Tlv::Primitive(0x17, b"16040100000aZ".to_vec());
    });
    let at = der.windows(13).position(|w| w == b"16040100000aZ").unwrap() - 2;
    assert_eq!(
        message,
        format!("tbsCertificate.validity.notBefore: bad UTCTime at byte {at}")
    );
    assert_eq!(position, at);

    let (message, ..) = error_after(|tbs| {
        let validity = children(&mut tbs[4]);
        validity[1] = Tlv::Primitive(0x18, b"99991231235959+2400".to_vec());
    });
    assert!(
        message.starts_with("tbsCertificate.validity.notAfter: bad GeneralizedTime at byte "),
        "{message}"
    );

    // A duplicate extension is no error: it is listed (RFC 5280 4.2), the first one's value
    // stands.
    let (der, mut tbs) = device_certificate();
    let elements = children(&mut tbs);
    let extensions = children(children(&mut elements[7]).first_mut().unwrap());
    let first = extensions[0].clone();
    extensions.push(first);
    let view = CertView::split(&der).unwrap();
    let edited = with_tbs(&view, &tbs, Lengths::Der);
    let f = Fields::parse(&CertView::split(&edited).unwrap()).unwrap();
    assert_eq!(f.duplicate_extensions.len(), 1, "{f:?}");
    let d = &f.duplicate_extensions[0];
    assert_eq!((d.oid.as_str(), d.index), ("2.5.29.15", 5));
    assert_eq!(edited[d.offset], 0x30, "the Extension SEQUENCE");
    assert_eq!(f.extensions.len(), 5);

    let (message, position, der) = error_after(|tbs| tbs.push(Tlv::Primitive(0x84, vec![0])));
    assert_eq!(
        message,
        format!("tbsCertificate: unexpected element (tag 0x84) at byte {position}")
    );
    assert_eq!(der[position], 0x84);

    let (message, ..) = error_after(|tbs| tbs.truncate(4));
    assert!(
        message.starts_with("tbsCertificate.validity missing (at byte "),
        "{message}"
    );

    let (message, ..) = error_after(|tbs| {
        // issuer's first attribute type: 2.5.4.3 with a padded subidentifier (0x80 0x03).
        let atv = children(children(&mut tbs[3]).first_mut().unwrap())
            .first_mut()
            .unwrap();
        children(atv)[0] = Tlv::Primitive(0x06, vec![0x55, 0x04, 0x80, 0x03]);
    });
    assert!(
        message
            .starts_with("tbsCertificate.issuer[0][0].type: malformed OBJECT IDENTIFIER at byte "),
        "{message}"
    );
}
