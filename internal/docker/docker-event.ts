// Which Docker events change what we route, and for which container. Pure, so the noisy cases
// (exec_* every healthcheck interval, attach, resize, top) are unit tested without an engine.

/** The fields of a /events message we read (API >= 1.22; older `status`/`id` kept as fallback). */
export interface DockerEventMessage {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  status?: string;
  id?: string;
  time?: number;
  timeNano?: number;
}

// kill/oom are always followed by die; restart by start; so they add nothing but inspects.
const containerActions = new Set(['create', 'start', 'restart', 'die', 'stop', 'destroy', 'pause', 'unpause', 'rename', 'update']);
const networkActions = new Set(['connect', 'disconnect']);

/** The event filter sent to Docker: only container and network events. */
export const EVENT_FILTERS = { type: ['container', 'network'] } as const;

/**
 * The container ID whose record this event may have changed, or undefined when the event is
 * noise (exec_*, attach, resize, network create, ...).
 */
export function affectedContainer(ev: DockerEventMessage): string | undefined {
  const action = ev.Action ?? ev.status ?? '';
  const type = ev.Type ?? (ev.status !== undefined ? 'container' : '');
  if (type === 'container') {
    if (!containerActions.has(action) && !action.startsWith('health_status')) return undefined;
    const id = ev.Actor?.ID ?? ev.id;
    return id ? id : undefined;
  }
  if (type === 'network' && networkActions.has(action)) {
    const id = ev.Actor?.Attributes?.['container'];
    return id ? id : undefined;
  }
  return undefined;
}

/** Splits a chunked newline-delimited JSON stream into messages; keeps the partial tail. */
export class EventLineParser {
  private buffer = '';

  /** Feeds one chunk; returns the complete messages it finished. Garbage lines are skipped. */
  push(chunk: string): { events: DockerEventMessage[]; bad: number } {
    this.buffer += chunk;
    const events: DockerEventMessage[] = [];
    let bad = 0;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (!line) continue;
      try {
        const parsed: unknown = JSON.parse(line);
        if (parsed && typeof parsed === 'object') events.push(parsed);
        else bad++;
      } catch {
        bad++;
      }
    }
    // Old engines send one JSON object per chunk without a newline: accept a complete one.
    if (this.buffer.length > 0 && this.buffer.trimEnd().endsWith('}')) {
      try {
        const parsed: unknown = JSON.parse(this.buffer);
        if (parsed && typeof parsed === 'object') {
          events.push(parsed);
          this.buffer = '';
        }
      } catch {
        // incomplete: wait for more
      }
    }
    if (this.buffer.length > 1_000_000) {
      this.buffer = '';
      bad++;
    }
    return { events, bad };
  }
}
