import assert from 'node:assert/strict';
import { X509SvidError, type X509SvidErrorCode } from '../../../src/spiffe/x509/index.js';

/** Asserts that `fn` throws an X509SvidError with `code`; returns the error for message checks. */
export function assertX509Code(fn: () => unknown, code: X509SvidErrorCode): X509SvidError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof X509SvidError, `expected X509SvidError ${code}, got ${caught === undefined ? 'no error' : String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, /^x509svid: /);
  return caught;
}
