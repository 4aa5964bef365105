/**
 * The leanest FetchX509SVID client for the load generator: HTTP/2 frames
 * written by hand on a plain socket (RFC 9113), so that the load costs far
 * less CPU than the agent it measures (node:http2's client costs 2–4× the
 * agent per fetch). A request is one pre-encoded write — HEADERS (HPACK
 * literals, never indexed: no table state on either side) and one DATA frame
 * holding the empty X509SVIDRequest with END_STREAM — whose stream id is
 * patched in. Answers are read only as far as needed: DATA bytes of our
 * stream until the first gRPC message is complete, then RST_STREAM CANCEL.
 * Response headers are never decoded (HPACK state is only needed to read
 * them): a HEADERS frame ending the stream before any DATA is a trailers-only
 * error. SETTINGS and PING are acknowledged; receive windows are opened to
 * the maximum and topped up.
 */
import { connect, type Socket } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const DATA = 0x0;
const HEADERS = 0x1;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const PING = 0x6;
const GOAWAY = 0x7;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const ACK = 0x1;
const PADDED = 0x8;
const CANCEL = 0x8;
const MAX_WINDOW = 0x7fffffff;
const TIMEOUT_MS = 15_000;

function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(9 + payload.length);
  out.writeUIntBE(payload.length, 0, 3);
  out[3] = type;
  out[4] = flags;
  out.writeUInt32BE(stream, 5);
  payload.copy(out, 9);
  return out;
}

/** HPACK literal header field without indexing, new name (RFC 7541 §6.2.2), strings not Huffman-coded. */
function literal(name: string, value: string): Buffer {
  const str = (s: string): Buffer => {
    if (s.length > 126) throw new Error('header too long for this encoder');
    return Buffer.concat([Buffer.from([s.length]), Buffer.from(s, 'latin1')]);
  };
  return Buffer.concat([Buffer.from([0x00]), str(name), str(value)]);
}

/** HEADERS + DATA(empty gRPC message, END_STREAM) with stream id 0, patched per request at REQUEST_IDS. */
const REQUEST = (() => {
  const block = Buffer.concat([
    Buffer.from([0x83, 0x86]), // :method POST, :scheme http (static table 3, 6)
    literal(':path', '/SpiffeWorkloadAPI/FetchX509SVID'),
    literal(':authority', 'localhost'),
    literal('content-type', 'application/grpc'),
    literal('te', 'trailers'),
    literal('workload.spiffe.io', 'true'),
  ]);
  return Buffer.concat([frame(HEADERS, END_HEADERS, 0, block), frame(DATA, END_STREAM, 0, Buffer.alloc(5))]);
})();
const REQUEST_IDS = [5, 9 + REQUEST.readUIntBE(0, 3) + 5];

export class FetchFailed extends Error {}

interface Pending {
  readonly start: number;
  readonly resolve: (ms: number) => void;
  readonly reject: (err: Error) => void;
  got: number;
  need: number;
  head: Buffer | undefined;
  timer: NodeJS.Timeout | undefined;
}

export class RawH2Connection {
  readonly #socket: Socket;
  readonly #pending = new Map<number, Pending>();
  #nextStream = 1;
  #buffer: Buffer = Buffer.alloc(0);
  #unacknowledged = 0;
  #error: Error | undefined;

  constructor(socketPath: string) {
    this.#socket = connect(socketPath);
    this.#socket.setNoDelay?.(true);
    const settings = Buffer.alloc(12);
    settings.writeUInt16BE(0x2, 0); // ENABLE_PUSH = 0
    settings.writeUInt32BE(0, 2);
    settings.writeUInt16BE(0x4, 6); // INITIAL_WINDOW_SIZE = max
    settings.writeUInt32BE(MAX_WINDOW, 8);
    this.#socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, settings), this.#windowUpdate(MAX_WINDOW - 65_535)]));
    this.#socket.on('data', (chunk: Buffer) => this.#read(chunk));
    const fail = (err: Error): void => {
      this.#error ??= err;
      for (const p of this.#pending.values()) {
        clearTimeout(p.timer);
        p.reject(this.#error);
      }
      this.#pending.clear();
    };
    this.#socket.on('error', fail);
    this.#socket.on('close', () => fail(new FetchFailed('connection closed')));
  }

  /** One FetchX509SVID: resolves with ms from the write to the complete first message. */
  fetch(): Promise<number> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    const id = this.#nextStream;
    this.#nextStream += 2;
    const request = Buffer.from(REQUEST); // a copy: the socket may still hold the last one
    for (const at of REQUEST_IDS) request.writeUInt32BE(id, at);
    return new Promise((resolve, reject) => {
      const p: Pending = { start: performance.now(), resolve, reject, got: 0, need: -1, head: undefined, timer: undefined };
      p.timer = setTimeout(() => this.#pending.get(id) === p && this.#done(id, p, new FetchFailed(`no message in ${TIMEOUT_MS} ms`), true), TIMEOUT_MS);
      this.#pending.set(id, p);
      this.#socket.write(request);
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #windowUpdate(increment: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(increment, 0);
    return frame(0x8, 0, 0, b);
  }

  #read(chunk: Buffer): void {
    let buf = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    while (buf.length >= 9) {
      const length = buf.readUIntBE(0, 3);
      if (buf.length < 9 + length) break;
      const type = buf[3]!;
      const flags = buf[4]!;
      const stream = buf.readUInt32BE(5) & 0x7fffffff;
      this.#onFrame(type, flags, stream, buf.subarray(9, 9 + length));
      buf = buf.subarray(9 + length);
    }
    this.#buffer = buf;
  }

  #onFrame(type: number, flags: number, stream: number, payload: Buffer): void {
    if (type === DATA) {
      // Keep the connection window open (stream windows start at the maximum and each stream is short).
      this.#unacknowledged += payload.length;
      if (this.#unacknowledged > 1 << 20) {
        this.#socket.write(this.#windowUpdate(this.#unacknowledged));
        this.#unacknowledged = 0;
      }
      const p = this.#pending.get(stream);
      if (p === undefined) return;
      const data = flags & PADDED ? payload.subarray(1, payload.length - payload[0]!) : payload;
      p.got += data.length;
      if (p.need < 0) {
        p.head = p.head === undefined ? data : Buffer.concat([p.head, data]);
        if (p.head.length < 5) return;
        p.need = 5 + p.head.readUInt32BE(1);
      }
      // Cancel what the server would go on streaming (not a stream it has just ended).
      if (p.got >= p.need) this.#done(stream, p, undefined, !(flags & END_STREAM));
    } else if (type === HEADERS) {
      const p = this.#pending.get(stream);
      if (p !== undefined && flags & END_STREAM) this.#done(stream, p, new FetchFailed('the stream ended without a message (a gRPC error)'), false);
    } else if (type === RST_STREAM) {
      const p = this.#pending.get(stream);
      if (p !== undefined) this.#done(stream, p, new FetchFailed(`RST_STREAM ${payload.readUInt32BE(0)}`), false);
    } else if (type === SETTINGS) {
      if (!(flags & ACK)) this.#socket.write(frame(SETTINGS, ACK, 0, Buffer.alloc(0)));
    } else if (type === PING) {
      if (!(flags & ACK)) this.#socket.write(frame(PING, ACK, 0, payload));
    } else if (type === GOAWAY) {
      this.#error = new FetchFailed(`GOAWAY ${payload.readUInt32BE(4)}`);
    }
  }

  #done(stream: number, p: Pending, err: Error | undefined, cancel: boolean): void {
    const ms = performance.now() - p.start;
    clearTimeout(p.timer);
    this.#pending.delete(stream);
    if (cancel) {
      const code = Buffer.alloc(4);
      code.writeUInt32BE(CANCEL, 0);
      this.#socket.write(frame(RST_STREAM, 0, stream, code));
    }
    if (err !== undefined) p.reject(err);
    else p.resolve(ms);
  }
}
