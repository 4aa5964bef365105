/**
 * `meshward audit verify FILE`: checks a JSON Lines audit file's hash chain.
 * Exit 0 intact; 1 tampered or truncated (the line and what is wrong);
 * 2 the file cannot be read.
 */
import type { Command } from 'commander';
import { AuditError } from '../audit/audit-error.js';
import { verifyAuditFile } from '../audit/verify-file.js';
import { CheckFailedError, UsageError } from './usage-error.js';

export interface AuditCliIo {
  out(text: string): void;
}

const processIo: AuditCliIo = { out: (text) => void process.stdout.write(text) };

export function registerAuditCommands(program: Command, io: AuditCliIo = processIo): void {
  const audit = program.command('audit').description('audit trails written by the proxy');
  audit
    .command('verify')
    .description("verify a JSON Lines audit file's hash chain: exit 0 intact, 1 tampered or truncated, 2 unreadable")
    .argument('<file>', 'the audit file (JSON Lines)')
    .option('--first-prev <sha256>', 'the prev of the first line, for a file that continues another (default: 64 zeros)')
    .option('--head <sha256>', 'the head hash kept elsewhere: fail unless the last record hashes to it (detects removed tail records)')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { firstPrev?: string; head?: string; json?: boolean }) => {
      for (const [flag, value] of [['--first-prev', opts.firstPrev], ['--head', opts.head]] as const) {
        if (value !== undefined && !/^[0-9a-f]{64}$/.test(value)) throw new UsageError(`${flag}: expected 64 lowercase hex digits`);
      }
      let result;
      try {
        result = await verifyAuditFile(file, opts.firstPrev === undefined ? {} : { firstPrev: opts.firstPrev });
      } catch (err) {
        if (err instanceof AuditError) throw new UsageError(`audit verify: ${err.message.replace(/^audit: /, '')}`);
        throw err;
      }
      let { ok, problem, firstBadLine } = result;
      if (ok && opts.head !== undefined && result.head?.hash !== opts.head) {
        ok = false;
        firstBadLine = result.lines;
        problem = `the last record (seq ${result.head?.seq ?? 0}) does not hash to --head: records were removed from or added to the end`;
      }
      if (opts.json) io.out(`${JSON.stringify({ ...result, ok, problem, firstBadLine })}\n`);
      else if (ok) {
        io.out(`${file}: ok, ${result.records} records, chain intact${result.head ? ` (head seq ${result.head.seq} sha256 ${result.head.hash})` : ''}\n`);
        for (const gap of result.gaps) io.out(`${file}: note: line ${gap.line} is a torn record (${gap.bytes} bytes) from a crash, accounted for by the gap record after it\n`);
      }
      if (!ok) throw new CheckFailedError(`${file}: TAMPERED or truncated at line ${firstBadLine}: ${problem} (${result.records} records verified before it)`);
    });
}
