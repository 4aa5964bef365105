/** Loopback ports for `meshward up`: the preferred one when it is free, else one the kernel picks. */
import { createServer } from 'node:net';

function tryListen(host: string, port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(undefined));
    srv.listen({ host, port, exclusive: true }, () => {
      const addr = srv.address();
      const got = typeof addr === 'object' && addr !== null ? addr.port : undefined;
      srv.close(() => resolve(got));
    });
  });
}

export class PortPicker {
  readonly #taken = new Set<number>();
  constructor(readonly host = '127.0.0.1') {}

  /** `preferred` if free (and not handed out already), else a free port. */
  async pick(preferred: number): Promise<number> {
    if (preferred > 0 && !this.#taken.has(preferred) && (await tryListen(this.host, preferred)) === preferred) {
      this.#taken.add(preferred);
      return preferred;
    }
    for (let i = 0; i < 20; i++) {
      const port = await tryListen(this.host, 0);
      if (port !== undefined && !this.#taken.has(port)) {
        this.#taken.add(port);
        return port;
      }
    }
    throw new Error(`no free port on ${this.host}`);
  }
}
