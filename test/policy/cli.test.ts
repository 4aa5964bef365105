import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerPolicyCommands } from '../../src/cli/policy.js';
import { CheckFailedError, UsageError } from '../../src/cli/usage-error.js';

/** `meshward policy lint | test | explain`, driven through a commander program as main.ts builds it. */

const dir = mkdtempSync(join(tmpdir(), 'meshward-policy-cli-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function run(...args: string[]): Promise<{ out: string; err: string; error?: unknown }> {
  let out = '';
  let err = '';
  const program = new Command('meshward').exitOverride().configureOutput({ writeOut: (s) => void (out += s), writeErr: (s) => void (err += s) });
  registerPolicyCommands(program, { out: (s) => void (out += s) });
  try {
    await program.parseAsync(args, { from: 'user' });
    return { out, err };
  } catch (error) {
    return { out, err, error };
  }
}

const POLICIES = file(
  'policies.yaml',
  `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-frontend, namespace: prod}
spec:
  selector: {matchLabels: {app: api}}
  rules:
  - from: [{source: {principals: ["cluster.local/ns/prod/sa/frontend"]}}]
    to: [{operation: {methods: ["GET"], paths: ["/api/*"]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin, namespace: prod}
spec:
  action: DENY
  rules:
  - to: [{operation: {paths: ["/api/admin*"]}}]
`,
);

test('lint: a valid set prints warnings and a summary, exit 0', async () => {
  const r = await run('policy', 'lint', POLICIES);
  assert.equal(r.error, undefined);
  assert.match(r.out, /document 1: spec\.rules\[0\]: DENY rule uses only HTTP attributes \(paths\).*\[warning\]/);
  assert.match(r.out, /1 file\(s\): 0 error\(s\), 1 warning\(s\)/);
});

test('lint --strict fails on warnings', async () => {
  const r = await run('policy', 'lint', '--strict', POLICIES);
  assert.ok(r.error instanceof CheckFailedError);
});

test('lint: errors name file, document and field, and exit 1', async () => {
  const bad = file('bad.yaml', 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: x, namespace: foo}\nspec:\n  rules:\n  - to: [{operation: {ports: ["http"]}}]\n');
  const r = await run('policy', 'lint', bad);
  assert.ok(r.error instanceof CheckFailedError);
  assert.ok(r.out.includes(`${bad}: document 0: spec.rules[0].to[0].operation.ports[0]: invalid port "http"`), r.out);
});

test('lint: ALLOW with notPaths, spiffe:// principals and unnormalized paths are warned about', async () => {
  const odd = file(
    'odd.yaml',
    'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: x, namespace: foo}\nspec:\n  rules:\n  - from: [{source: {principals: ["spiffe://cluster.local/ns/a/sa/b"]}}]\n    to: [{operation: {notPaths: ["/healthz"], paths: ["/a/../b", "admin"], methods: ["get"]}}]\n',
  );
  const r = await run('policy', 'lint', odd);
  assert.equal(r.error, undefined);
  for (const re of [/ALLOW with notPaths/, /never matches: write principals without "spiffe:\/\/"/, /"\/a\/\.\.\/b" is not in normalized form/, /"admin" does not start with "\/"/, /method "get" is not upper case/]) {
    assert.match(r.out, re);
  }
});

test('a missing file is a usage error naming it (exit 2)', async () => {
  const r = await run('policy', 'lint', join(dir, 'nope.yaml'));
  assert.ok(r.error instanceof UsageError);
  assert.match((r.error as Error).message, /nope\.yaml: cannot read the file \(ENOENT\)/);
});

test('test: passing cases print ok and a summary', async () => {
  const cases = file(
    'cases.yaml',
    `defaults:
  workload: {namespace: prod, labels: {app: api}}
  request: {principal: cluster.local/ns/prod/sa/frontend, method: GET}
cases:
- name: frontend reads the API
  request: {path: /api/items}
  expect: {allowed: true, policy: prod/allow-frontend, rule: 0}
- name: admin is denied even through dot segments
  request: {path: /api/x/../admin}
  expect: {allowed: false, policy: prod/deny-admin}
- name: lower-case method gets 400
  request: {method: get, path: /api/items}
  expect: {allowed: false, reject: true}
`,
  );
  const r = await run('policy', 'test', POLICIES, '--cases', cases);
  assert.equal(r.error, undefined, r.out);
  assert.match(r.out, /ok    frontend reads the API/);
  assert.match(r.out, /3 passed, 0 failed/);
});

test('test: a mismatch prints a diff and exits 1', async () => {
  const cases = file('failing.yaml', '- name: wrong expectation\n  workload: {namespace: prod, labels: {app: api}}\n  request: {principal: null, path: /api/items}\n  expect: {allowed: true}\n');
  const r = await run('policy', 'test', POLICIES, '--cases', cases);
  assert.ok(r.error instanceof CheckFailedError);
  assert.match(r.out, /FAIL  wrong expectation\n  - allowed: true\n  \+ allowed: false\n    reason: no ALLOW policy matched/);
});

test('test: a malformed cases file or invalid policies are usage errors', async () => {
  const bad = file('badcases.yaml', 'cases:\n- request: {path: /}\n  expect: {allowed: true}\n');
  const r = await run('policy', 'test', POLICIES, '--cases', bad);
  assert.ok(r.error instanceof UsageError);
  assert.match((r.error as Error).message, /cases\[0\]\.workload\.namespace: required/);
  const unknown = file('unknown.yaml', '- workload: {namespace: a}\n  expect: {allowd: true}\n');
  assert.match(((await run('policy', 'test', POLICIES, '--cases', unknown)).error as Error).message, /expect\.allowd: unknown field/);
  const invalid = file('invalid.yaml', 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: x}\nspec: {action: DENY}\n');
  const r2 = await run('policy', 'test', invalid, '--cases', bad);
  assert.ok(r2.error instanceof UsageError);
  assert.match((r2.error as Error).message, /invalid\.yaml: document 0: spec\.rules/);
});

test('explain: the deciding policy and why each other rule did not match', async () => {
  const r = await run('policy', 'explain', POLICIES, '--namespace', 'prod', '--label', 'app=api', '--principal', 'spiffe://cluster.local/ns/prod/sa/frontend', '--path', '/api/items?x=1', '--header', 'x-a=1');
  assert.equal(r.error, undefined);
  assert.match(r.out, /^decision: ALLOW by prod\/allow-frontend rule 0/);
  assert.match(r.out, /prod\/allow-frontend \[ALLOW\]\n    rule 0: MATCHED/);
  assert.match(r.out, /prod\/deny-admin \[DENY\]\n    rule 0: no to entry matched: to\[0\]\.operation\.paths: request\.path "\/api\/items" is not in \["\/api\/admin\*"\]/);
  const other = await run('policy', 'explain', POLICIES, '--namespace', 'prod', '--output', 'json');
  const parsed = JSON.parse(other.out) as { decision: { allowed: boolean }; policies: Array<{ notApplicable: string | null }> };
  assert.equal(parsed.decision.allowed, true, 'no label app=api: the ALLOW policy does not apply');
  assert.match(parsed.policies[0]!.notApplicable!, /selector app=api/);
});

test('explain: bad flags are usage errors', async () => {
  assert.ok((await run('policy', 'explain', POLICIES, '--header', 'novalue')).error instanceof UsageError);
  assert.ok((await run('policy', 'explain', POLICIES, '--protocol', 'UDP')).error instanceof UsageError);
  assert.ok((await run('policy', 'explain', POLICIES, '--port', '70000')).error instanceof UsageError);
  assert.ok((await run('policy', 'explain', POLICIES, '--jwt-claims', '[1]')).error instanceof UsageError);
  const unknown = await run('policy', 'explain', POLICIES, '--nope');
  assert.ok(unknown.error instanceof CommanderError && unknown.error.exitCode !== 0);
  assert.match(unknown.err, /unknown option '--nope'/);
});
