//! Wycheproof ECDSA P-256 / SHA-256 vectors through the whole signature path of `smki`: the
//! lenient `ECDSA-Sig-Value` analyser (`smki_der::analyse_signature`) and, where it recovers
//! (r, s), the reference verifier (`PlainBackend`) over SHA-256(msg).
//!
//! Vectors: vectors/wycheproof/ecdsa_secp256r1_sha256_test.json (Apache-2.0, licence beside it).
//!
//! Each test's `sig` (an `ECDSA-Sig-Value`, canonical or not) is wrapped in a signatureValue
//! BIT STRING (tag 03, DER length, 0 unused bits), exactly as it would sit in a certificate.
//! The assertions are of three kinds:
//! * invariants that hold for every vector (a "valid" one is canonical and verifies; an
//!   "invalid" one is reported with a defect or fails verification; "no defect" means the
//!   bytes are exactly the DER of the (r, s) read; a value out of range is `SIG_RANGE`; a
//!   lenient read that verifies never comes with a defect that makes r or s unreadable);
//! * one row per (flag, result) pair present in the file, saying what must happen to every
//!   vector carrying that flag ([`Rule`]);
//! * rows keyed on the vector's comment, naming the exact defect code expected where the
//!   comment says precisely what was changed ([`COMMENT_RULES`]).

use smki_der::{analyse_signature, encode, DefectCode, IntRead, SignatureEncoding, P256_ORDER};
use smki_verify::{Backend, PlainBackend, PublicKey};
use smki_x509::sha256;
use std::collections::{BTreeMap, BTreeSet};

const JSON: &str = include_str!("../vectors/wycheproof/ecdsa_secp256r1_sha256_test.json");

/// Where the signatureValue BIT STRING is supposed to sit in a certificate: any offset will
/// do; a non-zero one checks that the analyser adds it to every defect offset.
const BASE: usize = 1000;

/// The signatureValue BIT STRING around an `ECDSA-Sig-Value`: tag 03, DER length (written
/// here, not with the crate's encoder), unused-bits octet 0.
fn wrap_bit_string(sig: &[u8]) -> Vec<u8> {
    let len = sig.len() + 1;
    let mut out = vec![0x03];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let be = len.to_be_bytes();
        let skip = be.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (be.len() - skip) as u8);
        out.extend_from_slice(&be[skip..]);
    }
    out.push(0);
    out.extend_from_slice(sig);
    out
}

/// What must be true of every vector carrying a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// A "valid" vector: canonical DER (no defect at all) and (r, s) verifies.
    CanonicalAndVerifies,
    /// BER of a valid signature: every defect is a length defect (`SIG_LEN_*`), at least one,
    /// and the (r, s) read leniently verifies: a remediable-type encoding defect.
    BerOfValidSignature,
    /// The legacy encoding Java accepts: exactly `SIG_INT_NEGATIVE` (on r or s, read as
    /// unsigned) and the (r, s) read leniently verifies.
    MissingZeroOfValidSignature,
    /// The values were changed (range, overflow, special values, wrong types, arithmetic
    /// edge cases): the (r, s) read leniently never verifies, whatever the encoding.
    NeverVerifies,
    /// The encoding was broken: at least one defect is reported (verification may succeed
    /// on the lenient read: the rule "lenient read verifies => remediable-type defects only"
    /// is checked for every vector).
    DefectReported,
    /// The signature was modified, in its encoding or its values: either a defect is
    /// reported or verification fails (never canonical and verifying).
    DefectOrFailure,
}

/// One row per (flag, result) pair present in the file. A flag missing from this table
/// fails the test: a new Wycheproof release must be looked at, not silently passed.
const FLAG_RULES: &[(&str, &str, Rule)] = &[
    ("ValidSignature", "valid", Rule::CanonicalAndVerifies),
    ("SpecialCaseHash", "valid", Rule::CanonicalAndVerifies),
    ("EdgeCasePublicKey", "valid", Rule::CanonicalAndVerifies),
    (
        "EdgeCaseShamirMultiplication",
        "valid",
        Rule::CanonicalAndVerifies,
    ),
    ("ArithmeticError", "valid", Rule::CanonicalAndVerifies),
    ("ModularInverse", "valid", Rule::CanonicalAndVerifies),
    ("SmallRandS", "valid", Rule::CanonicalAndVerifies),
    ("PointDuplication", "valid", Rule::CanonicalAndVerifies),
    ("BerEncodedSignature", "invalid", Rule::BerOfValidSignature),
    ("MissingZero", "invalid", Rule::MissingZeroOfValidSignature),
    ("InvalidEncoding", "invalid", Rule::DefectReported),
    ("ModifiedSignature", "invalid", Rule::DefectOrFailure),
    ("RangeCheck", "invalid", Rule::NeverVerifies),
    ("ModifiedInteger", "invalid", Rule::NeverVerifies),
    ("IntegerOverflow", "invalid", Rule::NeverVerifies),
    ("InvalidSignature", "invalid", Rule::NeverVerifies),
    ("InvalidTypesInSignature", "invalid", Rule::NeverVerifies),
    ("ArithmeticError", "invalid", Rule::NeverVerifies),
    ("PointDuplication", "invalid", Rule::NeverVerifies),
];

/// Where the comment says exactly what was changed: the defect code that must be reported.
/// Matched against the whole comment, so that each row names the vectors it speaks of.
const COMMENT_RULES: &[(&str, DefectCode)] = &[
    (
        "length of sequence [r, s] uses long form encoding",
        DefectCode::SigLenLongForm,
    ),
    (
        "length of r uses long form encoding",
        DefectCode::SigLenLongForm,
    ),
    (
        "length of s uses long form encoding",
        DefectCode::SigLenLongForm,
    ),
    (
        "length of sequence [r, s] contains a leading 0",
        DefectCode::SigLenLeadingZero,
    ),
    (
        "length of r contains a leading 0",
        DefectCode::SigLenLeadingZero,
    ),
    (
        "length of s contains a leading 0",
        DefectCode::SigLenLeadingZero,
    ),
    ("indefinite length", DefectCode::SigLenIndefinite),
    (
        "replaced sequence [r, s] by an indefinite length tag without termination",
        DefectCode::SigLenIndefinite,
    ),
    (
        "replaced r by an indefinite length tag without termination",
        DefectCode::SigLenIndefinite,
    ),
    (
        "replaced s by an indefinite length tag without termination",
        DefectCode::SigLenIndefinite,
    ),
    (
        "indefinite length with additional element",
        DefectCode::SigExtraElement,
    ),
    (
        "indefinite length with garbage",
        DefectCode::SigTrailingData,
    ),
    (
        "Legacy: ASN encoding of s misses leading 0",
        DefectCode::SigIntNegative,
    ),
    ("prepending 0's to r", DefectCode::SigIntLeadingZero),
    ("prepending 0's to s", DefectCode::SigIntLeadingZero),
    // ff before 0x2b / 0x4c is a minimal negative INTEGER (X.690 8.3.2: not nine 1 bits),
    // 33 octets long: negative, and out of range read unsigned.
    ("leading ff in r", DefectCode::SigIntNegative),
    ("leading ff in s", DefectCode::SigIntNegative),
    ("leading ff in r", DefectCode::SigRange),
    (
        "appending unused 0's to sequence [r, s]",
        DefectCode::SigTrailingData,
    ),
    (
        "appending 0's to sequence [r, s]",
        DefectCode::SigExtraElement,
    ),
    ("repeating element in sequence", DefectCode::SigExtraElement),
    (
        "changing tag value of sequence [r, s]",
        DefectCode::SigNotSequence,
    ),
    ("changing tag value of r", DefectCode::SigNotSequence),
    ("changing tag value of s", DefectCode::SigNotSequence),
    (
        "signature with non-minimal SEQUENCE tag",
        DefectCode::SigNotSequence,
    ),
    (
        "signature with non-minimal INTEGER tag on r",
        DefectCode::SigNotSequence,
    ),
    (
        "signature with non-minimal INTEGER tag on s",
        DefectCode::SigNotSequence,
    ),
    ("lonely sequence tag", DefectCode::SigTruncated),
    ("removing sequence [r, s]", DefectCode::SigTruncated),
    (
        "truncated length of sequence [r, s]",
        DefectCode::SigTruncated,
    ),
    (
        "length of sequence [r, s] uses 70 instead of 69",
        DefectCode::SigTruncated,
    ),
    ("dropping value of r", DefectCode::SigIntEmpty),
    ("dropping value of s", DefectCode::SigIntEmpty),
    ("replacing r with zero", DefectCode::SigRange),
    ("replacing s with zero", DefectCode::SigRange),
    ("replaced r by r + 2**256", DefectCode::SigRange),
    ("replaced r by r + 2**320", DefectCode::SigRange),
    ("replaced s by s + 2**256", DefectCode::SigRange),
    ("replaced s by s + 2**320", DefectCode::SigRange),
    ("replaced r by r + n", DefectCode::SigRange),
    ("replaced s by s + n", DefectCode::SigRange),
    ("replaced r by r + 256 * n", DefectCode::SigRange),
    ("replaced s by s + 256 * n", DefectCode::SigRange),
];

/// "Signature with special case values r=X and s=Y": the codes X and Y call for. 0, n,
/// n + 1, p, p + 1 are out of range (`SIG_RANGE`); -1 is the INTEGER 0xFF, negative
/// (`SIG_INT_NEGATIVE`, read unsigned as 255, in range); 1 and n - 1 need nothing.
fn special_case_codes(comment: &str) -> Option<Vec<DefectCode>> {
    let rest = comment.strip_prefix("Signature with special case values r=")?;
    let (r, s) = rest.split_once(" and s=")?;
    let mut out = Vec::new();
    for v in [r, s] {
        match v {
            "0" | "n" | "n + 1" | "p" | "p + 1" => out.push(DefectCode::SigRange),
            "-1" => out.push(DefectCode::SigIntNegative),
            "1" | "n - 1" => {}
            other => panic!("special case value {other:?} not in the table"),
        }
    }
    Some(out)
}

/// Defects after which r and s cannot both have been read correctly: a lenient read that
/// verifies must never come with one of these.
const UNREADABLE_CODES: &[DefectCode] = &[
    DefectCode::SigRange,
    DefectCode::SigIntEmpty,
    DefectCode::SigNotSequence,
];

fn in_range(v: &[u8; 32]) -> bool {
    v.iter().any(|&b| b != 0) && v < &P256_ORDER
}

fn codes(enc: &SignatureEncoding) -> BTreeSet<DefectCode> {
    enc.defects.iter().map(|d| d.code).collect()
}

struct Outcome {
    id: u64,
    comment: String,
    flags: Vec<String>,
    result: String,
    enc: SignatureEncoding,
    bit_string_len: usize,
    /// The (r, s) read leniently are in range and verify.
    verifies: bool,
    /// The canonical DER of the (r, s) read equals the `sig` bytes.
    bytes_are_der_of_rs: Option<bool>,
}

fn run_all() -> Vec<Outcome> {
    let v: serde_json::Value = serde_json::from_str(JSON).expect("the vectors are JSON");
    assert_eq!(v["algorithm"], "ECDSA");
    let mut out = Vec::new();
    for group in v["testGroups"].as_array().expect("testGroups") {
        assert_eq!(group["sha"], "SHA-256", "every group hashes with SHA-256");
        assert_eq!(group["publicKey"]["curve"], "secp256r1");
        let key_hex = group["publicKey"]["uncompressed"].as_str().expect("key");
        let key = PublicKey::from_sec1(&hex::decode(key_hex).expect("hex key"))
            .expect("every group key is a valid P-256 point");
        let prepared = PlainBackend.prepare(&key);
        for t in group["tests"].as_array().expect("tests") {
            let id = t["tcId"].as_u64().expect("tcId");
            let msg = hex::decode(t["msg"].as_str().expect("msg")).expect("hex msg");
            let sig = hex::decode(t["sig"].as_str().expect("sig")).expect("hex sig");
            let bit_string = wrap_bit_string(&sig);
            let enc = analyse_signature(&bit_string, BASE);
            let verifies = enc
                .rs()
                .is_some_and(|(r, s)| PlainBackend.verify(&prepared, &sha256(&msg), &r, &s));
            let bytes_are_der_of_rs = match (enc.r, enc.s) {
                (Some(r), Some(s)) => Some(encode::ecdsa_sig_value(&r, &s) == sig),
                _ => None,
            };
            out.push(Outcome {
                id,
                comment: t["comment"].as_str().unwrap_or_default().to_string(),
                flags: t["flags"]
                    .as_array()
                    .expect("flags")
                    .iter()
                    .map(|f| f.as_str().expect("flag").to_string())
                    .collect(),
                result: t["result"].as_str().expect("result").to_string(),
                enc,
                bit_string_len: bit_string.len(),
                verifies,
                bytes_are_der_of_rs,
            });
        }
    }
    let declared = v["numberOfTests"].as_u64().expect("numberOfTests") as usize;
    assert_eq!(out.len(), declared, "every test of the file was run");
    out
}

fn describe(o: &Outcome) -> String {
    format!(
        "tcId {} [{}] {} ({}): defects {:?}, r {:?} s {:?}, lenient verify {}",
        o.id,
        o.flags.join(","),
        o.result,
        o.comment,
        codes(&o.enc),
        o.enc.r_read,
        o.enc.s_read,
        o.verifies
    )
}

/// The invariants every vector must satisfy, whatever its flags. Returns the failures.
fn invariants(o: &Outcome) -> Vec<String> {
    let mut bad = Vec::new();
    let e = &o.enc;
    match o.result.as_str() {
        "valid" => {
            if !e.is_canonical() || !o.verifies {
                bad.push("a valid vector must be canonical and verify".to_string());
            }
        }
        "invalid" => {
            if e.is_canonical() && o.verifies {
                bad.push("an invalid vector is canonical and verifies".to_string());
            }
        }
        other => bad.push(format!("unexpected result {other}")),
    }
    // No defect means: exactly the DER of the (r, s) read, both in range.
    if e.is_canonical() {
        if o.bytes_are_der_of_rs != Some(true) {
            bad.push("no defect reported, but the bytes are not the DER of (r, s)".into());
        }
        if e.rs().is_none() {
            bad.push("no defect reported, but (r, s) is not a pair in [1, n-1]".into());
        }
        if e.r_read != IntRead::Canonical || e.s_read != IntRead::Canonical {
            bad.push("no defect reported, but r or s was not read canonically".into());
        }
    }
    // Bytes that are not the DER of the (r, s) read must carry a defect other than SIG_RANGE
    // (SIG_RANGE alone is a canonical encoding of a bad value).
    if o.bytes_are_der_of_rs == Some(false)
        && e.defects.iter().all(|d| d.code == DefectCode::SigRange)
    {
        bad.push("the bytes are not the DER of the (r, s) read, yet no encoding defect".into());
    }
    if o.bytes_are_der_of_rs == Some(true)
        && e.defects.iter().any(|d| d.code != DefectCode::SigRange)
    {
        bad.push("the bytes are the DER of the (r, s) read, yet an encoding defect".into());
    }
    // A value read but out of range is SIG_RANGE.
    for v in [e.r, e.s].into_iter().flatten() {
        if !in_range(&v) && !e.has(DefectCode::SigRange) {
            bad.push("r or s read out of range without SIG_RANGE".into());
        }
    }
    if e.has(DefectCode::SigRange) && e.rs().is_some() {
        bad.push("SIG_RANGE reported, yet rs() gives an in-range pair".into());
    }
    // A lenient read that verifies: every defect is a remediable-type encoding defect.
    if o.verifies {
        for d in &e.defects {
            if UNREADABLE_CODES.contains(&d.code) {
                bad.push(format!("lenient (r, s) verifies, yet {}", d.code));
            }
        }
    }
    // Every defect lies within the BIT STRING, offset by BASE.
    for d in &e.defects {
        if d.offset < BASE || d.offset > BASE + o.bit_string_len {
            bad.push(format!(
                "{} at offset {} is outside the BIT STRING [{BASE}, {}]",
                d.code,
                d.offset,
                BASE + o.bit_string_len
            ));
        }
    }
    let mut sorted = e.defects.clone();
    sorted.sort_by_key(|d| d.offset);
    if sorted != e.defects {
        bad.push("defects are not in byte order".into());
    }
    bad
}

fn check_rule(rule: Rule, o: &Outcome) -> Option<String> {
    let e = &o.enc;
    let ok = match rule {
        Rule::CanonicalAndVerifies => e.is_canonical() && o.verifies,
        Rule::BerOfValidSignature => {
            !e.defects.is_empty()
                && e.defects.iter().all(|d| {
                    matches!(
                        d.code,
                        DefectCode::SigLenLongForm
                            | DefectCode::SigLenLeadingZero
                            | DefectCode::SigLenIndefinite
                    )
                })
                && o.verifies
        }
        Rule::MissingZeroOfValidSignature => {
            codes(e) == BTreeSet::from([DefectCode::SigIntNegative])
                && (e.r_read == IntRead::NegativeAsUnsigned
                    || e.s_read == IntRead::NegativeAsUnsigned)
                && o.verifies
        }
        Rule::NeverVerifies => !o.verifies,
        Rule::DefectReported => !e.defects.is_empty(),
        Rule::DefectOrFailure => !e.defects.is_empty() || !o.verifies,
    };
    (!ok).then(|| format!("{rule:?} broken: {}", describe(o)))
}

#[test]
fn wycheproof_through_the_analyser_and_the_verifier() {
    let outcomes = run_all();
    let mut failures: Vec<String> = Vec::new();
    // (flag, result) -> [vectors, with defects, lenient verifies, canonical]
    let mut per_flag: BTreeMap<(String, String), [usize; 4]> = BTreeMap::new();
    let mut remediable_like: Vec<String> = Vec::new();
    let mut comment_hits = vec![0usize; COMMENT_RULES.len()];
    let mut special_cases = 0usize;
    for o in &outcomes {
        for f in invariants(o) {
            failures.push(format!("{f}: {}", describe(o)));
        }
        for flag in &o.flags {
            let row = FLAG_RULES
                .iter()
                .find(|(f, r, _)| f == flag && *r == o.result);
            match row {
                Some(&(_, _, rule)) => failures.extend(check_rule(rule, o)),
                None => failures.push(format!(
                    "no rule for flag {flag} with result {}: {}",
                    o.result,
                    describe(o)
                )),
            }
            let c = per_flag
                .entry((flag.clone(), o.result.clone()))
                .or_default();
            c[0] += 1;
            c[1] += !o.enc.defects.is_empty() as usize;
            c[2] += o.verifies as usize;
            c[3] += o.enc.is_canonical() as usize;
        }
        for (i, &(text, code)) in COMMENT_RULES.iter().enumerate() {
            if o.comment == text {
                comment_hits[i] += 1;
                if !o.enc.has(code) {
                    failures.push(format!("comment rule expects {code}: {}", describe(o)));
                }
            }
        }
        if let Some(want) = special_case_codes(&o.comment) {
            special_cases += 1;
            for code in &want {
                if !o.enc.has(*code) {
                    failures.push(format!("special case expects {code}: {}", describe(o)));
                }
            }
            if want.is_empty() && !o.enc.is_canonical() {
                failures.push(format!("special case expects no defect: {}", describe(o)));
            }
        }
        if o.result == "invalid" && !o.enc.defects.is_empty() && o.verifies {
            remediable_like.push(format!(
                "  tcId {:>3} {:<22} {:<45} {:?}",
                o.id,
                o.flags.join(","),
                o.comment,
                codes(&o.enc)
            ));
        }
    }
    eprintln!(
        "\nWycheproof ecdsa_secp256r1_sha256 through smki ({} vectors)",
        outcomes.len()
    );
    eprintln!(
        "{:<30} {:<8} {:>7} {:>12} {:>15} {:>10}  rule",
        "flag", "result", "vectors", "with defect", "lenient verify", "canonical"
    );
    for ((flag, result), c) in &per_flag {
        let rule = FLAG_RULES
            .iter()
            .find(|(f, r, _)| f == flag && r == result)
            .map(|r| format!("{:?}", r.2))
            .unwrap_or_else(|| "(none)".into());
        eprintln!(
            "{flag:<30} {result:<8} {:>7} {:>12} {:>15} {:>10}  {rule}",
            c[0], c[1], c[2], c[3]
        );
    }
    eprintln!(
        "\nInvalid vectors whose lenient (r, s) verifies (what smki would call remediable): {}",
        remediable_like.len()
    );
    for line in &remediable_like {
        eprintln!("{line}");
    }
    for (i, (text, code)) in COMMENT_RULES.iter().enumerate() {
        if comment_hits[i] == 0 {
            failures.push(format!("comment rule {text:?} -> {code} matched no vector"));
        }
    }
    if special_cases != 64 {
        failures.push(format!(
            "{special_cases} special-case vectors, expected 8 x 8 = 64"
        ));
    }
    // Every row of the flag table is exercised.
    for (flag, result, _) in FLAG_RULES {
        if !per_flag.contains_key(&(flag.to_string(), result.to_string())) {
            failures.push(format!("flag row {flag}/{result} matched no vector"));
        }
    }
    if !failures.is_empty() {
        panic!("{} failure(s):\n{}", failures.len(), failures.join("\n"));
    }
}

/// The 2018 defect on Wycheproof's own signature: re-encode a valid vector the way the faulty
/// signer did, and with `inject`, and check the analyser's reading and that re-encoding
/// canonically restores the vector's exact bytes.
#[test]
fn faulty_fixed_width_and_injected_encodings_of_valid_vectors() {
    let outcomes = run_all();
    let mut checked = 0;
    for o in outcomes.iter().filter(|o| o.result == "valid") {
        let (r, s) = o.enc.rs().expect("valid vectors read");
        let der = encode::ecdsa_sig_value(&r, &s);
        let faulty = encode::faulty_fixed_width_bit_string(&r, &s);
        let fe = analyse_signature(&faulty, 0);
        assert_eq!(fe.rs(), Some((r, s)), "tcId {}: faulty read back", o.id);
        let expect_redundant = |v: &[u8; 32]| v[0] == 0 && v[1] < 0x80;
        let want = expect_redundant(&r) || expect_redundant(&s);
        assert_eq!(
            fe.has(DefectCode::SigIntLeadingZero),
            want,
            "tcId {}: fixed-width r {} s {}: {:?}",
            o.id,
            hex::encode(r),
            hex::encode(s),
            fe.defects
        );
        assert!(
            fe.defects
                .iter()
                .all(|d| d.code == DefectCode::SigIntLeadingZero),
            "tcId {}: only SIG_INT_LEADING_ZERO from a fixed-width signer",
            o.id
        );
        assert_eq!(wrap_bit_string(&der), encode::signature_bit_string(&r, &s));
        for code in [
            DefectCode::SigIntLeadingZero,
            DefectCode::SigLenLongForm,
            DefectCode::SigTrailingData,
            DefectCode::SigExtraElement,
        ] {
            let bs = encode::inject(&r, &s, &[code], o.id).expect("injectable");
            let ie = analyse_signature(&bs, 0);
            assert_eq!(codes(&ie), BTreeSet::from([code]), "tcId {}", o.id);
            assert_eq!(ie.rs(), Some((r, s)), "tcId {}: {code} read back", o.id);
        }
        checked += 1;
    }
    eprintln!("{checked} valid vectors re-encoded fixed-width and with injected defects");
    assert!(checked > 100);
}
