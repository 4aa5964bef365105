/** Where the CLI finds a local CA when `--dir` is not given. */
import { loadCaDirectory, type CertificateAuthority } from '../ca/index.js';
import { UsageError } from './usage-error.js';

export const DEFAULT_CA_DIR = '.meshward/ca';

export function openCa(dir: string): CertificateAuthority {
  try {
    return loadCaDirectory(dir);
  } catch (err) {
    throw new UsageError(`--dir ${dir}: ${(err as Error).message}`);
  }
}
