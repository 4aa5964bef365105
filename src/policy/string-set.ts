import { parseStringPattern } from './string-pattern.js';
import { compilePathTemplate, isPathTemplate } from './path-template.js';

/**
 * A list of string patterns compiled into an indexed form: one hash set for
 * the exact values, sorted prefix and suffix lists, a presence flag and path
 * templates. This is both the golden "compiled form" and the input of
 * `stringSetMatcher`, which turns it into a closure.
 */
export interface StringSetIR {
  readonly kind: 'string';
  readonly exact: readonly string[];
  readonly prefix: readonly string[];
  readonly suffix: readonly string[];
  /** `*`: the value is present; non-empty unless `presenceMeansExists`. */
  readonly presence: boolean;
  /** Header presence compiles to Envoy `present_match`: an empty header is present. */
  readonly presenceMeansExists?: boolean;
  readonly templates: readonly string[];
}

export function buildStringSet(values: readonly string[], opts: { templates?: boolean; exists?: boolean } = {}): StringSetIR {
  const exact = new Set<string>();
  const prefix = new Set<string>();
  const suffix = new Set<string>();
  const templates = new Set<string>();
  let presence = false;
  for (const v of values) {
    if (opts.templates && isPathTemplate(v)) {
      templates.add(v);
      continue;
    }
    const p = parseStringPattern(v);
    if (p.kind === 'presence') presence = true;
    else if (p.kind === 'exact') exact.add(p.value);
    else if (p.kind === 'prefix') prefix.add(p.value);
    else suffix.add(p.value);
  }
  const ir: StringSetIR = {
    kind: 'string',
    exact: [...exact].sort(),
    prefix: [...prefix].sort(),
    suffix: [...suffix].sort(),
    presence,
    templates: [...templates].sort(),
  };
  return opts.exists && presence ? { ...ir, presenceMeansExists: true } : ir;
}

/** True when only exact values are listed: such a set can key a hash index. */
export function isExactOnly(ir: StringSetIR): boolean {
  return !ir.presence && ir.prefix.length === 0 && ir.suffix.length === 0 && ir.templates.length === 0 && ir.exact.length > 0;
}

export type StringTest = (value: string) => boolean;

export function stringSetMatcher(ir: StringSetIR): StringTest {
  const tests: StringTest[] = [];
  if (ir.presence) tests.push(ir.presenceMeansExists ? () => true : (v) => v.length > 0);
  if (ir.exact.length === 1) {
    const only = ir.exact[0];
    tests.push((v) => v === only);
  } else if (ir.exact.length > 1) {
    const set = new Set(ir.exact);
    tests.push((v) => set.has(v));
  }
  if (ir.prefix.length > 0) {
    const list = ir.prefix;
    tests.push((v) => {
      for (let i = 0; i < list.length; i++) if (v.startsWith(list[i]!)) return true;
      return false;
    });
  }
  if (ir.suffix.length > 0) {
    const list = ir.suffix;
    tests.push((v) => {
      for (let i = 0; i < list.length; i++) if (v.endsWith(list[i]!)) return true;
      return false;
    });
  }
  for (const t of ir.templates) tests.push(compilePathTemplate(t));
  return anyOf(tests);
}

function anyOf(tests: StringTest[]): StringTest {
  if (tests.length === 0) return () => false;
  if (tests.length === 1) return tests[0]!;
  if (tests.length === 2) {
    const [a, b] = tests as [StringTest, StringTest];
    return (v) => a(v) || b(v);
  }
  return (v) => {
    for (let i = 0; i < tests.length; i++) if (tests[i]!(v)) return true;
    return false;
  };
}
