/**
 * The frame of every agent-API route: authentication before the body is
 * read (a verified agent SVID whose serial is the agent's current one and
 * which is not banned), the error contract, and for actions (attest, renew,
 * sign, jwt) one audit record per request: success, denial or error.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorReply, sendError } from '../http-errors.js';
import { ServerError, denied, unauthenticated } from '../server-error.js';
import type { AgentApiDeps, AgentSession } from './deps.js';

export interface AuditNote {
  target: string;
  detail: Record<string, unknown>;
}

export interface AgentRouteSpec {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  /** `agent`: an agent SVID is required; `none`: anyone (attestation). */
  readonly auth: 'agent' | 'none';
  /** Audit action; reads are not audited. */
  readonly action?: string;
  /** The request field CA refusals concern (`csr`, `requests[].csr`). */
  readonly csrField?: string;
  readonly handler: (request: FastifyRequest, reply: FastifyReply, session: AgentSession | undefined, note: AuditNote) => Promise<unknown>;
}

interface RequestState {
  actor: string;
  session: AgentSession | undefined;
  note: AuditNote;
}

const states = new WeakMap<FastifyRequest, RequestState>();
const AGENT_PATH = '/meshward/agent/';

export function addAgentRoute(app: FastifyInstance, deps: AgentApiDeps, spec: AgentRouteSpec): void {
  const { ctx } = deps;
  const agentPrefix = `spiffe://${ctx.trustDomain.name}${AGENT_PATH}`;
  const audit = async (request: FastifyRequest, outcome: 'success' | 'denied' | 'error', extra: Record<string, unknown> = {}): Promise<void> => {
    if (spec.action === undefined) return;
    const s = states.get(request);
    await ctx.audit({ actor: s?.actor ?? 'unknown', action: spec.action, target: s?.note.target ?? '', outcome, detail: { ...s?.note.detail, ...extra } });
  };

  app.route({
    method: spec.method,
    url: spec.url,
    onRequest: async (request) => {
      const caller = ctx.callerOf(request);
      const state: RequestState = { actor: caller.kind === 'svid' ? caller.id.toString() : caller.kind === 'anonymous' ? `anonymous:${caller.sourceIp}` : 'local-admin-socket', session: undefined, note: { target: '', detail: {} } };
      states.set(request, state);
      if (spec.auth === 'none') return;
      if (caller.kind !== 'svid') throw unauthenticated('this route needs a valid agent SVID as the client certificate');
      const id = caller.id.toString();
      state.note.target = id;
      if (!id.startsWith(agentPrefix)) throw denied(`${id} is not an agent of trust domain ${ctx.trustDomain.name}`);
      const agent = await deps.agents.lookup(id, caller.serialNumber);
      if (agent === undefined) throw denied(`${id} is not an attested agent (never attested, or evicted)`, 'ERR_SERVER_AGENT_UNKNOWN');
      if (agent.banned) throw denied(`agent ${id} is banned`, 'ERR_SERVER_AGENT_BANNED');
      if (agent.serialNumber !== caller.serialNumber) throw denied(`this SVID of ${id} was replaced by a newer one`, 'ERR_SERVER_SVID_REPLACED');
      state.session = { agent, spiffeId: id };
    },
    handler: async (request, reply) => {
      const state = states.get(request)!;
      const body = await spec.handler(request, reply, state.session, state.note);
      if (reply.sent) return reply;
      await audit(request, 'success');
      return reply.type('application/json; charset=utf-8').send(body);
    },
    errorHandler: async (err, request, reply) => {
      const e = errorReply(err, spec.csrField);
      if (e.internal) ctx.log.error({ err: { code: (err as { code?: string }).code, message: (err as Error).message }, route: spec.url }, 'agent API request failed');
      const outcome = e.status === 401 || e.status === 403 || e.status === 409 || e.status === 429 ? 'denied' : 'error';
      await audit(request, outcome, { status: e.status, code: e.body.error.code, ...(err instanceof ServerError && err.status === 403 ? { reason: err.message } : {}) });
      return sendError(reply, e);
    },
  });
}
