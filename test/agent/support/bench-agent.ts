/**
 * An agent in its own process for bench/agent.bench.ts's rotation phase, so
 * the agent's work (keys, CSRs, checks) and the server's (signing) run on
 * their own threads as they do in a deployment. Flags as `meshward agent run`
 * (`--key value`, config keys with dots: `--sign_batch_size 500`). Prints
 * `READY <agent SPIFFE ID>`, then answers commands on stdin, one JSON line
 * each:
 *   wait N   — when N SVIDs are cached and the rotator is idle
 *   rotate   — re-signs every cached SVID (rotateAll); the time until all N
 *              are replaced, and the agent's CPU time meanwhile
 */
import { createInterface } from 'node:readline';
import pino from 'pino';
import { startAgent } from '../../../src/agent/agent.js';
import { loadAgentConfig } from '../../../src/agent/config.js';

const flags: Record<string, string> = {};
const argv = process.argv.slice(2);
for (let i = 0; i + 1 < argv.length; i += 2) flags[argv[i]!.replace(/^--/, '')] = argv[i + 1]!;
const agent = await startAgent(loadAgentConfig({ env: {}, flags }), { logger: pino({ level: 'silent' }) });
process.stdout.write(`READY ${agent.identity.svid!.id.toString()}\n`);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const reply = (o: object): boolean => process.stdout.write(JSON.stringify(o) + '\n');

for await (const line of createInterface({ input: process.stdin })) {
  const [command, arg] = line.trim().split(/\s+/);
  if (command === 'wait') {
    const n = Number(arg);
    while (agent.cache.svidCount < n || agent.rotator.due().length > 0) {
      await agent.rotator.idle();
      await sleep(20);
    }
    reply({ svids: agent.cache.svidCount });
  } else if (command === 'rotate') {
    const n = agent.cache.svidCount;
    const serials = new Set([...agent.cache.svids()].map((s) => s.serialNumber));
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    agent.rotator.rotateAll();
    for (;;) {
      await sleep(10);
      await agent.rotator.idle();
      if (agent.cache.svidCount === n && [...agent.cache.svids()].every((s) => !serials.has(s.serialNumber))) break;
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = process.cpuUsage(cpu0);
    reply({ rotated: n, ms: Math.round(ms), agentCpuMs: Math.round((cpu.user + cpu.system) / 1000) });
  } else if (command === 'exit') break;
}
await agent.close();
process.exit(0);
