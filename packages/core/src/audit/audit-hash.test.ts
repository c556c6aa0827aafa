import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AUDIT_GENESIS_HASH, AuditChainVerifier, auditHashInput, buildAuditEntry, computeAuditHash } from './audit-hash.js';
import { canonicalJson } from './canonical-json.js';

describe('canonicalJson (RFC 8785)', () => {
  it('sorts keys at every depth, drops undefined, writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"z":1}]},"b":1}');
    expect(canonicalJson([undefined, Number.NaN, null])).toBe('[null,null,null]');
    expect(canonicalJson('é\n"')).toBe('"é\\n\\""');
    expect(canonicalJson(1e21)).toBe('1e+21');
    expect(canonicalJson({ '\u00e9': 1, e: 2, E: 3 })).toBe('{"E":3,"e":2,"é":1}');
  });
});

describe('audit hash chain', () => {
  it('hashes the canonical entry including prevHash', () => {
    const e = buildAuditEntry({ actor: 'admin', action: 'tenant.create', target: 'acme', details: { b: 1, a: 2 } }, undefined, 1000);
    expect(e).toMatchObject({ seq: 1, ts: 1000, prevHash: AUDIT_GENESIS_HASH });
    const input = auditHashInput(e);
    expect(input).toBe(`{"action":"tenant.create","actor":"admin","details":{"a":2,"b":1},"ip":null,"prevHash":"${AUDIT_GENESIS_HASH}","seq":1,"target":"acme","ts":1000}`);
    expect(e.hash).toBe(createHash('sha256').update(input).digest('hex'));
    const next = buildAuditEntry({ actor: 'x', action: 'y' }, e, 2000);
    expect(next).toMatchObject({ seq: 2, prevHash: e.hash });
  });

  it('verifier accepts a good chain and names the first bad entry', () => {
    const chain = [buildAuditEntry({ actor: 'a', action: '1' }, undefined, 1)];
    for (let i = 2; i <= 4; i++) chain.push(buildAuditEntry({ actor: 'a', action: String(i) }, chain[chain.length - 1], i));
    const ok = new AuditChainVerifier();
    chain.forEach((e) => ok.feed(e));
    expect(ok.result()).toEqual({ ok: true, count: 4, headHash: chain[3]!.hash });

    const edited = chain.map((e) => (e.seq === 3 ? { ...e, actor: 'mallory' } : e));
    const v = new AuditChainVerifier();
    for (const e of edited) if (!v.feed(e)) break;
    expect(v.result()).toMatchObject({ ok: false, brokenAt: 3, count: 3 });

    const rehashed = chain.map((e) => (e.seq === 2 ? { ...e, actor: 'm', hash: computeAuditHash({ ...e, actor: 'm' }) } : e));
    const v2 = new AuditChainVerifier();
    for (const e of rehashed) if (!v2.feed(e)) break;
    expect(v2.result()).toMatchObject({ ok: false, brokenAt: 3 });
    expect(v2.result().reason).toMatch(/prevHash/);
  });

  it('verifier: an entry that cannot be hashed (details nested deeper than the stack) breaks the chain there instead of throwing', () => {
    const chain = [buildAuditEntry({ actor: 'a', action: '1' }, undefined, 1)];
    chain.push(buildAuditEntry({ actor: 'a', action: '2' }, chain[0], 2));
    const deep = JSON.parse(`{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}`) as Record<string, unknown>;
    const v = new AuditChainVerifier();
    expect(v.feed(chain[0]!)).toBe(true);
    expect(v.feed({ ...chain[1]!, details: deep })).toBe(false);
    expect(v.result()).toMatchObject({ ok: false, count: 2, brokenAt: 2, headHash: chain[0]!.hash, reason: expect.stringMatching(/entry 2 cannot be hashed/) });
  });
});
