/**
 * Live sources are EventEmitters with an `update` event; static values are
 * not. Consumers (servers, gRPC credentials) subscribe when they can.
 */
export interface UpdateEmitter {
  on(event: 'update', listener: () => void): unknown;
  off(event: 'update', listener: () => void): unknown;
}

export function isUpdateEmitter(value: unknown): value is UpdateEmitter {
  return typeof value === 'object' && value !== null && typeof (value as UpdateEmitter).on === 'function' && typeof (value as UpdateEmitter).off === 'function';
}

/** Subscribes to `update` when the source has it; returns the unsubscribe function. */
export function onSourceUpdate(source: unknown, listener: () => void): () => void {
  if (!isUpdateEmitter(source)) return () => {};
  source.on('update', listener);
  return () => source.off('update', listener);
}
