import { encodePem } from '../../spiffe/pem.js';

/** DER certificates as concatenated PEM, leaf first. */
export const chainPem = (chain: readonly Buffer[]): string => chain.map((der) => encodePem('CERTIFICATE', der)).join('');

/** Epoch seconds of a Date. */
export { epochSeconds } from '../../duration.js';
