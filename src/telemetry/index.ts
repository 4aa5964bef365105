export {
  parseTraceparent,
  formatTraceparent,
  continueTrace,
  newSpanId,
  newTraceId,
  type TraceParent,
  type TraceContext,
  type ContinueTraceOptions,
} from './trace-context.js';
export { parseTracestate, MAX_TRACESTATE_LENGTH, MAX_TRACESTATE_MEMBERS } from './tracestate.js';
export { LabelCap, OTHER } from './label-cap.js';
export {
  createProxyMetrics,
  DURATION_BUCKETS,
  type ProxyMetrics,
  type ProxyMetricsOptions,
  type RequestObservation,
  type CircuitState,
} from './proxy-metrics.js';
export { createMetricsHandler, startMetricsServer, type MetricsServerOptions } from './metrics-server.js';
export { createLogger, REDACT_PATHS, type LoggerFactoryOptions } from './logger.js';
