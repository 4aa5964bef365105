/**
 * Bounds a label's cardinality: the first `max` distinct values are kept as
 * they are; every later new value is folded into `other`. Values are also
 * cut to `maxLength` characters. Prometheus keeps one series per label
 * combination, so an unbounded label (a SPIFFE ID chosen by whoever holds a
 * certificate of the trust domain) would otherwise grow memory without limit.
 */
export const OTHER = 'other';

export class LabelCap {
  readonly #seen = new Set<string>();
  #folded = 0;

  constructor(
    readonly max: number,
    readonly maxLength = 256,
    private readonly onFold?: () => void,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('telemetry: a label cap must be a positive integer');
  }

  /** The value to use as the label: itself while there is room, else `other`. Empty/nullish values become `none`. */
  value(raw: string | null | undefined): string {
    if (raw === null || raw === undefined || raw === '') return 'none';
    const v = raw.length > this.maxLength ? raw.slice(0, this.maxLength) : raw;
    if (this.#seen.has(v)) return v;
    if (this.#seen.size < this.max) {
      this.#seen.add(v);
      return v;
    }
    this.#folded += 1;
    this.onFold?.();
    return OTHER;
  }

  /** Distinct values kept so far (at most `max`). */
  get size(): number {
    return this.#seen.size;
  }

  /** How many times a value was folded into `other`. */
  get folded(): number {
    return this.#folded;
  }
}
