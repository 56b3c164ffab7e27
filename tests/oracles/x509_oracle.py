#!/usr/bin/env python3
"""Independent oracles for smki's tests: what real OpenSSL and real pyca/cryptography do.

Neither oracle shares code with smki:
* openssl: the system's OpenSSL 3 libcrypto (the library behind the `openssl` CLI), called
  through ctypes: d2i_X509 of the certificate and of the issuer; the certificate must not be
  flagged invalid when OpenSSL caches its extensions (X509_get_extension_flags without
  EXFLAG_INVALID: `openssl verify` refuses such a certificate, e.g. one with duplicate
  extensions, before any signature); then X509_verify(cert, X509_get0_pubkey(issuer)),
  what a chain verification does for the signature of one link (times, purposes and path
  rules aside);
* pyca: pyca/cryptography (PyPI `cryptography`): load_der_x509_certificate of both (strict
  DER), reading cert.extensions (every relying party built on pyca does: its verifier
  parses them; pyca parses them lazily), then
  issuer.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ECDSA(hash)).

Usage:
  x509_oracle.py verify CERT ISSUER [CERT ISSUER ...]
      one JSON line per pair:
      {"cert", "issuer", "openssl": {"outcome", "error", "signature"}, "pyca": {...}}
      outcome is "accept" or "reject": what the party does with the certificate; error is
      the party's own words ("" on accept); signature is the party's answer on the
      signature alone ("accept", "reject", or null when it could not be asked, e.g. pyca
      cannot load a non-DER certificate).
  x509_oracle.py corpus DIR
      every certificate in every file under DIR (DER, or PEM blocks labelled CERTIFICATE),
      one JSON line each: {"file", "index", "sha256", "signature_algorithm" (dotted OID as
      OpenSSL reads it, "" when OpenSSL cannot read the certificate), "issuers": number of
      certificates in the set whose subject OpenSSL's X509_check_issued accepts as this
      one's issuer (name, and key identifiers where both carry them), "openssl" and "pyca":
      {"outcome", "error", "signature"} as for verify, under the first of those issuers
      that the party accepts (else whose signature it accepts, else the first)}. Certificates OpenSSL cannot read are listed with issuers 0.
  x509_oracle.py versions
      {"openssl": ..., "pyca": ...}
Exit status 0 unless the script itself fails.
"""
import ctypes
import ctypes.util
import hashlib
import json
import os
import re
import sys

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

_lib = ctypes.CDLL(ctypes.util.find_library("crypto") or "libcrypto.so.3")
_lib.d2i_X509.restype = ctypes.c_void_p
_lib.d2i_X509.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_long]
_lib.X509_free.argtypes = [ctypes.c_void_p]
_lib.X509_get0_pubkey.restype = ctypes.c_void_p
_lib.X509_get0_pubkey.argtypes = [ctypes.c_void_p]
_lib.X509_verify.restype = ctypes.c_int
_lib.X509_verify.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
_lib.X509_check_issued.restype = ctypes.c_int
_lib.X509_check_issued.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
_lib.X509_get_extension_flags.restype = ctypes.c_uint32
_lib.X509_get_extension_flags.argtypes = [ctypes.c_void_p]
EXFLAG_INVALID = 0x80
_lib.X509_get_signature_nid.restype = ctypes.c_int
_lib.X509_get_signature_nid.argtypes = [ctypes.c_void_p]
_lib.OBJ_nid2obj.restype = ctypes.c_void_p
_lib.OBJ_nid2obj.argtypes = [ctypes.c_int]
_lib.OBJ_obj2txt.restype = ctypes.c_int
_lib.OBJ_obj2txt.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
_lib.ERR_get_error.restype = ctypes.c_ulong
_lib.ERR_error_string_n.argtypes = [ctypes.c_ulong, ctypes.c_char_p, ctypes.c_size_t]
_lib.ERR_clear_error.argtypes = []
_lib.OpenSSL_version.restype = ctypes.c_char_p
_lib.OpenSSL_version.argtypes = [ctypes.c_int]


def _errors():
    out = []
    while True:
        e = _lib.ERR_get_error()
        if not e:
            break
        buf = ctypes.create_string_buffer(256)
        _lib.ERR_error_string_n(e, buf, 256)
        out.append(buf.value.decode(errors="replace"))
    return "; ".join(out)


class OsslCert:
    """A certificate as OpenSSL's d2i_X509 reads it (None when it cannot)."""

    def __init__(self, der):
        self.der = der
        self._buf = ctypes.create_string_buffer(der, len(der))
        p = ctypes.c_char_p(ctypes.addressof(self._buf))
        _lib.ERR_clear_error()
        self.ptr = _lib.d2i_X509(None, ctypes.byref(p), len(der))
        self.error = "" if self.ptr else "d2i_X509: " + (_errors() or "cannot read")

    def __del__(self):
        if getattr(self, "ptr", None):
            _lib.X509_free(self.ptr)

    def signature_algorithm(self):
        if not self.ptr:
            return ""
        obj = _lib.OBJ_nid2obj(_lib.X509_get_signature_nid(self.ptr))
        buf = ctypes.create_string_buffer(128)
        _lib.OBJ_obj2txt(buf, 128, obj, 1)
        return buf.value.decode()


def openssl_verify(cert, issuer):
    """{"outcome", "error", "signature"}: signature is X509_verify's answer alone
    ("accept" / "reject", None when it could not be asked)."""
    if not cert.ptr:
        return {"outcome": "reject", "error": cert.error, "signature": None}
    if not issuer.ptr:
        return {"outcome": "reject", "error": "issuer: " + issuer.error, "signature": None}
    _lib.ERR_clear_error()
    invalid = _lib.X509_get_extension_flags(cert.ptr) & EXFLAG_INVALID
    invalid_why = _errors()
    key = _lib.X509_get0_pubkey(issuer.ptr)
    if not key:
        return {"outcome": "reject", "error": "X509_get0_pubkey: " + _errors(),
                "signature": None}
    rc = _lib.X509_verify(cert.ptr, key)
    signature = "accept" if rc == 1 else "reject"
    why = "" if rc == 1 else f"X509_verify returned {rc}: {_errors()}"
    if invalid:
        return {"outcome": "reject", "signature": signature,
                "error": "invalid certificate (EXFLAG_INVALID): " + invalid_why}
    return {"outcome": signature, "error": why, "signature": signature}


def pyca_load(der):
    try:
        c = x509.load_der_x509_certificate(der)
    except Exception as e:  # noqa: BLE001 - the party's own words are the point
        return None, f"load_der_x509_certificate: {type(e).__name__}: {e}"
    return c, ""


def pyca_verify(cert_der, issuer_der):
    """{"outcome", "error", "signature"}: signature is the key's verify of the signature
    over tbs_certificate_bytes alone (None when either certificate cannot be loaded)."""
    cert, err = pyca_load(cert_der)
    if cert is None:
        return {"outcome": "reject", "error": err, "signature": None}
    issuer, ierr = pyca_load(issuer_der)
    if issuer is None:
        return {"outcome": "reject", "error": "issuer: " + ierr, "signature": None}
    signature, why = None, ""
    try:
        key = issuer.public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey):
            why = f"issuer key is {type(key).__name__}"
        else:
            key.verify(cert.signature, cert.tbs_certificate_bytes,
                       ec.ECDSA(cert.signature_hash_algorithm))
            signature = "accept"
    except Exception as e:  # noqa: BLE001
        signature, why = "reject", f"verify: {type(e).__name__}: {e}"
    try:
        cert.extensions
    except Exception as e:  # noqa: BLE001
        return {"outcome": "reject", "signature": signature,
                "error": f"extensions: {type(e).__name__}: {e}"}
    if signature != "accept":
        return {"outcome": "reject", "error": why, "signature": signature}
    return {"outcome": "accept", "error": "", "signature": signature}


PEM = re.compile(rb"-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----(.*?)-----END", re.S)


def certificates_in(path):
    import base64
    data = open(path, "rb").read()
    if b"-----BEGIN" in data:
        out = []
        for m in PEM.finditer(data):
            body = b"".join(l for l in m.group(1).splitlines() if b":" not in l)
            try:
                out.append(base64.b64decode(body))
            except Exception:  # noqa: BLE001
                pass
        return out
    if data[:1] == b"\x30":
        return [data]
    return []


def cmd_verify(args):
    if len(args) % 2:
        sys.exit("verify needs CERT ISSUER pairs")
    for c, i in zip(args[::2], args[1::2]):
        cd, idr = open(c, "rb").read(), open(i, "rb").read()
        out = {
            "cert": c,
            "issuer": i,
            "openssl": openssl_verify(OsslCert(cd), OsslCert(idr)),
            "pyca": pyca_verify(cd, idr),
        }
        print(json.dumps(out), flush=True)


def cmd_corpus(root):
    certs = []
    for dirpath, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            p = os.path.join(dirpath, f)
            for i, der in enumerate(certificates_in(p)):
                certs.append((p, i, der, OsslCert(der)))
    for p, i, der, c in certs:
        issuers = []
        if c.ptr:
            for _, _, ider, ic in certs:
                if ic.ptr and _lib.X509_check_issued(ic.ptr, c.ptr) == 0:
                    issuers.append((ider, ic))
            _lib.ERR_clear_error()
        rec = {
            "file": p,
            "index": i,
            "sha256": hashlib.sha256(der).hexdigest(),
            "signature_algorithm": c.signature_algorithm(),
            "issuers": len(issuers),
        }
        if issuers:
            for party, fn in (("openssl", lambda ider, ic: openssl_verify(c, ic)),
                              ("pyca", lambda ider, ic: pyca_verify(der, ider))):
                results = [fn(ider, ic) for ider, ic in issuers]
                ok = ([r for r in results if r["outcome"] == "accept"]
                      or [r for r in results if r["signature"] == "accept"])
                rec[party] = ok[0] if ok else results[0]
        print(json.dumps(rec), flush=True)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "verify":
        cmd_verify(args)
    elif cmd == "corpus" and len(args) == 1:
        cmd_corpus(args[0])
    elif cmd == "versions":
        import cryptography
        print(json.dumps({"openssl": _lib.OpenSSL_version(0).decode(),
                          "pyca": cryptography.__version__}))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
