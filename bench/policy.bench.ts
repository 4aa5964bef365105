/**
 * Policy decision latency and throughput at 10, 1,000 and 10,000 rules.
 * Rules look like a real mesh: per-caller ALLOW rules (SPIFFE principals,
 * method and path prefixes), a few DENY rules on admin paths and headers,
 * spread over namespaces with selectors. Requests mix hits, misses and
 * denials. Prints one JSON line.
 */
import { PolicyEngine, type EvaluateInput } from '../src/policy/index.js';

const ITERATIONS = 200_000;
const WARMUP = 50_000;

function buildPolicies(rules: number): unknown[] {
  const policies: unknown[] = [];
  const perPolicy = 10;
  for (let p = 0; p * perPolicy < rules; p++) {
    const list = [];
    for (let r = 0; r < perPolicy && p * perPolicy + r < rules; r++) {
      const i = p * perPolicy + r;
      list.push({
        from: [{ source: { principals: [`cluster.local/ns/team-${i % 50}/sa/svc-${i}`] } }],
        to: [{ operation: { methods: i % 3 === 0 ? ['GET', 'HEAD'] : ['GET', 'POST'], paths: [`/api/v${1 + (i % 3)}/svc-${i}/*`, `/api/v${1 + (i % 3)}/svc-${i}`] } }],
        ...(i % 7 === 0 ? { when: [{ key: 'request.headers[x-tenant]', values: [`tenant-${i % 13}`, 'shared'] }] } : {}),
      });
    }
    policies.push({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: `allow-${p}`, namespace: 'prod' },
      spec: { ...(p % 4 === 3 ? { selector: { matchLabels: { app: 'payments' } } } : {}), rules: list },
    });
  }
  policies.push({
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'deny-admin', namespace: 'prod' },
    spec: { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin', '/admin/*', '*/debug'] } }] }, { from: [{ source: { notPrincipals: ['*'] } }] }] },
  });
  policies.push({
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'deny-blocked-ips', namespace: 'istio-system' },
    spec: { action: 'DENY', rules: [{ from: [{ source: { ipBlocks: ['203.0.113.0/24', '198.51.100.7'] } }] }] },
  });
  return policies;
}

function buildRequests(rules: number): EvaluateInput[] {
  const workload = { namespace: 'prod', labels: { app: 'api', version: 'v2' } };
  const out: EvaluateInput[] = [];
  for (let k = 0; k < 1024; k++) {
    const i = (k * 7919) % rules;
    const kind = k % 10;
    const principal = kind === 9 ? `cluster.local/ns/team-x/sa/unknown-${k}` : `cluster.local/ns/team-${i % 50}/sa/svc-${i}`;
    const path = kind === 8 ? '/admin/users' : kind === 7 ? `/api/v1/svc-${i}/../../admin` : `/api/v${1 + (i % 3)}/svc-${i}/items/${k}?page=2`;
    out.push({
      workload,
      request: {
        principal,
        method: kind === 6 ? 'DELETE' : 'GET',
        path,
        host: 'api.prod.svc.cluster.local',
        port: 8080,
        headers: { 'x-tenant': `tenant-${i % 13}`, 'user-agent': 'bench/1.0', accept: 'application/json' },
        sourceIp: `10.1.${k % 250}.${(k * 3) % 250}`,
        destinationIp: '10.2.0.10',
        jwtClaims: null,
        protocol: 'HTTP',
      },
    });
  }
  return out;
}

function measure(rules: number): { rules: number; p50_us: number; p99_us: number; per_sec: number; allowed_share: number } {
  const engine = PolicyEngine.fromObjects(buildPolicies(rules));
  const requests = buildRequests(rules);
  let allowed = 0;
  for (let i = 0; i < WARMUP; i++) engine.evaluate(requests[i & 1023]!);
  const samples = new Float64Array(ITERATIONS);
  for (let i = 0; i < ITERATIONS; i++) {
    const req = requests[i & 1023]!;
    const t0 = process.hrtime.bigint();
    const d = engine.evaluate(req);
    const t1 = process.hrtime.bigint();
    samples[i] = Number(t1 - t0);
    if (d.allowed) allowed++;
  }
  const start = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) engine.evaluate(requests[i & 1023]!);
  const elapsedNs = Number(process.hrtime.bigint() - start);
  samples.sort();
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]! / 1000;
  return {
    rules,
    p50_us: round(at(0.5)),
    p99_us: round(at(0.99)),
    per_sec: Math.round((ITERATIONS / elapsedNs) * 1e9),
    allowed_share: round(allowed / ITERATIONS),
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

const result: Record<string, unknown> = { bench: 'policy', node: process.version };
for (const n of [10, 1000, 10000]) {
  const { rules, ...figures } = measure(n);
  result[`rules_${rules}`] = figures;
}
console.log(JSON.stringify(result));
