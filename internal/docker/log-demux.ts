// Docker's log stream format: without a TTY every chunk is framed as
// [stream type (0 stdin, 1 stdout, 2 stderr), 0, 0, 0, payload size (uint32 BE)] + payload.
// With a TTY it is raw bytes. The engine only says which via Content-Type on API >= 1.42, so
// we check whether the whole buffer parses as frames.

/** True when `buf` is a complete sequence of multiplexed frames. */
export function isMultiplexed(buf: Buffer): boolean {
  if (buf.length < 8) return false;
  let off = 0;
  while (off < buf.length) {
    if (off + 8 > buf.length) return false;
    const type = buf[off];
    if ((type !== 0 && type !== 1 && type !== 2) || buf[off + 1] !== 0 || buf[off + 2] !== 0 || buf[off + 3] !== 0) return false;
    off += 8 + buf.readUInt32BE(off + 4);
  }
  return off === buf.length;
}

/** Joins stdout and stderr payloads in arrival order; raw (TTY) output is returned as is. */
export function demuxDockerLogs(buf: Buffer): string {
  if (!isMultiplexed(buf)) return buf.toString('utf8');
  const parts: Buffer[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const size = buf.readUInt32BE(off + 4);
    parts.push(buf.subarray(off + 8, off + 8 + size));
    off += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

/** The last `lines` lines of `text` (a trailing newline does not count as an empty line). */
export function lastLines(text: string, lines: number): string {
  const all = text.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n');
  if (all.length === 1 && all[0] === '') return '';
  return all.slice(-Math.max(0, lines)).join('\n');
}
