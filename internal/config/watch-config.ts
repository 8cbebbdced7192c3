// Hot reload. Watches the directory AND the file itself:
// - the directory, because editors and config managers replace files by writing a temp file and
//   renaming it over, which detaches a watch on the old inode;
// - the file, because a single-file Docker bind mount (`./config.yml:/app/config.yml`) is a mount
//   of the host's inode: a write on the host reaches a watch on that inode, but the directory
//   inside the container never hears of it. It also follows a symlink (Kubernetes ConfigMaps swap
//   a `..data` link, so the directory sees a change to another name). The file watch is re-armed
//   whenever the path points at a new inode, checked at every reload.
import type { FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { ConfigError } from './config-error.ts';
import { loadConfig, type LoadConfigOptions, type LoadConfigResult } from './load-config.ts';

const { statSync, watch } = process.getBuiltinModule('node:fs');
const { readFile } = process.getBuiltinModule('node:fs/promises');

export interface WatchConfigOptions extends Omit<LoadConfigOptions, 'path'> {
  /** Quiet time after the last change before re-reading; default 100 ms. */
  debounceMs?: number | undefined;
}

/**
 * Calls `onChange` with a fresh, validated result whenever the file's content changes (a valid
 * config, or the errors of a broken edit: keep running the old config and log them). Content
 * identical to the previous reload is not reported again (the first event after start always is,
 * so a change made between loadConfig and watchConfig is never lost). Watches the directory and
 * the file, so in-place writes through a single-file bind mount, rename-over saves and symlink
 * swaps are all seen. Returns an idempotent close.
 */
export function watchConfig(path: string, onChange: (result: LoadConfigResult) => void, options: WatchConfigOptions): () => void {
  const full = resolve(options.cwd, path);
  const dir = dirname(full);
  const name = basename(full);
  const debounceMs = options.debounceMs ?? 100;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let lastText: string | undefined;
  let reading = false;
  let again = false;
  let fileWatcher: FSWatcher | undefined;
  /** `dev:ino` of the inode fileWatcher is on. */
  let fileIdentity: string | undefined;
  /** The last failure to watch the file that was reported, so it is reported once. */
  let fileWatchFailure: string | undefined;

  /** (Re-)arms the watch on the file when the path now names another inode (or none). */
  function armFileWatch(): void {
    let identity: string | undefined;
    try {
      const st = statSync(full);
      identity = `${String(st.dev)}:${String(st.ino)}`;
    } catch {
      identity = undefined; // missing: the directory watch sees it come back
    }
    if (identity === fileIdentity && (fileWatcher !== undefined || identity === undefined)) return;
    fileWatcher?.close();
    fileWatcher = undefined;
    fileIdentity = undefined;
    if (identity === undefined) return;
    try {
      const w = watch(full, { persistent: false }, () => schedule());
      // A watch on a deleted or replaced inode may fail on some platforms; the next reload
      // re-arms it on whatever the path names then.
      w.on('error', () => {
        if (fileWatcher !== w) return;
        w.close();
        fileWatcher = undefined;
        fileIdentity = undefined;
        schedule();
      });
      fileWatcher = w;
      fileIdentity = identity;
      fileWatchFailure = undefined;
    } catch (err) {
      // Gone between stat and watch: the directory watch reports its return. Anything else
      // (inotify limits, permissions) is said once: in-place edits through a bind mount would
      // go unseen.
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT' || fileWatchFailure === e.message) return;
      fileWatchFailure = e.message;
      onChange({ ok: false, errors: [new ConfigError('CONFIG_WATCH_FAILED', '(file)', `cannot watch ${full} itself: ${e.message}; edits that do not touch its directory (single-file bind mounts) are not seen`, { file: path })], file: path });
    }
  }

  const reload = async (): Promise<void> => {
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      // Before reading: a write that lands after this is seen by the new watch.
      if (!closed) armFileWatch();
      let text: string | undefined;
      try {
        text = await readFile(full, 'utf8');
      } catch {
        text = undefined; // missing or unreadable: loadConfig reports it precisely
      }
      if (closed) return;
      if (text !== undefined && text === lastText) return;
      lastText = text;
      const result = loadConfig({ ...options, path });
      if (!closed) onChange(result);
    } finally {
      reading = false;
      if (again && !closed) {
        again = false;
        schedule();
      }
    }
  };

  function schedule(): void {
    if (closed) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void reload();
    }, debounceMs);
  }

  let watcher: FSWatcher;
  try {
    watcher = watch(dir, { persistent: false }, (_event, filename) => {
      // filename may be null on some platforms; then any change in the directory counts.
      if (filename === null || filename === name) schedule();
    });
  } catch (err) {
    onChange({ ok: false, errors: [new ConfigError('CONFIG_WATCH_FAILED', '(file)', `cannot watch ${dir} for changes: ${(err as Error).message}`, { file: path })], file: path });
    return () => undefined;
  }
  watcher.on('error', (err) => {
    if (closed) return;
    onChange({ ok: false, errors: [new ConfigError('CONFIG_WATCH_FAILED', '(file)', `watching ${dir} failed: ${err.message}; hot reload is off`, { file: path })], file: path });
  });
  armFileWatch();

  return () => {
    if (closed) return;
    closed = true;
    if (timer !== undefined) clearTimeout(timer);
    watcher.close();
    fileWatcher?.close();
    fileWatcher = undefined;
  };
}
