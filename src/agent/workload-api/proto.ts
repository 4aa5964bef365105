/**
 * The official Workload API proto (proto/workload.proto, vendored byte for
 * byte: no package, so method paths are `/SpiffeWorkloadAPI/<Method>`),
 * loaded with protobufjs; `google/protobuf/struct.proto` comes from
 * protobufjs's bundled common types. Field names are kept as in the proto
 * (`spiffe_id`, `x509_svid`).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

export const SERVICE_NAME = 'SpiffeWorkloadAPI';

/** proto/workload.proto from src/agent/workload-api (tsx) or dist/agent/workload-api (built). */
export function workloadProtoPath(): string {
  for (const rel of ['../../../proto/workload.proto', '../../../../proto/workload.proto']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error('proto/workload.proto not found next to the package');
}

export interface WorkloadProto {
  readonly X509SVIDRequest: protobuf.Type;
  readonly X509SVIDResponse: protobuf.Type;
  readonly X509BundlesRequest: protobuf.Type;
  readonly X509BundlesResponse: protobuf.Type;
  readonly JWTSVIDRequest: protobuf.Type;
  readonly JWTSVIDResponse: protobuf.Type;
  readonly JWTBundlesRequest: protobuf.Type;
  readonly JWTBundlesResponse: protobuf.Type;
  readonly ValidateJWTSVIDRequest: protobuf.Type;
  readonly ValidateJWTSVIDResponse: protobuf.Type;
  readonly WITSVIDRequest: protobuf.Type;
  readonly WITBundlesRequest: protobuf.Type;
}

let loaded: WorkloadProto | undefined;

export function workloadProto(): WorkloadProto {
  if (loaded !== undefined) return loaded;
  const root = new protobuf.Root().loadSync(workloadProtoPath(), { keepCase: true });
  const t = (name: string): protobuf.Type => root.lookupType(name);
  loaded = Object.freeze({
    X509SVIDRequest: t('X509SVIDRequest'),
    X509SVIDResponse: t('X509SVIDResponse'),
    X509BundlesRequest: t('X509BundlesRequest'),
    X509BundlesResponse: t('X509BundlesResponse'),
    JWTSVIDRequest: t('JWTSVIDRequest'),
    JWTSVIDResponse: t('JWTSVIDResponse'),
    JWTBundlesRequest: t('JWTBundlesRequest'),
    JWTBundlesResponse: t('JWTBundlesResponse'),
    ValidateJWTSVIDRequest: t('ValidateJWTSVIDRequest'),
    ValidateJWTSVIDResponse: t('ValidateJWTSVIDResponse'),
    WITSVIDRequest: t('WITSVIDRequest'),
    WITBundlesRequest: t('WITBundlesRequest'),
  });
  return loaded;
}

/** Encodes `value` as `type` (plain objects with the proto's field names). */
export function encode(type: protobuf.Type, value: Record<string, unknown>): Uint8Array {
  return type.encode(type.fromObject(value)).finish();
}

/** A JSON value as google.protobuf.Value (plain object form for fromObject). */
function toValue(v: unknown): Record<string, unknown> {
  if (v === null || v === undefined) return { nullValue: 0 };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } };
  if (typeof v === 'object') return { structValue: toStruct(v as Record<string, unknown>) };
  return { stringValue: String(v) };
}

/** JSON claims as google.protobuf.Struct (protobufjs keeps Struct's own field names: `fields`, `numberValue`, …). */
export function toStruct(obj: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) fields[k] = toValue(v);
  return { fields };
}
