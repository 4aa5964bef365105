import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Reads a child process's stdout as JSON lines, one per call; once the child
 * has exited every further call answers `{"error": "<what> exited"}`.
 */
export function jsonLines(child: ChildProcess, what: string): () => Promise<string> {
  const exited = JSON.stringify({ error: `${what} exited` });
  const queue: string[] = [];
  const waiting: Array<(l: string) => void> = [];
  let closed = false;
  const rl = createInterface({ input: child.stdout! });
  rl.on('line', (l) => (waiting.length > 0 ? waiting.shift()!(l) : queue.push(l)));
  rl.on('close', () => {
    closed = true;
    for (const w of waiting.splice(0)) w(exited);
  });
  return () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : closed ? Promise.resolve(exited) : new Promise((r) => waiting.push(r)));
}
