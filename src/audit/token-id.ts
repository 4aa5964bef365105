import { createHash } from 'node:crypto';

const JTI_SAFE = /^[A-Za-z0-9._:@+=\/-]{1,128}$/;

/**
 * How a token appears in an audit record or a log: `jti:<jti>` when the
 * token is a JWT with a plain `jti` claim, else `sha256:<first 16 hex>` of the
 * token. Never the token itself. Accepts the raw header value too
 * (`Bearer …`), stripping the scheme first. The `jti` is read without
 * verifying the signature: it identifies, it does not authenticate.
 */
export function describeToken(token: string): string {
  const bare = token.replace(/^\s*bearer\s+/i, '').trim();
  const parts = bare.split('.');
  if (parts.length === 3) {
    try {
      const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { jti?: unknown };
      if (typeof payload?.jti === 'string' && JTI_SAFE.test(payload.jti)) return `jti:${payload.jti}`;
    } catch {
      // not a JWT we can read: fall through to the hash
    }
  }
  return `sha256:${createHash('sha256').update(bare).digest('hex').slice(0, 16)}`;
}
