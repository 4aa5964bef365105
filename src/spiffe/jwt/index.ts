export { JwtSvid, type ExpectedAudience } from './jwt-svid.js';
export { JwtSvidError, type JwtSvidErrorCode } from './jwt-svid-error.js';
export { ALLOWED_ALGORITHMS, type JwtSvidAlgorithmName } from './algorithms.js';
export { MAX_TOKEN_LENGTH } from './compact.js';
export { MAX_KEYS_TRIED_WITHOUT_KID } from './key-selection.js';
export { DEFAULT_LEEWAY_SECONDS, MAX_LEEWAY_SECONDS, type JwtSvidValidationOptions } from './validation-options.js';
