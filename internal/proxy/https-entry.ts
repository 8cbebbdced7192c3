// The HTTPS entrypoint (docs/https.md): one TLS listener that picks the certificate by SNI and
// the protocol by ALPN, then hands each connection to the pipeline that already exists —
// `http/1.1` to the very node:http server of the plain entrypoint (its hygiene, timeouts,
// websockets and drain), `h2` to a node:http2 server whose requests go through h2-request.ts
// into the same Exchange. `acme-tls/1` handshakes (TLS-ALPN-01 validation) end after the
// handshake: the challenge certificate was the whole answer.
import { createServer as createH2Server, type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from 'node:http2';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer, type SecureContext, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { ListenAddress } from '../config/index.ts';

/** Where the HTTPS entrypoint gets its certificates (internal/certs behind it). */
export interface HttpsSource {
  /** The context for a server name (exact, then wildcard, then the main certificate); no SNI: ''. */
  contextFor(servername: string): SecureContext | undefined;
  /**
   * TLS-ALPN-01: the challenge context for a name being validated now, or undefined. Asked only
   * for handshakes that offer `acme-tls/1` (which browsers never do).
   */
  acmeTlsContext?(servername: string): SecureContext | undefined;
  /**
   * PEM key and chain of the main certificate, for handshakes without SNI (node:tls asks
   * SNICallback only when the client sent a name). Read at listen and on `refresh()`.
   */
  mainCredentials(): { key: string | Buffer; cert: string | Buffer } | undefined;
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
  /** The main certificate changed: handshakes without SNI get the new one from now on. */
  refresh(): void;
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

  // ALPN is chosen before the certificate (OpenSSL calls the ALPN hook first, then the SNI one,
  // for the same ClientHello, synchronously): the ACME verdict is handed over in between.
  let acmeFor: string | undefined;
  const tls = createTlsServer({
    ALPNCallback: ({ servername, protocols }) => {
      acmeFor = undefined;
      if (protocols.includes(ACME_TLS) && o.source.acmeTlsContext?.(servername ?? '') !== undefined) {
        acmeFor = servername ?? '';
        return ACME_TLS;
      }
      if (protocols.includes('h2')) return 'h2';
      if (protocols.includes('http/1.1')) return 'http/1.1';
      // a client that offers only protocols we do not speak: no ALPN, HTTP/1.1 by default
      return undefined;
    },
    SNICallback: (servername, cb) => {
      const acme = acmeFor === servername ? o.source.acmeTlsContext?.(servername) : undefined;
      acmeFor = undefined;
      cb(null, acme ?? o.source.contextFor(servername));
    },
    handshakeTimeout: o.headerMs,
  });
  // the main certificate for clients without SNI (IP addresses, old clients)
  const refresh = (): void => {
    const creds = o.source.mainCredentials();
    if (creds !== undefined) tls.setSecureContext(creds);
  };
  refresh();
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
    refresh,
    listen(addr) {
      return new Promise<AddressInfo>((resolve, reject) => {
        const onErr = (err: Error): void => reject(err);
        tls.once('error', onErr);
        tls.listen(addr.port, addr.host, () => {
          tls.off('error', onErr);
          resolve(tls.address() as AddressInfo);
        });
      });
    },
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
