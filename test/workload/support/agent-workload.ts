/**
 * A workload for test/workload/agent-e2e.test.ts, run as a child process
 * under its own uid so that the real agent attests it apart from the others.
 * It uses the SDK exactly as a service would and is driven over IPC:
 * `{ reqId, op, ...args }` → `{ reqId, ok, result | error }`; source updates are
 * pushed as `{ event: 'x509-update', … }`.
 */
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import express from 'express';
import { fetch } from 'undici';
import { authorizeId } from '../../../src/spiffe/authorizers.js';
import { verifyX509Svid } from '../../../src/spiffe/x509/verify.js';
import type { X509Svid } from '../../../src/spiffe/x509/x509-svid.js';
import { BundleSource } from '../../../src/workload/bundle-source.js';
import { requireJwtSvid } from '../../../src/workload/http-middleware.js';
import { JwtSource } from '../../../src/workload/jwt-source.js';
import { createMtlsServer } from '../../../src/workload/mtls-server.js';
import { MtlsAgent } from '../../../src/workload/mtls-agent.js';
import { X509Source } from '../../../src/workload/x509-source.js';

const address = process.argv[2]!;
let x509: X509Source | undefined;
let jwt: JwtSource | undefined;
let bundles: BundleSource | undefined;
const closers: Array<() => unknown> = [];

const send = (m: unknown): void => void process.send?.(m);
const serial = (svid: X509Svid): string => new X509Certificate(svid.certificates[0]!).serialNumber;

function describeSvid(source: X509Source): Record<string, unknown> {
  try {
    const svid = source.getX509Svid();
    return { id: svid.id.toString(), serial: serial(svid), expiresAt: svid.expiresAt.toISOString() };
  } catch (err) {
    return { error: (err as { code?: string }).code ?? (err as Error).message };
  }
}

const ops: Record<string, (args: any) => Promise<unknown>> = {
  /** `await X509Source.create({ address })`; the SVID, and whether the source's own bundle verifies it. */
  async x509() {
    x509 = await X509Source.create({ address, timeoutMs: 20_000 });
    x509.on('update', () => send({ event: 'x509-update', at: Date.now(), ...describeSvid(x509!) }));
    const svid = x509.getX509Svid();
    const verified = verifyX509Svid(svid.certificates, x509);
    return { ...describeSvid(x509), verifiedId: verified.id.toString(), bundles: x509.bundles().map((b) => b.trustDomain.name) };
  },
  async svid() {
    return describeSvid(x509!);
  },
  /** An HTTPS server on the live source; answers with the verified peer and the serial of the certificate it presented. */
  async serve({ allow }: { allow: string }) {
    const server = createMtlsServer({ source: x509!, authorize: authorizeId(allow) }, (req: IncomingMessage, res: ServerResponse) => {
      const presented = (req.socket as TLSSocket).getCertificate() as { serialNumber?: string } | null;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ peer: String(req.spiffeId), servedWith: presented?.serialNumber }));
    }) as Server;
    let rejected = 0;
    server.on('spiffePeerRejected', () => rejected++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => server.close());
    ops.rejected = async () => rejected;
    return { port: (server.address() as AddressInfo).port };
  },
  /** One request through a fresh MtlsAgent (so a fresh handshake), accepting only `expect` as the server. */
  async fetch({ url, expect }: { url: string; expect: string }) {
    const dispatcher = new MtlsAgent({ source: x509!, authorize: authorizeId(expect) });
    try {
      const res = await fetch(url, { dispatcher, signal: AbortSignal.timeout(5000) });
      return { status: res.status, body: await res.json() };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      return { error: e.cause?.code ?? e.cause?.message ?? e.message };
    } finally {
      await dispatcher.close();
    }
  },
  /** A JWT-SVID from `JwtSource` for `audience`. */
  async jwtSvid({ audience }: { audience: string }) {
    jwt ??= await JwtSource.create({ address, timeoutMs: 20_000 });
    const svid = await jwt.fetchJwtSvid({ audience });
    return { token: svid.marshal(), id: svid.id.toString(), audience: svid.audience };
  },
  /** An Express service requiring a JWT-SVID for `audience`, checked against a BundleSource on the same agent. */
  async jwtServe({ audience }: { audience: string }) {
    bundles ??= await BundleSource.create({ address, timeoutMs: 20_000 });
    const app = express();
    app.get('/', requireJwtSvid({ audience, bundles }), (req, res) => {
      res.json({ subject: String(req.jwtSvid?.id) });
    });
    const server = await new Promise<import('node:http').Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    closers.push(() => server.close());
    return { port: (server.address() as AddressInfo).port };
  },
};

process.on('message', (msg: { reqId: number; op: string; [k: string]: unknown }) => {
  const op = ops[msg.op];
  if (!op) return send({ reqId: msg.reqId, ok: false, error: `unknown op ${msg.op}` });
  op(msg).then(
    (result) => send({ reqId: msg.reqId, ok: true, result }),
    (err: Error & { code?: string }) => send({ reqId: msg.reqId, ok: false, error: `${err.code ?? ''} ${err.message}` }),
  );
});
process.on('disconnect', () => {
  for (const c of closers) c();
  void x509?.close();
  void jwt?.close();
  void bundles?.close();
  setTimeout(() => process.exit(0), 200).unref();
});
send({ event: 'ready' });
