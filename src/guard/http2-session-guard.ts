/**
 * Per-session HTTP/2 guard (SECURITY-CASES 69): counts streams and
 * *premature resets* (the client reset the stream before the response
 * started) and closes the session with GOAWAY(ENHANCE_YOUR_CALM) once at
 * least `minStreams` (500) streams were opened and more than `maxResetRatio`
 * (50%) of them were reset prematurely — Envoy's `overload.premature_reset_*`
 * defaults. It also ends a session gracefully after `maxStreamsPerSession`
 * streams (requests per connection). nghttp2 in Node 20 has its own cap
 * (GOAWAY after ~1,000 rapid resets); this one is tighter and counted.
 */
import { constants, type Http2Session, type ServerHttp2Stream } from 'node:http2';

export interface Http2SessionGuardOptions {
  readonly minStreams?: number;
  readonly maxResetRatio?: number;
  /** Streams per session before a graceful GOAWAY; default 10,000. */
  readonly maxStreamsPerSession?: number;
  readonly onClose?: (reason: 'rapid-reset' | 'max-streams', streams: number, resets: number) => void;
}

export interface Http2SessionStats {
  streams: number;
  prematureResets: number;
}

export function guardHttp2Session(session: Http2Session, options: Http2SessionGuardOptions = {}): Http2SessionStats {
  const minStreams = options.minStreams ?? 500;
  const ratio = options.maxResetRatio ?? 0.5;
  const maxStreams = options.maxStreamsPerSession ?? 10_000;
  const stats: Http2SessionStats = { streams: 0, prematureResets: 0 };
  let closing = false;
  session.on('stream', (stream: ServerHttp2Stream) => {
    stats.streams++;
    if (!closing && stats.streams >= maxStreams) {
      closing = true;
      options.onClose?.('max-streams', stats.streams, stats.prematureResets);
      session.close();
    }
    stream.once('close', () => {
      if (stream.rstCode === constants.NGHTTP2_NO_ERROR || stream.headersSent) return;
      stats.prematureResets++;
      if (!closing && stats.streams >= minStreams && stats.prematureResets > stats.streams * ratio) {
        closing = true;
        options.onClose?.('rapid-reset', stats.streams, stats.prematureResets);
        session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM);
        session.destroy();
      }
    });
  });
  return stats;
}
