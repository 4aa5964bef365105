import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PolicyEngine, serializeCompiled } from '../../src/policy/index.js';

/**
 * Golden files for the compiled form, as Istio keeps builder testdata:
 * golden/<name>-in.yaml compiles to golden/<name>-out.json. Run with
 * UPDATE_GOLDEN=1 to regenerate, then review the diff before committing.
 */
const dir = join(import.meta.dirname, 'golden');
const options = { rootNamespace: 'istio-system', trustDomain: 'mesh.local', trustDomainAliases: ['old.local'] };

for (const input of readdirSync(dir).filter((f) => f.endsWith('-in.yaml')).sort()) {
  test(`golden: ${input}`, () => {
    const engine = PolicyEngine.fromYaml(readFileSync(join(dir, input), 'utf8'), { ...options, file: input });
    const actual = serializeCompiled(engine.policies);
    const outFile = join(dir, input.replace(/-in\.yaml$/, '-out.json'));
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(outFile, actual);
    assert.equal(actual, readFileSync(outFile, 'utf8'), `${input}: compiled form changed; rerun with UPDATE_GOLDEN=1 if intended`);
  });
}
