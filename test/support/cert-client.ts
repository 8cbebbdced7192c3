// A TLS client for certificate tests: connects to a real listener with a given SNI and reports
// the certificate it was shown, and whether its chain verifies against a given root.
import { X509Certificate } from 'node:crypto';
import { connect, type PeerCertificate } from 'node:tls';

export interface SeenCert {
  /** Serial number (hex, upper-case as node:crypto gives it). */
  serial: string;
  /** DNS names of the leaf. */
  names: string[];
  /** True when the chain verified against `ca` for the SNI name (or no `ca` was given). */
  authorized: boolean;
  authorizationError: string | undefined;
  alpn: string | false;
  pem: string;
}

/** Handshakes with 127.0.0.1:`port` sending `servername` (none when undefined). */
export function handshake(port: number, servername: string | undefined, opts: { ca?: string; alpn?: string[] } = {}): Promise<SeenCert> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1', port,
      ...(servername === undefined ? {} : { servername }),
      rejectUnauthorized: false,
      ...(opts.ca ? { ca: opts.ca } : {}),
      ...(opts.alpn ? { ALPNProtocols: opts.alpn } : {}),
      checkServerIdentity: () => undefined,
    }, () => {
      const peer: PeerCertificate = socket.getPeerCertificate(false);
      const x = new X509Certificate(peer.raw);
      const names = (x.subjectAltName ?? '').split(/,\s*/).filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4));
      const seen: SeenCert = {
        serial: x.serialNumber, names, authorized: socket.authorized,
        authorizationError: socket.authorizationError === null ? undefined : String(socket.authorizationError),
        alpn: socket.alpnProtocol ?? false, pem: x.toString(),
      };
      socket.end();
      resolve(seen);
    });
    socket.on('error', reject);
    socket.setTimeout(15_000, () => socket.destroy(new Error('handshake timed out')));
  });
}
