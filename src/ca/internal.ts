/**
 * Module-internal access to private keys, for storage only. The symbol is not
 * exported from `index.ts`, so the public API never hands a private key out.
 */
export const kPrivateKey: unique symbol = Symbol('meshward.ca.privateKey');

/** Seconds-precision helpers: certificate times have whole seconds. */
export const floorSeconds = (ms: number): Date => new Date(Math.floor(ms / 1000) * 1000);
export const ceilSeconds = (ms: number): Date => new Date(Math.ceil(ms / 1000) * 1000);

/** How far notBefore is backdated to absorb clock skew (SPIRE: 10 s). */
export const BACKDATE_MS = 10_000;
