/**
 * Istio's string match forms, in the order istiod checks them
 * (`matcher/string.go`): `*` is presence (non-empty), a leading `*` a suffix,
 * a trailing `*` a prefix, anything else exact. A `*` elsewhere is literal.
 */
export type StringPattern =
  | { readonly kind: 'presence' }
  | { readonly kind: 'exact'; readonly value: string }
  | { readonly kind: 'prefix'; readonly value: string }
  | { readonly kind: 'suffix'; readonly value: string };

export function parseStringPattern(text: string): StringPattern {
  if (text === '*') return { kind: 'presence' };
  if (text.startsWith('*')) return { kind: 'suffix', value: text.slice(1) };
  if (text.endsWith('*')) return { kind: 'prefix', value: text.slice(0, -1) };
  return { kind: 'exact', value: text };
}

export function matchesPattern(pattern: StringPattern, value: string): boolean {
  switch (pattern.kind) {
    case 'presence':
      return value.length > 0;
    case 'exact':
      return value === pattern.value;
    case 'prefix':
      return value.startsWith(pattern.value);
    case 'suffix':
      return value.endsWith(pattern.value);
  }
}

/** The pattern as a closure, chosen once, for hot paths. */
export function compilePattern(pattern: StringPattern): (value: string) => boolean {
  switch (pattern.kind) {
    case 'presence':
      return (v) => v.length > 0;
    case 'exact': {
      const x = pattern.value;
      return (v) => v === x;
    }
    case 'prefix': {
      const x = pattern.value;
      return (v) => v.startsWith(x);
    }
    case 'suffix': {
      const x = pattern.value;
      return (v) => v.endsWith(x);
    }
  }
}
