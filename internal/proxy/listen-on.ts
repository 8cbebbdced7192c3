// Listening on a parsed address, for the plain and the TLS entrypoint alike: resolves with the
// bound address (port 0 picks a free one), rejects with the bind error (EADDRINUSE, EACCES).
import type { AddressInfo, Server } from 'node:net';
import type { ListenAddress } from '../config/index.ts';

export function listenOn(server: Server, addr: ListenAddress): Promise<AddressInfo> {
  return new Promise<AddressInfo>((resolve, reject) => {
    const onErr = (err: Error): void => reject(err);
    server.once('error', onErr);
    server.listen(addr.port, addr.host, () => {
      server.off('error', onErr);
      resolve(server.address() as AddressInfo);
    });
  });
}
