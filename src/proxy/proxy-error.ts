import { MeshwardError } from '../errors.js';

export type ProxyErrorCode =
  | 'ERR_PROXY_CONFIG'
  | 'ERR_PROXY_IDENTITY'
  | 'ERR_PROXY_LISTEN'
  | 'ERR_PROXY_EGRESS_DENIED'
  | 'ERR_PROXY_UPSTREAM';

/** Proxy errors. `ERR_PROXY_CONFIG` names the offending key (`key`) and means exit code 2. */
export class ProxyError extends MeshwardError {
  declare readonly code: ProxyErrorCode;
  readonly key: string | undefined;

  constructor(code: ProxyErrorCode, message: string, options: { key?: string; cause?: unknown } = {}) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.key = options.key;
  }
}

export function configError(key: string, message: string): ProxyError {
  return new ProxyError('ERR_PROXY_CONFIG', `proxy: invalid configuration: ${key}: ${message}`, { key });
}
