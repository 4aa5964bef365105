/** Sends one raw gRPC body over HTTP/2 with the security header; resolves with the grpc-status (or undefined). */
import http2 from 'node:http2';
import { connect } from 'node:net';

export function http2Frames(socketPath: string, path: string, body: Buffer): Promise<string | undefined> {
  return new Promise((resolve) => {
    const session = http2.connect('http://localhost', { createConnection: () => connect(socketPath) });
    session.on('error', () => resolve(undefined));
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', 'workload.spiffe.io': 'true' });
    let status: string | undefined;
    req.on('response', (h) => (status = (h['grpc-status'] as string | undefined) ?? status));
    req.on('trailers', (h) => (status = (h['grpc-status'] as string | undefined) ?? status));
    req.on('close', () => {
      session.close();
      resolve(status);
    });
    req.on('error', () => undefined);
    req.resume();
    req.end(body);
  });
}
