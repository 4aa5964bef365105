/**
 * What every part of the running server shares. The runtime (server.ts)
 * builds one ServerContext; route plugins (agent API, admin API, federation)
 * receive it and depend on nothing else of the runtime.
 */
import type { Logger } from 'pino';
import type { FastifyRequest } from 'fastify';
import type { MintJwtSvidRequest, MintX509SvidRequest, X509SvidMint } from '../ca/index.js';
import type { Bundle } from '../spiffe/bundle.js';
import type { SpiffeId } from '../spiffe/spiffe-id.js';
import type { TrustDomain } from '../spiffe/trust-domain.js';
import type { Datastore } from '../store/datastore.js';
import type { NewAuditRecord, RegistrationEntry } from '../store/types.js';

/** This replica's CA, as the routes see it. */
export interface ServerCa {
  /** The trust domain's bundle: every live authority of every replica (and the upstream root). */
  bundle(): Bundle;
  mintX509Svid(request: MintX509SvidRequest): X509SvidMint;
  mintJwtSvid(request: MintJwtSvidRequest): string;
}

/** The in-memory view of registration entries, kept current from the change log. */
export interface EntryIndex {
  /** The entries an agent may serve: parent = the agent (or a node alias it belongs to), recursively. */
  authorizedEntries(agentId: SpiffeId): readonly RegistrationEntry[];
  get(entryId: string): RegistrationEntry | undefined;
  /** Resolves when the index reflects every change committed up to now. */
  refresh(): Promise<void>;
}

/** Who is calling, established once per request from the transport. */
export type Caller =
  | { readonly kind: 'admin-socket' }
  | { readonly kind: 'svid'; readonly id: SpiffeId; readonly serialNumber: string }
  | { readonly kind: 'anonymous'; readonly sourceIp: string };

export interface ServerContext {
  readonly trustDomain: TrustDomain;
  /** This replica's stable ID (persisted in the data directory). */
  readonly replicaId: string;
  readonly store: Datastore;
  readonly ca: ServerCa;
  readonly entries: EntryIndex;
  /** Admin SPIFFE IDs from configuration (entries with `admin: true` count too). */
  readonly adminIds: ReadonlySet<string>;
  readonly defaults: { readonly x509SvidTtlSeconds: number; readonly jwtSvidTtlSeconds: number };
  readonly log: Logger;
  now(): Date;
  /** The caller of a request, as the listener that received it authenticated it. */
  callerOf(request: FastifyRequest): Caller;
  /** Appends to the admin audit trail; never throws (a failure is logged and counted). */
  audit(record: Omit<NewAuditRecord, 'time'>): Promise<void>;
}
