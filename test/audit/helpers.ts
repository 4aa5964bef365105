import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditRecordInput } from '../../src/audit/index.js';

export function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshward-audit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function sample(overrides: Partial<AuditRecordInput> = {}): AuditRecordInput {
  return {
    time: Date.UTC(2025, 0, 2, 3, 4, 5, 678),
    caller: 'spiffe://example.org/ns/shop/sa/order',
    destination: 'payment',
    method: 'POST',
    path: '/payment/charge',
    normalizedPath: '/payment/charge',
    decision: 'allow',
    policy: 'shop/payment-callers',
    rule: 'rules[0]',
    status: 200,
    bytesIn: 120,
    bytesOut: 48,
    durationMs: 1.25,
    requestId: 'req-1',
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    source: '127.0.0.1:50000',
    reason: null,
    ...overrides,
  };
}
