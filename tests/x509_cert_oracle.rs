//! RustCrypto's `x509-cert` (over the `der` crate) as an independent judge of whether a
//! whole certificate is DER (issue #16): smki's strict walk (`smki_der::walk_with` under
//! `smki_x509::CertificateSchema`, what the CERT_BER finding reports) must agree with it.
//!
//! x509-cert's judgement: `Certificate::from_der` reads the certificate (strict lengths,
//! minimal INTEGERs, BOOLEAN 0x00 / 0xFF, SET OF order, DER times, no indefinite
//! lengths), its `to_der` gives back exactly the input, and so does every known
//! extension's value decoded to its `ext::pkix` type and encoded again. The round trip is
//! part of the judgement because der 0.7 decodes a DEFAULT value that is present (its
//! derive reads `Option<T>` and falls back to the default): it does not refuse `critical
//! FALSE` or `cA FALSE`, but its encoder leaves them out, as X.690 11.5 says.
//!
//! Where the agreement is claimed (docs/vocabulary.md, "Checked against x509-cert"): every
//! element x509-cert decodes to a type. Not claimed, each pinned by a test below:
//! - the contents of an `ANY` (an attribute value in a Name, AlgorithmIdentifier
//!   parameters, an otherName's value, a policy qualifier): x509-cert reads the TLV header
//!   and keeps the contents as bytes; smki walks them;
//! - the unused bits of a BIT STRING: der 0.7's `BitString` does not check that they are
//!   zero (X.690 11.2.1 requires it); smki does (CERT_BER `bit_string_padding`, or
//!   SIG_BITSTRING_UNUSED_BITS for the signatureValue).
//!
//! The certificates: real ones made by smki-sim (every profile, device and organisation)
//! and by rcgen (tests/support/rcgen_certs.rs), each changed by one mutation that makes it
//! BER (long-form or indefinite lengths, long-form lengths with leading zeros, non-minimal
//! INTEGERs, BOOLEAN TRUE not 0xFF, critical FALSE or cA FALSE encoded, a SET OF out of
//! order, a UTCTime without seconds, a GeneralizedTime with a fraction, a string in the
//! constructed form, keyUsage with trailing 0 bits, a CRL distribution point's
//! `nameRelativeToCRLIssuer` out of order) or keeps it DER (a string's or the serial's
//! content changed, an extension added or removed, a multi-valued RDN or a
//! `nameRelativeToCRLIssuer` in order, another signature value, nothing).

#[path = "support/der_tree.rs"]
mod der_tree;
#[path = "support/rcgen_certs.rs"]
mod rcgen_certs;
mod support;
#[path = "support/x509_cert_judge.rs"]
mod x509_cert_judge;

use der_tree::{at, at_mut, encode, paths, Body, Ctx, Len, Node};
use proptest::prelude::*;
use smki_der::BerIssueKind;
use std::sync::OnceLock;
use x509_cert_judge::x509_cert_is_der;

/// smki's judgement: the strict walk's issues (a read error is one too).
fn smki_issues(der: &[u8]) -> Vec<String> {
    let w = smki_der::walk_with(der, 0, &smki_x509::CertificateSchema);
    let mut out: Vec<String> = w
        .issues
        .iter()
        .map(|i| format!("{} at byte {}: {}", kind_name(i.kind), i.offset, i.detail))
        .collect();
    if let Some(e) = w.error {
        out.push(format!("read error: {e}"));
    }
    out
}

fn kind_name(k: BerIssueKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The CERT_BER finding agrees with the walk (the signatureValue's unused bits aside,
/// which are the signature analyser's).
fn finding_has_cert_ber(der: &[u8]) -> bool {
    static EXAMINER: OnceLock<smki_scan::Examiner<smki_verify::FastBackend>> = OnceLock::new();
    let ex = EXAMINER.get_or_init(|| {
        smki_scan::Examiner::builder(smki_verify::FastBackend)
            .build(1)
            .expect("an examiner without issuers")
            .examiner
    });
    let locator = smki_repo::Locator {
        file: "mutated.der".into(),
        record: 0,
        line: None,
        offset: 0,
    };
    ex.examine(smki_scan::Input::der(der, &locator))
        .defects
        .iter()
        .any(|d| d.code == smki_der::DefectCode::CertBer)
}

/// The starting certificates: smki-sim's (one dump of every profile) and rcgen's.
fn corpus() -> &'static [(String, Vec<u8>)] {
    static CORPUS: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("dump.pem");
        smki_sim::simulate(&smki_sim::SimOptions {
            count: 16,
            seed: 16,
            format: smki_sim::OutputFormat::Pem,
            out: out.clone(),
            defect_rate: 0.0,
            organisation_share: 0.5,
            threads: Some(1),
            ..Default::default()
        })
        .expect("smki-sim");
        let mut all: Vec<(String, Vec<u8>)> = smki_repo::open(dir.path())
            .map(|r| r.expect("the simulated dump reads"))
            .map(|r| (format!("smki-sim {}", r.locator), r.der))
            .collect();
        let pki = rcgen_certs::RcgenPki::new();
        all.extend(
            pki.all()
                .map(|m| (format!("rcgen: {}", m.name), m.der.clone())),
        );
        assert!(all.len() >= 20, "{} starting certificates", all.len());
        all
    })
}

/// One change to a certificate's tree.
#[derive(Debug, Clone, Copy)]
enum Mutation {
    // Each makes the encoding BER (not DER), keeping the value (or another valid one).
    LongForm {
        zeros: usize,
    },
    Indefinite,
    NonMinimalInteger,
    BooleanNotFf(u8),
    CriticalFalse,
    CaFalse,
    RdnUnsorted,
    UtcTimeNoSeconds,
    GeneralizedTimeFraction,
    ConstructedString,
    KeyUsageTrailingZeros,
    /// A cRLDistributionPoints extension added whose distribution point is a
    /// `nameRelativeToCRLIssuer [1]` (a SET OF under an IMPLICIT tag) of two attributes,
    /// out of order (BER) or in order (DER).
    CrlDpRdn {
        sorted: bool,
    },
    // Each keeps it DER.
    StringContent(u8),
    SerialContent(u8),
    AddExtension(u8),
    RemoveExtension,
    RdnSorted,
    SignatureValue(u8),
    Nothing,
}

impl Mutation {
    fn makes_ber(self) -> bool {
        use Mutation::*;
        !matches!(
            self,
            StringContent(_)
                | CrlDpRdn { sorted: true }
                | SerialContent(_)
                | AddExtension(_)
                | RemoveExtension
                | RdnSorted
                | SignatureValue(_)
                | Nothing
        )
    }
}

fn is_string(tag: u8) -> bool {
    matches!(tag, 0x0c | 0x13 | 0x16)
}

/// Where `m` applies: the paths of the nodes it can change (never inside an `ANY`'s
/// contents, which are not nodes).
fn targets(root: &Node, m: Mutation) -> Vec<Vec<usize>> {
    use Mutation::*;
    paths(root)
        .into_iter()
        .filter(|p| {
            let n = at(root, p);
            match m {
                LongForm { .. } => true,
                Indefinite => n.tag & 0x20 != 0,
                NonMinimalInteger => n.tag == 0x02 && !n.any(),
                BooleanNotFf(_) => n.tag == 0x01 && n.prim() == Some(&[0xff][..]),
                CriticalFalse => n.ctx == Ctx::Ext && n.children().len() == 2,
                CaFalse => {
                    n.ctx == Ctx::BasicConstraints
                        && n.children().first().is_none_or(|c| c.tag != 0x01)
                }
                RdnUnsorted | RdnSorted => {
                    n.ctx == Ctx::Name
                        && n.children()
                            .windows(2)
                            .any(|w| encode(&w[0]) != encode(&w[1]))
                }
                UtcTimeNoSeconds => n.tag == 0x17 && n.prim().is_some_and(|c| c.len() == 13),
                GeneralizedTimeFraction => n.tag == 0x18 && n.prim().is_some_and(|c| c.len() == 15),
                ConstructedString => {
                    (is_string(n.tag) || n.tag == 0x04) && matches!(n.body, Body::Prim(_))
                }
                KeyUsageTrailingZeros => n.ctx == Ctx::KeyUsage,
                CrlDpRdn { .. } => {
                    n.ctx == Ctx::Exts
                        && !n.children().iter().any(|e| {
                            e.children().first().and_then(Node::prim) == Some(&[0x55, 0x1d, 0x1f])
                        })
                }
                StringContent(_) => {
                    is_string(n.tag) && n.prim().is_some_and(|c| !c.is_empty() && c.is_ascii())
                }
                SerialContent(_) => p.len() == 2 && p[0] == 0 && n.tag == 0x02 && p[1] <= 1,
                AddExtension(_) => n.ctx == Ctx::Exts,
                RemoveExtension => n.ctx == Ctx::Exts && n.children().len() >= 2,
                SignatureValue(_) => p == &[2],
                Nothing => p.is_empty(),
            }
        })
        .collect()
}

/// Applies `m` to the node at `path`.
fn apply(root: &mut Node, path: &[usize], m: Mutation) {
    use Mutation::*;
    let n = at_mut(root, path);
    fn prim(n: &mut Node) -> &mut Vec<u8> {
        match &mut n.body {
            Body::Prim(p) => p,
            _ => panic!("a primitive node"),
        }
    }
    match m {
        LongForm { zeros } => {
            let len = encode(n).len();
            // A length of 128 or more needs a redundant zero to be non-DER.
            let zeros = if len >= 0x80 { zeros.max(1) } else { zeros };
            n.len = Len::Long { zeros };
        }
        Indefinite => n.len = Len::Indefinite,
        NonMinimalInteger => {
            let c = prim(n);
            let pad = if c.first().is_some_and(|&b| b >= 0x80) {
                0xff
            } else {
                0x00
            };
            c.insert(0, pad);
        }
        BooleanNotFf(b) => *prim(n) = vec![b.clamp(1, 0xfe)],
        CriticalFalse => n
            .children_mut()
            .expect("an Extension")
            .insert(1, Node::leaf(0x01, &[0x00])),
        CaFalse => n
            .children_mut()
            .expect("a BasicConstraints")
            .insert(0, Node::leaf(0x01, &[0x00])),
        RdnUnsorted | RdnSorted => {
            let rdns = n.children_mut().expect("a Name");
            let i = rdns
                .windows(2)
                .position(|w| encode(&w[0]) != encode(&w[1]))
                .expect("two RDNs that differ");
            let second = rdns.remove(i + 1);
            let first = rdns[i].children_mut().expect("an RDN");
            first.extend(second.children().iter().cloned());
            let mut atvs = first.clone();
            atvs.sort_by_key(encode);
            if matches!(m, RdnUnsorted) {
                atvs.reverse();
            }
            *first = atvs;
        }
        UtcTimeNoSeconds => {
            let c = prim(n);
            c.drain(10..12);
        }
        GeneralizedTimeFraction => {
            let c = prim(n);
            c.splice(14..14, *b".5");
        }
        ConstructedString => {
            let inner = Node::leaf(n.tag, n.prim().expect("primitive"));
            n.tag |= 0x20;
            n.body = Body::Cons(vec![inner]);
        }
        KeyUsageTrailingZeros => {
            let c = prim(n);
            if c[0] > 0 {
                c[0] = 0;
            } else {
                c.push(0x00);
            }
        }
        CrlDpRdn { sorted } => {
            let cons = |tag: u8, children: Vec<Node>| Node {
                body: Body::Cons(children),
                ..Node::leaf(tag, &[])
            };
            let atv = |oid_last: u8, value: &[u8]| {
                cons(
                    0x30,
                    vec![
                        Node::leaf(0x06, &[0x55, 0x04, oid_last]),
                        Node::leaf(0x0c, value),
                    ],
                )
            };
            // commonName (2.5.4.3) sorts before organizationName (2.5.4.10).
            let mut atvs = vec![atv(0x03, b"crl"), atv(0x0a, b"issuer")];
            if !sorted {
                atvs.reverse();
            }
            let dp = cons(0x30, vec![cons(0xa0, vec![cons(0xa1, atvs)])]);
            let value = Node {
                body: Body::Encap(vec![cons(0x30, vec![dp])]),
                ..Node::leaf(0x04, &[])
            };
            let ext = cons(0x30, vec![Node::leaf(0x06, &[0x55, 0x1d, 0x1f]), value]);
            n.children_mut().expect("Extensions").push(ext);
        }
        StringContent(k) => {
            let c = prim(n);
            let i = k as usize % c.len();
            c[i] = b'A' + k % 26;
        }
        SerialContent(k) => {
            let c = prim(n);
            let last = c.len() - 1;
            if last == 0 {
                c[0] = 1 + k % 0x7f;
            } else {
                c[last] = k;
            }
        }
        AddExtension(k) => {
            let oid = Node::leaf(
                0x06,
                &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xb2, 0x03, 0x4d],
            );
            let value = Node::leaf(0x04, &[0x30, 0x03, 0x02, 0x01, k & 0x7f]);
            let ext = Node {
                body: Body::Cons(vec![oid, value]),
                ..Node::leaf(0x30, &[])
            };
            n.children_mut().expect("Extensions").push(ext);
        }
        RemoveExtension => {
            n.children_mut().expect("Extensions").pop();
        }
        SignatureValue(k) => {
            let c = prim(n);
            for (i, b) in c.iter_mut().enumerate().skip(1) {
                *b = b.wrapping_add(k).wrapping_mul(i as u8 | 1);
            }
        }
        Nothing => {}
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    use Mutation::*;
    prop_oneof![
        (0usize..3).prop_map(|zeros| LongForm { zeros }),
        Just(Indefinite),
        Just(NonMinimalInteger),
        any::<u8>().prop_map(BooleanNotFf),
        Just(CriticalFalse),
        Just(CaFalse),
        Just(RdnUnsorted),
        Just(UtcTimeNoSeconds),
        Just(GeneralizedTimeFraction),
        Just(ConstructedString),
        Just(KeyUsageTrailingZeros),
        any::<bool>().prop_map(|sorted| CrlDpRdn { sorted }),
        any::<u8>().prop_map(StringContent),
        any::<u8>().prop_map(SerialContent),
        any::<u8>().prop_map(AddExtension),
        Just(RemoveExtension),
        Just(RdnSorted),
        any::<u8>().prop_map(SignatureValue),
        Just(Nothing),
    ]
}

/// Checks one mutated certificate: smki and x509-cert agree on whether it is DER, the
/// CERT_BER finding says the same, and both say what the mutation made.
fn check(name: &str, m: Mutation, der: &[u8]) -> Result<(), TestCaseError> {
    let smki = smki_issues(der);
    let x509 = x509_cert_is_der(der);
    prop_assert_eq!(
        smki.is_empty(),
        x509.is_ok(),
        "{} / {:?}: smki says {:?}, x509-cert says {:?}\n{}",
        name,
        m,
        smki,
        x509,
        hex::encode(der)
    );
    prop_assert_eq!(
        smki.is_empty(),
        !m.makes_ber(),
        "{} / {:?}: smki says {:?}",
        name,
        m,
        smki
    );
    prop_assert_eq!(
        finding_has_cert_ber(der),
        !smki.is_empty(),
        "{} / {:?}: the finding's CERT_BER against the walk {:?}",
        name,
        m,
        smki
    );
    Ok(())
}

#[test]
fn the_starting_certificates_are_der_for_both() {
    for (name, der) in corpus() {
        assert_eq!(smki_issues(der), Vec::<String>::new(), "{name}");
        assert_eq!(x509_cert_is_der(der), Ok(()), "{name}");
        let tree = der_tree::parse(der).expect("the tree reads");
        assert_eq!(&encode(&tree), der, "{name}: the tree writes it back");
    }
}

/// Every mutation on every starting certificate, at every element where it applies.
#[test]
fn every_mutation_on_every_certificate() {
    use Mutation::*;
    let all = [
        LongForm { zeros: 0 },
        LongForm { zeros: 1 },
        Indefinite,
        NonMinimalInteger,
        BooleanNotFf(0x01),
        CriticalFalse,
        CaFalse,
        RdnUnsorted,
        UtcTimeNoSeconds,
        GeneralizedTimeFraction,
        ConstructedString,
        KeyUsageTrailingZeros,
        CrlDpRdn { sorted: false },
        CrlDpRdn { sorted: true },
        StringContent(3),
        SerialContent(0x42),
        AddExtension(5),
        RemoveExtension,
        RdnSorted,
        SignatureValue(9),
        Nothing,
    ];
    let mut checked = std::collections::BTreeMap::<String, usize>::new();
    for (name, der) in corpus() {
        let tree = der_tree::parse(der).expect("the tree reads");
        for m in all {
            for path in &targets(&tree, m) {
                let mut changed = tree.clone();
                apply(&mut changed, path, m);
                check(name, m, &encode(&changed)).unwrap_or_else(|e| panic!("{e}"));
                *checked.entry(format!("{m:?}")).or_default() += 1;
            }
        }
    }
    eprintln!("checked: {checked:?}");
    for m in all {
        assert!(
            checked.contains_key(&format!("{m:?}")),
            "{m:?} applied to no certificate"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// One or two random mutations at random places of a random starting certificate.
    #[test]
    fn smki_and_x509_cert_agree(
        which in any::<prop::sample::Index>(),
        first in mutation(),
        first_at in any::<prop::sample::Index>(),
        second in proptest::option::of((mutation(), any::<prop::sample::Index>())),
    ) {
        let (name, der) = which.get(corpus());
        let mut tree = der_tree::parse(der).expect("the tree reads");
        let mut ms = Vec::new();
        for (m, at) in std::iter::once((first, first_at)).chain(second) {
            let t = targets(&tree, m);
            if !t.is_empty() {
                apply(&mut tree, &at.get(&t)[..], m);
                ms.push(m);
            }
        }
        let der = encode(&tree);
        let smki = smki_issues(&der);
        let x509 = x509_cert_is_der(&der);
        prop_assert_eq!(smki.is_empty(), x509.is_ok(), "{} / {:?}: smki {:?}, x509-cert {:?}\n{}", name, ms, smki, x509, hex::encode(&der));
        // What one mutation makes is known (a second may undo the first: a removed
        // extension, a serial's pad made necessary).
        if let [m] = ms[..] {
            prop_assert_eq!(!smki.is_empty(), m.makes_ber(), "{} / {:?}: smki {:?}", name, m, smki);
        }
        prop_assert_eq!(finding_has_cert_ber(&der), !smki.is_empty());
    }
}

/// Not claimed (module doc): BER inside an `ANY`'s contents. An attribute value with a
/// long-form length inside a constructed value, and an otherName's value: smki finds it,
/// x509-cert keeps the contents as bytes and writes them back.
#[test]
fn inside_an_any_smki_sees_and_x509_cert_does_not() {
    let mut found = 0;
    for (name, der) in corpus() {
        let tree = der_tree::parse(der).expect("the tree reads");
        for p in paths(&tree) {
            let n = at(&tree, &p);
            let Some(contents) = n.prim().filter(|_| n.any() && n.tag & 0x20 != 0) else {
                continue;
            };
            // The first element inside the ANY, its length in the long form.
            let Some((hl, len)) = support::try_header(contents).map(|(_, hl, len)| (hl, len))
            else {
                continue;
            };
            if hl != 2 {
                continue;
            }
            let mut inner = vec![contents[0], 0x81, len as u8];
            inner.extend_from_slice(&contents[2..]);
            let mut changed = tree.clone();
            if let Body::Prim(c) = &mut at_mut(&mut changed, &p).body {
                *c = inner;
            }
            let der = encode(&changed);
            let smki = smki_issues(&der);
            assert!(
                smki.iter().any(|i| i.starts_with("long_form_length")),
                "{name}: smki {smki:?}"
            );
            assert_eq!(x509_cert_is_der(&der), Ok(()), "{name}");
            found += 1;
        }
    }
    assert!(found > 0, "no constructed ANY value in the corpus");
    eprintln!("{found} ANY values: smki sees the BER inside, x509-cert does not look");
}

/// Not claimed (module doc): a BIT STRING's unused bits not zero. smki says
/// `bit_string_padding` (X.690 11.2.1); der 0.7's BitString does not look.
#[test]
fn bit_string_padding_smki_sees_and_x509_cert_does_not() {
    for (name, der) in corpus() {
        let tree = der_tree::parse(der).expect("the tree reads");
        // The subjectPublicKey: 0x00 unused bits -> 1, the last octet's low bit set.
        let spki = paths(&tree)
            .into_iter()
            .find(|p| at(&tree, p).ctx == Ctx::Spki)
            .expect("subjectPublicKeyInfo");
        let mut changed = tree.clone();
        let key = &mut at_mut(&mut changed, &spki).children_mut().expect("SPKI")[1];
        if let Body::Prim(c) = &mut key.body {
            c[0] = 1;
            *c.last_mut().expect("a key") |= 1;
        }
        let der = encode(&changed);
        let smki = smki_issues(&der);
        let kinds: Vec<&str> = smki
            .iter()
            .map(|s| s.split(' ').next().unwrap_or(""))
            .collect();
        assert_eq!(
            kinds,
            [kind_name(BerIssueKind::BitStringPadding)],
            "{name}: {smki:?}"
        );
        assert_eq!(x509_cert_is_der(&der), Ok(()), "{name}");
    }
}

/// Not DER-ness: two equal AttributeTypeAndValues in one RDN. X.690 11.6 orders a SET OF's
/// components by their encodings and lets equal ones be (smki: DER); der 0.7's `SetOfVec`
/// refuses duplicates (`SetDuplicate`), which is X.501's rule for an RDN (each attribute
/// type at most once), not DER's. x509-cert refuses it for that reason, smki does not flag
/// it: the agreement is not claimed for it.
#[test]
fn a_duplicate_in_an_rdn_is_der_and_x509_cert_refuses_it() {
    let mut checked = 0;
    for (name, der) in corpus() {
        let mut tree = der_tree::parse(der).expect("the tree reads");
        let Some(rdn) = paths(&tree)
            .into_iter()
            .find(|p| at(&tree, p).ctx == Ctx::Rdn)
        else {
            continue;
        };
        let atvs = at_mut(&mut tree, &rdn).children_mut().expect("an RDN");
        atvs.push(atvs[0].clone());
        atvs.sort_by_key(encode);
        let der = encode(&tree);
        assert_eq!(smki_issues(&der), Vec::<String>::new(), "{name}");
        let x509 = x509_cert_is_der(&der);
        assert!(
            x509.as_ref()
                .is_err_and(|e| e.contains("SET OF") || e.contains("duplicate")),
            "{name}: x509-cert {x509:?}"
        );
        checked += 1;
    }
    assert!(checked > 0);
}

/// The disagreement the oracle found, fixed in smki: a CRL distribution point's
/// `nameRelativeToCRLIssuer [1] RelativeDistinguishedName` is a SET OF under an IMPLICIT
/// tag, whose components DER orders as any SET OF's (X.690 11.6). Out of order, x509-cert
/// judges it not DER (its decoder takes the components as they come, its encoder writes
/// them in order: the round trip differs) where smki's walk, ordering tag 0x31 only, saw
/// nothing; `CertificateSchema` now marks it (`Rule::SetOf`). The generic walk alone still
/// cannot know it.
#[test]
fn an_implicit_set_of_out_of_order_is_ber_for_both() {
    let (name, der) = &corpus()[0];
    let mut tree = der_tree::parse(der).expect("the tree reads");
    let m = Mutation::CrlDpRdn { sorted: false };
    let exts = targets(&tree, m).into_iter().next().expect("Extensions");
    apply(&mut tree, &exts, m);
    let der = encode(&tree);
    let x509 = x509_cert_is_der(&der);
    assert!(
        x509.as_ref()
            .is_err_and(|e| e.contains("CrlDistributionPoints") && e.contains("differently")),
        "{name}: x509-cert {x509:?}"
    );
    let smki = smki_issues(&der);
    assert_eq!(smki.len(), 1, "{name}: {smki:?}");
    assert!(smki[0].starts_with("set_of_order"), "{smki:?}");
    assert!(
        smki_der::walk(&der, 0).issues.is_empty(),
        "the generic rules alone do not see it"
    );
}

/// Found by fuzz/fuzz_targets/x509_cert_agreement.rs (tests/fuzz_regressions/
/// x509-cert-any-read-error-*.der, from sample certificates): a hardwareModuleName whose
/// hwSerialNum has a length of eleven (`24 8b ...`) or 120 (`04 f8 ...`) octets. It is
/// inside an otherName's value, an `ANY`: x509-cert keeps those bytes and judges the
/// certificate DER; smki's walk reads them and stops with a read error there. Not a
/// disagreement on anything both read: the read error lies inside the ANY's contents. (The
/// second also showed the test's tree reading inside an ANY; it no longer does.)
#[test]
fn a_read_error_inside_an_any_is_smkis_alone() {
    for name in ["1", "2"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
            "tests/fuzz_regressions/x509-cert-any-read-error-{name}.der"
        ));
        let der = std::fs::read(path).expect("the regression input");
        assert_eq!(x509_cert_is_der(&der), Ok(()), "{name}");
        let walk = smki_der::walk_with(&der, 0, &smki_x509::CertificateSchema);
        let error = walk.error.expect("smki's walk stops with a read error");
        let tree = der_tree::parse(&der).expect("the tree reads");
        assert!(
            der_tree::any_contents(&tree)
                .iter()
                .any(|r| r.contains(&error.position)),
            "{name}: {error:?} is inside an ANY's contents"
        );
    }
}
