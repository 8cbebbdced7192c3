// Noticing that certificate files changed on disk: fs.watch on the folders (renames and
// atomic replaces show there, where a watch on the file itself loses track of the inode) plus
// a poll, because bind mounts and network filesystems often deliver no events at all.
import type { FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../../pkg/log/index.ts';

const { watch } = process.getBuiltinModule('node:fs');

export class FileChangeWatch {
  readonly #watchers: FSWatcher[] = [];
  readonly #poll: NodeJS.Timeout;
  #debounce: NodeJS.Timeout | undefined;
  readonly #onChange: () => void;

  /** Calls `onChange` (debounced) after an event in a folder of `paths`, and every `pollMs` anyway. */
  constructor(paths: readonly string[], pollMs: number, log: Logger, onChange: () => void) {
    this.#onChange = onChange;
    for (const dir of new Set(paths.map((p) => dirname(p)))) {
      try {
        const w = watch(dir, { persistent: false }, () => this.#soon());
        w.on('error', (err) => log.warn({ err, dir }, 'certificate folder watch failed; polling only'));
        this.#watchers.push(w);
      } catch (err) {
        log.warn({ err, dir }, 'cannot watch the certificate folder; polling only');
      }
    }
    this.#poll = setInterval(onChange, pollMs);
    this.#poll.unref();
  }

  #soon(): void {
    if (this.#debounce !== undefined) clearTimeout(this.#debounce);
    // Writers touch cert and key one after the other: look once both are likely done.
    this.#debounce = setTimeout(() => { this.#debounce = undefined; this.#onChange(); }, 200);
    this.#debounce.unref();
  }

  close(): void {
    for (const w of this.#watchers) w.close();
    clearInterval(this.#poll);
    if (this.#debounce !== undefined) clearTimeout(this.#debounce);
  }
}
