import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { authorizeId } from '../../src/spiffe/authorizers.js';
import { grpcChannelCredentials, grpcPeerSpiffeId, grpcServerCredentials } from '../../src/workload/grpc.js';
import { workloadApiDefinition } from '../../src/workload/workload-api-client.js';
import { exampleCa, otherCa, svidFrom, MutableSource } from './fixtures.js';

const { service, Client } = workloadApiDefinition();
const server = new grpc.Server();
server.addService(service, {
  FetchJWTSVID: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, { svids: [{ spiffe_id: grpcPeerSpiffeId(call) ?? 'none', svid: 'x' }] }),
});
const serverSource = new MutableSource(svidFrom(exampleCa, 'spiffe://example.org/grpc'), exampleCa.bundle());
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', grpcServerCredentials(serverSource, authorizeId('spiffe://example.org/client')), (err, p) => (err ? reject(err) : resolve(p))),
);
after(() => server.forceShutdown());

function call(clientSvid = svidFrom(exampleCa, 'spiffe://example.org/client'), serverId = 'spiffe://example.org/grpc', spoof?: string): Promise<string> {
  const creds = grpcChannelCredentials(new MutableSource(clientSvid, exampleCa.bundle(), otherCa.bundle()), authorizeId(serverId));
  const client = new Client(`127.0.0.1:${port}`, creds) as unknown as grpc.Client & { FetchJWTSVID: Function };
  const md = new grpc.Metadata();
  if (spoof) md.set('x-meshward-spiffe-id', spoof);
  return new Promise((resolve, reject) => {
    client.FetchJWTSVID({ audience: ['a'] }, md, { deadline: Date.now() + 3000 }, (err: grpc.ServiceError | null, res: { svids: Array<{ spiffe_id: string }> }) => {
      client.close();
      if (err) reject(err);
      else resolve(res.svids[0]!.spiffe_id);
    });
  });
}

test('gRPC: the authorized client gets through; the handler sees its verified ID (a spoofed header is replaced)', async () => {
  assert.equal(await call(undefined, undefined, 'spiffe://example.org/admin'), 'spiffe://example.org/client');
});

test('gRPC: wrong ID → PERMISSION_DENIED; wrong trust domain → UNAUTHENTICATED; wrong server ID → the client refuses', async () => {
  await assert.rejects(call(svidFrom(exampleCa, 'spiffe://example.org/intruder')), (e: grpc.ServiceError) => e.code === grpc.status.PERMISSION_DENIED);
  await assert.rejects(call(svidFrom(otherCa, 'spiffe://other.org/client')), (e: grpc.ServiceError) => e.code === grpc.status.UNAUTHENTICATED);
  await assert.rejects(call(undefined, 'spiffe://example.org/not-grpc'), (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE);
});

test('gRPC: server credentials rotate with the source', async () => {
  serverSource.rotate(svidFrom(exampleCa, 'spiffe://example.org/grpc'));
  assert.equal(await call(), 'spiffe://example.org/client');
});
