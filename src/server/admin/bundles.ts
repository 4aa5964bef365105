/**
 * Our trust bundle (show) and the federated bundles (list, set, delete).
 * A federated bundle is validated with the SPIFFE bundle parser before it is
 * stored; our own trust domain is never set or deleted here.
 */
import type { FastifyInstance } from 'fastify';
import { Bundle, MAX_BUNDLE_BYTES } from '../../spiffe/bundle.js';
import type { TrustDomain } from '../../spiffe/trust-domain.js';
import type { StoredBundle } from '../../store/types.js';
import type { ServerContext } from '../server-context.js';
import { AdminError, invalid } from './admin-error.js';
import * as f from './fields.js';
import { query } from './query.js';
import { addRoute } from './route.js';
import { epochSeconds } from '../../duration.js';

export function bundleRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const td = ctx.trustDomain;
  const nowSeconds = (): number => epochSeconds(ctx.now());

  addRoute(app, ctx, {
    method: 'GET',
    url: '/v1/bundle',
    action: 'bundle.show',
    handler: async (request, note) => {
      const format = query(request, ['format']).one('format') ?? 'spiffe';
      if (format !== 'spiffe' && format !== 'pem') throw invalid('format', 'must be spiffe or pem');
      const bundle = ctx.ca.bundle();
      note.target = td.name;
      note.detail = { format, sequence: bundle.sequence };
      return format === 'pem' ? { body: bundle.toPem(), contentType: 'application/x-pem-file' } : { body: bundle.toJSON() };
    },
  });

  addRoute(app, ctx, {
    method: 'GET',
    url: '/v1/federated-bundles',
    action: 'federated_bundle.list',
    handler: async (request, note) => {
      query(request, []);
      const bundles = (await ctx.store.listBundles()).filter((b) => b.trustDomain !== td.name).map(view);
      note.detail = { count: bundles.length };
      return { body: { bundles } };
    },
  });

  addRoute(app, ctx, {
    method: 'PUT',
    url: '/v1/federated-bundles/:td',
    action: 'federated_bundle.set',
    handler: async (request, note) => {
      const foreign = foreignTrustDomain((request.params as { td: string }).td, td);
      const body = f.object(request.body, '', ['document', 'pem']);
      if ((body.document === undefined) === (body.pem === undefined)) throw invalid('document', 'give exactly one of document (SPIFFE bundle JSON) and pem');
      const bundle = body.document !== undefined ? parseBundle(body.document, 'document', foreign, 'spiffe') : parseBundle(body.pem, 'pem', foreign, 'pem');
      const previous = await ctx.store.getBundle(foreign.name);
      const sequence = bundle.sequence ?? (previous === null ? 1 : previous.sequence + 1);
      const stored = await ctx.store.putBundle({ trustDomain: foreign.name, document: JSON.stringify(bundle.toJSON()), sequence }, nowSeconds());
      note.detail = { sequence, x509Authorities: bundle.x509Authorities().length, jwtAuthorities: bundle.jwtAuthorities().size };
      return { body: view(stored) };
    },
  });

  addRoute(app, ctx, {
    method: 'DELETE',
    url: '/v1/federated-bundles/:td',
    action: 'federated_bundle.delete',
    handler: async (request) => {
      const foreign = foreignTrustDomain((request.params as { td: string }).td, td);
      await ctx.store.deleteBundle(foreign.name, nowSeconds());
      return { body: {} };
    },
  });
}

function view(b: StoredBundle): { trustDomain: string; document: string; sequence: number; updatedAt: number } {
  return { trustDomain: b.trustDomain, document: b.document, sequence: b.sequence, updatedAt: b.updatedAt };
}

function foreignTrustDomain(param: string, ours: TrustDomain): TrustDomain {
  const foreign = f.trustDomainName(param, 'trustDomain');
  if (foreign.name === ours.name) {
    throw new AdminError('ERR_ADMIN_OWN_TRUST_DOMAIN', `trustDomain: ${ours.name} is our own trust domain; its bundle comes from our CA and cannot be set or deleted`, 'trustDomain');
  }
  return foreign;
}

function parseBundle(value: unknown, field: string, td: TrustDomain, format: 'spiffe' | 'pem'): Bundle {
  if (typeof value !== 'string' || value.length === 0) throw invalid(field, 'must be a non-empty string');
  if (Buffer.byteLength(value) > MAX_BUNDLE_BYTES) throw invalid(field, `is larger than ${MAX_BUNDLE_BYTES} bytes`);
  try {
    return format === 'spiffe' ? Bundle.parse(value, td) : Bundle.fromX509Pem(value, td);
  } catch (err) {
    throw invalid(field, `not a valid ${format === 'spiffe' ? 'SPIFFE bundle' : 'PEM bundle'}: ${(err as Error).message}`);
  }
}
