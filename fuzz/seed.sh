#!/usr/bin/env bash
# (Re)creates the seed corpora in fuzz/corpus/TARGET/ (never committed: see .gitignore).
#
# Sources: fixtures/sample/certificates.pem and its CAs, simulator output (every defect
# code injected), the Wycheproof P-256 vectors (signature target) and, when present, the
# DCC test certificates in ../shared/fixtures/dcc-test-certs (GPL: seeds only).
#
# Usage: fuzz/seed.sh            (builds and runs smki with `cargo run --release`)
#        SMKI=target/release/smki fuzz/seed.sh     (an smki binary already built)
#        DCC=/path/to/dcc-test-certs fuzz/seed.sh
# Existing files in fuzz/corpus/ are kept (libFuzzer adds its own); seeds are named by
# their SHA-1, so running it again adds nothing twice. `rm -rf fuzz/corpus` to start over.
set -euo pipefail
FUZZ=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$FUZZ")
DCC=${DCC:-$ROOT/../shared/fixtures/dcc-test-certs}
if [[ -n "${SMKI:-}" ]]; then
    smki() { "$SMKI" "$@"; }
else
    smki() { cargo run --release --quiet --manifest-path "$ROOT/Cargo.toml" -- "$@"; }
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Simulator output: one repository per injected code (50 certificates, seed 3), as a
# tree of DER files, plus small dumps in every single-file format for the readers.
CODES="SIG_INT_LEADING_ZERO SIG_INT_NEGATIVE SIG_INT_EMPTY SIG_INT_LEADING_FF
SIG_LEN_LONG_FORM SIG_LEN_INDEFINITE SIG_LEN_LEADING_ZERO SIG_TRAILING_DATA
SIG_EXTRA_ELEMENT SIG_NOT_SEQUENCE SIG_TRUNCATED SIG_BITSTRING_UNUSED_BITS SIG_RANGE
CERT_BER BAD_SIGNATURE ISSUER_ABSENT UNREADABLE"
for code in $CODES; do
    smki simulate --count 50 --seed 3 --format der-tree --inject "$code=0.3" \
        --out "$TMP/sim/$code" --quiet
done
INJECT_ALL=()
for code in $CODES; do INJECT_ALL+=(--inject "$code=0.05"); done
for format in der pem extract; do
    smki simulate --count 4 --seed 3 --format "$format" --defect-rate 0.1 "${INJECT_ALL[@]}" \
        --out "$TMP/dump-$format" --quiet
done

python3 - "$FUZZ/corpus" "$ROOT" "$TMP" "$DCC" <<'PY'
import base64, glob, hashlib, json, os, re, sys

corpus, root, tmp, dcc = sys.argv[1:5]
counts = {}

def put(target, data):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, hashlib.sha1(data).hexdigest())
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
        counts[target] = counts.get(target, 0) + 1

def header(b, pos):
    """(content start, end) of the definite-length TLV at pos, or None."""
    if pos + 2 > len(b):
        return None
    first = b[pos + 1]
    if first < 0x80:
        return pos + 2, pos + 2 + first
    n = first & 0x7F
    if n == 0 or n > 4 or pos + 2 + n > len(b):
        return None
    length = int.from_bytes(b[pos + 2:pos + 2 + n], "big")
    return pos + 2 + n, pos + 2 + n + length

def signature_value(cert):
    """The signatureValue element: the third element of the outer SEQUENCE."""
    outer = header(cert, 0)
    if outer is None:
        return None
    pos = outer[0]
    for _ in range(2):
        h = header(cert, pos)
        if h is None:
            return None
        pos = h[1]
    h = header(cert, pos)
    return cert[pos:h[1]] if h and h[1] <= len(cert) else None

def pem_certs(text):
    return [base64.b64decode("".join(m.split()))
            for m in re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", text, re.S)]

certs = []
certs += pem_certs(open(os.path.join(root, "fixtures/sample/certificates.pem")).read())
certs += [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(root, "fixtures/sample/cas/*.der")))]
certs += [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(tmp, "sim/**/*.der"), recursive=True))]
dcc_certs = [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(dcc, "*.der")))]
if not dcc_certs:
    print(f"note: no DCC certificates in {dcc}", file=sys.stderr)
certs += dcc_certs

for cert in certs:
    for target in ("certificate", "der_walk", "remediation_roundtrip", "x509_cert_agreement"):
        put(target, cert)
    sig = signature_value(cert)
    if sig:
        put("signature", sig)

# Wycheproof: every "sig" wrapped as a BIT STRING, 03 LEN 00 SIG (DER length).
def der_length(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b

vectors = json.load(open(os.path.join(root, "vectors/wycheproof/ecdsa_secp256r1_sha256_test.json")))
for group in vectors["testGroups"]:
    for test in group["tests"]:
        sig = bytes.fromhex(test["sig"])
        put("signature", b"\x03" + der_length(len(sig) + 1) + b"\x00" + sig)

# Readers: first byte 0 = raw, 1 = after "-----BEGIN CERTIFICATE-----\n", 2 = after
# "serial,certificate\n"; the second byte is the streaming reader's buffer capacity - 1.
for path in glob.glob(os.path.join(tmp, "dump-*/**/*"), recursive=True):
    if os.path.isfile(path) and not path.endswith("ground-truth.jsonl"):
        data = open(path, "rb").read()
        if len(data) <= 16384:
            for cap in (0xFF, 0x07):
                put("readers", bytes([0, cap]) + data)
pem = open(os.path.join(tmp, "dump-pem/certificates.pem"), "rb").read()
body = pem.split(b"-----BEGIN CERTIFICATE-----\n", 1)[1]
put("readers", b"\x01\xff" + body)
for cert in certs[:8]:
    put("readers", b"\x02\xff" + b"1," + base64.b64encode(cert) + b"\n")
    put("readers", b"\x00\xff" + cert + cert)

for target, n in sorted(counts.items()):
    print(f"{target:24} {n:5} new seeds")
PY
