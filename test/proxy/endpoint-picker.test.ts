/** EndpointPicker with a real OutlierDetector on an injected clock: round-robin, ejection, return, panic. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OutlierDetector } from '../../src/guard/index.js';
import { CONNECT_FAILURE_STATUS, EndpointPicker, endpointName } from '../../src/proxy/endpoint-picker.js';

function setup(endpoints: string[], options: { consecutive5xx?: number; maxEjectionPercent?: number } = {}) {
  let now = 1_000_000;
  const detector = new OutlierDetector(endpoints, { consecutive5xx: 2, baseEjectionMs: 1000, maxEjectionMs: 10_000, maxEjectionPercent: 50, ...options, clock: () => now });
  return { picker: new EndpointPicker(endpoints, detector), advance: (ms: number) => (now += ms) };
}

const picks = (picker: EndpointPicker, n: number) => Array.from({ length: n }, () => picker.pick());

test('round-robin over every endpoint while none is ejected', () => {
  const { picker } = setup(['a', 'b', 'c']);
  assert.deepEqual(picks(picker, 6), ['a', 'b', 'c', 'a', 'b', 'c']);
});

test('an ejected endpoint gets nothing until its ejection ends; the n-th ejection lasts n × base', () => {
  const { picker, advance } = setup(['a', 'b']);
  picker.report('b', 503);
  picker.report('b', CONNECT_FAILURE_STATUS);
  assert.equal(picker.ejectedCount(), 1);
  assert.deepEqual(picks(picker, 4), ['a', 'a', 'a', 'a']);
  advance(1000);
  assert.equal(picker.ejectedCount(), 0);
  assert.ok(picks(picker, 2).includes('b'));
  picker.report('b', 500);
  picker.report('b', 502);
  advance(1999);
  assert.equal(picker.ejectedCount(), 1, 'second ejection: 2 × base');
  advance(1);
  assert.equal(picker.ejectedCount(), 0);
});

test('a success resets the count: only consecutive errors eject', () => {
  const { picker } = setup(['a', 'b']);
  picker.report('b', 503);
  picker.report('b', 200);
  picker.report('b', 503);
  assert.equal(picker.ejectedCount(), 0);
});

test('maxEjectionPercent caps ejections, but one is always allowed', () => {
  const three = setup(['a', 'b', 'c'], { maxEjectionPercent: 50 });
  for (const e of ['b', 'c', 'b', 'c']) three.picker.report(e, 503);
  assert.equal(three.picker.ejectedCount(), 1);
  assert.deepEqual(picks(three.picker, 4), ['a', 'c', 'a', 'c']);
  const zero = setup(['a', 'b'], { maxEjectionPercent: 0 });
  for (const e of ['a', 'a', 'b', 'b']) zero.picker.report(e, 503);
  assert.equal(zero.picker.ejectedCount(), 1);
});

test('all ejected (maxEjectionPercent 100): every endpoint is used again (panic), not none', () => {
  const { picker } = setup(['a', 'b'], { maxEjectionPercent: 100 });
  for (const e of ['a', 'a', 'b', 'b']) picker.report(e, 503);
  assert.equal(picker.ejectedCount(), 2);
  assert.deepEqual(picks(picker, 4).sort(), ['a', 'a', 'b', 'b']);
});

test('a single endpoint has no detector; IPv6 endpoints are bracketed', () => {
  const single = new EndpointPicker(['a:1']);
  single.report('a:1', 503);
  assert.equal(single.pick(), 'a:1');
  assert.equal(endpointName({ host: '::1', port: 8443 }), '[::1]:8443');
  assert.equal(endpointName({ host: 'payment.internal', port: 15006 }), 'payment.internal:15006');
  assert.throws(() => new EndpointPicker([]), RangeError);
});
