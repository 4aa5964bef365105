// Raw-socket tests against a plain http.createServer configured as the proxy
// will be (serverLimits + applyServerLimits + checkRequestHygiene). Each case
// names who refuses it: Node's llhttp or our explicit check.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { applyServerLimits, checkRequestHygiene, serverLimits } from '../../src/guard/index.js';

let server: http.Server;
let port = 0;
let reached = 0;

before(async () => {
  server = applyServerLimits(
    http.createServer({ ...serverLimits }, (req, res) => {
      const refusal = checkRequestHygiene(req);
      if (refusal !== undefined) {
        res.writeHead(refusal.status, { connection: 'close', 'content-type': 'text/plain' }).end(refusal.code);
        return;
      }
      req.resume();
      // Counted when the whole request (body included) was accepted: a bad chunk
      // line is found after the headers reached the handler, but the body never ends.
      req.on('end', () => {
        reached++;
        res.end('ok');
      });
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});

after(() => new Promise<void>((r) => server.close(() => r())));

function send(raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(Buffer.from(raw, 'latin1')));
    let data = '';
    s.setEncoding('latin1');
    s.on('data', (c: string) => (data += c));
    s.on('close', () => resolve(data));
    s.on('error', reject);
  });
}

async function status(raw: string): Promise<number> {
  const response = await send(raw);
  const m = /^HTTP\/1\.1 (\d{3})/.exec(response);
  assert.ok(m, `no status line in ${JSON.stringify(response.slice(0, 80))}`);
  return Number(m[1]);
}

const node: [string, string, number][] = [
  ['bare LF everywhere', 'GET / HTTP/1.1\nHost: a\n\n', 400],
  ['bare LF after a header', 'GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n', 400],
  ['bare LF in a chunk line', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\n0\n\n', 400],
  ['bare CR', 'GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n', 400],
  ['TE + CL', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n', 400],
  ['two TE lines', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['TE obs-fold', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n', 400],
  ['two Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx', 400],
  ['NUL in the path', 'GET /a\x00b HTTP/1.1\r\nHost: a\r\n\r\n', 400],
  ['NUL in a header value', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n', 400],
  ['NUL in a header name', 'GET / HTTP/1.1\r\nHost: a\r\nX\x00Y: b\r\n\r\n', 400],
  ['space before colon', 'GET / HTTP/1.1\r\nHost: a\r\nX : b\r\n\r\n', 400],
  ['missing Host', 'GET / HTTP/1.1\r\n\r\n', 400],
  ['oversized headers', `GET / HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
  ['oversized cookie', `GET / HTTP/1.1\r\nHost: a\r\nCookie: ${'c=1; '.repeat(4000)}\r\n\r\n`, 431],
];

for (const [name, raw, expected] of node) {
  test(`Node refuses: ${name} → ${expected}`, async () => {
    const before = reached;
    assert.equal(await status(raw), expected);
    assert.equal(reached, before, 'never accepted whole');
  });
}

const ours: [string, string, number][] = [
  ['encoded NUL %00 in the path', 'GET /a%00b HTTP/1.1\r\nHost: a\r\n\r\n', 400],
  ['fragment in the target', 'GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n', 400],
  ['absolute-form target', 'GET http://evil/x HTTP/1.1\r\nHost: a\r\n\r\n', 400],
  ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
  ['TE other than chunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', 501],
  ['non-ASCII byte in the target', 'GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n', 400],
];

for (const [name, raw, expected] of ours) {
  test(`our check refuses (Node lets it through): ${name} → ${expected}`, async () => {
    const before = reached;
    assert.equal(await status(raw), expected);
    assert.equal(reached, before);
  });
}

test('a clean request passes; HTTP/1.0 without Host passes', async () => {
  assert.equal(await status('GET /ok?q=1 HTTP/1.1\r\nHost: a\r\n\r\n'), 200);
  assert.equal(await status('GET / HTTP/1.0\r\n\r\n'), 200);
});

test('HTTP/0.9 is refused by our check', () => {
  const e = checkRequestHygiene({ method: 'GET', url: '/', httpVersion: '0.9', rawHeaders: [] });
  assert.equal(e?.status, 400);
});

test('requests per connection: maxRequestsPerSocket closes the keep-alive connection', async () => {
  const s = http.createServer({ ...serverLimits }, (_req, res) => res.end('x'));
  applyServerLimits(s, { maxRequestsPerSocket: 2 });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  const response = await new Promise<string>((resolve) => {
    const c = net.connect(p, '127.0.0.1', () => c.end('GET / HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(3)));
    let data = '';
    c.setEncoding('latin1');
    c.on('data', (d: string) => (data += d));
    c.on('close', () => resolve(data));
  });
  s.close();
  const statuses = [...response.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
  assert.deepEqual(statuses.slice(0, 2), ['200', '200']);
  assert.match(response, /connection: close/i);
  assert.ok(statuses.length <= 3 && (statuses[2] === undefined || statuses[2] === '503'));
});
