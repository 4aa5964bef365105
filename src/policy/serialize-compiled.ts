import type { PolicyIR } from './policy-ir.js';

/** The compiled form as stable, pretty JSON (golden files, `policy explain --compiled`). */
export function serializeCompiled(policies: readonly PolicyIR[]): string {
  return `${JSON.stringify(policies, null, 2)}\n`;
}
