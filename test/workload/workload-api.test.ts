import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { TrustDomain } from '../../src/spiffe/trust-domain.js';
import { JwtSvid } from '../../src/spiffe/jwt/jwt-svid.js';
import { parseWorkloadEndpoint } from '../../src/workload/endpoint.js';
import { workloadApiDefinition, WorkloadApiClient } from '../../src/workload/workload-api-client.js';
import { X509Source } from '../../src/workload/x509-source.js';
import { JwtSource } from '../../src/workload/jwt-source.js';
import { BundleSource } from '../../src/workload/bundle-source.js';
import type { WorkloadLogger } from '../../src/workload/logger.js';
import { exampleCa, otherCa } from './fixtures.js';

const EX = TrustDomain.parse('example.org');
const OTHER = TrustDomain.parse('other.org');
const logs: string[] = [];
const logger: WorkloadLogger = { debug() {}, info() {}, warn: (_o, m) => logs.push(m), error: (_o, m) => logs.push(m) };
const backoff = { stepMs: 50, maxMs: 400 };

function rawSvid(id: string, options: { ttl?: number; now?: Date; ca?: typeof exampleCa } = {}) {
  const ca = options.ca ?? exampleCa;
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const minted = ca.mintX509Svid({ spiffeId: id, publicKey, ttlSeconds: options.ttl ?? 600, now: options.now });
  return {
    spiffe_id: id,
    x509_svid: Buffer.concat(minted.chain),
    x509_svid_key: privateKey.export({ type: 'pkcs8', format: 'der' }) as Buffer,
    bundle: Buffer.concat(ca.bundle().x509Authorities()),
    hint: '',
  };
}
const otherBundleDer = Buffer.concat(otherCa.bundle().x509Authorities());

type Handlers = Partial<Record<'FetchX509SVID' | 'FetchX509Bundles' | 'FetchJWTBundles' | 'FetchJWTSVID' | 'ValidateJWTSVID', grpc.UntypedHandleCall>>;

/** A real gRPC server on a Unix socket speaking the official proto, with handlers the test controls. */
async function fakeAgent(handlers: Handlers, socketPath = join(mkdtempSync(join(tmpdir(), 'mw-wl-')), 'api.sock')) {
  const headers: Array<string[]> = [];
  const calls: Record<string, number> = {};
  const server = new grpc.Server();
  const wrap = (name: keyof Handlers) => (call: { metadata: grpc.Metadata }, ...rest: unknown[]) => {
    headers.push(call.metadata.get('workload.spiffe.io').map(String));
    calls[name] = (calls[name] ?? 0) + 1;
    const h = handlers[name] as ((...a: unknown[]) => void) | undefined;
    if (!h) {
      const cb = rest[0];
      if (typeof cb === 'function') cb({ code: grpc.status.UNIMPLEMENTED });
      else (call as unknown as grpc.ServerWritableStream<unknown, unknown>).emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'unimplemented' });
      return;
    }
    h(call, ...rest);
  };
  const impl: grpc.UntypedServiceImplementation = {};
  for (const name of ['FetchX509SVID', 'FetchX509Bundles', 'FetchJWTBundles', 'FetchJWTSVID', 'ValidateJWTSVID', 'FetchWITSVID', 'FetchWITBundles'] as const) impl[name] = wrap(name as keyof Handlers) as grpc.UntypedHandleCall;
  server.addService(workloadApiDefinition().service, impl);
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${socketPath}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  return { address: `unix://${socketPath}`, socketPath, server, headers, calls, stop: () => new Promise<void>((r) => server.tryShutdown(() => r())) };
}

type Stream = grpc.ServerWritableStream<unknown, unknown>;
const closers: Array<() => unknown> = [];
after(async () => {
  for (const c of closers) await c();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('endpoint URIs: unix:///abs and tcp://IP:port accepted; authority, path, opaque, hostnames and junk refused', () => {
  assert.equal(parseWorkloadEndpoint('unix:///tmp/agent.sock').target, 'unix:///tmp/agent.sock');
  assert.equal(parseWorkloadEndpoint('tcp://127.0.0.1:8081').target, 'ipv4:127.0.0.1:8081');
  assert.equal(parseWorkloadEndpoint('tcp://[::1]:8081').target, 'ipv6:[::1]:8081');
  for (const bad of ['unix://host/tmp/a.sock', 'unix://', 'unix:relative', 'unix:///tmp/a?x=1', 'unix:///tmp/a#f', 'tcp://127.0.0.1:80/path', 'tcp://localhost:80', 'tcp://127.0.0.1', 'tcp://u@127.0.0.1:80', 'http://127.0.0.1:80', '', 'nonsense']) {
    assert.throws(() => parseWorkloadEndpoint(bad), (e: Error & { code: string }) => e.code === 'ERR_WORKLOAD_BAD_ADDRESS', bad);
  }
  const saved = process.env.SPIFFE_ENDPOINT_SOCKET;
  process.env.SPIFFE_ENDPOINT_SOCKET = 'unix:///tmp/from-env.sock';
  try {
    assert.equal(new WorkloadApiClient({ logger }).endpoint.uri, 'unix:///tmp/from-env.sock');
    delete process.env.SPIFFE_ENDPOINT_SOCKET;
    assert.throws(() => new WorkloadApiClient({ logger }), (e: Error & { code: string }) => e.code === 'ERR_WORKLOAD_NO_ADDRESS');
  } finally {
    if (saved === undefined) delete process.env.SPIFFE_ENDPOINT_SOCKET;
    else process.env.SPIFFE_ENDPOINT_SOCKET = saved;
  }
});

test('X509Source: first update, header on every call, default identity, discarded messages, ignored SVIDs, federated removal, PermissionDenied, close', async () => {
  let stream: Stream | undefined;
  const agent = await fakeAgent({
    FetchX509SVID: ((call: Stream) => {
      stream = call;
      call.write({ svids: [rawSvid('spiffe://example.org/first'), rawSvid('spiffe://example.org/second')], federated_bundles: { 'spiffe://other.org': otherBundleDer } });
    }) as grpc.UntypedHandleCall,
  });
  closers.push(agent.stop);
  const source = await X509Source.create({ address: agent.address, logger, backoff });
  assert.equal(source.getX509Svid().id.toString(), 'spiffe://example.org/first');
  assert.equal(source.getX509Svids().length, 2);
  assert.ok(source.getX509BundleForTrustDomain(OTHER));
  assert.deepEqual(agent.headers, [['true']]);

  const updates: number[] = [];
  source.on('update', () => updates.push(Date.now()));
  // default-valued mandatory fields: the whole message is discarded, the last good state kept
  for (const bad of [{ svids: [] }, { svids: [{ ...rawSvid('spiffe://example.org/x'), spiffe_id: '' }] }, { svids: [{ ...rawSvid('spiffe://example.org/x'), x509_svid: Buffer.alloc(0) }] }, { svids: [{ ...rawSvid('spiffe://example.org/x'), x509_svid_key: Buffer.alloc(0) }] }, { svids: [{ ...rawSvid('spiffe://example.org/x'), bundle: Buffer.alloc(0) }] }]) {
    stream!.write(bad);
  }
  // defensive checks: expired, spiffe_id ≠ URI SAN, wrong CA → ignored; a message with nothing usable is discarded
  stream!.write({ svids: [rawSvid('spiffe://example.org/x', { ttl: 60, now: new Date(Date.now() - 3 * 3600_000) }), { ...rawSvid('spiffe://example.org/x'), spiffe_id: 'spiffe://example.org/y' }, { ...rawSvid('spiffe://other.org/x', { ca: otherCa }), bundle: Buffer.concat(exampleCa.bundle().x509Authorities()) }] });
  await sleep(150);
  assert.equal(updates.length, 0);
  assert.equal(source.getX509Svid().id.toString(), 'spiffe://example.org/first');
  assert.ok(logs.some((l) => /discarded/.test(l)));
  assert.ok(logs.some((l) => /ignoring an X.509-SVID/.test(l)));

  // a mixed message: the bad SVID is ignored, the good one becomes the default identity; other.org disappears → untrusted
  stream!.write({ svids: [{ ...rawSvid('spiffe://example.org/x'), spiffe_id: 'spiffe://example.org/y' }, rawSvid('spiffe://example.org/third')] });
  await sleep(150);
  assert.equal(updates.length, 1);
  assert.equal(source.getX509Svid().id.toString(), 'spiffe://example.org/third');
  assert.equal(source.getX509BundleForTrustDomain(OTHER), undefined);
  assert.ok(source.getX509BundleForTrustDomain(EX));

  // the stream ends in PermissionDenied: SVIDs are no longer used; the client reconnects with backoff
  stream!.emit('error', { code: grpc.status.PERMISSION_DENIED, details: 'no identity issued' });
  await sleep(30);
  assert.throws(() => source.getX509Svid(), (e: Error & { code: string }) => e.code === 'ERR_WORKLOAD_NO_IDENTITY');
  await sleep(200);
  assert.ok((agent.calls.FetchX509SVID ?? 0) >= 2, 'stream re-established');
  assert.equal(source.getX509Svid().id.toString(), 'spiffe://example.org/first'); // the new stream's first message
  assert.ok(agent.headers.every((h) => h.length === 1 && h[0] === 'true'));

  await source.close();
  assert.throws(() => source.getX509Svid(), (e: Error & { code: string }) => e.code === 'ERR_WORKLOAD_SOURCE_CLOSED');
  assert.throws(() => source.getX509BundleForTrustDomain(EX), (e: Error & { code: string }) => e.code === 'ERR_WORKLOAD_SOURCE_CLOSED');
});

test('InvalidArgument: create fails at once, no retry', async () => {
  const agent = await fakeAgent({
    FetchX509SVID: ((call: Stream) => call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'security header missing from request' })) as grpc.UntypedHandleCall,
  });
  closers.push(agent.stop);
  await assert.rejects(X509Source.create({ address: agent.address, logger, backoff }), (e: Error & { grpcCode: number }) => e.grpcCode === grpc.status.INVALID_ARGUMENT);
  await sleep(300);
  assert.equal(agent.calls.FetchX509SVID, 1);
});

test('Unavailable: linear backoff, never a tight loop; the socket may appear later', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mw-wl-'));
  const socketPath = join(dir, 'late.sock');
  const pending = X509Source.create({ address: `unix://${socketPath}`, logger, backoff: { stepMs: 100, maxMs: 1000 } });
  await sleep(400);
  // now an agent that says Unavailable three times, then answers
  let n = 0;
  const times: number[] = [];
  const agent = await fakeAgent(
    {
      FetchX509SVID: ((call: Stream) => {
        times.push(Date.now());
        if (++n <= 3) call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'workload attestation failed' });
        else call.write({ svids: [rawSvid('spiffe://example.org/late')] });
      }) as grpc.UntypedHandleCall,
    },
    socketPath,
  );
  closers.push(agent.stop);
  const source = await pending;
  assert.equal(source.getX509Svid().id.toString(), 'spiffe://example.org/late');
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  assert.ok(gaps.every((g) => g >= 80), `gaps ${gaps}`);
  assert.ok(gaps[2]! > gaps[0]!, `backoff grows: ${gaps}`);
  await source.close();
});

test('JwtSource/BundleSource: JWT bundles follow the stream; unknown kty and use x509-svid ignored; empty keys trust nothing; fetch and validate JWT-SVIDs', async () => {
  let jwtStream: Stream | undefined;
  const exJwks = exampleCa.bundle().toJwks();
  const good = { keys: [...exJwks.keys.map(({ use: _u, ...k }) => k), { kty: 'weird', kid: 'zzz' }, { ...exJwks.keys[0], kid: 'x509-one', use: 'x509-svid' }] };
  const token = exampleCa.mintJwtSvid({ spiffeId: 'spiffe://example.org/me', audience: 'spiffe://example.org/api' });
  let fetchMd: string[] = [];
  const agent = await fakeAgent({
    FetchJWTBundles: ((call: Stream) => {
      jwtStream = call;
      call.write({ bundles: { 'spiffe://example.org': Buffer.from(JSON.stringify(good)), 'spiffe://other.org': Buffer.from(JSON.stringify(otherCa.bundle().toJwks())) } });
    }) as grpc.UntypedHandleCall,
    FetchX509Bundles: ((call: Stream) => call.write({ bundles: { 'spiffe://example.org': Buffer.concat(exampleCa.bundle().x509Authorities()) } })) as grpc.UntypedHandleCall,
    FetchJWTSVID: ((call: grpc.ServerUnaryCall<{ audience: string[] }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      fetchMd = call.metadata.get('workload.spiffe.io').map(String);
      cb(null, { svids: [{ spiffe_id: 'spiffe://example.org/me', svid: token, hint: '' }] });
    }) as grpc.UntypedHandleCall,
    ValidateJWTSVID: ((_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { spiffe_id: 'spiffe://example.org/me', claims: { fields: { sub: { kind: 'stringValue', stringValue: 'spiffe://example.org/me' } } } })) as grpc.UntypedHandleCall,
  });
  closers.push(agent.stop);
  const jwt = await JwtSource.create({ address: agent.address, logger, backoff });
  const ex = jwt.getJwtBundleForTrustDomain(EX)!;
  assert.equal(ex.jwtAuthorities().size, exJwks.keys.length); // the odd keys were ignored, the rest kept
  assert.ok(jwt.getJwtBundleForTrustDomain(OTHER));
  const svid = await jwt.fetchJwtSvid({ audience: 'spiffe://example.org/api' });
  assert.equal(svid.id.toString(), 'spiffe://example.org/me');
  assert.deepEqual(fetchMd, ['true']);
  assert.equal(JwtSvid.parseAndValidate(svid.marshal(), jwt, 'spiffe://example.org/api').id.toString(), 'spiffe://example.org/me');
  // other.org disappears; example.org's keys become empty → nothing verifies
  jwtStream!.write({ bundles: { 'spiffe://example.org': Buffer.from('{"keys":[]}') } });
  await sleep(100);
  assert.equal(jwt.getJwtBundleForTrustDomain(OTHER), undefined);
  assert.equal(jwt.getJwtBundleForTrustDomain(EX)!.jwtAuthorities().size, 0);
  assert.throws(() => JwtSvid.parseAndValidate(svid.marshal(), jwt, 'spiffe://example.org/api'));
  const client = new WorkloadApiClient({ address: agent.address, logger });
  assert.equal((await client.validateJwtSvid(token, 'spiffe://example.org/api')).claims.sub, 'spiffe://example.org/me');
  client.close();
  await assert.rejects(client.fetchJwtSvid({ audience: 'x' }), (e: Error & { code: string }) => e.code === 'ERR_WORKLOAD_CLIENT_CLOSED');
  const bundles = await BundleSource.create({ address: agent.address, logger, backoff });
  assert.ok(bundles.getX509BundleForTrustDomain(EX));
  assert.ok(bundles.getJwtBundleForTrustDomain(EX));
  await bundles.close();
  await jwt.close();
  await assert.rejects(jwt.fetchJwtSvid({ audience: 'x' }), (e: Error & { code: string }) => e.code === 'ERR_WORKLOAD_SOURCE_CLOSED');
});
