import { ATTRIBUTES, OPERATION_FIELDS, SOURCE_FIELDS, negated, parseConditionKey, type AttributeId } from './attributes.js';
import type { IssueCollector } from './issue-collector.js';
import type { AuthorizationPolicy, PolicyAction } from './types.js';
import { checkKnownKeys, checkValues, describe, isObject, join, stringList } from './validate-fields.js';

/**
 * Admission-style validation of one AuthorizationPolicy document, after
 * Istio's ValidateAuthorizationPolicy and the CRD schema: unknown fields,
 * empty values, bad IPs and ports, bad `when` keys, conflicting fields.
 * Returns the typed policy only when the document has no error.
 */

const API_VERSIONS = new Set(['security.istio.io/v1', 'security.istio.io/v1beta1']);
const TOP_KEYS = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
const METADATA_KEYS = new Set([
  'name', 'namespace', 'annotations', 'labels', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
  'deletionTimestamp', 'deletionGracePeriodSeconds', 'generateName', 'finalizers', 'ownerReferences', 'managedFields',
]);
const SPEC_KEYS = new Set(['selector', 'targetRef', 'targetRefs', 'action', 'provider', 'rules']);
const ACTIONS = new Set<PolicyAction>(['ALLOW', 'DENY', 'AUDIT', 'CUSTOM']);
const RULE_KEYS = new Set(['from', 'to', 'when']);
const SOURCE_KEYS = new Set(Object.keys(SOURCE_FIELDS).flatMap((f) => [f, negated(f)]));
const OPERATION_KEYS = new Set(Object.keys(OPERATION_FIELDS).flatMap((f) => [f, negated(f)]));
const CONDITION_KEYS = new Set(['key', 'values', 'notValues']);
const TARGET_REF_KEYS = new Set(['group', 'kind', 'name', 'namespace']);
const DNS_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Go strconv.ParseBool. */
const BOOLS: Readonly<Record<string, boolean>> = { 1: true, t: true, T: true, TRUE: true, true: true, True: true, 0: false, f: false, F: false, FALSE: false, false: false, False: false };
export const DRY_RUN_ANNOTATION = 'istio.io/dry-run';
const MAX_RULES = 512;

/** Allowed targetRef kinds: `group/kind`. */
const TARGET_KINDS = new Set(['gateway.networking.k8s.io/Gateway', 'gateway.networking.k8s.io/GatewayClass', '/Service', 'core/Service', 'networking.istio.io/ServiceEntry']);

export interface ValidateContext {
  readonly defaultNamespace: string;
  readonly rootNamespace: string;
}

export function validatePolicy(doc: unknown, ctx: ValidateContext, out: IssueCollector): AuthorizationPolicy | null {
  const before = out.issues.length;
  if (!isObject(doc)) {
    out.error('ERR_POLICY_NOT_AN_OBJECT', '', `document must be an object, got ${describe(doc)}`);
    return null;
  }
  checkKnownKeys(doc, TOP_KEYS, '', out);
  if (!API_VERSIONS.has(doc.apiVersion as string)) {
    out.error('ERR_POLICY_WRONG_KIND', 'apiVersion', `apiVersion must be security.istio.io/v1 or security.istio.io/v1beta1, got ${describe(doc.apiVersion)}`);
  }
  if (doc.kind !== 'AuthorizationPolicy') {
    out.error('ERR_POLICY_WRONG_KIND', 'kind', `kind must be AuthorizationPolicy, got ${describe(doc.kind)}`);
  }
  const namespace = checkMetadata(doc.metadata, ctx, out);
  const spec = doc.spec ?? {};
  if (!isObject(spec)) {
    out.error('ERR_POLICY_INVALID_FIELD', 'spec', `must be an object, got ${describe(spec)}`);
    return null;
  }
  checkKnownKeys(spec, SPEC_KEYS, 'spec', out);
  const action = checkAction(spec.action, out);
  checkScope(spec, namespace, ctx, out);
  checkProvider(spec, action, out);
  checkRules(spec.rules, action, out);
  checkDryRun(doc.metadata, action, out);
  if (out.issues.length > before) return null;
  const policy = structuredClone(doc) as unknown as AuthorizationPolicy;
  policy.metadata.namespace = namespace;
  return policy;
}

function checkMetadata(meta: unknown, ctx: ValidateContext, out: IssueCollector): string {
  if (!isObject(meta)) {
    out.error('ERR_POLICY_MISSING_FIELD', 'metadata', 'metadata with a name is required');
    return ctx.defaultNamespace;
  }
  checkKnownKeys(meta, METADATA_KEYS, 'metadata', out);
  if (typeof meta.name !== 'string' || meta.name === '') {
    out.error('ERR_POLICY_MISSING_FIELD', 'metadata.name', 'a non-empty name is required');
  } else if (!DNS_NAME.test(meta.name) || meta.name.length > 253) {
    out.error('ERR_POLICY_INVALID_FIELD', 'metadata.name', `"${meta.name}" is not a valid resource name (lower-case DNS subdomain)`);
  }
  let namespace = ctx.defaultNamespace;
  if (meta.namespace === undefined) {
    out.warn('metadata.namespace', `no namespace; using "${ctx.defaultNamespace}"`);
  } else if (typeof meta.namespace !== 'string' || !DNS_LABEL.test(meta.namespace) || meta.namespace.length > 63) {
    out.error('ERR_POLICY_INVALID_FIELD', 'metadata.namespace', `${describe(meta.namespace)} is not a valid namespace (DNS label)`);
  } else {
    namespace = meta.namespace;
  }
  for (const key of ['annotations', 'labels'] as const) {
    const map = meta[key];
    if (map === undefined) continue;
    if (!isObject(map)) out.error('ERR_POLICY_INVALID_FIELD', `metadata.${key}`, 'must be a map of strings');
    else for (const [k, v] of Object.entries(map)) if (typeof v !== 'string') out.error('ERR_POLICY_INVALID_FIELD', `metadata.${key}.${k}`, `must be a string, got ${describe(v)}`);
  }
  return namespace;
}

function checkAction(action: unknown, out: IssueCollector): PolicyAction {
  if (action === undefined) return 'ALLOW';
  if (!ACTIONS.has(action as PolicyAction)) {
    out.error('ERR_POLICY_INVALID_FIELD', 'spec.action', `action must be ALLOW, DENY, AUDIT or CUSTOM, got ${describe(action)}`);
    return 'ALLOW';
  }
  return action as PolicyAction;
}

function checkScope(spec: Record<string, unknown>, namespace: string, ctx: ValidateContext, out: IssueCollector): void {
  const set = ['selector', 'targetRef', 'targetRefs'].filter((k) => spec[k] !== undefined);
  if (set.length > 1) out.error('ERR_POLICY_CONFLICTING_FIELDS', 'spec', `only one of selector, targetRef and targetRefs may be set, got ${set.join(' and ')}`);
  if (spec.selector !== undefined) checkSelector(spec.selector, out);
  const refs: Array<[unknown, string]> = [];
  if (spec.targetRef !== undefined) refs.push([spec.targetRef, 'spec.targetRef']);
  if (spec.targetRefs !== undefined) {
    if (!Array.isArray(spec.targetRefs)) out.error('ERR_POLICY_INVALID_FIELD', 'spec.targetRefs', 'must be a list');
    else {
      if (spec.targetRefs.length > 16) out.error('ERR_POLICY_INVALID_FIELD', 'spec.targetRefs', 'at most 16 targetRefs are allowed');
      spec.targetRefs.forEach((r, i) => refs.push([r, `spec.targetRefs[${i}]`]));
    }
  }
  for (const [ref, path] of refs) checkTargetRef(ref, path, namespace, ctx, out);
}

function checkSelector(selector: unknown, out: IssueCollector): void {
  if (!isObject(selector)) return out.error('ERR_POLICY_INVALID_FIELD', 'spec.selector', 'must be an object');
  checkKnownKeys(selector, new Set(['matchLabels']), 'spec.selector', out);
  const labels = selector.matchLabels ?? {};
  if (!isObject(labels)) return out.error('ERR_POLICY_INVALID_FIELD', 'spec.selector.matchLabels', 'must be a map of strings');
  if (Object.keys(labels).length === 0) out.warn('spec.selector', 'selector has no labels; the policy applies to every workload in scope');
  for (const [k, v] of Object.entries(labels)) {
    const at = `spec.selector.matchLabels.${k}`;
    if (k === '' || k.includes('*')) out.error('ERR_POLICY_INVALID_FIELD', at, 'label keys must be non-empty and hold no "*"');
    if (typeof v !== 'string') out.error('ERR_POLICY_INVALID_FIELD', at, `must be a string, got ${describe(v)}`);
    else if (v.includes('*')) out.error('ERR_POLICY_INVALID_FIELD', at, 'wildcards are not allowed in label values');
  }
}

function checkTargetRef(ref: unknown, path: string, namespace: string, ctx: ValidateContext, out: IssueCollector): void {
  if (!isObject(ref)) return out.error('ERR_POLICY_INVALID_FIELD', path, 'must be an object');
  checkKnownKeys(ref, TARGET_REF_KEYS, path, out);
  if (typeof ref.name !== 'string' || ref.name === '') out.error('ERR_POLICY_MISSING_FIELD', join(path, 'name'), 'a non-empty name is required');
  if (ref.namespace !== undefined && ref.namespace !== '') out.error('ERR_POLICY_INVALID_FIELD', join(path, 'namespace'), 'cross-namespace targetRefs are not allowed');
  const kind = `${typeof ref.group === 'string' ? ref.group : ''}/${String(ref.kind)}`;
  if (!TARGET_KINDS.has(kind)) out.error('ERR_POLICY_INVALID_FIELD', join(path, 'kind'), `targetRef kind "${kind}" is not allowed (Gateway, GatewayClass, Service, ServiceEntry)`);
  if (kind.endsWith('/GatewayClass') && namespace !== ctx.rootNamespace) out.error('ERR_POLICY_INVALID_FIELD', join(path, 'kind'), 'GatewayClass targets are only allowed in the root namespace');
  out.warn(path, 'policies with targetRef(s) apply to gateways and waypoints, never to meshward workloads; this one is ignored by the engine');
}

function checkProvider(spec: Record<string, unknown>, action: PolicyAction, out: IssueCollector): void {
  if (action !== 'CUSTOM') {
    if (spec.provider !== undefined) out.error('ERR_POLICY_CONFLICTING_FIELDS', 'spec.provider', 'provider is only allowed with action CUSTOM');
    return;
  }
  const provider = spec.provider;
  if (!isObject(provider) || typeof provider.name !== 'string' || provider.name === '') {
    out.error('ERR_POLICY_MISSING_FIELD', 'spec.provider.name', 'action CUSTOM needs a provider name');
    return;
  }
  checkKnownKeys(provider, new Set(['name']), 'spec.provider', out);
}

function checkRules(rules: unknown, action: PolicyAction, out: IssueCollector): void {
  if (rules === undefined || rules === null) {
    if (action === 'DENY') out.error('ERR_POLICY_MISSING_FIELD', 'spec.rules', 'a DENY policy without rules is meaningless; add an empty rule {} to deny everything');
    if (action === 'CUSTOM') out.error('ERR_POLICY_MISSING_FIELD', 'spec.rules', 'a CUSTOM policy needs rules');
    return;
  }
  if (!Array.isArray(rules)) return out.error('ERR_POLICY_INVALID_FIELD', 'spec.rules', 'must be a list of rules');
  if (rules.length === 0 && action === 'DENY') out.error('ERR_POLICY_MISSING_FIELD', 'spec.rules', 'a DENY policy without rules is meaningless; add an empty rule {} to deny everything');
  if (rules.length === 0 && action === 'CUSTOM') out.error('ERR_POLICY_MISSING_FIELD', 'spec.rules', 'a CUSTOM policy needs rules');
  if (rules.length > MAX_RULES) out.error('ERR_POLICY_INVALID_FIELD', 'spec.rules', `at most ${MAX_RULES} rules are allowed, got ${rules.length}`);
  rules.forEach((rule, i) => checkRule(rule, `spec.rules[${i}]`, action, out));
}

function checkRule(rule: unknown, path: string, action: PolicyAction, out: IssueCollector): void {
  if (!isObject(rule)) return out.error('ERR_POLICY_INVALID_FIELD', path, `a rule must be an object, got ${describe(rule)}`);
  checkKnownKeys(rule, RULE_KEYS, path, out);
  checkEntries(rule.from, 'source', join(path, 'from'), SOURCE_KEYS, SOURCE_FIELDS, action, out);
  checkEntries(rule.to, 'operation', join(path, 'to'), OPERATION_KEYS, OPERATION_FIELDS, action, out);
  if (rule.when !== undefined) {
    if (!Array.isArray(rule.when)) return out.error('ERR_POLICY_INVALID_FIELD', join(path, 'when'), 'must be a list of conditions');
    rule.when.forEach((c, i) => checkCondition(c, `${path}.when[${i}]`, action, out));
  }
}

function checkEntries(
  entries: unknown,
  wrapper: 'source' | 'operation',
  path: string,
  allowed: ReadonlySet<string>,
  fields: Readonly<Record<string, AttributeId>>,
  action: PolicyAction,
  out: IssueCollector,
): void {
  if (entries === undefined) return;
  if (!Array.isArray(entries)) return out.error('ERR_POLICY_INVALID_FIELD', path, 'must be a list');
  if (entries.length === 0) return out.error('ERR_POLICY_EMPTY_VALUE', path, 'must not be an empty list (omit it instead)');
  if (entries.length > MAX_RULES) out.error('ERR_POLICY_INVALID_FIELD', path, `at most ${MAX_RULES} entries are allowed`);
  entries.forEach((entry, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(entry)) return out.error('ERR_POLICY_INVALID_FIELD', at, `must be an object with "${wrapper}"`);
    checkKnownKeys(entry, new Set([wrapper]), at, out);
    const body = entry[wrapper];
    const bodyPath = join(at, wrapper);
    // An empty list counts as unset (Istio): a source or operation of empty lists is empty.
    const hasField = isObject(body) && Object.values(body).some((v) => !Array.isArray(v) || v.length > 0);
    if (!isObject(body) || !hasField) return out.error('ERR_POLICY_MISSING_FIELD', bodyPath, `${wrapper} must be set and have at least one non-empty field`);
    checkKnownKeys(body, allowed, bodyPath, out);
    for (const [field, attribute] of Object.entries(fields)) {
      for (const name of [field, negated(field)]) {
        if (body[name] === undefined) continue;
        const values = stringList(body[name], join(bodyPath, name), out);
        if (values) checkValues(attribute, values, join(bodyPath, name), out);
        if (action === 'CUSTOM' && ATTRIBUTES[attribute].identity) {
          out.error('ERR_POLICY_INVALID_FIELD', join(bodyPath, name), `${name} is not allowed in a CUSTOM policy`);
        }
      }
    }
    if (wrapper === 'source') {
      const hasSa = body.serviceAccounts !== undefined || body.notServiceAccounts !== undefined;
      const clash = ['principals', 'notPrincipals', 'namespaces', 'notNamespaces'].filter((k) => body[k] !== undefined);
      if (hasSa && clash.length > 0) {
        out.error('ERR_POLICY_CONFLICTING_FIELDS', bodyPath, `serviceAccounts cannot be combined with ${clash.join(', ')} in the same source`);
      }
    }
  });
}

function checkCondition(c: unknown, path: string, action: PolicyAction, out: IssueCollector): void {
  if (!isObject(c)) return out.error('ERR_POLICY_INVALID_FIELD', path, 'a condition must be an object with key and values');
  checkKnownKeys(c, CONDITION_KEYS, path, out);
  if (typeof c.key !== 'string' || c.key === '') return out.error('ERR_POLICY_MISSING_FIELD', join(path, 'key'), 'a non-empty key is required');
  const key = parseConditionKey(c.key);
  if (typeof key === 'string') return out.error('ERR_POLICY_UNKNOWN_CONDITION', join(path, 'key'), key);
  const empty = (v: unknown) => v === undefined || (Array.isArray(v) && v.length === 0);
  if (empty(c.values) && empty(c.notValues)) {
    return out.error('ERR_POLICY_MISSING_FIELD', path, 'at least one of values or notValues must be set');
  }
  for (const name of ['values', 'notValues'] as const) {
    if (c[name] === undefined) continue;
    const values = stringList(c[name], join(path, name), out);
    if (values) checkValues(key.attribute, values, join(path, name), out);
  }
  if (action === 'CUSTOM' && ATTRIBUTES[key.attribute].identity) {
    out.error('ERR_POLICY_INVALID_FIELD', join(path, 'key'), `condition ${c.key} is not allowed in a CUSTOM policy`);
  }
}

function checkDryRun(meta: unknown, action: PolicyAction, out: IssueCollector): void {
  if (!isObject(meta) || !isObject(meta.annotations)) return;
  const value = meta.annotations[DRY_RUN_ANNOTATION];
  if (value === undefined) return;
  const path = `metadata.annotations.${DRY_RUN_ANNOTATION}`;
  if (typeof value !== 'string' || !(value in BOOLS)) out.error('ERR_POLICY_INVALID_FIELD', path, `must be a boolean ("true" or "false"), got ${describe(value)}`);
  else if (action === 'AUDIT' || action === 'CUSTOM') out.error('ERR_POLICY_INVALID_FIELD', path, `dry-run is not supported for action ${action}`);
}

/** The dry-run annotation's value (already validated). */
export function isDryRun(policy: AuthorizationPolicy): boolean {
  const value = policy.metadata.annotations?.[DRY_RUN_ANNOTATION];
  return value !== undefined && BOOLS[value] === true;
}
