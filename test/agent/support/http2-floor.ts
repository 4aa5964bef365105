/**
 * The floor of bench/agent.bench.ts: a bare node:http2 server on a Unix
 * socket that answers every stream with one cached gRPC message (response
 * headers, then the framed bytes; no gRPC layer, no attestation, no cache
 * lookup). The same load against it shows what node:http2, the load and this
 * machine cost by themselves; the agent's own share is the difference.
 *
 *   node --import tsx http2-floor.ts SOCKET   (prints "ready" when listening)
 */
import http2 from 'node:http2';
import { rmSync } from 'node:fs';

const socketPath = process.argv[2]!;
rmSync(socketPath, { force: true });
/** About the size of one X509SVIDResponse with one SVID. */
const MESSAGE = Buffer.alloc(5 + 1500, 7);
MESSAGE[0] = 0;
MESSAGE.writeUInt32BE(1500, 1);
const HEADERS = Object.freeze({ ':status': 200, 'content-type': 'application/grpc+proto' });
const OPTIONS = Object.freeze({ waitForTrailers: true, sendDate: false });
const ignore = (): void => undefined;

const server = http2.createServer({ settings: { maxConcurrentStreams: 100 } });
server.on('stream', (stream) => {
  stream.on('error', ignore);
  stream.resume();
  stream.respond(HEADERS, OPTIONS);
  stream.write(MESSAGE);
});
server.listen(socketPath, () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
