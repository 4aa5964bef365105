// HTTP/2 limits: our rapid-reset guard (Envoy's thresholds), Node's own
// CONTINUATION cap, and the decoded header-list limit. Real sockets, h2c.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { checkRequestHygiene, guardHttp2Session, http2Limits } from '../../src/guard/index.js';

async function h2server(onSession?: (s: http2.ServerHttp2Session) => void): Promise<{ server: http2.Http2Server; port: number; handled: () => number }> {
  let handled = 0;
  const server = http2.createServer({ ...http2Limits });
  server.on('session', (s) => {
    s.on('error', () => undefined);
    onSession?.(s);
  });
  server.on('stream', (stream) => {
    stream.on('error', () => undefined);
    setImmediate(() => {
      if (stream.destroyed || stream.closed) return;
      handled++;
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as net.AddressInfo).port, handled: () => handled };
}

test('rapid reset: the session closes once > 50% of 500+ streams were reset prematurely', async () => {
  const closes: string[] = [];
  let stats = { streams: 0, prematureResets: 0 };
  const { server, port } = await h2server((s) => {
    stats = guardHttp2Session(s, { onClose: (reason) => closes.push(reason) });
  });
  const client = http2.connect(`http://127.0.0.1:${port}`);
  client.on('error', () => undefined);
  await new Promise((r) => client.once('connect', r));
  let sent = 0;
  for (let i = 0; i < 3000 && !client.destroyed && !client.closed; i++) {
    try {
      const req = client.request({ ':path': '/' });
      req.on('error', () => undefined);
      req.close(http2.constants.NGHTTP2_CANCEL);
      sent++;
    } catch {
      break;
    }
    if (i % 50 === 0) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 200)); // real socket: let the GOAWAY arrive
  assert.deepEqual(closes, ['rapid-reset']);
  assert.ok(stats.streams >= 500 && stats.streams < 1000, `closed after ${stats.streams} streams (nghttp2's own cap is ~1,000)`);
  assert.ok(client.destroyed || client.closed, 'client saw the session end');
  client.destroy();
  server.close();
});

test('ordinary traffic with few cancellations is not closed', async () => {
  const closes: string[] = [];
  const { server, port, handled } = await h2server((s) => void guardHttp2Session(s, { onClose: (r) => closes.push(r) }));
  const client = http2.connect(`http://127.0.0.1:${port}`);
  const done: Promise<void>[] = [];
  for (let i = 0; i < 600; i++) {
    const req = client.request({ ':path': '/' });
    req.on('error', () => undefined);
    if (i % 10 === 0) req.close(http2.constants.NGHTTP2_CANCEL);
    else done.push(new Promise((r) => { req.resume(); req.on('end', () => r()); }));
    if (i % 50 === 0) await Promise.all(done.splice(0));
  }
  await Promise.all(done);
  assert.deepEqual(closes, []);
  assert.ok(handled() >= 540);
  client.close();
  server.close();
});

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

function literal(name: string, value: string): Buffer {
  // HPACK literal without indexing, new name; lengths < 127 (or 2-byte prefix form).
  const len = (n: number): Buffer => (n < 127 ? Buffer.from([n]) : Buffer.from([127, n - 127]));
  return Buffer.concat([Buffer.from([0x00]), len(name.length), Buffer.from(name), len(value.length), Buffer.from(value)]);
}

async function rawSession(port: number, frames: Buffer[]): Promise<{ closed: boolean }> {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  let closed = false;
  s.on('close', () => (closed = true));
  s.resume();
  await new Promise((r) => s.once('connect', r));
  s.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
  s.write(frame(4, 0, 0, Buffer.alloc(0)));
  for (const f of frames) if (!closed) s.write(f);
  await new Promise((r) => setTimeout(r, 200));
  s.destroy();
  return { closed };
}

test('CONTINUATION flood: Node 20 closes the session (nghttp2 caps CONTINUATION frames)', async () => {
  const { server, port, handled } = await h2server();
  const first = Buffer.concat([Buffer.from([0x82, 0x84, 0x86]), literal(':authority', 'a')]);
  const frames = [frame(1, 0x1, 1, first)];
  for (let i = 0; i < 1000; i++) frames.push(frame(9, 0, 1, literal(`x${i % 100}`, 'v')));
  const { closed } = await rawSession(port, frames);
  assert.equal(closed, true);
  assert.equal(handled(), 0);
  server.close();
});

function hpackString(text: string): Buffer {
  const b = Buffer.from(text);
  if (b.length < 127) return Buffer.concat([Buffer.from([b.length]), b]);
  const out = [127];
  let n = b.length - 127;
  while (n >= 128) {
    out.push((n & 127) | 128);
    n >>= 7;
  }
  out.push(n);
  return Buffer.concat([Buffer.from(out), b]);
}

test('HPACK-amplified cookies: Node 20 decodes 50 KB from a 1 KB block past maxHeaderListSize 16 KiB; our check answers 431', async () => {
  const seen: { status: number; cookieBytes: number }[] = [];
  const server = http2.createServer({ ...http2Limits });
  server.on('session', (s) => s.on('error', () => undefined));
  server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
    stream.on('error', () => undefined);
    const refusal = checkRequestHygiene({ method: String(headers[':method']), url: String(headers[':path']), httpVersion: '2.0', rawHeaders });
    const status = refusal?.status ?? 200;
    seen.push({ status, cookieBytes: String(headers['cookie'] ?? '').length });
    stream.respond({ ':status': status });
    stream.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  // One literal "cookie: c=xxx…" (1 KB) added to the dynamic table, then 49 one-byte references to it.
  const parts = [Buffer.from([0x82, 0x84, 0x86, 0x41]), hpackString('a'), Buffer.from([0x40]), hpackString('cookie'), hpackString(`c=${'x'.repeat(1000)}`)];
  for (let i = 1; i < 50; i++) parts.push(Buffer.from([0x80 | 62]));
  const block = Buffer.concat(parts);
  assert.ok(block.length < 1100);
  await rawSession(port, [frame(1, 0x5, 1, block)]);
  assert.equal(seen.length, 1, 'Node handed the stream to the handler (it did not enforce the limit)');
  assert.ok((seen[0]?.cookieBytes ?? 0) > 45_000, `decoded cookie: ${seen[0]?.cookieBytes} bytes`);
  assert.equal(seen[0]?.status, 431, 'our decoded-size count refuses it');
  server.close();
});
