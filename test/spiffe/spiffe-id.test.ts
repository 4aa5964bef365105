import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SpiffeId } from '../../src/spiffe/spiffe-id.js';
import { TrustDomain } from '../../src/spiffe/trust-domain.js';
import { SpiffeIdError } from '../../src/spiffe/spiffe-id-error.js';
import { MeshwardError } from '../../src/errors.js';

const TD_CHARS = new Set('abcdefghijklmnopqrstuvwxyz0123456789.-_');
const PATH_CHARS = new Set('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    assert.ok(err instanceof SpiffeIdError, `expected SpiffeIdError, got ${String(err)}`);
    return err.code;
  }
}

test('every byte 0-255 in the trust domain: only [a-z0-9.-_] accepted', () => {
  for (let b = 0; b < 256; b++) {
    const ch = String.fromCharCode(b);
    const input = `spiffe://a${ch}b/path`;
    if (TD_CHARS.has(ch)) {
      assert.equal(SpiffeId.parse(input).trustDomain.name, `a${ch}b`, `byte ${b}`);
    } else if (ch === '/') {
      assert.equal(SpiffeId.parse(input).trustDomain.name, 'a');
    } else {
      assert.equal(codeOf(() => SpiffeId.parse(input)), 'ERR_SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR', `byte ${b}`);
    }
  }
});

test('every byte 0-255 in the trust domain given to TrustDomain.parse', () => {
  for (let b = 0; b < 256; b++) {
    const ch = String.fromCharCode(b);
    const code = codeOf(() => TrustDomain.parse(`x${ch}y`));
    assert.equal(code === undefined, TD_CHARS.has(ch), `byte ${b}: ${code}`);
  }
});

test('every byte 0-255 in a path segment: only [a-zA-Z0-9.-_] accepted', () => {
  for (let b = 0; b < 256; b++) {
    const ch = String.fromCharCode(b);
    const input = `spiffe://example.org/a${ch}b`;
    if (PATH_CHARS.has(ch)) {
      assert.equal(SpiffeId.parse(input).path, `/a${ch}b`, `byte ${b}`);
    } else if (ch === '/') {
      assert.equal(SpiffeId.parse(input).path, '/a/b');
    } else {
      assert.equal(codeOf(() => SpiffeId.parse(input)), 'ERR_SPIFFE_ID_BAD_PATH_CHAR', `byte ${b}`);
    }
  }
});

test('non-ASCII code points are rejected (UTF-8 never reaches an ID)', () => {
  assert.equal(codeOf(() => SpiffeId.parse('spiffe://exämple.org/x')), 'ERR_SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR');
  assert.equal(codeOf(() => SpiffeId.parse('spiffe://example.org/ä')), 'ERR_SPIFFE_ID_BAD_PATH_CHAR');
  assert.equal(codeOf(() => SpiffeId.parse('spiffe://example.org/\u{1F600}')), 'ERR_SPIFFE_ID_BAD_PATH_CHAR');
});

const rejected: Array<[string, string]> = [
  ['', 'ERR_SPIFFE_ID_EMPTY'],
  ['example.org/x', 'ERR_SPIFFE_ID_WRONG_SCHEME'],
  ['SPIFFE://example.org/x', 'ERR_SPIFFE_ID_WRONG_SCHEME'],
  ['Spiffe://example.org/x', 'ERR_SPIFFE_ID_WRONG_SCHEME'],
  ['spiffe:/example.org/x', 'ERR_SPIFFE_ID_WRONG_SCHEME'],
  ['spiffe:example.org', 'ERR_SPIFFE_ID_WRONG_SCHEME'],
  ['https://example.org/x', 'ERR_SPIFFE_ID_WRONG_SCHEME'],
  [' spiffe://example.org/x', 'ERR_SPIFFE_ID_WRONG_SCHEME'],
  ['spiffe://', 'ERR_SPIFFE_ID_MISSING_TRUST_DOMAIN'],
  ['spiffe:///path', 'ERR_SPIFFE_ID_MISSING_TRUST_DOMAIN'],
  ['spiffe://Example.org/x', 'ERR_SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR'],
  ['spiffe://EXAMPLE.ORG', 'ERR_SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR'],
  ['spiffe://example.org:443/x', 'ERR_SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR'],
  ['spiffe://user@example.org/x', 'ERR_SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR'],
  ['spiffe://[::1]/x', 'ERR_SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR'],
  ['spiffe://ex%41mple.org/x', 'ERR_SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR'],
  ['spiffe://example.org?q=1', 'ERR_SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR'],
  ['spiffe://example.org#f', 'ERR_SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR'],
  ['spiffe://example.org/x?q=1', 'ERR_SPIFFE_ID_BAD_PATH_CHAR'],
  ['spiffe://example.org/x#frag', 'ERR_SPIFFE_ID_BAD_PATH_CHAR'],
  ['spiffe://example.org/%2e%2e/x', 'ERR_SPIFFE_ID_BAD_PATH_CHAR'],
  ['spiffe://example.org/a%2Fb', 'ERR_SPIFFE_ID_BAD_PATH_CHAR'],
  ['spiffe://example.org/a\u0000b', 'ERR_SPIFFE_ID_BAD_PATH_CHAR'],
  ['spiffe://example.org/a b', 'ERR_SPIFFE_ID_BAD_PATH_CHAR'],
  ['spiffe://example.org/', 'ERR_SPIFFE_ID_TRAILING_SLASH'],
  ['spiffe://example.org/a/', 'ERR_SPIFFE_ID_TRAILING_SLASH'],
  ['spiffe://example.org//', 'ERR_SPIFFE_ID_EMPTY_SEGMENT'],
  ['spiffe://example.org/a//b', 'ERR_SPIFFE_ID_EMPTY_SEGMENT'],
  ['spiffe://example.org/.', 'ERR_SPIFFE_ID_DOT_SEGMENT'],
  ['spiffe://example.org/..', 'ERR_SPIFFE_ID_DOT_SEGMENT'],
  ['spiffe://example.org/a/./b', 'ERR_SPIFFE_ID_DOT_SEGMENT'],
  ['spiffe://example.org/a/../b', 'ERR_SPIFFE_ID_DOT_SEGMENT'],
];

for (const [input, code] of rejected) {
  test(`rejects ${JSON.stringify(input)} with ${code}`, () => {
    assert.equal(codeOf(() => SpiffeId.parse(input)), code);
  });
}

const accepted: Array<[string, string, string]> = [
  ['spiffe://example.org', 'example.org', ''],
  ['spiffe://example.org/workload', 'example.org', '/workload'],
  ['spiffe://example.org/ns/default/sa/Web-API_1', 'example.org', '/ns/default/sa/Web-API_1'],
  ['spiffe://1.2.3.4/x', '1.2.3.4', '/x'],
  ['spiffe://example..org/x', 'example..org', '/x'],
  ['spiffe://.example.org/x', '.example.org', '/x'],
  ['spiffe://example.org./x', 'example.org.', '/x'],
  ['spiffe://-example.org/x', '-example.org', '/x'],
  ['spiffe://under_score/x', 'under_score', '/x'],
  ['spiffe://example.org/.path', 'example.org', '/.path'],
  ['spiffe://example.org/..path', 'example.org', '/..path'],
  ['spiffe://example.org/...', 'example.org', '/...'],
  ['spiffe://example.org/x..', 'example.org', '/x..'],
  ['spiffe://example.org/CaseMatters', 'example.org', '/CaseMatters'],
];

for (const [input, td, path] of accepted) {
  test(`accepts ${input}`, () => {
    const id = SpiffeId.parse(input);
    assert.equal(id.trustDomain.name, td);
    assert.equal(id.path, path);
    assert.equal(id.toString(), input);
    assert.equal(JSON.stringify({ id }), JSON.stringify({ id: input }));
  });
}

test('length limits: 2048-byte ID and 255-byte trust domain', () => {
  const td255 = 'a'.repeat(255);
  assert.equal(SpiffeId.parse(`spiffe://${td255}/x`).trustDomain.name, td255);
  assert.equal(codeOf(() => SpiffeId.parse(`spiffe://${'a'.repeat(256)}/x`)), 'ERR_SPIFFE_ID_TRUST_DOMAIN_TOO_LONG');
  assert.equal(codeOf(() => TrustDomain.parse('a'.repeat(256))), 'ERR_SPIFFE_ID_TRUST_DOMAIN_TOO_LONG');
  const prefix = 'spiffe://example.org/';
  const max = prefix + 'p'.repeat(2048 - prefix.length);
  assert.equal(SpiffeId.parse(max).toString().length, 2048);
  assert.equal(codeOf(() => SpiffeId.parse(max + 'p')), 'ERR_SPIFFE_ID_TOO_LONG');
  assert.equal(codeOf(() => SpiffeId.fromPath('example.org', '/' + 'p'.repeat(2048))), 'ERR_SPIFFE_ID_TOO_LONG');
  // A huge invalid input is refused without scanning it all.
  assert.equal(codeOf(() => SpiffeId.parse('spiffe://x/' + 'A'.repeat(10_000_000))), 'ERR_SPIFFE_ID_TOO_LONG');
});

test('non-string inputs get a clear error, not a crash', () => {
  for (const value of [undefined, null, 42, {}, ['spiffe://x/y']]) {
    assert.equal(codeOf(() => SpiffeId.parse(value as unknown as string)), 'ERR_SPIFFE_ID_NOT_A_STRING');
    assert.equal(codeOf(() => TrustDomain.parse(value as unknown as string)), 'ERR_SPIFFE_ID_NOT_A_STRING');
  }
  assert.equal(SpiffeId.tryParse(42), null);
  assert.equal(SpiffeId.tryParse('spiffe://x/y')?.toString(), 'spiffe://x/y');
});

test('TrustDomain.parse takes a name or a SPIFFE ID', () => {
  assert.equal(TrustDomain.parse('example.org').name, 'example.org');
  assert.equal(TrustDomain.parse('spiffe://example.org').name, 'example.org');
  assert.equal(TrustDomain.parse('spiffe://example.org/path').name, 'example.org');
  assert.equal(TrustDomain.parse('example.org').idString(), 'spiffe://example.org');
  assert.equal(TrustDomain.parse('example.org').id().toString(), 'spiffe://example.org');
  assert.equal(codeOf(() => TrustDomain.parse('')), 'ERR_SPIFFE_ID_MISSING_TRUST_DOMAIN');
  assert.equal(codeOf(() => TrustDomain.parse('Example.org')), 'ERR_SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR');
  assert.equal(codeOf(() => TrustDomain.parse('spiffe://Example.org')), 'ERR_SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR');
  assert.equal(codeOf(() => TrustDomain.parse('http://example.org')), 'ERR_SPIFFE_ID_WRONG_SCHEME');
});

test('fromPath, fromSegments, memberOf, equals', () => {
  const td = TrustDomain.parse('example.org');
  const id = SpiffeId.fromPath(td, '/ns/prod/sa/web');
  assert.equal(id.toString(), 'spiffe://example.org/ns/prod/sa/web');
  assert.ok(id.equals(SpiffeId.parse('spiffe://example.org/ns/prod/sa/web')));
  assert.ok(!id.equals(SpiffeId.parse('spiffe://example.org/ns/prod/sa/Web')));
  assert.ok(id.memberOf(td));
  assert.ok(!id.memberOf(TrustDomain.parse('example.com')));
  assert.equal(SpiffeId.fromSegments(td, 'ns', 'prod').toString(), 'spiffe://example.org/ns/prod');
  assert.equal(codeOf(() => SpiffeId.fromSegments(td, 'a/b')), 'ERR_SPIFFE_ID_BAD_PATH_CHAR');
  assert.equal(codeOf(() => SpiffeId.fromPath(td, 'no-slash')), 'ERR_SPIFFE_ID_NO_LEADING_SLASH');
  assert.equal(codeOf(() => SpiffeId.fromPath(td, '/a/')), 'ERR_SPIFFE_ID_TRAILING_SLASH');
  assert.equal(SpiffeId.fromPath(td, '').isTrustDomainId(), true);
});

test('errors are MeshwardErrors with a stable code and a message that names the problem', () => {
  try {
    SpiffeId.parse('spiffe://Example.org/x');
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof MeshwardError);
    assert.ok(err instanceof SpiffeIdError);
    assert.equal((err as SpiffeIdError).name, 'SpiffeIdError');
    assert.match((err as Error).message, /^spiffeid: trust domain characters .* \(found "E" at index 9\)$/);
  }
  try {
    SpiffeId.parse('spiffe://example.org/a\nb');
  } catch (err) {
    assert.match((err as Error).message, /found "\\u000a" at index 22/);
  }
});

test('property: parse(toString(id)) round-trips and only valid grammar parses', () => {
  const tdChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789.-_');
  const segChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_');
  const segment = fc.string({ unit: segChar, minLength: 1, maxLength: 12 }).filter((s) => s !== '.' && s !== '..');
  const idArb = fc.record({
    td: fc.string({ unit: tdChar, minLength: 1, maxLength: 40 }),
    segments: fc.array(segment, { maxLength: 6 }),
  });
  fc.assert(
    fc.property(idArb, ({ td, segments }) => {
      const text = `spiffe://${td}${segments.map((s) => '/' + s).join('')}`;
      const id = SpiffeId.parse(text);
      assert.equal(id.toString(), text);
      assert.ok(SpiffeId.parse(id.toString()).equals(id));
    }),
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), (s) => {
      const input = 'spiffe://' + s;
      try {
        SpiffeId.parse(input);
        assert.match(input, /^spiffe:\/\/[a-z0-9._-]+(\/[a-zA-Z0-9._-]+)*$/);
      } catch (err) {
        assert.ok(err instanceof SpiffeIdError);
      }
    }),
  );
});
