/**
 * Authorization policies: a multi-document YAML set is validated whole with
 * the policy engine (one bad document refuses the set, nothing stored), then
 * stored one document per namespace/name.
 */
import type { FastifyInstance } from 'fastify';
import { parseAllDocuments } from 'yaml';
import { loadSources } from '../../policy/load-policies.js';
import { PolicyError } from '../../policy/policy-error.js';
import type { ServerContext } from '../server-context.js';
import { AdminError, invalid } from './admin-error.js';
import * as f from './fields.js';
import { query } from './query.js';
import { addRoute } from './route.js';
import { epochSeconds } from '../../duration.js';

const MAX_YAML_BYTES = 1024 * 1024 - 1024;
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export function policyRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const nowSeconds = (): number => epochSeconds(ctx.now());

  addRoute(app, ctx, {
    method: 'PUT',
    url: '/v1/policies',
    action: 'policy.put',
    handler: async (request, note) => {
      const body = f.object(request.body, '', ['yaml']);
      const yaml = f.required(body.yaml, 'yaml');
      if (typeof yaml !== 'string' || yaml.trim().length === 0) throw invalid('yaml', 'must be a non-empty string of AuthorizationPolicy YAML documents');
      if (Buffer.byteLength(yaml) > MAX_YAML_BYTES) throw invalid('yaml', `is larger than ${MAX_YAML_BYTES} bytes`);
      const loaded = loadSources([{ file: 'yaml', text: yaml }]);
      if (loaded.issues.length > 0) {
        const err = PolicyError.fromIssues(loaded.issues);
        throw new AdminError('ERR_ADMIN_INVALID_FIELD', err.message, 'yaml', { cause: err });
      }
      if (loaded.policies.length === 0) throw invalid('yaml', 'holds no AuthorizationPolicy document');
      // The stored text of each policy is its own document, as written.
      const documents = parseAllDocuments(yaml);
      const records = loaded.policies.map((policy, i) => ({
        namespace: policy.metadata.namespace ?? 'default',
        name: policy.metadata.name,
        document: String(documents[loaded.origins[i]!.document]!).trimEnd() + '\n',
      }));
      note.target = records.map((r) => `${r.namespace}/${r.name}`).join(',').slice(0, 512);
      const stored = await ctx.store.putPolicies(records, nowSeconds());
      note.detail = { count: stored.length };
      return { body: { policies: stored.map((p) => ({ namespace: p.namespace, name: p.name, revision: p.revision })) } };
    },
  });

  addRoute(app, ctx, {
    method: 'GET',
    url: '/v1/policies',
    action: 'policy.list',
    handler: async (request, note) => {
      query(request, []);
      const policies = await ctx.store.listPolicies();
      note.detail = { count: policies.length };
      return { body: { policies: policies.map((p) => ({ namespace: p.namespace, name: p.name, document: p.document, revision: p.revision, updatedAt: p.updatedAt })) } };
    },
  });

  addRoute(app, ctx, {
    method: 'DELETE',
    url: '/v1/policies/:namespace/:name',
    action: 'policy.delete',
    handler: async (request) => {
      const { namespace, name } = request.params as { namespace: string; name: string };
      if (!NAME.test(namespace)) throw invalid('namespace', 'not a valid namespace');
      if (!NAME.test(name)) throw invalid('name', 'not a valid policy name');
      await ctx.store.deletePolicy(namespace, name, nowSeconds());
      return { body: {} };
    },
  });
}
