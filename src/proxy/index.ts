// The sidecar: inbound (mTLS → authz → guards → app) and outbound (app → mTLS) pipelines.
export { startProxy, type RunningProxy, type StartProxyOptions, type ProxyLog } from './proxy.js';
export { parseProxyConfig, loadProxyConfigFile, configFromFlags, parseHostPort } from './config.js';
export type { ProxyConfig, InboundConfig, OutboundConfig, RouteConfig, RateLimitConfig, BulkheadConfig, IdentityConfig, ProxyFlags, HostPort, JwtConfig, OutlierDetectionConfig } from './config.js';
export { ProxyError, type ProxyErrorCode } from './proxy-error.js';
export { compose, type Filter, type Handler } from './inbound-handler.js';
export { PEER_ID_HEADER } from './headers.js';
