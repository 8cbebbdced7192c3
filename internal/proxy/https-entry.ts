// The HTTPS entrypoint (docs/https.md): one TLS listener that picks the certificate by SNI and
// the protocol by ALPN, then hands each connection to the pipeline that already exists —
// `http/1.1` to the very node:http server of the plain entrypoint (its hygiene, timeouts,
// websockets and drain), `h2` to a node:http2 server whose requests go through h2-request.ts
// into the same Exchange. `acme-tls/1` handshakes (TLS-ALPN-01 validation) end after the
// handshake: the challenge certificate was the whole answer. A client offering only protocols
// Bellhop does not speak gets no ALPN and HTTP/1.1.
import type { Http2ServerRequest, Http2ServerResponse, Http2Session } from 'node:http2';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server as TlsServer, TlsOptions, TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { ListenAddress } from '../config/index.ts';
import { listenOn } from './listen-on.ts';

const { createServer: createH2Server } = process.getBuiltinModule('node:http2');
const { createServer: createTlsServer } = process.getBuiltinModule('node:tls');

/** Where the HTTPS entrypoint gets its certificates: internal/certs' CertManager fits as is. */
export interface HttpsSource {
  /**
   * node:tls's SNICallback (exact name, wildcard, main certificate) and ALPNCallback choosing
   * among `protocols`; `acme-tls/1` validation handshakes (TLS-ALPN-01) are the source's to
   * recognise and answer with the challenge certificate.
   */
  tlsServerOptions(protocols: readonly string[]): Pick<TlsOptions, 'SNICallback' | 'ALPNCallback'>;
  /** Keeps `server`'s default certificate (clients without SNI: no SNICallback) current. */
  attach(server: TlsServer): void;
}

export interface HttpsEntryOptions {
  h1: HttpServer;
  onH2Request: (req: Http2ServerRequest, res: Http2ServerResponse) => void;
  source: HttpsSource;
  /** entrypoint.timeouts: the TLS handshake must finish within headerMs; idle h2 sessions close after idleMs. */
  headerMs: number;
  idleMs: number;
  log: Logger;
}

export interface HttpsEntry {
  listen(addr: ListenAddress): Promise<AddressInfo>;
  /** Stop accepting; HTTP/2 sessions get GOAWAY and finish their streams; resolves when all are closed. */
  drain(): Promise<void>;
  /** The drain deadline: close what is left now. */
  destroySessions(): void;
  /** Close every session and the listener now. */
  close(): Promise<void>;
}

const ACME_TLS = 'acme-tls/1';

export function createHttpsEntry(o: HttpsEntryOptions): HttpsEntry {
  const sessions = new Set<Http2Session>();
  const h2 = createH2Server({
    // the same header budget as HTTP/1.1 (pkg/http counts lines; HPACK sizes are separate)
    maxHeaderListPairs: 256,
    settings: { maxConcurrentStreams: 128 },
  });
  h2.on('request', o.onH2Request);
  h2.on('session', (s: Http2Session) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
    s.setTimeout(o.idleMs, () => s.close());
  });
  h2.on('sessionError', (err) => o.log.debug({ err: (err as NodeJS.ErrnoException).code ?? err.message }, 'http2 session error'));

  const tls = createTlsServer({ ...o.source.tlsServerOptions(['h2', 'http/1.1']), handshakeTimeout: o.headerMs });
  o.source.attach(tls);
  tls.on('secureConnection', (socket: TLSSocket) => {
    const proto = socket.alpnProtocol;
    if (proto === ACME_TLS) {
      socket.end();
      return;
    }
    if (proto === 'h2') h2.emit('connection', socket);
    else o.h1.emit('connection', socket);
  });
  tls.on('tlsClientError', (err: NodeJS.ErrnoException, socket) => {
    o.log.debug({ err: err.code ?? err.message, remote: socket.remoteAddress }, 'tls handshake failed');
    socket.destroy();
  });
  tls.on('error', (err) => o.log.error({ err }, 'https server error'));

  return {
    listen: (addr) => listenOn(tls, addr),
    drain() {
      if (tls.listening) tls.close();
      return Promise.all([...sessions].map((s) => new Promise<void>((resolve) => {
        if (s.closed || s.destroyed) resolve();
        else s.close(() => resolve());
      }))).then(() => undefined);
    },
    destroySessions() {
      for (const s of sessions) s.destroy();
    },
    async close() {
      const closed = new Promise<void>((resolve) => {
        if (!tls.listening) resolve();
        else tls.close(() => resolve());
      });
      for (const s of sessions) s.destroy();
      await closed;
    },
  };
}
