/**
 * The one base class for every meshward error. It is a leaf module (it imports
 * nothing), so the pure layers (`spiffe`, `policy`) may share it without
 * depending on anything else of ours.
 *
 * Every error carries a stable `code` (`ERR_…`) that callers branch on; the
 * message says what was wrong and what was expected, and never holds secrets.
 */
const brand = Symbol.for('meshward.error');

export class MeshwardError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  /** `instanceof` holds across two copies of the package (as undici's errors do). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === MeshwardError) {
      return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
    }
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

Object.defineProperty(MeshwardError.prototype, brand, { value: true });
