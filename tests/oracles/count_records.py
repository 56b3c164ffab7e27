#!/usr/bin/env python3
"""Counts the records of a dump without smki: an independent reader for tests/conversions.rs.

    count_records.py FORMAT PATH

FORMAT is der-tree, pem-tree, pem, der or extract (one CSV file). Prints one JSON object:

  records            records found: PEM blocks (BEGIN/END pairs), top-level DER elements
                     (definite lengths, walked here), CSV rows (Python's csv module)
  certificates       of those, the ones pyca/cryptography loads as a certificate
                     (load_pem_x509_certificates / load_der_x509_certificate)
  files              files in a tree (hidden files aside)
  empty_serials      extract rows with an empty serial column
  serial_mismatches  extract rows whose serial column is not the certificate's serial
                     number as pyca reads it

Concatenated DER that does not walk (a truncated record) is an error (exit 1): this reader
does not resynchronise.
"""
import base64
import csv
import io
import json
import os
import re
import sys

from cryptography import x509

PEM_BLOCK = re.compile(rb"-----BEGIN ([^-]+)-----(.*?)-----END \1-----", re.S)


def der_elements(data):
    """Top-level DER elements of concatenated DER (definite lengths only)."""
    at, out = 0, []
    while at < len(data):
        start = at
        at += 1  # tag (single-octet tags: a certificate is a SEQUENCE)
        if at >= len(data):
            raise ValueError(f"truncated header at {start}")
        first = data[at]
        at += 1
        if first < 0x80:
            length = first
        else:
            n = first & 0x7F
            if n == 0 or at + n > len(data):
                raise ValueError(f"bad length at {start}")
            length = int.from_bytes(data[at : at + n], "big")
            at += n
        if at + length > len(data):
            raise ValueError(f"element at {start} runs past the end")
        at += length
        out.append(data[start:at])
    return out


def b64(text):
    try:
        return base64.b64decode(b"".join(text.split()), validate=True)
    except Exception:
        return b""


def loads_der(der):
    try:
        x509.load_der_x509_certificate(der)
        return True
    except Exception:
        return False


def count_pem(data):
    blocks = PEM_BLOCK.findall(data)
    try:
        loaded = len(x509.load_pem_x509_certificates(data))
    except Exception:
        loaded = sum(loads_der(b64(body)) for _, body in blocks)
    return len(blocks), loaded


def count_der(data):
    elements = der_elements(data)
    return len(elements), sum(loads_der(e) for e in elements)


def count_file(data):
    """A tree's file: PEM blocks, or DER elements (a file that does not walk as DER: one
    record, not a certificate)."""
    if b"-----BEGIN" in data:
        return count_pem(data)
    try:
        return count_der(data)
    except ValueError:
        return 1, 0


def main():
    fmt, path = sys.argv[1], sys.argv[2]
    out = {
        "records": 0,
        "certificates": 0,
        "files": 0,
        "empty_serials": 0,
        "serial_mismatches": 0,
    }
    if fmt in ("der-tree", "pem-tree"):
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                if name.startswith("."):
                    continue
                with open(os.path.join(root, name), "rb") as f:
                    n, c = count_file(f.read())
                out["files"] += 1
                out["records"] += n
                out["certificates"] += c
    elif fmt in ("pem", "der"):
        with open(path, "rb") as f:
            data = f.read()
        n, c = count_pem(data) if fmt == "pem" else count_der(data)
        out["records"], out["certificates"] = n, c
    elif fmt == "extract":
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                out["records"] += 1
                serial = row["serial"].strip()
                if not serial:
                    out["empty_serials"] += 1
                try:
                    cert = x509.load_der_x509_certificate(
                        base64.b64decode(row["certificate"])
                    )
                except Exception:
                    continue
                out["certificates"] += 1
                if not serial or int(serial, 16) != cert.serial_number:
                    out["serial_mismatches"] += 1
    else:
        sys.exit(f"unknown format {fmt}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
