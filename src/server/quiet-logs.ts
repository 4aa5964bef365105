/** Fastify's per-request logging is off on every listener (the audit trail records actions; logs carry faults). */
import { LogController } from 'fastify';

export const quietRequests = (): { logController: LogController } => ({ logController: new LogController({ disableRequestLogging: true }) });
