// Every Docker call gets a deadline: a hung engine or socket proxy must never wedge the watcher
// or a wake. The AbortSignal tears the HTTP request down; the race guarantees we settle even if
// the client library ignores the signal somewhere.
import { DockerError } from './docker-error.ts';
import { toDockerError } from './docker-error.ts';

/** Runs `fn` with an AbortSignal that fires after `ms`; rejects with DOCKER_TIMEOUT then. */
export async function withTimeout<T>(ms: number, op: string, fn: (signal: AbortSignal) => Promise<T>, containerId?: string, outer?: AbortSignal): Promise<T> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const onOuter = (): void => ac.abort(outer?.reason);
  if (outer?.aborted) throw new DockerError('DOCKER_ABORTED', `Docker ${op}: aborted`, { op, containerId });
  outer?.addEventListener('abort', onOuter, { once: true });
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const where = containerId === undefined ? op : `${op} ${containerId}`;
      const err = new DockerError('DOCKER_TIMEOUT', `Docker ${where}: no answer within ${ms} ms`, { op, containerId });
      reject(err);
      ac.abort(err);
    }, ms);
  });
  const attempt = fn(ac.signal);
  try {
    return await Promise.race([attempt, deadline]);
  } catch (err) {
    if (err instanceof DockerError) throw err;
    if (outer?.aborted) throw new DockerError('DOCKER_ABORTED', `Docker ${op}: aborted`, { op, containerId, cause: err });
    throw toDockerError(err, op, containerId);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuter);
    // The loser of the race must not become an unhandled rejection.
    attempt.catch(() => undefined);
  }
}
