/**
 * `meshward policy lint | test | explain`: Istio AuthorizationPolicy files,
 * checked, unit-tested as code, and explained, all offline. Exit codes follow
 * main.ts: 1 when a check says no (lint errors, failing cases), 2 for bad
 * flags or unreadable/invalid input files.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import {
  PolicyEngine,
  PolicyError,
  formatIssue,
  lintSources,
  type Decision,
  type EvaluateInput,
  type PolicyEngineOptions,
  type PolicySource,
} from '../policy/index.js';
import { CheckFailedError, UsageError } from './usage-error.js';

/** Where command output goes; tests pass their own. */
export interface PolicyCliIo {
  out(text: string): void;
}

const processIo: PolicyCliIo = { out: (text) => void process.stdout.write(text) };
const MAX_FILE_BYTES = 4 * 1024 * 1024;
const collect = (value: string, previous: string[]): string[] => [...previous, value];

interface EngineFlags {
  rootNamespace: string;
  defaultNamespace: string;
  trustDomain?: string;
  escapedSlashes: string;
  pathParameters: string;
}

export function registerPolicyCommands(program: Command, io: PolicyCliIo = processIo): void {
  const policy = program.command('policy').description('Istio AuthorizationPolicy: lint, test and explain policy files');

  withEngineFlags(
    policy
      .command('lint')
      .description("validate policy files as Istio's admission does, and warn about likely mistakes")
      .argument('<files...>', 'YAML files of AuthorizationPolicy documents')
      .option('--strict', 'fail (exit 1) on warnings too'),
  ).action((files: string[], opts: EngineFlags & { strict?: boolean }) => runLint(files, opts, io));

  withEngineFlags(
    policy
      .command('test')
      .description('run policy unit tests: each case is a request and the decision it must get (exit 1 on any mismatch)')
      .argument('<files...>', 'YAML files of AuthorizationPolicy documents')
      .requiredOption('--cases <file>', 'YAML file of test cases'),
  ).action((files: string[], opts: EngineFlags & { cases: string }) => runTest(files, opts, io));

  withEngineFlags(
    policy
      .command('explain')
      .description('evaluate one request and show which policy and rule decided, and why each other did not match')
      .argument('<files...>', 'YAML files of AuthorizationPolicy documents')
      .option('--principal <p>', 'peer identity, td/ns/NS/sa/SA or a spiffe:// ID (omit for plaintext)')
      .option('--method <m>', 'HTTP method', 'GET')
      .option('--path <p>', 'request path', '/')
      .option('--host <h>', 'Host / :authority')
      .option('--header <k=v>', 'request header (repeatable; repeat a name for a repeated header)', collect, [] as string[])
      .option('--namespace <ns>', "the workload's namespace", 'default')
      .option('--label <k=v>', "a workload label (repeatable)", collect, [] as string[])
      .option('--port <n>', 'destination port')
      .option('--source-ip <ip>', 'direct peer IP')
      .option('--remote-ip <ip>', 'original client IP (default: --source-ip)')
      .option('--destination-ip <ip>', 'destination IP')
      .option('--sni <name>', 'TLS SNI')
      .option('--jwt-claims <json>', 'claims of a validated JWT, as JSON')
      .option('--protocol <p>', 'HTTP or TCP', 'HTTP')
      .option('--output <format>', 'text or json', 'text'),
  ).action((files: string[], opts: ExplainFlags) => runExplain(files, opts, io));
}

function withEngineFlags(cmd: Command): Command {
  return cmd
    .option('--root-namespace <ns>', "Istio's root namespace (policies there apply everywhere)", 'istio-system')
    .option('--default-namespace <ns>', 'namespace of a policy without one', 'default')
    .option('--trust-domain <td>', 'mesh trust domain (cluster.local in policies means it)')
    .option('--escaped-slashes <action>', '%2F and %5C in paths: reject or decode', 'reject')
    .option('--path-parameters <action>', ';params in paths: reject or strip', 'reject');
}

function engineOptions(opts: EngineFlags): PolicyEngineOptions {
  return {
    rootNamespace: opts.rootNamespace,
    defaultNamespace: opts.defaultNamespace,
    ...(opts.trustDomain ? { trustDomain: opts.trustDomain } : {}),
    escapedSlashes: choice(opts.escapedSlashes, ['reject', 'decode'] as const, '--escaped-slashes'),
    pathParameters: choice(opts.pathParameters, ['reject', 'strip'] as const, '--path-parameters'),
  };
}

function runLint(files: string[], opts: EngineFlags & { strict?: boolean }, io: PolicyCliIo): void {
  const result = lintSources(readSources(files), engineOptions(opts));
  for (const issue of result.issues) io.out(`${formatIssue(issue)} [error ${issue.code}]\n`);
  for (const w of result.warnings) io.out(`${formatIssue(w)} [warning]\n`);
  const summary = `${files.length} file(s): ${result.issues.length} error(s), ${result.warnings.length} warning(s)`;
  if (result.issues.length > 0 || (opts.strict && result.warnings.length > 0)) throw new CheckFailedError(`policy lint: ${summary}`);
  io.out(`${summary}\n`);
}

/** A test case: a request (and workload) and the parts of the decision it must get. */
interface TestCase {
  name: string;
  workload: EvaluateInput['workload'];
  request: EvaluateInput['request'];
  expect: Record<string, unknown>;
}

const EXPECT_KEYS = ['allowed', 'action', 'policy', 'rule', 'audit', 'reject', 'dryRunAllowed'] as const;

function runTest(files: string[], opts: EngineFlags & { cases: string }, io: PolicyCliIo): void {
  const engine = loadEngine(files, opts);
  const cases = readCases(opts.cases);
  let failed = 0;
  for (const c of cases) {
    const decision = engine.evaluate({ workload: c.workload, request: c.request });
    const actual = observed(decision);
    const diff = EXPECT_KEYS.filter((k) => k in c.expect && JSON.stringify(c.expect[k]) !== JSON.stringify(actual[k]));
    if (diff.length === 0) {
      io.out(`ok    ${c.name}\n`);
      continue;
    }
    failed++;
    io.out(`FAIL  ${c.name}\n`);
    for (const k of diff) io.out(`  - ${k}: ${JSON.stringify(c.expect[k])}\n  + ${k}: ${JSON.stringify(actual[k])}\n`);
    io.out(`    reason: ${decision.reason}\n`);
  }
  const summary = `${cases.length - failed} passed, ${failed} failed`;
  if (failed > 0) throw new CheckFailedError(`policy test: ${summary}`);
  io.out(`${summary}\n`);
}

/** The decision in the vocabulary of test cases (`reject: true` for a 400). */
function observed(d: Decision): Record<string, unknown> {
  return {
    allowed: d.allowed,
    action: d.action,
    policy: d.policy ?? null,
    rule: d.rule ?? null,
    audit: d.audit ?? false,
    reject: d.reject !== undefined,
    dryRunAllowed: d.dryRun ? d.dryRun.allowed : null,
  };
}

function readCases(file: string): TestCase[] {
  let doc: unknown;
  try {
    doc = parseYaml(readText(file, '--cases'));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--cases ${file}: invalid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const root = isRecord(doc) ? doc : { cases: doc };
  const defaults = isRecord(root.defaults) ? root.defaults : {};
  if (!Array.isArray(root.cases) || root.cases.length === 0) throw new UsageError(`--cases ${file}: expected a non-empty list of cases (or { defaults, cases })`);
  return root.cases.map((raw, i) => {
    const where = `--cases ${file}: cases[${i}]`;
    if (!isRecord(raw)) throw new UsageError(`${where}: must be an object`);
    for (const key of Object.keys(raw)) if (!['name', 'workload', 'request', 'expect'].includes(key)) throw new UsageError(`${where}.${key}: unknown field`);
    const workload = { ...(isRecord(defaults.workload) ? defaults.workload : {}), ...(isRecord(raw.workload) ? raw.workload : {}) };
    const request = { ...(isRecord(defaults.request) ? defaults.request : {}), ...(isRecord(raw.request) ? raw.request : {}) };
    if (typeof workload.namespace !== 'string') throw new UsageError(`${where}.workload.namespace: required (in the case or in defaults)`);
    if (!isRecord(raw.expect)) throw new UsageError(`${where}.expect: required, e.g. { allowed: true }`);
    for (const key of Object.keys(raw.expect)) if (!(EXPECT_KEYS as readonly string[]).includes(key)) throw new UsageError(`${where}.expect.${key}: unknown field (use ${EXPECT_KEYS.join(', ')})`);
    const name = typeof raw.name === 'string' ? raw.name : `case ${i}`;
    return { name, workload: workload as unknown as TestCase['workload'], request: request as TestCase['request'], expect: raw.expect };
  });
}

interface ExplainFlags extends EngineFlags {
  principal?: string;
  method: string;
  path: string;
  host?: string;
  header: string[];
  namespace: string;
  label: string[];
  port?: string;
  sourceIp?: string;
  remoteIp?: string;
  destinationIp?: string;
  sni?: string;
  jwtClaims?: string;
  protocol: string;
  output: string;
}

function runExplain(files: string[], opts: ExplainFlags, io: PolicyCliIo): void {
  const output = choice(opts.output, ['text', 'json'] as const, '--output');
  const protocol = choice(opts.protocol, ['HTTP', 'TCP'] as const, '--protocol');
  const engine = loadEngine(files, opts);
  const headers: Record<string, string[]> = {};
  for (const h of opts.header) {
    const [k, v] = pairFlag(h, '--header');
    (headers[k.toLowerCase()] ??= []).push(v);
  }
  const labels = Object.fromEntries(opts.label.map((l) => pairFlag(l, '--label')));
  const port = opts.port === undefined ? undefined : Number(opts.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new UsageError(`--port: "${opts.port}" is not a port number`);
  let jwtClaims: Record<string, unknown> | null = null;
  if (opts.jwtClaims !== undefined) {
    try {
      const parsed: unknown = JSON.parse(opts.jwtClaims);
      if (!isRecord(parsed)) throw new Error('not an object');
      jwtClaims = parsed;
    } catch (err) {
      throw new UsageError(`--jwt-claims: must be a JSON object (${(err as Error).message})`);
    }
  }
  const input: EvaluateInput = {
    workload: { namespace: opts.namespace, labels },
    request: {
      principal: opts.principal ?? null,
      method: opts.method,
      path: opts.path,
      ...(opts.host !== undefined ? { host: opts.host } : {}),
      headers,
      ...(port !== undefined ? { port } : {}),
      ...(opts.sourceIp ? { sourceIp: opts.sourceIp } : {}),
      ...(opts.remoteIp ? { remoteIp: opts.remoteIp } : {}),
      ...(opts.destinationIp ? { destinationIp: opts.destinationIp } : {}),
      ...(opts.sni ? { sni: opts.sni } : {}),
      jwtClaims,
      protocol,
    },
  };
  const explanation = engine.explain(input);
  if (output === 'json') {
    io.out(`${JSON.stringify(explanation)}\n`);
    return;
  }
  const d = explanation.decision;
  io.out(`decision: ${d.action}${d.policy ? ` by ${d.policy} rule ${d.rule}` : ''}: ${d.reason}\n`);
  if (d.audit) io.out(`audit: yes (${d.auditPolicy})\n`);
  if (d.dryRun) io.out(`dry-run: would be ${d.dryRun.action}: ${d.dryRun.reason}\n`);
  for (const p of explanation.policies) {
    const tag = `${p.action}${p.dryRun ? ' (dry-run)' : ''}`;
    if (p.notApplicable) {
      io.out(`  ${p.policy} [${tag}]: not applicable: ${p.notApplicable}\n`);
      continue;
    }
    io.out(`  ${p.policy} [${tag}]\n`);
    for (const r of p.rules) io.out(`    ${r.rule < 0 ? 'rules' : `rule ${r.rule}`}: ${r.matched ? 'MATCHED' : r.reason}\n`);
  }
}

function loadEngine(files: string[], opts: EngineFlags): PolicyEngine {
  try {
    return PolicyEngine.fromSources(readSources(files), engineOptions(opts));
  } catch (err) {
    if (err instanceof PolicyError) throw new UsageError(err.message);
    throw err;
  }
}

function readSources(files: string[]): PolicySource[] {
  return files.map((file) => ({ file, text: readText(file, 'policy file') }));
}

function readText(path: string, what: string): string {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    throw new UsageError(`${what} ${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (data.length > MAX_FILE_BYTES) throw new UsageError(`${what} ${path}: file is larger than ${MAX_FILE_BYTES} bytes`);
  return data.toString('utf8');
}

function pairFlag(text: string, flag: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`${flag}: "${text}" must be name=value`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

function choice<T extends string>(text: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(text)) throw new UsageError(`${flag}: "${text}" is not one of ${allowed.join(', ')}`);
  return text as T;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
