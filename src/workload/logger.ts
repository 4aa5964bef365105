/** The logger the SDK writes to: pino-compatible (`warn(obj, msg)`), pino to stderr by default. */
import { pino, destination } from 'pino';

export interface WorkloadLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

let defaultLogger: WorkloadLogger | undefined;

export function sdkLogger(logger?: WorkloadLogger): WorkloadLogger {
  if (logger) return logger;
  defaultLogger ??= pino({ name: 'meshward.workload', level: process.env.MESHWARD_LOG_LEVEL ?? 'warn' }, destination(2));
  return defaultLogger;
}
