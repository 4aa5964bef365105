import assert from 'node:assert/strict';
import { randomHex } from '../../src/telemetry/random-hex.js';
import { describe, test } from 'node:test';
import { continueTrace, parseTraceparent, parseTracestate } from '../../src/telemetry/index.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const VALID = `00-${TRACE}-${PARENT}-01`;

const table: Array<[string, string | undefined, boolean]> = [
  ['valid, sampled', VALID, true],
  ['valid, not sampled', `00-${TRACE}-${PARENT}-00`, true],
  ['valid, unknown flags on 00', `00-${TRACE}-${PARENT}-09`, true],
  ['uppercase trace-id', `00-${TRACE.toUpperCase()}-${PARENT}-01`, false],
  ['uppercase version', `0A-${TRACE}-${PARENT}-01`, false],
  ['all-zero trace-id', `00-${'0'.repeat(32)}-${PARENT}-01`, false],
  ['all-zero parent-id', `00-${TRACE}-${'0'.repeat(16)}-01`, false],
  ['version ff', `ff-${TRACE}-${PARENT}-01`, false],
  ['version not hex', `0g-${TRACE}-${PARENT}-01`, false],
  ['extra field on version 00', `${VALID}-what-the-future-holds`, false],
  ['trailing character on version 00', `${VALID}x`, false],
  ['future version 01 with an extra field', `01-${TRACE}-${PARENT}-01-what-the-future-holds`, true],
  ['future version cc, exact length', `cc-${TRACE}-${PARENT}-01`, true],
  ['future version without a dash after the flags', `01-${TRACE}-${PARENT}-01x`, false],
  ['short trace-id', `00-${TRACE.slice(1)}-${PARENT}-01`, false],
  ['wrong separator', `00_${TRACE}-${PARENT}-01`, false],
  ['flags not hex', `00-${TRACE}-${PARENT}-0z`, false],
  ['empty', '', false],
  ['absent', undefined, false],
];

for (const [name, value, valid] of table) {
  test(`traceparent: ${name} → ${valid ? 'valid' : 'invalid'}`, () => {
    const parsed = parseTraceparent(value);
    assert.equal(parsed !== null, valid);
    const ctx = continueTrace(value, 'vendor=x');
    assert.match(ctx.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);
    if (valid) {
      assert.equal(ctx.traceId, TRACE);
      assert.equal(ctx.parentSpanId, PARENT);
      assert.notEqual(ctx.spanId, PARENT);
      assert.equal(ctx.started, false);
      assert.equal(ctx.tracestate, 'vendor=x');
    } else {
      assert.equal(ctx.started, true);
      assert.notEqual(ctx.traceId, TRACE);
      assert.equal(ctx.tracestate, null, 'tracestate is dropped with an invalid traceparent');
    }
  });
}

test('a future version is propagated as version 00 keeping only the sampled flag', () => {
  const ctx = continueTrace(`01-${TRACE}-${PARENT}-03-extra`, undefined);
  assert.equal(ctx.traceparent.slice(0, 36), `00-${TRACE}-`);
  assert.equal(ctx.traceparent.slice(-3), '-01');
});

test('the sampled flag is carried over; new traces are sampled unless configured otherwise', () => {
  assert.equal(continueTrace(`00-${TRACE}-${PARENT}-00`, undefined).traceparent.slice(-2), '00');
  assert.equal(continueTrace(undefined, undefined).sampled, true);
  assert.equal(continueTrace(undefined, undefined, { sampleNew: false }).traceparent.slice(-2), '00');
});

test('every hop gets a new random span ID', () => {
  const ids = new Set(Array.from({ length: 100 }, () => continueTrace(VALID, undefined).spanId));
  assert.equal(ids.size, 100);
});

test('a repeated traceparent header is invalid', () => {
  assert.equal(parseTraceparent([VALID, VALID]), null);
});

test('tracestate: valid lists pass (trimmed, empty members removed); invalid, too long or too many are dropped', () => {
  assert.equal(parseTracestate('rojo=00f067aa0ba902b7, congo=t61rcWkgMzE'), 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
  assert.equal(parseTracestate(['a=1', 'b=2']), 'a=1,b=2');
  assert.equal(parseTracestate('tenant@system=v,,  x=y  '), 'tenant@system=v,x=y');
  assert.equal(parseTracestate('Upper=1'), null);
  assert.equal(parseTracestate('a=1,a=2'), null, 'duplicate key');
  assert.equal(parseTracestate('a=has,comma'), null);
  assert.equal(parseTracestate('a=x=y'), null);
  assert.equal(parseTracestate('novalue'), null);
  assert.equal(parseTracestate('a= '), null);
  const members = (n: number) => Array.from({ length: n }, (_, i) => `k${i}=v`).join(',');
  assert.notEqual(parseTracestate(members(32)), null);
  assert.equal(parseTracestate(members(33)), null);
  assert.equal(parseTracestate(`a=${'v'.repeat(250)},b=${'v'.repeat(250)}`)!.length, 505);
  assert.equal(parseTracestate(`a=${'v'.repeat(255)},b=${'v'.repeat(255)}`), null, 'longer than 512');
  assert.equal(parseTracestate(undefined), null);
});

describe('randomHex (pooled IDs)', () => {
  test('hands out each pooled byte once, across refills', () => {
    const seen = new Set<string>();
    // 3,000 × 16 bytes crosses the 4 KiB pool about twelve times
    for (let i = 0; i < 3000; i++) {
      const id = randomHex(16);
      assert.match(id, /^[0-9a-f]{32}$/);
      seen.add(id);
    }
    assert.equal(seen.size, 3000);
    assert.match(randomHex(8), /^[0-9a-f]{16}$/);
  });
});
