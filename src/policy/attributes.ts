/**
 * The attributes a policy can test, one entry per attribute. Source and
 * operation fields and `when` keys all compile to these, so matching code
 * never switches on field names per request.
 */
export type AttributeId =
  | 'source.principal'
  | 'source.namespace'
  | 'source.serviceAccount'
  | 'source.trustDomain'
  | 'source.ip'
  | 'remote.ip'
  | 'request.auth.principal'
  | 'request.auth.audiences'
  | 'request.auth.presenter'
  | 'request.auth.claims'
  | 'request.headers'
  | 'request.host'
  | 'request.method'
  | 'request.path'
  | 'destination.ip'
  | 'destination.port'
  | 'connection.sni';

/** How values of the attribute are written and compared. */
export type ValueForm = 'string' | 'cidr' | 'port' | 'serviceAccount' | 'requestPrincipal';

export interface AttributeDef {
  readonly form: ValueForm;
  /** Only evaluable per HTTP request (AUTHZ.md §5); on TCP such matchers are dropped or widen. */
  readonly httpOnly: boolean;
  /** Peer-identity attribute, forbidden in CUSTOM policies. */
  readonly identity?: boolean;
}

export const ATTRIBUTES: Readonly<Record<AttributeId, AttributeDef>> = {
  'source.principal': { form: 'string', httpOnly: false, identity: true },
  'source.namespace': { form: 'string', httpOnly: false, identity: true },
  'source.serviceAccount': { form: 'serviceAccount', httpOnly: false, identity: true },
  'source.trustDomain': { form: 'string', httpOnly: false, identity: true },
  'source.ip': { form: 'cidr', httpOnly: false },
  'remote.ip': { form: 'cidr', httpOnly: false },
  'request.auth.principal': { form: 'requestPrincipal', httpOnly: true, identity: true },
  'request.auth.audiences': { form: 'string', httpOnly: true, identity: true },
  'request.auth.presenter': { form: 'string', httpOnly: true, identity: true },
  'request.auth.claims': { form: 'string', httpOnly: true, identity: true },
  'request.headers': { form: 'string', httpOnly: true },
  'request.host': { form: 'string', httpOnly: true },
  'request.method': { form: 'string', httpOnly: true },
  'request.path': { form: 'string', httpOnly: true },
  'destination.ip': { form: 'cidr', httpOnly: false },
  'destination.port': { form: 'port', httpOnly: false },
  'connection.sni': { form: 'string', httpOnly: false },
};

/** Source fields: `principals` and its negation `notPrincipals` map to one attribute. */
export const SOURCE_FIELDS: Readonly<Record<string, AttributeId>> = {
  principals: 'source.principal',
  requestPrincipals: 'request.auth.principal',
  namespaces: 'source.namespace',
  serviceAccounts: 'source.serviceAccount',
  trustDomains: 'source.trustDomain',
  ipBlocks: 'source.ip',
  remoteIpBlocks: 'remote.ip',
};

export const OPERATION_FIELDS: Readonly<Record<string, AttributeId>> = {
  hosts: 'request.host',
  ports: 'destination.port',
  methods: 'request.method',
  paths: 'request.path',
};

/** `fooBar` → `notFooBar`. */
export function negated(field: string): string {
  return `not${field[0]!.toUpperCase()}${field.slice(1)}`;
}

/** A `when` key resolved to its attribute, with the header name or claim path it selects. */
export interface ConditionKey {
  readonly attribute: AttributeId;
  readonly header?: string;
  readonly claim?: readonly string[];
}

const PLAIN_KEYS = new Set<AttributeId>([
  'source.ip',
  'remote.ip',
  'source.namespace',
  'source.principal',
  'source.serviceAccount',
  'source.trustDomain',
  'request.auth.principal',
  'request.auth.audiences',
  'request.auth.presenter',
  'destination.ip',
  'destination.port',
  'connection.sni',
]);

/** Keys Istio rejects with a pointed message instead of "unknown". */
const REFUSED_KEYS: ReadonlyArray<[RegExp, string]> = [
  [/^destination\.namespace$/, 'destination.namespace is not supported; use metadata.namespace'],
  [/^destination\.labels\[/, 'destination.labels is not supported; use spec.selector'],
  [/^destination\.(name|user)$/, 'destination.name and destination.user were v1alpha1 only'],
  [/^experimental\./, 'experimental.envoy.filters keys are not supported by meshward (they read Envoy metadata)'],
];

/** Parses a `when` key; returns a message for an unknown or malformed key. */
export function parseConditionKey(key: string): ConditionKey | string {
  if (PLAIN_KEYS.has(key as AttributeId)) return { attribute: key as AttributeId };
  if (key.startsWith('request.headers')) {
    const m = /^request\.headers\[([^\[\]]+)\]$/.exec(key);
    return m ? { attribute: 'request.headers', header: m[1]!.toLowerCase() } : `"${key}" must be request.headers[<name>] with a non-empty name`;
  }
  if (key.startsWith('request.auth.claims')) {
    const m = /^request\.auth\.claims((?:\[[^\[\]]+\])+)$/.exec(key);
    if (!m) return `"${key}" must be request.auth.claims[<name>] (nest with more brackets) with non-empty names`;
    const claim = m[1]!.slice(1, -1).split('][');
    return { attribute: 'request.auth.claims', claim };
  }
  for (const [re, message] of REFUSED_KEYS) if (re.test(key)) return message;
  return `unknown condition key "${key}"`;
}
