/**
 * Durations as operators write them: `90s`, `5m`, `1h`, `24h`, `7d`, or plain
 * seconds (`300`, as spire-server takes TTLs). Leaf module, shared by the CLI
 * and configuration.
 */
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
const DURATION = /^(\d{1,9})(s|m|h|d)?$/;

/** Seconds in `text`, or a string saying why it is not a duration. */
export function parseDurationSeconds(text: string): number | string {
  const match = DURATION.exec(text.trim());
  if (!match) return `"${text}" is not a duration (expected a whole number with an optional unit s, m, h or d, e.g. 90s, 5m, 1h)`;
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2] ?? 's']!;
  if (seconds <= 0) return `"${text}" must be longer than zero`;
  return seconds;
}

/** `3600` → `1h`, `90` → `90s`: the shortest exact form. */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** Whole seconds since the epoch, as the datastore and JWTs count time. */
export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
