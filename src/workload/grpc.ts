/**
 * mTLS with SPIFFE authorization for @grpc/grpc-js.
 *
 * Server (`grpcServerCredentials(source, authorize)`): grpc-js builds its own
 * HTTP/2 server and gives no per-connection hook, so the check is a server
 * interceptor that the credentials carry (`_getInterceptors`). grpc-js puts
 * credential interceptors first, before any the application adds, on EVERY
 * call, so it cannot be skipped. It verifies the peer's full chain (read
 * from the connection's TLS socket, once per HTTP/2 session, cached) against
 * the bundle of the peer's trust domain, then the authorizer; a failure
 * ends the call with UNAUTHENTICATED (no/invalid SVID) or PERMISSION_DENIED
 * (not authorized) before the handler runs. If grpc-js internals ever stop
 * exposing the socket, every call fails closed. The verified ID reaches
 * handlers as metadata `x-meshward-spiffe-id` (any client-sent value is
 * removed first) and through `grpcPeerSpiffeId(call)`. Credentials rotate
 * with the source (grpc-js calls `setSecureContext`).
 *
 * Client (`grpcChannelCredentials(source, authorize)`): a connector that
 * opens each connection with the source's CURRENT SVID, no session reuse,
 * TLS 1.3, and runs the SPIFFE check on `secureConnect` before grpc-js may
 * use the socket.
 */
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Http2Session } from 'node:http2';
import type { Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { Authorizer } from '../spiffe/authorizers.js';
import type { SpiffeId } from '../spiffe/spiffe-id.js';
import type { X509Svid } from '../spiffe/x509/x509-svid.js';
import { secureContextFor } from './secure-context-cache.js';
import { checkMtlsArguments, serverContextOptions, type MtlsSource, type MtlsTlsOptions } from './tls-options.js';
import { onSourceUpdate } from './updates.js';
import { PeerVerificationError, verifyTlsPeer } from './verify-peer.js';

export const SPIFFE_ID_METADATA_KEY = 'x-meshward-spiffe-id';

const sessionResults = new WeakMap<object, SpiffeId | PeerVerificationError>();

class SpiffeServerCredentials extends grpc.ServerCredentials {
  readonly #interceptor: grpc.ServerInterceptor;

  constructor(source: MtlsSource, authorize: Authorizer, options?: MtlsTlsOptions) {
    const ctx = serverContextOptions(source.getX509Svid(), options);
    super({ requestCert: true, rejectUnauthorized: false }, ctx);
    let current: X509Svid = source.getX509Svid();
    onSourceUpdate(source, () => {
      try {
        const next = source.getX509Svid();
        if (next === current) return;
        current = next;
        this.updateSecureContextOptions(serverContextOptions(next, options));
      } catch {
        // no identity right now: keep the last context until it expires
      }
    });
    this.#interceptor = (_method, call) => {
      const result = checkCall(call, source, authorize);
      return new grpc.ServerInterceptingCall(call, {
        start: (next) => {
          if (result instanceof Error) {
            const code = result.code === 'ERR_PEER_UNAUTHORIZED' ? grpc.status.PERMISSION_DENIED : grpc.status.UNAUTHENTICATED;
            call.sendStatus({ code, details: result.message, metadata: new grpc.Metadata() });
            return;
          }
          next({
            onReceiveMetadata: (metadata, nextMetadata) => {
              metadata.remove(SPIFFE_ID_METADATA_KEY);
              metadata.set(SPIFFE_ID_METADATA_KEY, result.toString());
              nextMetadata(metadata);
            },
          });
        },
      });
    };
  }

  override _getInterceptors(): grpc.ServerInterceptor[] {
    return [this.#interceptor];
  }

  _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

function checkCall(call: grpc.ServerInterceptingCallInterface, source: MtlsSource, authorize: Authorizer): SpiffeId | PeerVerificationError {
  // grpc-js 1.x: the base call holds the HTTP/2 stream; credential interceptors wrap the base call directly
  const session = (call as unknown as { stream?: { session?: Http2Session } }).stream?.session;
  const socket = session?.socket as TLSSocket | undefined;
  if (!session || typeof socket?.getPeerCertificate !== 'function') {
    return new PeerVerificationError('ERR_PEER_NO_CERTIFICATE', 'cannot read the TLS peer of this call (grpc-js internals changed?): refusing');
  }
  let result = sessionResults.get(session);
  if (result === undefined) {
    try {
      source.getX509Svid();
      result = verifyTlsPeer(socket, source, authorize);
    } catch (err) {
      result = err instanceof PeerVerificationError ? err : new PeerVerificationError('ERR_PEER_UNAUTHORIZED', (err as Error).message);
    }
    sessionResults.set(session, result);
  }
  return result;
}

/** Server credentials for `server.bindAsync(address, grpcServerCredentials(source, authorize), …)`. */
export function grpcServerCredentials(source: MtlsSource, authorize: Authorizer, options?: MtlsTlsOptions): grpc.ServerCredentials {
  checkMtlsArguments(source, authorize);
  return new SpiffeServerCredentials(source, authorize, options);
}

/** The verified SPIFFE ID of a call on a server using `grpcServerCredentials`. */
export function grpcPeerSpiffeId(call: { metadata: grpc.Metadata }): string | undefined {
  const v = call.metadata.get(SPIFFE_ID_METADATA_KEY);
  return v.length === 1 ? String(v[0]) : undefined;
}

class SpiffeChannelCredentials extends grpc.ChannelCredentials {
  readonly #source: MtlsSource;
  readonly #authorize: Authorizer;
  readonly #call: grpc.CallCredentials | undefined;

  constructor(source: MtlsSource, authorize: Authorizer, callCredentials?: grpc.CallCredentials) {
    super();
    this.#source = source;
    this.#authorize = authorize;
    this.#call = callCredentials;
  }

  override compose(callCredentials: grpc.CallCredentials): grpc.ChannelCredentials {
    return new SpiffeChannelCredentials(this.#source, this.#authorize, this.#call ? this.#call.compose(callCredentials) : callCredentials);
  }

  _isSecure(): boolean {
    return true;
  }

  _equals(other: grpc.ChannelCredentials): boolean {
    return other === this;
  }

  _createSecureConnector(_target: unknown, _options: unknown, callCredentials?: grpc.CallCredentials) {
    const source = this.#source;
    const authorize = this.#authorize;
    const creds = (callCredentials ?? this.#call ?? grpc.CallCredentials.createEmpty()) as grpc.CallCredentials;
    return {
      connect(socket: Socket) {
        return new Promise<{ socket: Socket; secure: boolean }>((resolve, reject) => {
          let svid: X509Svid;
          try {
            svid = source.getX509Svid();
          } catch (err) {
            reject(err);
            return;
          }
          const tls = tlsConnect({ socket, secureContext: secureContextFor(svid), minVersion: 'TLSv1.3', rejectUnauthorized: false, ALPNProtocols: ['h2'] });
          tls.once('secureConnect', () => {
            try {
              verifyTlsPeer(tls, source, authorize);
              resolve({ socket: tls, secure: true });
            } catch (err) {
              tls.destroy();
              reject(err);
            }
          });
          tls.once('error', reject);
        });
      },
      waitForReady: () => Promise.resolve(),
      getCallCredentials: () => creds,
      destroy() {},
    };
  }
}

/** Channel credentials for `new Client(address, grpcChannelCredentials(source, authorize))`. */
export function grpcChannelCredentials(source: MtlsSource, authorize: Authorizer): grpc.ChannelCredentials {
  checkMtlsArguments(source, authorize);
  return new SpiffeChannelCredentials(source, authorize);
}
