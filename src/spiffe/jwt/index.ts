export { JwtSvid, type ExpectedAudience } from './jwt-svid.js';
export { JwtSvidError, type JwtSvidErrorCode } from './jwt-svid-error.js';
export { JWT_SVID_ALGORITHMS, type JwtSvidAlgorithmName } from './algorithms.js';
export { MAX_JWT_SVID_LENGTH } from './compact.js';
export { JWT_SVID_MAX_KEYS_TRIED_WITHOUT_KID } from './key-selection.js';
export { JWT_SVID_DEFAULT_LEEWAY_SECONDS, JWT_SVID_MAX_LEEWAY_SECONDS, type JwtSvidValidationOptions } from './validation-options.js';
