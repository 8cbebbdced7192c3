// Hot reload. Watches the directory, not the file: editors and config managers replace files by
// writing a temp file and renaming it over, which detaches a watch on the old inode.
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { ConfigError } from './config-error.ts';
import { loadConfig, type LoadConfigOptions, type LoadConfigResult } from './load-config.ts';

export interface WatchConfigOptions extends Omit<LoadConfigOptions, 'path'> {
  /** Quiet time after the last change before re-reading; default 100 ms. */
  debounceMs?: number | undefined;
}

/**
 * Calls `onChange` with a fresh, validated result whenever the file's content changes (a valid
 * config, or the errors of a broken edit: keep running the old config and log them). Content
 * identical to the previous reload is not reported again (the first event after start always is,
 * so a change made between loadConfig and watchConfig is never lost). Returns an idempotent close.
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

  const reload = async (): Promise<void> => {
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
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

  return () => {
    if (closed) return;
    closed = true;
    if (timer !== undefined) clearTimeout(timer);
    watcher.close();
  };
}
