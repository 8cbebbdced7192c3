// The raw client over TLS, for the hostile-request tests against the HTTPS entrypoint: one
// self-signed certificate served for every name (what internal/certs offers the listener, cut
// down to the two callbacks), and a raw TLS connection that negotiates HTTP/1.1 by ALPN and then
// writes exact bytes, like raw-client.ts does over plain TCP.
import tls from 'node:tls';
import type { HttpsSource } from '../../internal/proxy/index.ts';
import { collect, type RawResult } from './raw-client.ts';
import { makeTestCert } from './test-certs.ts';

/** An HttpsSource serving one self-signed certificate (CN `names[0]`) whatever the SNI. */
export function singleCertSource(names: readonly string[]): { source: HttpsSource; certPem: string } {
  const c = makeTestCert(names);
  const ctx = tls.createSecureContext({ key: c.keyPem, cert: c.certPem });
  const source: HttpsSource = {
    tlsServerOptions: (protocols) => ({
      SNICallback: (_name, cb) => cb(null, ctx),
      ALPNCallback: ({ protocols: offered }) => protocols.find((p) => offered.includes(p)),
    }),
    attach: (server) => server.setSecureContext({ key: c.keyPem, cert: c.certPem }),
  };
  return { source, certPem: c.certPem };
}

/** Open a TLS connection that negotiated `alpn` (HTTP/1.1 by default); certificates are not checked. */
export function rawTlsConnect(port: number, alpn = 'http/1.1', servername = 'app.test'): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, ALPNProtocols: [alpn] }, () => {
      s.off('error', reject);
      if (s.alpnProtocol !== alpn) {
        s.destroy();
        reject(new Error(`ALPN gave ${String(s.alpnProtocol)}, not ${alpn}`));
      } else resolve(s);
    });
    s.once('error', reject);
  });
}

/** Send exact bytes (latin1 when a string) over HTTP/1.1-in-TLS and collect the answer. */
export async function rawTlsRequest(port: number, data: string | Buffer, waitMs = 3000): Promise<RawResult> {
  const s = await rawTlsConnect(port);
  const p = collect(s, waitMs, typeof data === 'string' && data.startsWith('HEAD '));
  s.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  const r = await p;
  s.destroy();
  return r;
}
