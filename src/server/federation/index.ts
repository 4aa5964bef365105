/**
 * Federation: our SPIFFE bundle endpoint, and the periodic fetch of foreign
 * bundle endpoints into the datastore (SPIFFE_Federation.md, docs/federation.md).
 */
import type { ServerContext } from '../server-context.js';
import { startBundleEndpoint, type BundleEndpoint } from './bundle-endpoint.js';
import { FederationError } from './federation-error.js';
import type { FederationConfig } from './config.js';
import { RelationshipPoller, type RelationshipOptions } from './relationship.js';
import type { Timers } from './timers.js';

export type { BundleEndpointConfig, BundleEndpointProfile, FederationConfig, FederationRelationship } from './config.js';
export { FederationError, type FederationErrorCode } from './federation-error.js';
export { startBundleEndpoint, type BundleEndpoint } from './bundle-endpoint.js';
export { RelationshipPoller, refreshIntervalSeconds, type RefreshOutcome } from './relationship.js';
export type { Timers } from './timers.js';

export interface Federation {
  /** Our bundle endpoint, when configured. */
  readonly endpoint: BundleEndpoint | undefined;
  readonly relationships: readonly RelationshipPoller[];
  close(): Promise<void>;
}

export interface FederationOptions extends RelationshipOptions {
  readonly timers?: Timers;
}

/**
 * Starts the bundle endpoint (when configured) and one poller per
 * relationship. Configuration problems throw FederationError before anything
 * listens; fetch failures later are logged and retried.
 */
export async function startFederation(ctx: ServerContext, config: FederationConfig, options: FederationOptions = {}): Promise<Federation> {
  const relationships = (config.federatesWith ?? []).map((rel) => new RelationshipPoller(ctx, rel, options));
  const seen = new Set<string>();
  for (const r of relationships) {
    if (seen.has(r.trustDomain.name)) {
      await Promise.all(relationships.map((p) => p.close()));
      throw new FederationError('ERR_FEDERATION_CONFIG', `two relationships for ${r.trustDomain.name}`);
    }
    seen.add(r.trustDomain.name);
  }
  let endpoint: BundleEndpoint | undefined;
  try {
    endpoint = config.bundleEndpoint === undefined ? undefined : await startBundleEndpoint(ctx, config.bundleEndpoint, options.timers);
  } catch (err) {
    await Promise.all(relationships.map((p) => p.close()));
    throw err;
  }
  for (const r of relationships) r.start();
  return {
    endpoint,
    relationships,
    async close() {
      await Promise.all([...relationships.map((p) => p.close()), endpoint?.close()]);
    },
  };
}
