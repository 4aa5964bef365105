/**
 * The AuthorizationPolicy schema as users write it (security.istio.io/v1 and
 * v1beta1 share it), and the request/decision shapes of the engine. Raw input
 * is `unknown` until validation has checked it against these shapes.
 */

export type PolicyAction = 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';

export interface Source {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  serviceAccounts?: string[];
  notServiceAccounts?: string[];
  trustDomains?: string[];
  notTrustDomains?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
}

export interface Operation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

export interface Condition {
  key: string;
  values?: string[];
  notValues?: string[];
}

export interface Rule {
  from?: Array<{ source: Source }>;
  to?: Array<{ operation: Operation }>;
  when?: Condition[];
}

export interface TargetRef {
  group?: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface AuthorizationPolicy {
  apiVersion: 'security.istio.io/v1' | 'security.istio.io/v1beta1';
  kind: 'AuthorizationPolicy';
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: {
    selector?: { matchLabels?: Record<string, string> };
    targetRef?: TargetRef;
    targetRefs?: TargetRef[];
    action?: PolicyAction;
    provider?: { name: string };
    rules?: Rule[];
  };
}

/** One header value, or a repeated header as an array (joined with `,` for matching). */
export type HeaderValue = string | readonly string[] | undefined;

export interface RequestAttributes {
  /** Peer identity in Istio form `td/ns/NS/sa/SA`; a `spiffe://` ID is accepted and stripped. `null`: plaintext. */
  principal?: string | null;
  /** Peer namespace, used only when the principal has no `/ns/<ns>/` segment (meshward entries). */
  namespace?: string | null;
  method?: string;
  /** The raw request target path (may hold query and fragment); normalized by the engine. */
  path?: string;
  host?: string;
  /** Destination (workload) port of the connection. */
  port?: number | string;
  headers?: Readonly<Record<string, HeaderValue>>;
  sourceIp?: string;
  /** Original client IP (XFF / PROXY protocol); defaults to `sourceIp`. */
  remoteIp?: string;
  destinationIp?: string;
  sni?: string;
  /** Claims of an already validated JWT; `null` without one. */
  jwtClaims?: Readonly<Record<string, unknown>> | null;
  /**
   * The request principal an authenticator established, as one string
   * (Istio's `iss/sub` form); split at its last `/` exactly as a pattern is,
   * so an exact pattern matches exactly this string. Default: `iss/sub` of
   * `jwtClaims`. The proxy sets a JWT-SVID's SPIFFE ID here, because a
   * subject holding `/` could never match an exact pattern otherwise.
   */
  requestPrincipal?: string | null;
  /** The layer the check runs at; default `HTTP`. */
  protocol?: 'HTTP' | 'TCP';
}

export interface WorkloadAttributes {
  namespace: string;
  labels?: Readonly<Record<string, string>>;
}

export interface EvaluateInput {
  workload: WorkloadAttributes;
  request: RequestAttributes;
}

/** Result of the dry-run policies, computed as if they were enforced together with the enforced ones. */
export interface DryRunResult {
  allowed: boolean;
  action: 'ALLOW' | 'DENY';
  policy?: string;
  rule?: number;
  reason: string;
}

export interface Decision {
  allowed: boolean;
  action: 'ALLOW' | 'DENY';
  /** `namespace/name` of the deciding policy, when one decided. */
  policy?: string;
  /** Index of the deciding rule inside that policy. */
  rule?: number;
  reason: string;
  /** Set when the request was refused before matching (bad path, lowercase method, NUL): answer with this status. */
  reject?: { status: 400; reason: string };
  /** Present only when dry-run policies apply to the workload. */
  dryRun?: DryRunResult;
  /** True when an AUDIT policy matched: the request should be audited. Never changes `allowed`. */
  audit?: boolean;
  /** The AUDIT policy that matched first, when `audit` is true. */
  auditPolicy?: string;
  /**
   * The request as it was matched: the normalized path (no query or
   * fragment) and the path to forward (normalized, query kept). Set by
   * `evaluate`, so an enforcer forwards the very path it authorized without
   * normalizing twice.
   */
  normalized?: { path?: string; forwardPath?: string };
}
