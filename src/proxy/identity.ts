/**
 * This workload's identity: an X.509 source (our SVID + the trusted
 * bundles), live from the Workload API (`SPIFFE_ENDPOINT_SOCKET` /
 * `--socket`) or from PEM files (spiffe-helper layout). Both emit `update`
 * on rotation; the listeners call `setSecureContext` then.
 */
import type { X509BundleSource, X509SvidSource } from '../spiffe/sources.js';
import { FileX509Source } from '../workload/file-source.js';
import type { IdentityConfig } from './config.js';
import { ProxyError } from './proxy-error.js';

export type ProxySource = X509SvidSource & X509BundleSource & { close?: () => Promise<void> | void };

export async function openIdentity(config: IdentityConfig, timeoutMs = 30_000): Promise<ProxySource> {
  try {
    if (config.files) {
      return FileX509Source.open({ certFile: config.files.cert, keyFile: config.files.key, bundleFile: config.files.bundle });
    }
    const address = config.socket!.includes('://') ? config.socket! : `unix://${config.socket}`;
    // loaded only for the Workload API: the gRPC client is a large module set
    const { X509Source } = await import('../workload/x509-source.js');
    return await X509Source.create({ address, timeoutMs });
  } catch (err) {
    throw new ProxyError('ERR_PROXY_IDENTITY', `proxy: no X.509-SVID: ${(err as Error).message}`, { cause: err });
  }
}
