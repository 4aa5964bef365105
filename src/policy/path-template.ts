/**
 * Istio path templates (Envoy URI templates): `{*}` is exactly one non-empty
 * segment, `{**}` zero or more characters including `/` and must be last.
 * `{*}` accepts any character but `/` (including `*`): a narrower template
 * would let a DENY be bypassed (Envoy CVE-2025-46821).
 */

export function isPathTemplate(value: string): boolean {
  return value.includes('{*}') || value.includes('{**}');
}

/** pchar per RFC 3986, the only literal characters a templated path may hold (plus `/`). */
const PCHAR = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%]*$/;

/** Returns why a templated path is invalid, or `null`. Mirrors Istio's validation. */
export function pathTemplateProblem(value: string): string | null {
  const ops: string[] = value.match(/\{\*\*?\}/g) ?? [];
  const doubleAt = ops.indexOf('{**}');
  if (doubleAt !== -1 && doubleAt !== ops.length - 1) return 'the {**} operator must be the last operator';
  const literal = value.replace(/\{\*\*?\}/g, '');
  if (literal.includes('{') || literal.includes('}')) return '"{" and "}" are only allowed as part of {*} or {**}';
  if (ops.length === 0) return null;
  for (const segment of value.split('/')) {
    if (segment === '{*}' || segment === '{**}') continue;
    if (segment.includes('{*')) return `operator must fill a whole segment, got "${segment}"`;
    if (segment.includes('*') || !PCHAR.test(segment)) return `invalid literal "${segment}" in a templated path`;
  }
  return null;
}

export function compilePathTemplate(template: string): (path: string) => boolean {
  const parts = template.split(/(\{\*\*\}|\{\*\})/);
  let source = '^';
  for (const part of parts) {
    if (part === '{**}') source += '.*';
    else if (part === '{*}') source += '[^/]+';
    else source += part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const re = new RegExp(source + '$', 's');
  return (path) => re.test(path);
}
