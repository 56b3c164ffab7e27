// Drives the DCC's own SMKI client (@smartdcc/dccboxed-keystore, installed by `npm ci` here;
// GPL-3.0, used as an external test client and never copied) against a running `smki serve`.
// Usage: node query.js ADDRESS PLAN.json   (ADDRESS like http://127.0.0.1:18083)
// PLAN is a JSON array of queries; prints a JSON array of results, one per query, in order:
//   {op: "device", eui, usage: "DS"|"KA"}      BoxedKeyStore.query({eui, keyUsage, lookup: 'certificate'})
//   {op: "serial", serial: "hex"}              BoxedKeyStore.query({serial: BigInt, lookup: 'certificate'})
//   {op: "search", subject_alt_name | subject_name, usage, status, role?}   certificateSearch.search
//   {op: "retrieve", serial: "hex"}            certificateSearch.query
// A result is {certs: [{der, eui, role, key_usage}] | null} or {error: "message"}.
'use strict';
const fs = require('node:fs');
const { BoxedKeyStore, KeyUsage } = require('@smartdcc/dccboxed-keystore');
const { search, query } = require('@smartdcc/dccboxed-keystore/dist/certificateSearch');

function describe(meta, x509) {
  return {
    der: x509.raw.toString('base64'),
    eui: meta && meta.eui ? meta.eui.toString() : null,
    role: meta && typeof meta.role === 'number' ? meta.role : null,
    key_usage: meta && Array.isArray(meta.keyUsage) ? meta.keyUsage : null,
  };
}

async function run(address, q) {
  switch (q.op) {
    case 'device':
    case 'serial': {
      // A fresh store each time: its local cache must not answer for the server.
      const ks = await BoxedKeyStore.new(address);
      try {
        let r;
        if (q.op === 'device') {
          const keyUsage = q.usage === 'DS' ? KeyUsage.digitalSignature : KeyUsage.keyAgreement;
          r = await ks.query({ eui: q.eui, keyUsage, lookup: 'certificate' });
          return { certs: r === null ? null : r.map((m) => describe(m, m.certificate)) };
        }
        r = await ks.query({ serial: BigInt('0x' + q.serial), lookup: 'certificate' });
        return { certs: r === null ? null : [describe(r, r.certificate)] };
      } finally {
        await ks.cleanup();
      }
    }
    case 'search': {
      const sr = {
        q: q.subject_alt_name !== undefined
          ? { CertificateSubjectAltName: q.subject_alt_name }
          : { CertificateSubjectName: q.subject_name },
        CertificateUsage: q.usage,
        CertificateStatus: q.status,
      };
      if (q.role !== undefined) sr.CertificateRole = q.role;
      const r = await search(sr, address);
      return { certs: r.map(({ meta, x509 }) => describe(meta, x509)) };
    }
    case 'retrieve': {
      const r = await query(q.serial, address);
      return { certs: r === null ? null : [describe(r.meta, r.x509)] };
    }
    default:
      throw new Error(`unknown op ${q.op}`);
  }
}

async function main() {
  const [address, planFile] = process.argv.slice(2);
  const plan = JSON.parse(fs.readFileSync(planFile, 'utf8'));
  const results = [];
  for (const q of plan) {
    try {
      results.push(await run(address, q));
    } catch (e) {
      results.push({ error: String(e && e.message ? e.message : e) });
    }
  }
  process.stdout.write(JSON.stringify(results) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
