// Retention (docs/access-log.md#retention): which leading part of a log file goes. The file is
// trimmed in place (same inode, as GoDoxy does for `last N`), so a reader following it by name
// keeps following it. Lines are found by their timestamp: `[10/Oct/2000:13:55:36 -0700]` in
// common/combined lines, `"time":"10/Oct/2000:13:55:36 -0700"` in JSON lines.
import type { FileHandle } from 'node:fs/promises';
import type { RetentionSpec } from './access-log-spec.ts';

const CHUNK = 64 * 1024;
const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
const TIME = /(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})/;

/** The time of a log line (epoch ms), or undefined when it has none. */
export function lineTime(line: string): number | undefined {
  const at = line.startsWith('{') ? line.indexOf('"time":"') + 8 : line.indexOf('[') + 1;
  if (at <= 0) return undefined;
  const m = TIME.exec(line.slice(at, at + 26));
  if (m === null || m.index !== 0) return undefined;
  const month = MONTHS[m[2]!];
  if (month === undefined) return undefined;
  const utc = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  const off = (Number(m[8]) * 60 + Number(m[9])) * 60_000;
  return m[7] === '+' ? utc - off : utc + off;
}

async function readAt(fh: FileHandle, pos: number, len: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(buf, got, len - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/** Start of the first line stamped at or after `cutoff`; `size` when every stamped line is older; 0 when no line has a stamp. */
async function cutByTime(fh: FileHandle, size: number, cutoff: number): Promise<number> {
  let pos = 0;
  let carry = '';
  let lineStart = 0;
  let sawStamp = false;
  while (pos < size) {
    const buf = await readAt(fh, pos, Math.min(CHUNK, size - pos));
    if (buf.length === 0) break;
    pos += buf.length;
    // latin1 keeps one char per byte, so offsets stay byte offsets
    const text = carry + buf.toString('latin1');
    let from = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', from)) {
      const t = lineTime(text.slice(from, nl));
      if (t !== undefined) {
        sawStamp = true;
        if (t >= cutoff) return lineStart;
      }
      lineStart += nl + 1 - from;
      from = nl + 1;
    }
    carry = text.slice(from);
  }
  return sawStamp ? lineStart : 0;
}

/** Start of the `n`-th line from the end. */
async function cutByLines(fh: FileHandle, size: number, n: number): Promise<number> {
  let end = size;
  let newlines = 0;
  while (end > 0) {
    const start = Math.max(0, end - CHUNK);
    const buf = await readAt(fh, start, end - start);
    for (let i = buf.length - 1; i >= 0; i--) {
      if (buf[i] !== 10) continue;
      // the file's last newline ends the last line; the (n+1)-th from the end precedes the n-th line
      if (start + i === size - 1) continue;
      if (++newlines === n) return start + i + 1;
    }
    end = start;
  }
  return 0;
}

/** Start of the first whole line at or after `from`. */
async function nextLineStart(fh: FileHandle, size: number, from: number): Promise<number> {
  let pos = from - 1;
  while (pos < size) {
    const buf = await readAt(fh, pos, Math.min(CHUNK, size - pos));
    if (buf.length === 0) break;
    const nl = buf.indexOf(10);
    if (nl !== -1) return pos + nl + 1;
    pos += buf.length;
  }
  return size;
}

/** Bytes at the start of the file that retention removes (0: nothing). */
export async function retentionCut(fh: FileHandle, size: number, spec: RetentionSpec, now: number): Promise<number> {
  switch (spec.kind) {
    case 'days': return cutByTime(fh, size, now - spec.days * 86_400_000);
    case 'last': return cutByLines(fh, size, spec.lines);
    case 'size': return size <= spec.bytes ? 0 : nextLineStart(fh, size, size - spec.bytes);
  }
}

/** Moves bytes [cut, size) to the start and truncates: the same file (inode) keeps the rest. */
export async function dropHead(fh: FileHandle, size: number, cut: number): Promise<void> {
  let src = cut;
  let dst = 0;
  while (src < size) {
    const buf = await readAt(fh, src, Math.min(1024 * 1024, size - src));
    if (buf.length === 0) break;
    await fh.write(buf, 0, buf.length, dst);
    src += buf.length;
    dst += buf.length;
  }
  await fh.truncate(dst);
}
