/**
 * The frame every admin route runs in: authorization before the body is
 * read, the error contract, and one audit record per request (success,
 * denial or error). Route files only say what the route does.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../server-context.js';
import { actorOf, authorizeAdmin } from './authorize.js';
import { errorResponse } from './error-response.js';

/** What the audit record says about a request; a handler fills in target and detail as it learns them. */
export interface AuditNote {
  target: string;
  detail: Record<string, unknown>;
  /** Default `success`; a batch where nothing was written says `error`. */
  outcome?: 'success' | 'error';
}

export interface RouteResult {
  status?: number;
  body: unknown;
  /** Default `application/json; charset=utf-8`. */
  contentType?: string;
}

export type Handler = (request: FastifyRequest, note: AuditNote) => Promise<RouteResult>;

export interface RouteSpec {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly url: string;
  /** Audit action, e.g. `entry.create`. */
  readonly action: string;
  readonly bodyLimit?: number;
  readonly handler: Handler;
}

interface RequestState {
  actor: string;
  note: AuditNote;
  audited: boolean;
}

const state = new WeakMap<FastifyRequest, RequestState>();

/** Sets up authorization and the error contract on an encapsulated scope (call once, before routes). */
export function prepareScope(scope: FastifyInstance, ctx: ServerContext): void {
  scope.addHook('onRequest', async (request, reply) => {
    const note: AuditNote = { target: targetOf(request), detail: {} };
    const s: RequestState = { actor: 'unknown', note, audited: false };
    state.set(request, s);
    try {
      const caller = ctx.callerOf(request);
      s.actor = actorOf(caller);
      await authorizeAdmin(ctx, caller);
    } catch (err) {
      return fail(ctx, request, reply, err);
    }
  });
  scope.setErrorHandler((err, request, reply) => fail(ctx, request, reply, err));
}

export function addRoute(scope: FastifyInstance, ctx: ServerContext, spec: RouteSpec): void {
  scope.route({
    method: spec.method,
    url: spec.url,
    config: { action: spec.action },
    ...(spec.bodyLimit === undefined ? {} : { bodyLimit: spec.bodyLimit }),
    handler: async (request, reply) => {
      const s = state.get(request)!;
      const result = await spec.handler(request, s.note);
      s.audited = true;
      await ctx.audit({ actor: s.actor, action: spec.action, target: s.note.target, outcome: s.note.outcome ?? 'success', detail: s.note.detail });
      reply.code(result.status ?? 200).type(result.contentType ?? 'application/json; charset=utf-8');
      return reply.send(result.body);
    },
  });
}

async function fail(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply, err: unknown): Promise<FastifyReply> {
  const response = errorResponse(err);
  if (response.internal) ctx.log.error({ err, url: request.url }, 'admin API request failed');
  const s = state.get(request);
  if (s !== undefined && !s.audited) {
    s.audited = true;
    const denied = response.status === 401 || response.status === 403;
    const { code, field } = response.body.error;
    await ctx.audit({
      actor: s.actor,
      action: actionOf(request),
      target: s.note.target,
      outcome: denied ? 'denied' : 'error',
      detail: { ...s.note.detail, code, ...(field === undefined ? {} : { field }) },
    });
  }
  return reply.code(response.status).type('application/json; charset=utf-8').send(response.body);
}

function actionOf(request: FastifyRequest): string {
  const action = (request.routeOptions.config as { action?: unknown } | undefined)?.action;
  return typeof action === 'string' ? action : `${request.method} ${request.routeOptions.url ?? ''}`;
}

/** A first guess at the target from the path parameters, before the body is read. */
function targetOf(request: FastifyRequest): string {
  const params = request.params as Record<string, string> | undefined;
  if (params === undefined) return '';
  return Object.values(params).join('/');
}
