#!/usr/bin/env node
// Runs every bench/*.bench.ts in its own process, one after another (so they do not
// compete for the two cores). Each benchmark prints one JSON line of figures.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const filter = process.argv.slice(2);
const files = readdirSync('bench')
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filter.length === 0 || filter.some((s) => f.includes(s)))
  .sort();
let failed = 0;
for (const file of files) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${file}`], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
