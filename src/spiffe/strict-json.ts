/**
 * JSON parsing that refuses duplicate object members. `JSON.parse` silently
 * keeps the last duplicate, which lets two readers of one document disagree
 * (SPIFFE bundle maps and JWT claims must reject them). A single linear scan
 * finds duplicates; `JSON.parse` then does the real parsing.
 */
export class DuplicateMemberError extends Error {
  constructor(readonly member: string) {
    super(`duplicate member ${JSON.stringify(member)}`);
  }
}

/** Parses JSON text; throws SyntaxError for bad JSON and DuplicateMemberError for duplicates. */
export function parseStrictJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  if (text.indexOf('{') !== -1) assertNoDuplicateMembers(text);
  return value;
}

/** Scans already-valid JSON text for an object holding the same member twice. */
function assertNoDuplicateMembers(text: string): void {
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = endOfString(text, i);
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.has(key)) throw new DuplicateMemberError(key);
        top.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] != null;
    }
  }
}

function endOfString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c /* \ */) i++;
    else if (c === 0x22) return i;
  }
  return text.length - 1;
}
