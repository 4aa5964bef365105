/**
 * IP addresses and CIDR ranges, parsed as strictly as Go's netip (Istio
 * validates with it): no leading zeros in IPv4, no zones in ranges. Host bits
 * in a range are masked (`10.1.2.3/16` is `10.1.0.0/16`). An IPv4 address
 * never falls in an IPv6 range and the reverse.
 */

export interface IpAddress {
  readonly family: 4 | 6;
  /** One 32-bit word for IPv4, four for IPv6, most significant first. */
  readonly words: readonly number[];
}

export interface CidrRange extends IpAddress {
  readonly bits: number;
}

export function parseIp(text: string): IpAddress | null {
  if (text.includes(':')) {
    const words = parseIpv6(text);
    if (!words) return null;
    // Node reports IPv4 peers on dual-stack sockets as ::ffff:a.b.c.d; match them as IPv4.
    if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) return { family: 4, words: [words[3]!] };
    return { family: 6, words };
  }
  const v4 = parseIpv4(text);
  return v4 === null ? null : { family: 4, words: [v4] };
}

/** A policy IP value: a bare address (a /32 or /128) or `addr/bits`. Mapped IPv6 stays IPv6 here. */
export function parseCidr(text: string): CidrRange | null {
  const slash = text.indexOf('/');
  const addrText = slash === -1 ? text : text.slice(0, slash);
  const words = addrText.includes(':') ? parseIpv6(addrText) : wrap(parseIpv4(addrText));
  if (!words) return null;
  const family: 4 | 6 = words.length === 1 ? 4 : 6;
  const max = family === 4 ? 32 : 128;
  let bits = max;
  if (slash !== -1) {
    const bitsText = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(bitsText)) return null;
    bits = Number(bitsText);
    if (bits > max) return null;
  }
  return { family, bits, words: maskWords(words, bits) };
}

export function cidrContains(range: CidrRange, ip: IpAddress): boolean {
  if (range.family !== ip.family) return false;
  const masked = maskWords(ip.words, range.bits);
  for (let i = 0; i < masked.length; i++) if (masked[i] !== range.words[i]) return false;
  return true;
}

export function formatCidr(range: CidrRange): string {
  const addr =
    range.family === 4
      ? [24, 16, 8, 0].map((s) => (range.words[0]! >>> s) & 255).join('.')
      : range.words.flatMap((w) => [(w >>> 16).toString(16), (w & 0xffff).toString(16)]).join(':');
  return `${addr}/${range.bits}`;
}

function wrap(v: number | null): number[] | null {
  return v === null ? null : [v];
}

function maskWords(words: readonly number[], bits: number): number[] {
  return words.map((w, i) => {
    const keep = Math.max(0, Math.min(32, bits - i * 32));
    if (keep === 0) return 0;
    if (keep === 32) return w >>> 0;
    return (w & ~((1 << (32 - keep)) - 1)) >>> 0;
  });
}

/** Dotted quad, each part 0-255 without leading zeros (as Go's netip); a hand loop, as it runs per request. */
function parseIpv4(text: string): number | null {
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i === text.length ? 0x2e : text.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || part > 255 || parts === 4) return null;
      value = value * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && part === 0) return null;
      part = part * 10 + (c - 0x30);
      if (++digits > 3) return null;
    } else {
      return null;
    }
  }
  return parts === 4 ? value >>> 0 : null;
}

function parseIpv6(text: string): number[] | null {
  if (text.includes('%')) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : halves[1]!.split(':')) : [];
  const groups: number[] = [];
  const toGroups = (list: string[], isLast: boolean): number[] | null => {
    const out: number[] = [];
    for (let i = 0; i < list.length; i++) {
      const g = list[i]!;
      if (isLast && i === list.length - 1 && g.includes('.')) {
        const v4 = parseIpv4(g);
        if (v4 === null) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) {
        out.push(parseInt(g, 16));
      } else return null;
    }
    return out;
  };
  const h = toGroups(head, halves.length === 1);
  const t = toGroups(tail, true);
  if (!h || !t) return null;
  if (halves.length === 1) {
    if (h.length !== 8) return null;
    groups.push(...h);
  } else {
    const missing = 8 - h.length - t.length;
    if (missing < 1) return null;
    groups.push(...h, ...new Array<number>(missing).fill(0), ...t);
  }
  const words: number[] = [];
  for (let i = 0; i < 8; i += 2) words.push(((groups[i]! << 16) | groups[i + 1]!) >>> 0);
  return words;
}
