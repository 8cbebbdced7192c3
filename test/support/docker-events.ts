// Docker's own container events, collected from the engine's event stream: e2e tests count
// starts and stops from Docker itself, not from Bellhop, so a second start or a missed stop
// cannot hide.
import type Docker from 'dockerode';

export interface DockerEvent {
  id: string;
  action: string;
  /** ms since epoch, from Docker's timeNano. */
  at: number;
}

/** Collects Docker's container events for the given IDs from now on. */
export async function watchEvents(docker: Docker, ids: () => string[]): Promise<{ events: DockerEvent[]; count(id: string, action: string): number; close(): void }> {
  const events: DockerEvent[] = [];
  const stream = (await docker.getEvents({ filters: { type: ['container'] } })) as NodeJS.ReadableStream & { destroy(): void };
  let buf = '';
  stream.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (!line) continue;
      const e = JSON.parse(line) as { id?: string; Action?: string; status?: string; timeNano?: number };
      const id = e.id ?? '';
      if (!ids().includes(id)) continue;
      events.push({ id, action: (e.Action ?? e.status ?? '').split(':')[0]!, at: Math.round((e.timeNano ?? 0) / 1e6) });
    }
  });
  stream.on('error', () => undefined);
  return {
    events,
    count: (id, action) => events.filter((e) => e.id === id && e.action === action).length,
    close: () => stream.destroy(),
  };
}
