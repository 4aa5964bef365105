/**
 * PEM ↔ DER. Strict: only well-formed `-----BEGIN X-----` blocks count, their
 * base64 must decode cleanly, and text outside blocks is ignored (as OpenSSL does).
 */
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]*?)-----END \1-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export interface PemBlock {
  readonly label: string;
  readonly der: Buffer;
}

/** Every PEM block in `text`, in order; throws when a block's body is not valid base64. */
export function decodePemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(PEM_BLOCK)) {
    const label = match[1]!;
    const body = match[2]!.replace(/\r?\n/g, '');
    if (!BASE64.test(body) || body.length % 4 !== 0 || body.length === 0) {
      throw new SyntaxError(`PEM block "${label}" does not hold valid base64`);
    }
    blocks.push({ label, der: Buffer.from(body, 'base64') });
  }
  return blocks;
}

/** True when the bytes look like PEM text rather than DER. */
export function looksLikePem(data: string | Uint8Array): boolean {
  const head = typeof data === 'string' ? data.slice(0, 1024) : Buffer.from(data.subarray(0, 1024)).toString('latin1');
  return head.includes('-----BEGIN ');
}

export function encodePem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
