import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  Auditor,
  describeToken,
  generateRequestId,
  isValidRequestId,
  openFileSink,
  resolveRequestId,
  sanitizeRecord,
  verifyAuditFile,
  type AuditRecordInput,
} from '../../src/audit/index.js';
import { sample, tempDir } from './helpers.js';

const JWT =
  'eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzcGlmZmU6Ly9leGFtcGxlLm9yZy9hIiwianRpIjoiYWJjLTEyMyJ9.c2lnbmF0dXJlLWJ5dGVzLWhlcmUtbm90LXJlYWw';

async function writeOne(t: Parameters<typeof tempDir>[0], input: AuditRecordInput) {
  const path = join(tempDir(t), 'audit.jsonl');
  const auditor = new Auditor({ sink: await openFileSink(path) });
  await auditor.recordDenial(input);
  const stats = auditor.stats();
  await auditor.close();
  return { path, text: readFileSync(path, 'utf8'), stats };
}

test('case 86: \\n, " and } in path, SNI and User-Agent are escaped by the encoder; one request is exactly one line', async (t) => {
  const evil = 'a\n{"decision":"allow"}\r\n"}\u2028\u2029\u0085x';
  const { text, path } = await writeOne(t, sample({ decision: 'deny', path: `/x${evil}`, normalizedPath: `/x${evil}`, sni: evil, userAgent: evil, host: evil }));
  assert.equal(text.split('\n').length, 2); // one line plus the final newline
  assert.ok(!/[\u2028\u2029\u0085\r]/.test(text), 'no raw line separators of any kind');
  const rec = JSON.parse(text.trim());
  assert.equal(rec.userAgent, evil);
  assert.equal(rec.sni, evil);
  assert.equal(rec.path, `/x${evil}`);
  assert.equal(rec.decision, 'deny');
  assert.equal((await verifyAuditFile(path)).ok, true);
});

test('case 87: invalid UTF-8 in a header is replaced and counted before serialization', async (t) => {
  const invalid = Uint8Array.from([0x63, 0x75, 0x72, 0x6c, 0xff, 0xfe, 0xc3]); // "curl" then invalid bytes
  const counted: number[] = [];
  const path = join(tempDir(t), 'audit.jsonl');
  const auditor = new Auditor({ sink: await openFileSink(path), onInvalidUtf8: (n) => counted.push(n) });
  await auditor.recordDenial(sample({ decision: 'deny', userAgent: invalid, path: '/ok\uD800' }));
  assert.equal(auditor.stats().invalidUtf8, 2);
  await auditor.close();
  assert.deepEqual(counted, [2]);
  const rec = JSON.parse(readFileSync(path, 'utf8'));
  assert.ok(rec.userAgent.startsWith('curl\uFFFD'));
  assert.equal(rec.path, '/ok\uFFFD');
  assert.deepEqual(rec.sanitized, { invalidUtf8: 2, truncated: [] });
  assert.ok(Buffer.from(readFileSync(path, 'utf8'), 'utf8').equals(readFileSync(path)), 'the file is valid UTF-8');
});

test('over-long client fields are capped and noted', () => {
  const { record, stats } = sanitizeRecord(sample({ path: `/${'a'.repeat(10_000)}`, userAgent: 'u'.repeat(5000) }));
  assert.equal(record.path!.length, 2048);
  assert.equal(record.userAgent!.length, 256);
  assert.deepEqual(stats.truncated, ['path', 'userAgent']);
});

test('case 90: Authorization headers, cookies, keys and tokens never reach the file', async (t) => {
  const input = {
    ...sample({ decision: 'deny', status: 401, reason: `bad token Bearer ${JWT}`, path: `/x?access_token=${JWT}&api_key=sk-live-123&page=2`, tokenId: describeToken(`Bearer ${JWT}`) }),
    authorization: `Bearer ${JWT}`,
    headers: { authorization: `Bearer ${JWT}`, cookie: 'session=s3cr3t-cookie' },
    privateKey: '-----BEGIN PRIVATE KEY-----MIIB',
  } as AuditRecordInput;
  const { text } = await writeOne(t, input);
  for (const secret of [JWT, 'eyJhbGci', 's3cr3t-cookie', 'sk-live-123', 'PRIVATE KEY', 'signature-bytes']) {
    assert.ok(!text.includes(secret), `${secret} must not be written`);
  }
  const rec = JSON.parse(text);
  assert.equal(rec.tokenId, 'jti:abc-123');
  assert.equal(rec.path, '/x?access_token=[redacted]&api_key=[redacted]&page=2');
  assert.equal(rec.reason, 'bad token [redacted]');
  assert.equal('authorization' in rec || 'headers' in rec || 'privateKey' in rec, false);
});

test('describeToken: the jti when readable, else a SHA-256 prefix; never the token', () => {
  assert.equal(describeToken(JWT), 'jti:abc-123');
  const opaque = describeToken('opaque-token-value');
  assert.match(opaque, /^sha256:[0-9a-f]{16}$/);
  assert.ok(!opaque.includes('opaque'));
  const noJti = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
  assert.match(describeToken(noJti), /^sha256:/);
});

test('case 91: the record holds decision, policy, rule, principal and both paths', async (t) => {
  const { text } = await writeOne(t, sample({ decision: 'deny', status: 403, path: '/payment/%2e%2e/admin', normalizedPath: '/admin', policy: 'shop/deny-admin', rule: 'rules[1]', dryRun: true }));
  const rec = JSON.parse(text);
  assert.deepEqual(
    [rec.decision, rec.policy, rec.rule, rec.caller, rec.path, rec.normalizedPath, rec.dryRun],
    ['deny', 'shop/deny-admin', 'rules[1]', 'spiffe://example.org/ns/shop/sa/order', '/payment/%2e%2e/admin', '/admin', true],
  );
});

test('request IDs: a valid client ID is kept, anything else replaced by a generated UUID', () => {
  assert.deepEqual(resolveRequestId('abc-123_x.y:z'), { id: 'abc-123_x.y:z', generated: false });
  for (const bad of [undefined, '', 'a'.repeat(129), 'has space', 'new\nline', 'quote"', '<script>', ['a', 'b']]) {
    const r = resolveRequestId(bad as string | undefined);
    assert.equal(r.generated, true, String(bad));
    assert.ok(isValidRequestId(r.id));
  }
  assert.match(generateRequestId(), /^[0-9a-f-]{36}$/);
  assert.equal(isValidRequestId('a'.repeat(128)), true);
});
