/**
 * A Workload API client that shares no code with meshward: stock
 * @grpc/grpc-js and @grpc/proto-loader on the official proto. Also a DER
 * splitter and PEM writer of its own, for `openssl verify`.
 */
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

export const PROTO = fileURLToPath(new URL('../../../proto/workload.proto', import.meta.url));

const definition = loader.loadSync(PROTO, { keepCase: true, longs: String, defaults: true });
const Service = (grpc.loadPackageDefinition(definition) as any).SpiffeWorkloadAPI as grpc.ServiceClientConstructor;

export function workloadClient(socketPath: string): any {
  return new Service(`unix://${socketPath}`, grpc.credentials.createInsecure());
}

export function securityHeader(): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('workload.spiffe.io', 'true');
  return md;
}

/** Resolves with the first `count` messages of a stream (then cancels it), or rejects with the stream's error. */
export function firstMessages(stream: grpc.ClientReadableStream<any>, count: number, timeoutMs = 15_000): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const got: any[] = [];
    const timer = setTimeout(() => {
      stream.cancel();
      reject(new Error(`only ${got.length} of ${count} messages in ${timeoutMs} ms`));
    }, timeoutMs);
    stream.on('data', (m) => {
      got.push(m);
      if (got.length === count) {
        clearTimeout(timer);
        stream.cancel();
        resolve(got);
      }
    });
    stream.on('error', (err: grpc.ServiceError) => {
      clearTimeout(timer);
      if (err.code === grpc.status.CANCELLED && got.length === count) return;
      reject(err);
    });
  });
}

export function unary(client: any, method: string, request: object, md: grpc.Metadata = securityHeader()): Promise<any> {
  return new Promise((resolve, reject) => client[method](request, md, (err: unknown, res: unknown) => (err ? reject(err) : resolve(res))));
}

/** Splits concatenated DER certificates (SEQUENCE with a definite length). */
export function splitDer(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < buf.length) {
    if (buf[i] !== 0x30) throw new Error('not a DER SEQUENCE');
    let len = buf[i + 1]!;
    let header = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + buf[i + 2 + k]!;
      header = 2 + n;
    }
    out.push(buf.subarray(i, i + header + len));
    i += header + len;
  }
  return out;
}

export function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

export { grpc };
