// After a real 101 from the upstream: relay the 101 head to the client, then splice the two
// sockets. Tunnels are long-lived, so no idle timeout: TCP keepalive finds dead peers, and
// the drain deadline closes what is left. A FIN from either side ends the tunnel: websockets
// close with their own handshake, so a half-open TCP connection carries nothing more, and
// node:http sockets allow half-open, so without this a client that closed (FIN) against an
// upstream that keeps its half open left the tunnel, and a graceful drain, waiting forever.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ProxyState } from './proxy-state.ts';
import { responseHead } from './forwarding.ts';

const KEEPALIVE_MS = 30_000;

export function openTunnel(
  state: ProxyState, client: Socket, upstream: Duplex, statusCode: number, rawHeaders: (Buffer | string)[],
  head: Buffer | undefined, onClosed: (bytesToClient: number) => void, setCookie?: string,
): void {
  const hdrs = responseHead(rawHeaders).headers;
  let out = `HTTP/1.1 ${statusCode} Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n`;
  for (let i = 0; i < hdrs.length; i += 2) out += `${hdrs[i]!}: ${hdrs[i + 1]!}\r\n`;
  // A sticky pool pins a websocket-only client too (the cookie value is our own, header-safe).
  if (setCookie !== undefined) out += `set-cookie: ${setCookie}\r\n`;
  out += '\r\n';
  client.setTimeout(0);
  client.setKeepAlive(true, KEEPALIVE_MS);
  (upstream as Socket).setKeepAlive?.(true, KEEPALIVE_MS);
  state.tunnels.add(client);
  state.tunnels.add(upstream);
  const startBytes = client.bytesWritten;
  let closed = 0;
  const onClose = (): void => {
    client.destroy();
    upstream.destroy();
    if (++closed === 2) {
      state.tunnels.delete(client);
      state.tunnels.delete(upstream);
      onClosed(client.bytesWritten - startBytes);
    }
  };
  const onError = (): void => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', onError);
  upstream.on('error', onError);
  // pipe() passes the FIN on (ends the other side); once that is flushed, close both.
  const onEnd = (other: Duplex) => (): void => {
    if (other.writableFinished || other.destroyed) onError();
    else other.once('finish', onError);
  };
  client.once('end', onEnd(upstream));
  upstream.once('end', onEnd(client));
  client.once('close', onClose);
  upstream.once('close', onClose);
  client.write(out, 'latin1');
  // bytes the client sent after its request head: only now, inside an accepted tunnel
  if (head !== undefined && head.length > 0) upstream.write(head);
  upstream.pipe(client);
  client.pipe(upstream);
  client.resume();
}
