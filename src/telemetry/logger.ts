/**
 * pino loggers that cannot leak credentials: every field named like a
 * credential (authorization, cookie, token, key, secret, password, JWT,
 * attestation selectors) is replaced by `[redacted]`, at the top level, one
 * level down (`*.token`) and in request/response headers.
 */
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

const SECRET_FIELDS = [
  'authorization',
  'proxyAuthorization',
  'cookie',
  'cookies',
  'setCookie',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'jwt',
  'svid',
  'key',
  'privateKey',
  'secret',
  'clientSecret',
  'password',
  'passphrase',
  'apiKey',
  'joinToken',
  'selectors',
];
const HEADER_FIELDS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-auth-token', 'x-meshward-token'];

/** The paths redacted by createLogger(). */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((f) => `*.${f}`),
  ...['headers', 'req.headers', 'res.headers', 'request.headers', 'response.headers'].flatMap((h) =>
    HEADER_FIELDS.map((f) => `${h}["${f}"]`),
  ),
  'err.payload', // jose claim errors carry the token's payload
  '*.payload',
];

export interface LoggerFactoryOptions {
  /** Default `info`. */
  readonly level?: string;
  /** The component, e.g. `proxy`; set as `name`. */
  readonly name?: string;
  /** Default: stdout. Tests pass a stream. */
  readonly destination?: DestinationStream;
  /** More paths to redact. */
  readonly redact?: readonly string[];
}

export function createLogger(options: LoggerFactoryOptions = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    redact: { paths: [...REDACT_PATHS, ...(options.redact ?? [])], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(options.name === undefined ? {} : { name: options.name }),
  };
  return options.destination === undefined ? pino(config) : pino(config, options.destination);
}
